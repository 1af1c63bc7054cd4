"""Finding the handwritten signature on a whole cheque or form, and cropping a box.

`find_signature` works on a copy of the page reduced to about 150 dpi (a pen
stroke stays a pixel or two wide, and an A4 page is 2 megapixels):
1. ink: background flattened as in the preprocessing, a threshold that also takes
   faint ballpoint ink, long straight rules removed (`model.zone_components`);
2. connected components; those in rows of level, similar glyphs are print;
3. the rest are put together into candidate signatures (`model.zone_grouping`);
4. each candidate is scored for handwriting (`_score`): taller and wider than
   the page's text, a long pen path for its height, a pen's stroke width (a logo
   is thicker), little solid ink, no big enclosed ring (a logo), not lined up like
   print; plus a mild prior for where signatures sit: bottom right on a landscape
   page (a cheque), low on a portrait one (a form). A prior, never a rule.
The box is the best candidate's own ink box: neither the rule line nor print.

A page fed sideways or upside down is read the right way up
(`model.zone_orientation`): the ink is found once, and the components, print rows
and scores of the turned working copy are cheap. The result says how to turn the
page (`quarter_turns`); its boxes stay on the page as given.

What it cannot know: print in a script font that looks handwritten, and a
signature written no larger than the print next to it. Pages with no handwriting
raise `BlankImageError`, unless some print looks like writing (a bold word in a
box: about one print-only page in ten); the confidence is then lower than a real
signature gets (mostly under 0.5, against over 0.85), and the caller shows the box
for a person to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from model.errors import BlankImageError, ImageError
from model.imageio import believed_dpi
from model.preprocess import to_gray
from model.zone_components import (
    Components,
    drop_solid_blocks,
    find_components,
    page_ink,
    print_rows,
    split_rules,
)
from model.zone_grouping import candidate_groups
from model.zone_orientation import (
    MIN_PRINT_GLYPHS,
    Box,
    Reading,
    best_orientation,
    turn,
    turn_box,
)
from model.zone_skew import box_on_page, skew_degrees, straightened

_ASSUMED_DPI = 300.0  # the branch scanners' setting, when the file does not say
_WORK_DPI = 150.0
# A candidate scoring below this is not taken for handwriting (see `_score`).
_MIN_SCORE = 0.35
_MAX_CANDIDATES = 5
# A result this confident or more is used as it is; below it a person marks or checks
# the box (the CLI refuses, the GUI warns). Measured with `orientation_results`
# (tests/test_zone_orientation.py) on `_pages(90, 100)` and `_pages(90, 900)`, each
# page turned all four ways, and on 36 print-only pages (`make_unsigned_page`) turned
# likewise: of 688 right boxes (IoU >= 0.7, right way up) 660 score 0.85 or more,
# while no print-only page's box does (the highest scored 0.80) and 14 of 30 wrong
# boxes do. At 0.7, 666 right boxes pass, but also 22 wrong ones and a print-only page.
CONFIDENT = 0.85
# Below these a failed search is put down to the page's resolution: the search finds
# a cheque's signature on 15 pages in 24 at 900 pixels across when the file does not
# give its dpi (it then assumes 300), against 22 in 24 at 1800; with the dpi given,
# 18 in 24 at 100 dpi, 11 in 24 at 50.
MAX_PAGE_INCHES = 17.0  # no cheque or form is longer (US legal paper is 14 inches)
MIN_PAGE_PIXELS = 900  # long side: a 6-inch cheque at 150 dpi
MIN_PAGE_DPI = 100.0


class PageResolutionError(BlankImageError):
    """No signature was found, and the page is too coarse for the search to work."""


@dataclass(frozen=True)
class ZoneResult:
    box: Box  # x, y, w, h in page coordinates, on the page as given
    confidence: float  # 0..1, how sure we are it is handwriting
    candidates: tuple[Box, ...]  # other plausible boxes, best first
    # Clockwise quarter turns that make the page upright (0: it is); a crop of `box`
    # turned as many times reads the right way up (`model.zone_orientation.turn`).
    quarter_turns: int = 0


@dataclass(frozen=True)
class _PageText:
    """What the page's print is like, so that the candidates are measured against it."""

    in_row: np.ndarray  # bool per component: a glyph in a row of print
    height: float  # median glyph height
    stroke: float  # median glyph stroke width
    shape: tuple[int, int]  # of the working copy


def find_signature(page: np.ndarray, dpi: float | None = None) -> ZoneResult:
    """The handwritten signature's box on a page. Raises `BlankImageError` if none
    (`PageResolutionError` when the page is too coarse to search).

    A page scanned a little crooked is searched turned straight (`zone_skew`), and the
    boxes found are those on the page as given that hold what was found."""
    gray = to_gray(page)
    dpi = believed_dpi(dpi, max(gray.shape), MAX_PAGE_INCHES)
    scale, work_dpi = _work_scale(gray.shape, dpi)
    mask = drop_solid_blocks(page_ink(gray, scale), work_dpi)
    tilt = skew_degrees(mask)
    if not tilt:
        return _search(gray, dpi, scale, work_dpi, mask)
    level, matrix = straightened(gray, tilt)
    # at the scale the tilt was measured at: the grown canvas is the same scan
    found = _search(
        level, dpi, scale, work_dpi, drop_solid_blocks(page_ink(level, scale), work_dpi)
    )
    return replace(
        found,
        box=box_on_page(found.box, matrix, gray.shape),
        candidates=tuple(box_on_page(b, matrix, gray.shape) for b in found.candidates),
    )


def _search(
    gray: np.ndarray, dpi: float, scale: float, work_dpi: float, mask: np.ndarray
) -> ZoneResult:
    """The search on a page lying square, its ink `mask` found at `scale`."""
    # Ink, rules and their removal do not depend on which way up the page is, so they
    # are found once; each orientation tried turns only the two masks.
    ink, rules = split_rules(mask, work_dpi)

    def read(turns: int) -> Reading:
        return _read(ink, rules, turns, work_dpi, scale, gray.shape)

    best, right_way_up = best_orientation(read, CONFIDENT)
    coarse = _resolution_problem(gray.shape, dpi)
    if coarse and best.confidence < CONFIDENT:  # the search failed, not the orientation
        raise PageResolutionError(coarse)
    if not best.boxes or best.score < _MIN_SCORE:
        raise BlankImageError("No handwritten signature was found on the page.")
    return ZoneResult(
        box=best.boxes[0],
        confidence=best.confidence * right_way_up,
        candidates=tuple(best.boxes[1 : _MAX_CANDIDATES + 1]),
        quarter_turns=best.turns,
    )


def _read(
    ink: np.ndarray,
    rules: np.ndarray,
    turns: int,
    work_dpi: float,
    scale: float,
    page_shape: tuple[int, int],
) -> Reading:
    """Find and score the candidates on the working copy turned `turns` times."""
    if turns % 4:
        ink, rules = turn(ink, turns), turn(rules, turns)
    min_area = max(4, int((0.015 * work_dpi) ** 2))  # a pen's dot is bigger than dust
    comps = find_components(ink, rules, min_area)
    if comps.count == 0:
        raise BlankImageError("No ink was found on the page.")
    rows = print_rows(comps)
    in_row = rows.in_row
    enough = in_row.sum() >= MIN_PRINT_GLYPHS  # else: no print to compare with
    text = _PageText(
        in_row=in_row,
        height=float(np.median(comps.h[in_row])) if enough else 0.1 * work_dpi,
        stroke=max(1.5, float(np.median(comps.stroke[in_row])) if enough else 0.01 * work_dpi),
        shape=ink.shape,
    )
    scored = sorted(
        (
            (_score(comps, g, text), g)
            for g in candidate_groups(comps, in_row, text.height, text.stroke)
        ),
        key=lambda sg: -sg[0],
    )
    turned_shape = page_shape if turns % 2 == 0 else page_shape[::-1]
    boxes = [
        turn_box(_to_page(_ink_box(comps, g), scale, turned_shape), -turns, turned_shape)
        for _, g in scored[: _MAX_CANDIDATES + 1]
    ]
    return Reading(
        turns=turns % 4,
        score=scored[0][0] if scored else -np.inf,
        confidence=_confidence(scored[0][0]) if scored else 0.0,
        boxes=boxes,
        print_glyphs=int(in_row.sum()),
        upright_votes=rows.upright_votes,
    )


def _resolution_problem(shape: tuple[int, int], dpi: float | None) -> str | None:
    """Why the page is too coarse to search, in a sentence, or None. It asks for
    150 dpi, the resolution the search works at."""
    h, w = shape
    if dpi is not None and np.isfinite(dpi) and 0 < dpi < MIN_PAGE_DPI:
        return (
            f"The page was scanned at {dpi:.0f} dpi ({w}×{h} pixels), too low a resolution "
            "to find the signature on; scan the whole cheque or form at 150 dpi or more."
        )
    if max(h, w) < MIN_PAGE_PIXELS:
        return (
            f"The page is only {w}×{h} pixels, too low a resolution to find the signature "
            "on; scan the whole cheque or form at 150 dpi or more (a cheque is then at "
            f"least {MIN_PAGE_PIXELS} pixels wide)."
        )
    return None


def crop_box(page: np.ndarray, box: Box, margin: int = 0) -> np.ndarray:
    """The part of `page` inside box (x, y, w, h), widened by `margin` within the page."""
    page = np.asarray(page)
    if page.ndim < 2:
        raise ImageError("The image has an unexpected shape; it is not a scanned picture.")
    ph, pw = page.shape[:2]
    try:
        x, y, w, h = (int(v) for v in box)
        margin = int(margin)
    except (TypeError, ValueError):
        raise ImageError("The box must be four whole numbers: x, y, width, height.") from None
    if w <= 0 or h <= 0:
        raise ImageError("The box is empty: its width and height must be at least 1 pixel.")
    if margin < 0:
        raise ImageError("The margin around the box cannot be negative.")
    if x < 0 or y < 0 or x + w > pw or y + h > ph:
        raise ImageError(
            f"The box {x},{y},{w},{h} does not lie within the page ({pw}×{ph} pixels)."
        )
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(pw, x + w + margin), min(ph, y + h + margin)
    return page[y0:y1, x0:x1].copy()


def _work_scale(shape: tuple[int, int], dpi: float | None) -> tuple[float, float]:
    """(factor from the page to the working copy, the working copy's dpi)."""
    long_side = max(shape)
    if dpi is None or not np.isfinite(dpi) or dpi <= 0:
        dpi = _ASSUMED_DPI
        # Longer than any cheque or form at 300 dpi: a finer scan; take the page for a
        # letter-sized one.
        if long_side / dpi > MAX_PAGE_INCHES:
            dpi = long_side / 11.0
    scale = min(1.0, _WORK_DPI / dpi)
    return scale, dpi * scale


def _ink_box(c: Components, m: np.ndarray) -> tuple[float, float, float, float]:
    return c.x[m].min(), c.y[m].min(), (c.x[m] + c.w[m]).max(), (c.y[m] + c.h[m]).max()


def _features(c: Components, m: np.ndarray, text: _PageText) -> dict[str, float]:
    x0, y0, x1, y1 = _ink_box(c, m)
    height, width = max(y1 - y0, 1.0), max(x1 - x0, 1.0)
    area = c.area[m].sum()
    stroke = float((c.stroke[m] * c.area[m]).sum() / area)
    fill = c.area[m] / (c.w[m] * c.h[m])
    ph, pw = text.shape
    return {
        "rel_h": height / text.height,
        "rel_w": width / text.height,
        "trace": area / stroke / height,  # length of the pen's path, in heights
        "rel_stroke": stroke / text.stroke,
        "solid": float(c.area[m][fill >= 0.45].sum() / area),
        "aligned": float(c.area[m][text.in_row[m]].sum() / area),
        "aspect": width / height,
        "enclosed": _largest_hole(c, m, (x0, y0, x1, y1)) / (width * height),
        "cx": (x0 + x1) / 2 / pw,
        "cy": (y0 + y1) / 2 / ph,
        "landscape": float(pw > 1.2 * ph),
    }


def _largest_hole(c: Components, m: np.ndarray, box) -> float:
    """Area of the largest region the candidate's ink encloses (a logo's ring, an O)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    member = np.zeros(int(c.labels.max()) + 1, np.uint8)
    member[c.ids[m]] = 1
    crop = member[c.labels[y0:y1, x0:x1]]
    contours, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0.0
    holes = [cv2.contourArea(k) for k, h in zip(contours, hierarchy[0], strict=True) if h[3] >= 0]
    return max(holes, default=0.0)


def _score(c: Components, m: np.ndarray, text: _PageText) -> float:
    """How much a candidate looks like a signature; about 0.35 and up is handwriting."""
    f = _features(c, m, text)
    size = np.clip((f["rel_h"] - 1.2) / 1.8, 0, 1)  # taller than the print
    extent = np.clip((f["rel_w"] - 2.0) / 4.0, 0, 1)  # and wider than a few letters
    meander = np.clip((f["trace"] - 1.5) / 4.0, 0, 1)  # a long pen path for its height
    wide = np.clip((f["aspect"] - 1.0) / 2.0, 0, 1)  # names are written sideways
    thick = np.clip((f["rel_stroke"] - 2.0) / 2.0, 0, 1)  # a pen is not a logo's brush
    ring = np.clip((f["enclosed"] - 0.15) / 0.25, 0, 1)  # a logo's circle, a frame
    score = (
        0.35 * size
        + 0.2 * extent
        + 0.3 * meander
        + 0.15 * wide
        - 0.6 * f["solid"]
        - 0.5 * thick
        - 0.8 * ring
        - 0.4 * f["aligned"]
    )
    if f["landscape"]:  # a cheque: signed bottom right
        score += 0.15 * (f["cx"] - 0.5) + 0.15 * (f["cy"] - 0.5)
    else:  # a form: signed at the end
        score += 0.15 * (f["cy"] - 0.5)
    return float(score)


def _confidence(score: float) -> float:
    """Score → 0..1: 0.5 at a score of 0.5, about 0.23 at the acceptance threshold."""
    return float(1.0 / (1.0 + np.exp(-8.0 * (score - 0.5))))


def _to_page(box: tuple[float, float, float, float], scale: float, shape) -> Box:
    x0, y0, x1, y1 = (v / scale for v in box)
    ph, pw = shape
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(pw, int(np.ceil(x1))), min(ph, int(np.ceil(y1)))
    return x0, y0, x1 - x0, y1 - y0
