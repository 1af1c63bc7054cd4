"""Turning whatever the teller supplies into a checked, preprocessed capture.

A capture arrives as a file path (CLI, hot folder), raw file bytes, a grey array from
a scanner (GUI), or a `Capture` that also carries the scanner's dpi and a label. Every
path through the services then does the same: load -> quality check -> preprocess,
and keeps the PNGs that the store and the audit trail record.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from model.errors import ImageError, SeveralPagesError
from sigverify_gui.services.errors import ClutteredCaptureError, QualityError
from sigverify_gui.services.typed_text import escaped


@dataclass(frozen=True, eq=False)
class Capture:
    """An image already in memory (a scanner's grey array), with what is known of it."""

    gray: np.ndarray
    dpi: float | None = None
    source: str = "capture"


ImageInput = str | Path | bytes | np.ndarray | Capture


@dataclass(frozen=True, eq=False)
class PreparedCapture:
    source: str  # what to call it in messages: a file name or the capture's label
    gray: np.ndarray = field(repr=False)  # uint8 2-D
    dpi: float | None
    quality: dict  # QualityReport.to_dict()
    canvas: np.ndarray = field(repr=False)  # float32 canvas, what the network sees
    image_png: bytes = field(repr=False)

    @cached_property
    def canvas_png(self) -> bytes:
        """The canvas as a PNG, for a reference's record. Made on first use: a
        verification never stores it, and encoding it costs a millisecond or two."""
        return canvas_to_png(self.canvas)

    @property
    def image_sha256(self) -> str:
        return hashlib.sha256(self.image_png).hexdigest()

    @property
    def canvas_sha256(self) -> str:
        """Alike for the same pixels however the file stored them (`refuse_repeated_images`)."""
        return hashlib.sha256(self.canvas_png).hexdigest()


def describe(image: ImageInput) -> str:
    """A short name for an input, for messages, without reading it."""
    if isinstance(image, Capture):
        return image.source
    if isinstance(image, str | Path):  # a file's name can hold a line break or an escape
        return escaped(Path(image).name)
    if isinstance(image, bytes):
        return "<image bytes>"
    return "capture"


@dataclass(frozen=True, eq=False)
class LoadedInput:
    gray: np.ndarray  # uint8 2-D
    dpi: float | None
    name: str
    png: bytes  # lossless PNG of exactly `gray`


def check_one_page(name: str, page_count: int) -> None:
    """A signature is one image. Of a file with several pages (a PDF, a multi-page
    TIFF) the first, taken silently, may well not be the one the signature is on."""
    if page_count > 1:
        raise SeveralPagesError(
            f"'{name}' holds {page_count} pages, and a signature is one image of one page."
        )


def load_input(image: ImageInput) -> LoadedInput:
    """Read an input into grey pixels and their PNG; raises the core's `ImageError`s."""
    from model.imageio import load_image
    from model.preprocess import to_gray

    if isinstance(image, Capture):
        gray = to_gray(image.gray)
        # a file's own bytes where they decode to these pixels, as for a path: the same
        # file opened in the app and given to the CLI is then the same stored image
        # (and SHA-256), which the "another customer's very image" check compares
        original = getattr(image, "original", None)
        return LoadedInput(gray, image.dpi, image.source, _png_of(gray, original))
    if isinstance(image, np.ndarray):
        gray = to_gray(image)
        return LoadedInput(gray, None, "capture", _png_of(gray, None))
    loaded = load_image(image)
    name = describe(image) if isinstance(image, str | Path) else loaded.source
    check_one_page(name, loaded.page_count)
    original = None
    if loaded.format == "PNG":
        # load_image has checked the size; reading the file again costs little.
        original = image if isinstance(image, bytes) else Path(image).read_bytes()
    return LoadedInput(loaded.gray, loaded.dpi, name, _png_of(loaded.gray, original))


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_of(gray: np.ndarray, original: bytes | None) -> bytes:
    """PNG bytes that decode to exactly `gray`: the original file's when it already is
    such a PNG, else a new encoding.

    Encoding a noisy 300-dpi scan losslessly takes ~100 ms, most of an enrolment's
    time, and keeping the customer's file byte for byte is better evidence. An 8-bit
    grey PNG without transparency (tRNS: the loader composites it on white) and
    without an EXIF orientation (eXIf: the loader rotates) decodes to exactly the
    pixels the loader returned, so no second decoding is needed to know it.
    """
    from model.imageio import encode_png

    reproduces_gray = (
        original is not None
        and original.startswith(_PNG_MAGIC)
        and original[12:16] == b"IHDR"
        and original[24] == 8  # bit depth
        and original[25] == 0  # colour type: greyscale, no alpha
        and int.from_bytes(original[16:20], "big") == gray.shape[1]
        and int.from_bytes(original[20:24], "big") == gray.shape[0]
        and b"tRNS" not in original
        and b"eXIf" not in original
        and b"acTL" not in original  # an animated PNG: a frame may not be the first
    )
    return original if reproduces_gray else encode_png(gray)


def canvas_to_png(canvas: np.ndarray) -> bytes:
    from model.imageio import encode_png

    return encode_png((np.clip(canvas, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def canvas_from_png(data: bytes) -> np.ndarray:
    """A stored canvas (`canvas_to_png`) back to floats in [0, 1], exactly as stored.

    Not through `load_image`, which reads a scan: a canvas is ink bright on dark, which
    it would take for a negative and invert."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float32)
    return pixels / 255.0


def prepare(image: ImageInput) -> PreparedCapture:
    """Load, quality-check and preprocess one input.

    Raises `ImageError` (unreadable, blank) or `QualityError` naming the input and
    every problem found.
    """
    from model.preprocess import analyse_ink, preprocess
    from model.quality import check_quality

    loaded = load_input(image)
    ink = analyse_ink(loaded.gray)  # once, for both the quality check and preprocessing
    report = check_quality(loaded.gray, dpi=loaded.dpi, ink=ink)
    if not report.ok:
        unusable = ClutteredCaptureError if "cluttered" in report.problems else QualityError
        raise unusable(
            f"'{loaded.name}' is not good enough to use: {' '.join(report.messages)}",
            problems=tuple(report.problems),
        )
    canvas = preprocess(loaded.gray, ink=ink).canvas
    return PreparedCapture(
        source=loaded.name,
        gray=loaded.gray,
        dpi=loaded.dpi,
        quality=report.to_dict(),
        canvas=canvas,
        image_png=loaded.png,
    )


def gray_from_png(data: bytes) -> np.ndarray:
    """A stored capture back to grey pixels (for re-embedding with a new model)."""
    from model.imageio import load_image

    return load_image(data).gray


@dataclass(frozen=True, eq=False)
class LoadedPage:
    """One page of a file that may hold several (a PDF, a multi-page TIFF)."""

    capture: Capture  # its pixels and dpi; source names the page when there are several
    number: int  # from 1
    count: int  # pages in the file


def load_page(source: str | Path | bytes, number: int = 1, name: str | None = None) -> LoadedPage:
    """Page `number` (from 1, as `extract --page-number` counts) of an image or PDF file.

    Raises the core's `ImageError`s, naming the file (`name` for bytes), also for a
    page the file does not have.
    """
    from model.imageio import load_image

    loaded = load_image(source, page=number - 1, name=name)
    label = loaded.source if loaded.page_count == 1 else f"{loaded.source}, page {number}"
    return LoadedPage(Capture(loaded.gray, loaded.dpi, label), number, loaded.page_count)


def page_count(data: bytes) -> int:
    """How many pages a file's bytes hold. Only PDF, TIFF, GIF and WebP can hold more
    than one; of those, the first page is read to count them."""
    from model.image_signatures import known_format
    from model.imageio import load_image

    if b"%PDF-" not in data[:1024] and known_format(data) not in ("TIFF", "GIF", "WebP"):
        return 1
    return load_image(data).page_count


Box = tuple[int, int, int, int]  # x, y, width, height in pixels

# Paper added around a cut signature (`cut_signature`): at least this many pixels,
# and this share of the signature's longer side; preprocessing wants some paper
# around the strokes, and a cut tight to the ink would read as cut off.
MIN_PAPER_MARGIN_PX = 12
PAPER_MARGIN_SHARE = 0.08


MAX_MARGIN = 1000  # pixels: 42 mm at 600 dpi


def paper_margin(shape: tuple[int, ...]) -> int:
    """Pixels of paper `cut_signature` puts around a cut of `shape` (height, width)."""
    return max(MIN_PAPER_MARGIN_PX, round(PAPER_MARGIN_SHARE * max(shape[:2])))


def cut_signature(
    page: np.ndarray, box: Box, quarter_turns: int = 0, margin: int | None = None
) -> np.ndarray:
    """The signature inside `box` (on the page as given), turned clockwise by
    `quarter_turns` to stand upright, with paper-coloured margins around it.

    The one way a signature is cut from a page, by `extract`, `verify --page` and the
    GUI's cheque dialog, so the same page and box give the same pixels, and the same
    score, everywhere. Only the box is kept: a plain crop with a margin would bring
    in the printed text and rules next to the signature, which the quality check
    rightly calls clutter or cut-off ink. `margin` (pixels) replaces `paper_margin`'s.
    """
    from model.zone import crop_box
    from model.zone_orientation import turn

    inside = turn(crop_box(page, box), quarter_turns)
    if margin is None:
        margin = paper_margin(inside.shape)
    if margin < 0:
        raise ImageError("The margin around the signature cannot be negative.")
    if margin > MAX_MARGIN:  # more is no signature crop, and could exhaust the memory
        raise ImageError(f"The margin around the signature is at most {MAX_MARGIN} pixels.")
    paper = int(np.percentile(inside, 90))  # the signature box is mostly paper
    around = ((margin, margin), (margin, margin)) + ((0, 0),) * (inside.ndim - 2)
    return np.pad(inside, around, mode="constant", constant_values=paper)


def signature_on_page(page: LoadedPage, box: Box | None = None, margin: int | None = None):
    """`signature_from_page` on one page of a file; an empty page of several says which
    it was, since the signature may well be on another."""
    from model.errors import BlankImageError

    try:
        return signature_from_page(page.capture.gray, page.capture.dpi, box, margin)
    except BlankImageError as err:
        if page.count == 1:
            raise
        blank = BlankImageError(
            f"No ink was found on {page.capture.source} (of {page.count} pages)."
        )
        blank.cli_way = "Choose the signature's page with --page-number."
        raise blank from err


def signature_from_page(
    page: np.ndarray,
    dpi: float | None = None,
    box: Box | None = None,
    margin: int | None = None,
):
    """Find the signature on a whole page (or take the given `box`) and cut it out
    (`cut_signature`); returns (capture, zone), zone None for a given box.

    A page read sideways or upside down has its cut turned upright
    (`zone.quarter_turns`); a given box is taken as it stands on the page.
    """
    from model.zone import find_signature

    zone = None
    if box is None:
        zone = find_signature(page, dpi=dpi)
        box = zone.box
    turns = zone.quarter_turns if zone is not None else 0
    cut = cut_signature(page, box, turns, margin)
    return Capture(cut, dpi, source="signature zone"), zone
