"""Small pieces the capture panel needs: Qt images and drops to pixels, and the hot
folder's wait, which runs in a worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

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


def hot_folder_state_dir() -> Path:
    """Where the record of hot-folder files already taken is kept: the app's state
    folder (beside its logs), never the hot folder, which is often a shared drive."""
    return Path(platformdirs.user_state_dir(paths.APP_NAME, appauthor=False))


@dataclass(frozen=True)
class HotFolderScan:
    capture: Capture
    queued: int  # other files in the folder not taken yet


class HotFolderWaiter:
    """Takes, in a worker, the next file from the hot folder, waiting for one until the
    progress bridge is cancelled.

    The usual order at a branch is scan first, then click: so a file already in the
    folder that was never taken is offered, newest first (the scan just made, before
    any left over from earlier), and `queued` says how many more are waiting. What was
    taken is recorded in the state folder, shared by both panels and kept across
    restarts, so no file is offered twice.
    """

    def __init__(self, state_dir: Path | None = None) -> None:
        self._state_dir = state_dir  # None: `hot_folder_state_dir()` when first needed
        self._watcher: HotFolder | None = None

    def next_capture(self, folder: str, progress) -> HotFolderScan:
        path = Path(folder).expanduser()
        if self._watcher is None or self._watcher.folder != path:
            state_dir = self._state_dir or hot_folder_state_dir()
            self._watcher = HotFolder(path, state_dir=state_dir, newest_first=True)
        while True:
            progress.update(0, 0, "Cancel to stop waiting.")  # raises once cancelled
            capture = self._watcher.wait_for_next(timeout=0.25)
            if capture is not None:
                return HotFolderScan(capture, self._watcher.queued())
