"""Is this capture good enough to verify? A fast check run on every scan before use.

The check says what is wrong in words a teller can act on ("rescan with a margin"),
rather than letting a poor capture reach the network and come back as a confusing
low score. "Ink" means exactly what it means to `preprocess`: the same background
normalisation, threshold and rule/speck removal, at a similarly bounded working size.
Every threshold is a named constant with the reason for its value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from model.errors import ImageError
from model.imageio import believed_dpi
from model.preprocess import (
    CANVAS_HW,
    MIN_IMAGE_SIDE,
    TOO_SMALL_IMAGE,
    InkAnalysis,
    analyse_ink,
    ink_box,
    ink_mask,
    normalise_background,
    to_gray,
    working_image,
)
from model.zone_components import glyph_boxes, print_rows

# Pixel-size rules below are stated for the usual 300-dpi branch scan; when the scan
# says its resolution they scale with it, and when it does not we assume this.
_REFERENCE_DPI = 300.0
# Below this a scanner loses the thin strokes and pen-pressure detail that tell a
# forgery apart; 300 dpi is the norm for signature cards and cheques.
MIN_DPI = 150.0
# A signature is at most about 4.5 inches (11 cm) long: one that would be longer at a
# software's default resolution (`imageio.believed_dpi`) was scanned finer than its
# file says, and is judged as a scan of unknown resolution rather than refused as coarse.
MAX_SIGNATURE_INCHES = 4.5
# A signature's long side at 300 dpi is normally over half an inch (~150 px).
MIN_SIGNATURE_PX_300DPI = 150
# Whatever the dpi, a signature whose long side is under a quarter of the network's
# canvas width is enlarged more than 4x to fill it: the canvas then shows blur, not
# writing (the network's first layer reads the canvas in 2x2 cells).
MIN_SIGNATURE_PX_ANY_DPI = CANVAS_HW[1] // 4
# A real signature at 300 dpi leaves thousands of ink pixels; even initials ("J.S.":
# some 400 px of line in a 2-3 px pen) leave about 1000. Fewer is a tick, a dot, dust
# that survived speck removal, or a signature mostly too faint to be taken as ink.
MIN_INK_PIXELS_300DPI = 600
# Raw paper-minus-ink grey level. `preprocess` takes ink down to ~40 below paper; under
# 60, scanner blur lightens thin strokes towards that limit, so parts of them drop out
# of the ink and the signature breaks up.
MIN_CONTRAST = 60.0
# The darkness of "the ink" is taken at this fraction into the ink pixels sorted dark
# to light: past the darkest few (a blot, a crease) but before the grey stroke edges.
_INK_RANK = 0.25
# Paper brightness: this percentile of the pixels in and around the ink box, where
# paper far outnumbers ink even in a dense signature.
_PAPER_PERCENTILE = 75.0
# Ink in this many outermost pixel rows or columns (at working size) touches the
# border: the shrink and the ink threshold's 3x3 blur can pull a stroke that runs off
# the image one pixel inwards.
_EDGE_MARGIN_PX = 2
# A signature has a handful of pen lifts and broken strokes (rarely over ~30 pieces);
# printed text has one piece per letter, so a line of it alone brings 20-40.
MAX_COMPONENTS = 60
# Even a tightly cropped signature in a thick marker covers well under a third of its
# image; more is a patterned surface, a printed picture or a page of writing. (Large
# dark areas are not ink at all: background normalisation takes them as paper.)
MAX_INK_FRACTION = 0.30
# Rows of ink separated by blank rows: a row holding at least this share of the ink
# counts (an i-dot does not). A signature makes one row, two with a separate flourish.
_ROW_MIN_INK_SHARE = 0.05
# A row is text-like when it holds at least this many letter-like pieces: taller than
# half their width (a broken underline's pieces are flat) and over a third of the
# row's height (not dots). Beside the signature's own row (the one with the most
# ink), one such row is a printed name, a caption or a form's text, which the crop
# `preprocess` takes would include.
_TEXT_ROW_MIN_LETTERS = 5
MAX_EXTRA_TEXT_ROWS = 0
# Four or more substantial separate rows are not one signature whatever they hold.
MAX_INK_ROWS = 3
# A printed caption beside the signature ("Authorised signature", a form's label) in
# the same rows as its ink, which the rules above do not see: the network compares the
# whole crop, and such a capture of a genuine signature scored a confident reject.
# Print is told by its layout (`model.zone_components.print_rows`: a chain of glyphs of
# one height, level at top and bottom) and, beside a signature, by its size: at least
# this many glyphs in the row (a hand's letters, Bengali's on their headline most,
# make such chains of 4 or 5; in one of the 8,046 signatures of CEDAR, BHSig260-Bengali
# and 200 synthetic writers a chain of 6 was pencil grain, see the next rule) ...
_PRINT_MIN_GLYPHS = 6
# ... each under this share of the ink's height (print is smaller than the signature it
# labels; a signature in capitals, whose letters may line up, fills its own height) ...
_PRINT_MAX_HEIGHT_SHARE = 0.35
# ... and at least as tall as 4-point type at 300 dpi (grain and dust are smaller).
# With these, no signature of those data sets holds print, while of 193 captures of
# one of their signatures with a caption of 6-15 point type beside, above or below it
# (OpenCV's and Pillow's fonts), which passed every other rule, 178 are found
# cluttered; most of the 15 missed hold a short caption ("Sign here") in small type.
_PRINT_MIN_PX_300DPI = 10
# Shrunk with a page, a caption's letters run together: its region is read at full
# size up to this many pixels (a line of print across a page at 300 dpi).
_PRINT_MAX_PIXELS = 2_000_000
# A black-and-white scan has one ink tone and one paper tone. JPEG compression spreads
# the ink (between its quartiles: 5-7 levels at quality 75, 10-16 at 50, 11-18 at 40 on
# BHSig260-Bengali's and the synthetic signatures) and leaves most of the paper at white.
# A greyscale scan of a pen has graded ink (15-57 on CEDAR's and the synthetic scans) and
# grainy paper; where its paper is as flat as white (a sixth of CEDAR's), its ink spreads
# 27 levels or more, raw or as JPEG. Stroke texture and pen pressure read from the one do
# not compare with those read from the other (MODEL_CARD).
MAX_BILEVEL_INK_SPREAD = 18
MAX_BILEVEL_PAPER_SPREAD = 1
# An image whose grey levels all lie within this span has nothing drawn on it: it is
# the smallest paper-to-ink step that `preprocess` takes as ink. (Without this, an
# all-black image would be all "ink" once its paper is normalised.)
_MIN_GREY_SPREAD = 40

MESSAGES = {
    "image_too_small": TOO_SMALL_IMAGE + "; scan the whole signature.",
    "blank": "No signature ink was found on the image; check that the signed area was scanned.",
    "too_little_ink": (
        "Very little ink was found; the signature may be incomplete or too faint, "
        "so rescan the whole signature."
    ),
    "too_small": (
        "The signature is very small in the image; scan at a higher resolution "
        "or closer to the signature."
    ),
    "low_contrast": (
        "The ink is very faint against the paper; rescan with a darker setting "
        "or ask for a signature in darker ink."
    ),
    "low_resolution": (
        "The scan resolution ({dpi:.0f} dpi) is too low; rescan at 300 dpi (150 at the least)."
    ),
    "cut_off": "The signature touches the {sides} of the image; rescan with a margin around it.",
    "cluttered": (
        "The image seems to hold more than a signature, such as printed text or "
        "other writing; scan only the signature area."
    ),
}


@dataclass(frozen=True)
class QualityReport:
    ok: bool
    problems: tuple[str, ...]  # stable codes, the keys of MESSAGES, in a fixed order
    messages: tuple[str, ...]  # one teller-actionable sentence per problem
    box: tuple[int, int, int, int] | None  # ink bounding box x, y, w, h in image pixels
    ink_fraction: float  # share of the image's pixels that are ink
    contrast: float  # paper minus ink grey level, 0..255 (0 when there is no ink)
    dpi: float | None
    n_components: int  # separate pieces of ink after rules and specks are removed
    # "bilevel" (a black-and-white scan) or "grey"; "" when there is no ink to judge
    ink_tones: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["problems"] = list(self.problems)
        data["messages"] = list(self.messages)
        data["box"] = list(self.box) if self.box is not None else None
        return data


@dataclass(frozen=True)
class _InkLayout:
    """What the ink looks like at working size, before judging it."""

    mask: np.ndarray  # bool, working size
    box: tuple[int, int, int, int] | None  # working size
    n_pixels: int
    n_components: int
    rows: int  # substantial rows of ink separated by blank rows
    extra_text_rows: int  # rows in many pieces, besides the row with the most ink
    stats: np.ndarray  # OpenCV's component statistics in the ink box (row 0: paper)
    labels: np.ndarray  # the components' labels over the ink box


def check_quality(
    gray: np.ndarray, dpi: float | None = None, ink: InkAnalysis | None = None
) -> QualityReport:
    """Judge a raw scan (grey or colour array, any size). Never raises: an array that
    is not an image at all (empty, wrong shape) is reported as blank, one under
    `MIN_IMAGE_SIDE` pixels either way as too small to hold a signature. `ink`, when
    given, is `analyse_ink(gray)` already computed, to be shared with preprocessing."""
    # a PNG stores dots per metre: 300 dpi comes back as 299.9994
    dpi = round(float(dpi), 1) if dpi is not None and np.isfinite(dpi) and dpi > 0 else None
    problems: list[str] = []
    if dpi is not None and dpi < MIN_DPI:
        problems.append("low_resolution")
    try:
        full = to_gray(gray) if ink is None else ink.gray
    except ImageError:
        return _report([*problems, "blank"], dpi=dpi)
    if min(full.shape) < MIN_IMAGE_SIDE:  # its ink, if any, is no signature's
        return _report([*problems, "image_too_small"], dpi=dpi, image_hw=full.shape)
    lowest, highest, _, _ = cv2.minMaxLoc(full)
    if highest - lowest < _MIN_GREY_SPREAD:
        return _report([*problems, "blank"], dpi=dpi)
    ink = ink or analyse_ink(full)
    shrink = ink.factor
    layout = _ink_layout(ink.mask)
    if layout.box is None:
        return _report([*problems, "blank"], dpi=dpi)

    box = _to_full(layout.box, shrink, full.shape)
    if dpi is not None and believed_dpi(dpi, max(box[2], box[3]), MAX_SIGNATURE_INCHES) is None:
        dpi = None
        problems.remove("low_resolution")  # only defaults, all below MIN_DPI, are doubted
    n_ink_full = layout.n_pixels * shrink * shrink
    ink_fraction = layout.n_pixels / layout.mask.size
    contrast, ink_spread, paper_spread = _tones(full, box, n_ink_full)
    bilevel = ink_spread <= MAX_BILEVEL_INK_SPREAD and paper_spread <= MAX_BILEVEL_PAPER_SPREAD
    dpi_scale = (dpi or _REFERENCE_DPI) / _REFERENCE_DPI
    sides = _touched_sides(layout.box, layout.mask.shape)

    min_side = max(MIN_SIGNATURE_PX_300DPI * dpi_scale, MIN_SIGNATURE_PX_ANY_DPI)
    if max(box[2], box[3]) < min_side:
        problems.append("too_small")
    elif n_ink_full < MIN_INK_PIXELS_300DPI * dpi_scale * dpi_scale:
        # a tiny signature also has little ink; one message says what to do about it
        problems.append("too_little_ink")
    if contrast < MIN_CONTRAST:
        problems.append("low_contrast")
    if sides:
        problems.append("cut_off")
    if (
        layout.n_components > MAX_COMPONENTS
        or ink_fraction > MAX_INK_FRACTION
        or layout.extra_text_rows > MAX_EXTRA_TEXT_ROWS
        or layout.rows > MAX_INK_ROWS
        or _holds_print(ink, layout, dpi_scale)
    ):
        problems.append("cluttered")
    return _report(
        problems,
        dpi=dpi,
        box=box,
        ink_fraction=ink_fraction,
        contrast=contrast,
        n_components=layout.n_components,
        sides=sides,
        ink_tones="bilevel" if bilevel else "grey",
    )


def _report(
    problems: list[str],
    *,
    dpi: float | None,
    box: tuple[int, int, int, int] | None = None,
    ink_fraction: float = 0.0,
    contrast: float = 0.0,
    n_components: int = 0,
    sides: tuple[str, ...] = (),
    ink_tones: str = "",
    image_hw: tuple[int, int] = (0, 0),
) -> QualityReport:
    order = list(MESSAGES)
    problems = sorted(set(problems), key=order.index)
    height, width = image_hw
    described = {"sides": _describe_sides(sides), "dpi": dpi or 0.0}
    messages = tuple(MESSAGES[p].format(**described, width=width, height=height) for p in problems)
    return QualityReport(
        ok=not problems,
        problems=tuple(problems),
        messages=messages,
        box=box,
        ink_fraction=round(float(ink_fraction), 5),
        contrast=round(float(contrast), 1),
        dpi=dpi,
        n_components=int(n_components),
        ink_tones=ink_tones,
    )


def _ink_layout(mask: np.ndarray) -> _InkLayout:
    box = ink_box(mask)
    if box is None:
        return _InkLayout(mask, None, 0, 0, 0, 0, np.zeros((1, 5), np.int32), np.zeros((0, 0)))
    x, y, w, h = box
    inked = np.ascontiguousarray(mask[y : y + h, x : x + w]).view(np.uint8)
    # Only the box: a signature's box is a fraction of the image, and this is the
    # costliest step of the check.
    n, labels, stats = _components(inked)
    tops = stats[1:, cv2.CC_STAT_TOP]
    areas = stats[1:, cv2.CC_STAT_AREA]
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    upright = heights * 2 >= stats[1:, cv2.CC_STAT_WIDTH]
    n_pixels = int(areas.sum())
    row_ink: list[int] = []
    row_is_text: list[bool] = []
    for start, stop in _ink_row_bands(inked):
        in_band = (tops >= start) & (tops < stop)
        ink = int(areas[in_band].sum())
        if ink >= _ROW_MIN_INK_SHARE * n_pixels:
            row_ink.append(ink)
            letters = in_band & upright & (heights * 3 >= stop - start)
            row_is_text.append(int(letters.sum()) >= _TEXT_ROW_MIN_LETTERS)
    extra_text_rows = sum(row_is_text)
    if row_ink and row_is_text[int(np.argmax(row_ink))]:
        extra_text_rows -= 1  # the signature itself may be in many pieces
    return _InkLayout(mask, box, n_pixels, n - 1, len(row_ink), extra_text_rows, stats, labels)


def _holds_print(ink: InkAnalysis, layout: _InkLayout, dpi_scale: float) -> bool:
    """Whether a line of print lies among the ink (see `_PRINT_MIN_GLYPHS`)."""
    stats, factor, ink_height = layout.stats, ink.factor, layout.box[3]
    if factor > 1:  # (read again without taking rules out: a rule is one long piece)
        stats, factor, ink_height = _pieces_at_full_size(ink, layout.box)
        cut = None
    else:
        cut = _cut_by_a_rule(ink, layout)
    glyphs = glyph_boxes(stats, cut)
    rows = print_rows(glyphs)
    shortest = _PRINT_MIN_PX_300DPI * dpi_scale / factor
    for row in np.unique(rows.row[rows.in_row]):
        heights = glyphs.h[rows.in_row & (rows.row == row)]
        height = float(np.median(heights))
        if (
            heights.size >= _PRINT_MIN_GLYPHS
            and shortest <= height <= _PRINT_MAX_HEIGHT_SHARE * ink_height
        ):
            return True
    return False


def _cut_by_a_rule(ink: InkAnalysis, layout: _InkLayout) -> np.ndarray:
    """Per component of the ink box (paper first): whether a printed line taken out of
    the ink ran along or through it. A signature written through its line is cut into
    pieces whose edges lie level along it, as print's do (`print_rows` gives such edges
    no weight, as the page search does)."""
    x, y, w, h = layout.box
    removed = ink.thresholded[y : y + h, x : x + w] & ~ink.mask[y : y + h, x : x + w]
    near = cv2.dilate(removed.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    cut = np.zeros(len(layout.stats), bool)
    cut[np.unique(layout.labels[near])] = True
    cut[0] = False
    return cut


def _pieces_at_full_size(ink: InkAnalysis, box) -> tuple[np.ndarray, int, int]:
    """(component statistics, shrink factor, ink height) of the ink in `box` (working
    size) found again on the full scan's region, shrunk to `_PRINT_MAX_PIXELS` at most.

    Thresholded as `analyse_ink` does, without its removal of rules and specks (most
    of its cost): a rule left in is one long piece, no row of glyphs, and specks are
    smaller than any type."""
    x, y, w, h = _to_full(box, ink.factor, ink.gray.shape)
    pad = 2 * ink.factor  # the strokes' blurred edges
    region, factor = working_image(
        ink.gray[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad], _PRINT_MAX_PIXELS
    )
    mask, _ = ink_mask(normalise_background(region))
    found = ink_box(mask)
    if found is None:  # as good as impossible: the working size's ink lies here
        return np.zeros((1, 5), np.int32), factor, 1
    rx, ry, rw, rh = found
    _, _, stats = _components(np.ascontiguousarray(mask[ry : ry + rh, rx : rx + rw]).view(np.uint8))
    return stats, factor, rh


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count including the background, labels, stats) of 8-connected pieces. 16-bit
    labels make OpenCV's labelling several times faster; noise can have more pieces
    than they count, and OpenCV then refuses rather than wrapping around."""
    try:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            mask, connectivity=8, ltype=cv2.CV_16U
        )
    except cv2.error:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return n, labels, stats


def _ink_row_bands(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of image rows holding ink. A connected piece of ink
    never spans two runs, since a blank row separates them."""
    has_ink = np.r_[False, mask.any(axis=1), False].astype(np.int8)
    edges = np.flatnonzero(np.diff(has_ink))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _to_full(box, shrink: int, shape) -> tuple[int, int, int, int]:
    """A working-size box in the caller's pixels (covering the shrink's dropped edge)."""
    x, y, w, h = (int(v) for v in box)
    x0, y0 = x * shrink, y * shrink
    x1 = min(shape[1], (x + w) * shrink)
    y1 = min(shape[0], (y + h) * shrink)
    if x + w == shape[1] // shrink:  # ink at the shrunk image's edge: the rest of the row
        x1 = shape[1]
    if y + h == shape[0] // shrink:
        y1 = shape[0]
    return x0, y0, x1 - x0, y1 - y0


def _tones(full: np.ndarray, box, n_ink: float) -> tuple[float, float, float]:
    """(paper minus ink, the spread of the ink's grey levels, the spread of the paper's)
    on the raw grey around the ink box (raw, so that a faint pen is not hidden by the
    background normalisation, which stretches it). Ink and paper are the pixels darker
    and lighter than halfway from the darkest to the paper; a spread is the distance
    between a side's quartiles. All read from one histogram."""
    x, y, w, h = box
    pad = max(4, (w + h) // 20)
    crop = full[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
    counts = np.cumsum(np.bincount(crop.ravel(), minlength=256))
    total = int(counts[-1])

    def level(rank: float) -> int:  # the grey level at this rank, dark to light
        return int(np.searchsorted(counts, rank))

    def spread(first: int, last: int) -> float:  # between the quartiles of these ranks
        return float(level(first + (last - first) * 0.75) - level(first + (last - first) * 0.25))

    paper = level(total * _PAPER_PERCENTILE / 100.0)
    ink = level(max(1.0, min(n_ink, total) * _INK_RANK))
    halfway = (level(total * 0.02) + paper) // 2
    n_dark = int(counts[halfway - 1]) if halfway > 0 else 0
    return float(max(0, paper - ink)), spread(0, n_dark), spread(n_dark, total)


def _touched_sides(box, shape) -> tuple[str, ...]:
    """The sides of the image that cut the signature off.

    Ink touching all four sides is not a cut: it is an image already cropped tight to
    the ink, as core banking systems and signature-card archives store them, and a
    crop to the ink touches every side by definition. A scan that misses part of a
    signature cuts it on one to three sides. (A scan window lying wholly inside a
    signature would pass too; it does not happen when a teller scans a cheque or a
    card, and its missing parts then show in the side-by-side view.)
    """
    x, y, w, h = box
    height, width = shape
    m = _EDGE_MARGIN_PX
    touched = {
        "left": x < m,
        "top": y < m,
        "right": x + w > width - m,
        "bottom": y + h > height - m,
    }
    if all(touched.values()):
        return ()
    return tuple(side for side, hit in touched.items() if hit)


def _describe_sides(sides: tuple[str, ...]) -> str:
    if not sides:
        return ""
    joined = sides[0] if len(sides) == 1 else ", ".join(sides[:-1]) + " and " + sides[-1]
    return f"{joined} edge" + ("s" if len(sides) > 1 else "")
