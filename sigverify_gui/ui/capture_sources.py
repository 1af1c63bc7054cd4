"""Small pieces the capture panel needs: Qt images and drops to pixels, and the hot
folder's wait, which runs in a worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

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


class HotFolderWaiter:
    """Waits in a worker for the next file in the hot folder, until the progress
    bridge is cancelled.

    One watcher per folder, kept between waits, so that each file is offered once;
    files already in the folder when it is first watched are earlier scans and are
    skipped.
    """

    def __init__(self) -> None:
        self._watcher: HotFolder | None = None

    def next_capture(self, folder: str, progress) -> Capture:
        if self._watcher is None or str(self._watcher.folder) != str(Path(folder)):
            self._watcher = HotFolder(folder, skip_existing=True)
        while True:
            progress.update(0, 0, "Cancel to stop waiting.")  # raises once cancelled
            capture = self._watcher.wait_for_next(timeout=0.25)
            if capture is not None:
                return capture
