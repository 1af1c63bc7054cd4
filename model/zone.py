"""Finding the handwritten signature on a whole cheque or form, and cropping a box.

`find_signature` works on a reduced copy of the page (about 150 dpi, enough for a
pen stroke to stay two pixels wide):
1. ink = the preprocessing's background flattening and threshold, minus long rules;
2. connected components; those in rows of aligned, similar glyphs are print
   (`model.zone_components.print_rows`), thin straight bars are bits of boxes;
3. the rest are grouped when close, relative to their own size, so the separate
   words, dots and pen lifts of one signature form one group;
4. each group is scored for handwriting: taller than the page's text, a long
   meandering trace for its height, ordinary stroke width (a logo's is thick and
   its ink solid), plus a mild bottom-right prior on landscape pages (cheques).
The box is the chosen group's ink box, so it holds neither the rule line nor print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.errors import BlankImageError, ImageError
from model.preprocess import to_gray
from model.zone_components import (
    Components,
    connected,
    find_components,
    page_ink,
    print_rows,
    split_rules,
)

Box = tuple[int, int, int, int]

_ASSUMED_DPI = 300.0  # scanners in branches are set to 300 dpi; the brief's default
_WORK_DPI = 150.0
# Below this score a group is not taken for handwriting (see `_score`).
_MIN_SCORE = 0.35
_MAX_CANDIDATES = 5


@dataclass(frozen=True)
class ZoneResult:
    box: Box  # x, y, w, h in page coordinates
    confidence: float  # 0..1, how sure we are it is handwriting
    candidates: tuple[Box, ...]  # other plausible boxes, best first


@dataclass(frozen=True)
class _Group:
    members: np.ndarray  # component indices
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in work pixels
    score: float


def find_signature(page: np.ndarray, dpi: float | None = None) -> ZoneResult:
    """The handwritten signature's box on a page. Raises `BlankImageError` if none."""
    gray = to_gray(page)
    scale, work_dpi = _work_scale(gray.shape, dpi)
    mask = page_ink(gray, scale)
    ink, rules = split_rules(mask, work_dpi)
    min_area = max(4, int((0.015 * work_dpi) ** 2))  # a pen dot is bigger than dust
    comps = find_components(ink, rules, min_area)
    if comps.count == 0:
        raise BlankImageError("No ink was found on the page.")
    groups = _score_groups(comps, mask.shape, work_dpi)
    if not groups or groups[0].score < _MIN_SCORE:
        raise BlankImageError("No handwritten signature was found on the page.")
    boxes = [_to_page(g.box, scale, gray.shape) for g in groups[: _MAX_CANDIDATES + 1]]
    best = groups[0]
    return ZoneResult(box=boxes[0], confidence=_confidence(best.score), candidates=tuple(boxes[1:]))


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
    """(scale factor to the working copy, the working copy's dpi)."""
    long_side = max(shape)
    if dpi is None or not np.isfinite(dpi) or dpi <= 0:
        dpi = _ASSUMED_DPI
        # An implausible physical size (over 17 in or under 2 in) means another dpi:
        # take the page for a letter-sized one.
        if not 2.0 <= long_side / dpi <= 17.0:
            dpi = long_side / 11.0
    scale = min(1.0, _WORK_DPI / dpi)
    return scale, dpi * scale


def _score_groups(c: Components, shape: tuple[int, int], dpi: float) -> list[_Group]:
    in_row = print_rows(c)
    fill = c.area / (c.w * c.h)
    # thin straight pieces of boxes and dashes: nearly full bounding box, long and narrow
    bar = (fill >= 0.6) & (np.maximum(c.w, c.h) >= 4 * np.minimum(c.w, c.h))
    text_h = float(np.median(c.h[in_row])) if in_row.sum() >= 8 else 0.1 * dpi
    text_stroke = float(np.median(c.stroke[in_row])) if in_row.sum() >= 8 else 0.01 * dpi
    text_stroke = max(text_stroke, 1.5)
    free = np.flatnonzero(~in_row & ~bar)
    if free.size == 0:
        return []
    roots = _proximity_groups(c, free)
    groups = []
    for root in np.unique(roots):
        members = free[roots == root]
        groups.append(_score(c, members, fill, text_h, text_stroke, shape))
    groups.sort(key=lambda g: -g.score)
    return groups


def _proximity_groups(c: Components, idx: np.ndarray) -> np.ndarray:
    """Single-link clusters of components whose boxes are near relative to their size.

    Near means within an ellipse of 1.2 × the taller one's height sideways and 0.6 ×
    vertically: the space between a signature's words, or a dot above its letter.
    """
    x0, y0 = c.x[idx], c.y[idx]
    x1, y1 = x0 + c.w[idx], y0 + c.h[idx]
    h = c.h[idx]
    a_all, b_all = [], []
    for start in range(0, idx.size, 512):  # bounded memory on busy pages
        s = slice(start, start + 512)
        gx = np.maximum(0, np.maximum(x0[s, None], x0[None, :]) - np.minimum(x1[s, None], x1))
        gy = np.maximum(0, np.maximum(y0[s, None], y0[None, :]) - np.minimum(y1[s, None], y1))
        reach = np.maximum(h[s, None], h[None, :])
        near = (gx / (1.2 * reach)) ** 2 + (gy / (0.6 * reach)) ** 2 <= 1.0
        a, b = np.nonzero(near)
        a_all.append(a + start)
        b_all.append(b)
    return connected(idx.size, np.concatenate(a_all), np.concatenate(b_all))


def _features(c: Components, m: np.ndarray, fill: np.ndarray, text_h: float,
              text_stroke: float, shape: tuple[int, int]) -> dict[str, float]:
    x0, y0 = c.x[m].min(), c.y[m].min()
    x1, y1 = (c.x[m] + c.w[m]).max(), (c.y[m] + c.h[m]).max()
    height, width = y1 - y0, x1 - x0
    area = c.area[m].sum()
    stroke = float((c.stroke[m] * c.area[m]).sum() / area)
    ph, pw = shape
    return {
        "x0": x0, "y0": y0, "x1": x1, "y1": y1,
        "rel_h": height / text_h,
        "rel_w": width / text_h,
        "trace": area / stroke / max(height, 1.0),  # pen trace length in group heights
        "rel_stroke": stroke / text_stroke,
        "stroke_h": stroke / max(height, 1.0),
        "solid": float(c.area[m][fill[m] >= 0.45].sum() / area),
        "n": float(m.size),
        "biggest": float(c.area[m].max() / area),
        "cx": (x0 + x1) / 2 / pw,
        "cy": (y0 + y1) / 2 / ph,
        "landscape": float(pw > 1.2 * ph),
    }


def _score(c: Components, m: np.ndarray, fill: np.ndarray, text_h: float,
           text_stroke: float, shape: tuple[int, int]) -> _Group:
    f = _features(c, m, fill, text_h, text_stroke, shape)
    size = np.clip((f["rel_h"] - 1.2) / 1.8, 0, 1)
    extent = np.clip((f["rel_w"] - 2.0) / 4.0, 0, 1)
    meander = np.clip((f["trace"] - 1.5) / 4.0, 0, 1)
    thick = np.clip((f["rel_stroke"] - 2.0) / 2.0, 0, 1)
    score = 0.4 * size + 0.25 * extent + 0.35 * meander - 0.6 * f["solid"] - 0.5 * thick
    if f["landscape"]:  # a cheque's signature sits bottom right
        score += 0.15 * (f["cx"] - 0.5) + 0.15 * (f["cy"] - 0.5)
    else:
        score += 0.1 * (f["cy"] - 0.5)
    return _Group(members=m, box=(f["x0"], f["y0"], f["x1"], f["y1"]), score=float(score))


def _confidence(score: float) -> float:
    return float(1.0 / (1.0 + np.exp(-8.0 * (score - 0.5))))


def _to_page(box: tuple[float, float, float, float], scale: float, shape) -> Box:
    x0, y0, x1, y1 = (v / scale for v in box)
    ph, pw = shape
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(pw, int(np.ceil(x1))), min(ph, int(np.ceil(y1)))
    return x0, y0, x1 - x0, y1 - y0
