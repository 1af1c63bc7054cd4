"""Image files as a capture source, and the one way capture code reads a file.

The file is read once: the same bytes are decoded and kept as `Capture.original`, so
what the audit trail stores is exactly what was decoded even if the file changes later.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from model.errors import CaptureError, EmptyFileError, ImageError, ImageTooLargeError
from sigverify_gui.services.capture.base import Capture, check_cancel
from sigverify_gui.services.captures import check_one_page

# Extensions `model.imageio.load_image` reads; the hot folder ignores everything else.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}
)


def read_capture(
    path: Path, page: int = 0, source: str | None = None, *, one_page: bool = False
) -> Capture:
    """Read `path` once and decode it into a `Capture` that keeps the original bytes.

    Raises `CaptureError` when the file cannot be read and the `ImageError` family,
    naming the file, when it is not a usable picture, or (`one_page`: a signature, not
    a page to search) when it holds several pages.
    """
    from model.imageio import MAX_FILE_BYTES, load_image

    data = read_bytes(path, MAX_FILE_BYTES)
    loaded = load_image(data, page=page, name=path.name)  # errors name the file
    if one_page:
        check_one_page(path.name, loaded.page_count)
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
    """The file's bytes, read as `model.imageio.read_image_file` reads any image file
    (kind and size checked before it is opened), its refusals recast for capture: a
    file that cannot be read now (gone, in use by its writer) is a `CaptureError`, one
    that reading again will not help is an `UnreadableFileError`; a file over `limit`
    or empty keeps its `ImageError`."""
    from model.imageio import read_image_file

    try:
        return read_image_file(path, limit)
    except (ImageTooLargeError, EmptyFileError):
        raise
    except ImageError as err:
        # `read_image_file` has worded the refusal; only its kind is capture's to say
        cause = err.__cause__
        if not isinstance(cause, OSError):  # a folder, or no ordinary file
            raise UnreadableFileError(str(err)) from err
        if getattr(cause, "winerror", None) in _IN_USE_WINERRORS:
            raise CaptureError(f"The file '{path}' is in use by another program.") from cause
        if isinstance(cause, PermissionError | IsADirectoryError):
            raise UnreadableFileError(str(err)) from cause
        raise CaptureError(str(err)) from cause  # gone, or a share that hiccuped


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
