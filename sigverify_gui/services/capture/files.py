"""Image files as a capture source, and the one way capture code reads a file.

The file is read once: the same bytes are decoded and kept as `Capture.original`, so
what the audit trail stores is exactly what was decoded even if the file changes later.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

from model.errors import CaptureError, ImageTooLargeError
from sigverify_gui.services.capture.base import Capture, check_cancel

# Extensions `model.imageio.load_image` reads; the hot folder ignores everything else.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}
)


def read_capture(path: Path, page: int = 0, source: str | None = None) -> Capture:
    """Read `path` once and decode it into a `Capture` that keeps the original bytes.

    Raises `CaptureError` when the file cannot be read and the `ImageError` family,
    naming the file, when it is not a usable picture.
    """
    from model.imageio import MAX_FILE_BYTES, load_image

    data = read_bytes(path, MAX_FILE_BYTES)
    loaded = load_image(data, page=page, name=path.name)  # errors name the file
    return Capture(loaded.gray, loaded.dpi, source or path.name, original=data)


def describe_scan(name: str, mtime_ns: int, now: float | None = None) -> str:
    """A scanned file's name and when it was saved ("scan0042.png, scanned 10:41"), so
    the teller can see it is the scan just made; the date too when not from today."""
    saved = time.localtime(mtime_ns / 1e9)
    today = time.localtime(time.time() if now is None else now)
    same_day = saved[:3] == today[:3]  # year, month, day
    return f"{name}, scanned {time.strftime('%H:%M' if same_day else '%Y-%m-%d %H:%M', saved)}"


class UnreadableFileError(CaptureError):
    """A file that reading again will not help: no permission, or not an ordinary file.
    (A file in use by its writer, or a share that hiccuped, is a plain `CaptureError`.)"""


# Windows' sharing and lock violations: the file is open in the program writing it.
_IN_USE_WINERRORS = frozenset({32, 33})


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes. Its kind and size are checked before it is opened: opening a
    named pipe would wait for a writer for ever, a folder reads as "permission denied"
    on Windows, and an over-`limit` file is refused with `ImageTooLargeError` without
    fetching `limit` bytes over the network first."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFileError(f"'{path}' is a folder, not an image file.")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(f"'{path}' is not an ordinary file.")
        if info.st_size > limit:
            raise _too_large(path, limit)
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise _read_error(path, err) from err
    if len(data) > limit:  # grew since it was looked at
        raise _too_large(path, limit)
    return data


def _read_error(path: Path, err: OSError) -> CaptureError:
    if isinstance(err, FileNotFoundError):
        return CaptureError(f"The file '{path}' does not exist.")
    if getattr(err, "winerror", None) in _IN_USE_WINERRORS:
        return CaptureError(f"The file '{path}' is in use by another program.")
    if isinstance(err, PermissionError):
        return UnreadableFileError(f"You do not have permission to read '{path}'.")
    if isinstance(err, IsADirectoryError):
        return UnreadableFileError(f"'{path}' is a folder, not an image file.")
    return CaptureError(f"The file '{path}' could not be read ({err.strerror or err}).")


def _too_large(path: Path, limit: int) -> ImageTooLargeError:
    # Refused here, not by `load_image`: it sees only the `limit + 1` bytes we read and
    # would call the file that big; the teller needs its real size, as the CLI gives it.
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > limit:
        return ImageTooLargeError(
            f"The file '{path.name}' is {_size_text(size)}; the limit is {_size_text(limit)}."
        )
    # Grew since we read it, or not an ordinary file: its size says nothing.
    return ImageTooLargeError(f"The file '{path.name}' is larger than {_size_text(limit)}.")


def _size_text(n_bytes: int) -> str:
    """Sizes worded as `model.imageio` words them, so both refusals read alike."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    return f"{n_bytes / 1024:.1f} KB" if n_bytes >= 1024 else f"{n_bytes} bytes"


class ImageFileSource:
    """A signature the teller picked as a file (or a scanner's own software saved)."""

    def __init__(self, path: str | os.PathLike, page: int = 0) -> None:
        self.path = Path(path)
        self.page = page

    @property
    def description(self) -> str:
        return self.path.name

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        check_cancel(cancel, "Opening the file")
        return read_capture(self.path, self.page)
