"""Small pieces the capture panel needs: Qt images and drops to pixels, and the hot
folder's wait, which runs in a worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sigverify_gui import paths
from sigverify_gui.services.capture import IMAGE_EXTENSIONS, HotFolder
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui.qt import QImage, QPainter, Qt

FILE_FILTER = (
    "Images and PDF ("
    + " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
    + ");;All files (*)"
)
CaptureLoader = Callable[[], Capture]  # runs in the worker

# How old a file in the hot folder may be and still be offered. A teller scans and then
# clicks: the scan wanted is seconds old, or a few minutes when the scanner is shared
# and busy or down the corridor. Older files are leftovers (another customer's, or
# scans from before an upgrade, when nothing was recorded as taken) and are left alone;
# the caption's scan time shows the teller which scan was taken.
RECENT_SCAN_SECONDS = 10 * 60


def qimage_to_gray(image: QImage) -> np.ndarray:
    """A QImage (any format; transparency taken as white paper) as uint8 grey pixels."""
    if image.hasAlphaChannel():
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(Qt.GlobalColor.white)
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = grey.height(), grey.width(), grey.bytesPerLine()
    buffer = np.frombuffer(grey.constBits(), np.uint8, count=h * stride)
    return buffer.reshape(h, stride)[:, :w].copy()


def local_files(mime) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


@dataclass(frozen=True)
class HotFolderScan:
    capture: Capture
    queued: int  # other files in the folder not taken yet


class HotFolderWaiter:
    """Takes, in a worker, the next file from the hot folder, waiting for one until the
    progress bridge is cancelled.

    The usual order at a branch is scan first, then click: so a recent file already in
    the folder that was never taken is offered, newest first (the scan just made, even
    while it is still being written, before any other), and `queued` says how many more
    are waiting. Older files are left alone. What was taken is recorded in the app's
    state folder, never the hot folder (often a shared drive), shared by both panels and
    kept across restarts, so no file is offered twice.
    """

    def __init__(self, state_dir: Path | None = None) -> None:
        self._state_dir = state_dir  # None: `paths.state_dir()` when first needed
        self._watcher: HotFolder | None = None

    def next_capture(self, folder: str, progress) -> HotFolderScan:
        path = Path(folder).expanduser()
        if self._watcher is None or self._watcher.folder != path:
            self._watcher = HotFolder(
                path,
                state_dir=self._state_dir or paths.state_dir(),
                newest_first=True,
                max_age_seconds=RECENT_SCAN_SECONDS,
            )
        while True:
            # Raises once cancelled. Files left alone are named here, while the teller
            # waits: a scan made over the limit ago is one of them.
            progress.update(0, 0, _waiting_text(self._watcher.left_alone()))
            capture = self._watcher.wait_for_next(timeout=0.25)
            if capture is not None:
                return HotFolderScan(capture, self._watcher.queued())


def _waiting_text(left_alone: int) -> str:
    if not left_alone:
        return "Cancel to stop waiting."
    files = "file" if left_alone == 1 else "files"
    are = "is" if left_alone == 1 else "are"
    minutes = RECENT_SCAN_SECONDS // 60
    return (
        f"Cancel to stop waiting. {left_alone} {files} older than {minutes} minutes "
        f"{are} left alone."
    )
