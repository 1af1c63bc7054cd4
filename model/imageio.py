"""Safe image loading: a path or bytes in, an 8-bit grey array (and the dpi) out.

Everything the app and training read goes through `load_image`, so the rules for
untrusted files live in one place:
- caps on file size and pixel count are checked before any pixel is decoded, so a
  tiny "decompression bomb" is refused without allocating its image;
- every failure is a `model.errors.ImageError` subclass whose message names the file;
  no raw PIL or OS error escapes;
- colour is reduced the same way everywhere: alpha composited on white (a signature
  PNG is black ink on transparent), 16-bit scaled (not clipped) to 8-bit, EXIF
  orientation applied, PDF pages rendered at `PDF_DPI`.
"""

from __future__ import annotations

import io
import logging
import math
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile

from model import image_modes, image_signatures
from model.errors import (
    EmptyFileError,
    ImageError,
    ImageTooLargeError,
    TruncatedImageError,
    UnsupportedFormatError,
    os_reason,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 60_000_000
PDF_DPI = 300

log = logging.getLogger("sigverify.imageio")

# Image.open tries only these decoders: no EPS (which runs Ghostscript) and none of
# Pillow's rarely used plugins, whose parsers see far less scrutiny.
_PILLOW_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
# Phone cameras write JPEGs with an extra preview picture, which Pillow calls MPO.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_SUPPORTED_TEXT = "PNG, JPEG, TIFF, BMP, WebP, GIF or PDF"
# A recorded resolution outside this range is a placeholder (0, 1) or garbage, not a
# scanner setting; callers are better off with None than with a wrong physical size.
_PLAUSIBLE_DPI = (25.0, 10_000.0)

_BYTES_SOURCE = "<bytes>"

# PDFium is not thread-safe: the app's workers must not render two PDFs at once.
_PDFIUM_LOCK = threading.Lock()

# Pillow's own guards are process-wide: truncated data must raise, and Pillow itself
# refuses headers far beyond our cap (tighten only, never loosen a stricter setting).
ImageFile.LOAD_TRUNCATED_IMAGES = False
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


# Not compared or hashed by value: `==` on arrays is elementwise, not a bool.
@dataclass(frozen=True, eq=False)
class LoadedImage:
    gray: np.ndarray  # uint8, 2-D, C-contiguous
    dpi: float | None  # horizontal dpi when the file records it (PDF: PDF_DPI)
    format: str  # "PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "PDF"
    page_count: int  # pages/frames in the file (1 for most)
    source: str  # file name for messages ("<bytes>" for bytes input without a name)


def load_image(
    source: str | os.PathLike | bytes,
    page: int = 0,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> LoadedImage:
    """Read page `page` (0-based) of an image or PDF as 8-bit grey.

    `name` is the file name to report for bytes input (default "<bytes>", and messages
    then say "The image"); for a path it overrides the path's own name.
    `max_pixels` above twice Pillow's process-wide `Image.MAX_IMAGE_PIXELS` (set to
    MAX_PIXELS here) is still refused by Pillow itself.
    """
    name, data = _read_source(source, max_bytes, name)
    if page < 0:
        raise ImageError(f"{_subject(name)} has no page {page + 1}; pages start at 1.")
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone switched it on; it hides damaged files
        log.warning("PIL.ImageFile.LOAD_TRUNCATED_IMAGES was set; turning it off again")
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    if b"%PDF-" in data[:1024]:  # PDF allows a little junk before its header
        return _load_pdf(data, name, page, max_pixels)
    return _load_raster(data, name, page, max_pixels)


def load_gray(
    source: str | os.PathLike | bytes,
    page: int = 0,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> np.ndarray:
    """`load_image(...).gray`, for callers that need only the pixels."""
    return load_image(source, page, max_bytes=max_bytes, max_pixels=max_pixels, name=name).gray


def encode_png(gray: np.ndarray, dpi: float | None = None) -> bytes:
    """Lossless PNG bytes of an 8-bit grey array (what the store and the CLI write).

    `dpi`, when known, is written to the PNG's resolution field, so that the quality
    check can later judge the scan's resolution from the file alone.
    """
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ValueError(f"encode_png needs a 2-D uint8 array, got {gray.dtype} {gray.shape}")
    out = io.BytesIO()
    extra = {"dpi": (float(dpi), float(dpi))} if dpi else {}
    # Level 1: several times faster than the default and only slightly larger for scans.
    Image.fromarray(np.ascontiguousarray(gray)).save(out, format="PNG", compress_level=1, **extra)
    return out.getvalue()


# --- reading the bytes ------------------------------------------------------------
def _read_source(
    source: str | os.PathLike | bytes, max_bytes: int, name: str | None
) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        name = name or _BYTES_SOURCE
        data = bytes(source)
        if not data:
            raise EmptyFileError(f"{_subject(name)} is empty (0 bytes).")
        if len(data) > max_bytes:
            raise ImageTooLargeError(
                f"{_subject(name)} is {_size_text(len(data))}; "
                f"the limit is {_size_text(max_bytes)}."
            )
        return name, data
    path = Path(source)
    name = name or path.name or str(path)
    return name, read_image_file(path, max_bytes, name)


def read_image_file(path: Path, max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> bytes:
    """The bytes of the image file at `path`, its kind and size checked before it is
    opened (a pipe or device could stream for ever; a huge file is never read whole).

    Raises `ImageError` for a folder or what is no ordinary file, `ImageTooLargeError`,
    `EmptyFileError`, and an `ImageError` caused by (`__cause__`) the `OSError` when the
    file cannot be read. `name` names the file in messages (default: its file name)."""
    name = name or path.name or str(path)
    try:
        info = path.stat()
    except OSError as err:
        raise _os_error(path, err) from err
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"'{path}' is a folder, not an image file.")
    if not stat.S_ISREG(info.st_mode):  # a device or pipe could stream forever
        raise ImageError(f"'{path}' is not an ordinary file.")
    if info.st_size > max_bytes:
        raise ImageTooLargeError(
            f"The file '{name}' is {_size_text(info.st_size)}; "
            f"the limit is {_size_text(max_bytes)}."
        )
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # +1: notice a file that grew since stat
    except OSError as err:
        raise _os_error(path, err) from err
    if not data:
        raise EmptyFileError(f"The file '{name}' is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"The file '{name}' is larger than {_size_text(max_bytes)}.")
    return data


def _subject(name: str) -> str:
    """How messages start: "The file 'scan.png'", or "The image" for bytes from a scanner."""
    return "The image" if name == _BYTES_SOURCE else f"The file '{name}'"


def _os_error(path: Path, err: OSError) -> ImageError:
    if isinstance(err, FileNotFoundError):
        return ImageError(f"The file '{path}' does not exist.")
    if isinstance(err, PermissionError):
        return ImageError(f"You do not have permission to read '{path}'.")
    if isinstance(err, IsADirectoryError):
        return ImageError(f"'{path}' is a folder, not an image file.")
    return ImageError(f"The file '{path}' could not be read ({os_reason(err)}).")


def _size_text(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    return f"{n_bytes / 1024:.1f} KB" if n_bytes >= 1024 else f"{n_bytes} bytes"


def _check_pixels(width: int, height: int, max_pixels: int, name: str) -> None:
    if width < 1 or height < 1:
        raise TruncatedImageError(f"{_subject(name)} is damaged: its header says it has no pixels.")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{_subject(name)} is {width} x {height} pixels, more than the limit of "
            f"{max_pixels / 1e6:g} million pixels."
        )


# --- raster images (Pillow) ---------------------------------------------------------
def _load_raster(data: bytes, name: str, page: int, max_pixels: int) -> LoadedImage:
    webp_size = image_signatures.webp_canvas_size(data)
    if webp_size:  # Pillow's WebP decoder allocates its canvas while opening
        _check_pixels(*webp_size, max_pixels, name)
    try:
        img = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(
            f"{_subject(name)} has far more pixels than the limit of {max_pixels / 1e6:g} million."
        ) from err
    except Exception as err:  # unidentified, or a plugin tripping over a bad header
        raise _unreadable(data, name) from err
    with img:
        fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "?")
        # A damaged file can fail anywhere in Pillow with almost any exception type;
        # our own checks raise ImageError and pass through untouched.
        try:
            page_count = int(getattr(img, "n_frames", 1))
            if page >= page_count:
                raise ImageError(
                    f"{_subject(name)} has {page_count} page(s); there is no page {page + 1}."
                )
            if page:
                img.seek(page)
            _check_pixels(img.width, img.height, max_pixels, name)  # size is per page
            img.load()  # the full decode, so truncation surfaces here
        except ImageError:
            raise
        except MemoryError as err:
            raise ImageTooLargeError(
                f"{_subject(name)} is too large for this computer's memory."
            ) from err
        except Exception as err:
            raise TruncatedImageError(
                f"{_subject(name)} is damaged or cut short and cannot be read."
            ) from err
        try:
            gray = image_modes.gray_array(img)
        except (ValueError, OSError) as err:  # a colour layout Pillow cannot convert
            raise UnsupportedFormatError(
                f"{_subject(name)} uses a colour format we cannot read ({img.mode})."
            ) from err
        gray = image_modes.positive(image_modes.apply_orientation(img, gray))
        return LoadedImage(gray, _dpi_of(img), fmt, page_count, name)


def _dpi_of(img: Image.Image) -> float | None:
    # Pillow fills info["dpi"] from PNG pHYs, JPEG JFIF or EXIF, TIFF and BMP headers,
    # already converted from dots per cm.
    dpi = img.info.get("dpi")
    if img.format == "JPEG" and not _jpeg_records_dpi(img):
        return None
    try:
        x = float(dpi[0] if isinstance(dpi, tuple | list) else dpi)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not math.isfinite(x) or not _PLAUSIBLE_DPI[0] <= x <= _PLAUSIBLE_DPI[1]:
        return None
    return x


# Software that does not know an image's resolution writes its own default into the
# file: 72 dpi (many JPEG and PNG writers) or 96 (Windows, and images saved from the
# screen). Such a value is believed only while what the image shows fits it.
SOFTWARE_DEFAULT_DPI = (72.0, 96.0)


def believed_dpi(dpi: float | None, length_px: float, max_inches: float) -> float | None:
    """`dpi`, or None (unrecorded) when it is a software default at which something
    `length_px` pixels long, which is never longer than `max_inches`, would be longer:
    then the scan is finer than its file says."""
    if dpi is not None and round(dpi, 1) in SOFTWARE_DEFAULT_DPI and length_px / dpi > max_inches:
        return None
    return dpi


def _jpeg_records_dpi(img: Image.Image) -> bool:
    """Whether a JPEG's dpi is in the file, not Pillow's 72 dpi stand-in.

    Pillow answers 72 dpi for a JPEG with an EXIF block that lacks the resolution tags
    (an Orientation tag alone, say); the quality check would then refuse a good 300 dpi
    scan as too coarse.
    """
    if img.info.get("jfif_unit") in (1, 2):  # JFIF density in dots per inch or per cm
        return True
    exif = img.getexif()
    return 0x011A in exif and 0x0128 in exif  # XResolution and ResolutionUnit


# --- telling damaged from unsupported -----------------------------------------------
def _unreadable(data: bytes, name: str) -> ImageError:
    """Why Pillow could not open the file: a damaged known format, or another kind of file."""
    known = image_signatures.known_format(data)
    if known:
        return TruncatedImageError(
            f"{_subject(name)} looks like a {known} image but is damaged or cut short."
        )
    kind = image_signatures.other_kind(data)
    what = f"{_subject(name)} is {kind}, not" if kind else f"{_subject(name)} is not"
    return UnsupportedFormatError(f"{what} a picture in a format we read ({_SUPPORTED_TEXT}).")


# --- PDF (PDFium) -------------------------------------------------------------------
def _load_pdf(data: bytes, name: str, page: int, max_pixels: int) -> LoadedImage:
    import pypdfium2 as pdfium  # only PDF input pays for loading PDFium

    scale = PDF_DPI / 72.0  # PDF sizes are in points, 1/72 inch
    with _PDFIUM_LOCK:
        pdf = _open_pdf(data, name)
        try:
            page_count = len(pdf)
            if not page_count:
                raise ImageError(f"{_subject(name)} is a PDF with no pages.")
            if page >= page_count:
                raise ImageError(
                    f"{_subject(name)} has {page_count} page(s); there is no page {page + 1}."
                )
            pdf_page = pdf[page]
            width_pt, height_pt = pdf_page.get_size()
            _check_pixels(
                math.ceil(width_pt * scale), math.ceil(height_pt * scale), max_pixels, name
            )
            bitmap = pdf_page.render(scale=scale, grayscale=True)
            pixels = bitmap.to_numpy()
            if pixels.ndim == 3:
                pixels = pixels[:, :, 0]
            gray = np.array(pixels, dtype=np.uint8, order="C")  # own copy: PDFium frees its buffer
        except pdfium.PdfiumError as err:
            raise _damaged_pdf(name) from err
        finally:
            pdf.close()
    return LoadedImage(image_modes.positive(gray), float(PDF_DPI), "PDF", page_count, name)


def _open_pdf(data: bytes, name: str):
    """The PDF as a `PdfDocument`, even one without pages (which `PdfDocument(data)`
    refuses as unloadable, with whatever reason PDFium last gave for another file);
    `data` must outlive it, PDFium reads from it."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    raw = pdfium_raw.FPDF_LoadMemDocument64(data, len(data), None)
    if raw:
        return pdfium.PdfDocument(raw)  # closing it closes the handle
    if pdfium_raw.FPDF_GetLastError() == pdfium_raw.FPDF_ERR_PASSWORD:
        raise ImageError(
            f"{_subject(name)} is a password-protected PDF; save it without a password."
        )
    raise _damaged_pdf(name)


def _damaged_pdf(name: str) -> TruncatedImageError:
    return TruncatedImageError(f"{_subject(name)} is a damaged PDF and cannot be read.")
