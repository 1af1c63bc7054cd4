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

import cv2
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
_DEBUG = False


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
    ink, rules, lines = split_rules(mask, work_dpi)
    min_area = max(4, int((0.015 * work_dpi) ** 2))  # a pen dot is bigger than dust
    comps = find_components(ink, rules, min_area)
    if comps.count == 0:
        raise BlankImageError("No ink was found on the page.")
    groups = _score_groups(comps, mask.shape, work_dpi)
    if not groups or groups[0].score < _MIN_SCORE:
        raise BlankImageError("No handwritten signature was found on the page.")
    boxes = [
        _to_page(g.box, scale, gray.shape)
        for g in groups[: _MAX_CANDIDATES + 1]
    ]
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
    text_h = float(np.median(c.h[in_row])) if in_row.sum() >= 8 else 0.1 * dpi
    text_stroke = float(np.median(c.stroke[in_row])) if in_row.sum() >= 8 else 0.01 * dpi
    text_stroke = max(text_stroke, 1.5)
    # straight pieces of boxes, dashes: one stroke thick, full along their length;
    # and whole boxes (check boxes, date boxes)
    long_side, narrow = np.maximum(c.w, c.h), np.minimum(c.w, c.h)
    bar = (long_side >= 4 * narrow) & (narrow <= 1.5 * c.stroke + 2)
    bar &= c.area >= 0.6 * long_side * c.stroke
    bar |= c.boxlike
    # solid blobs: print run together into a wide block (MICR digits), logos (big or
    # thick); pen strokes over an area that size leave most of it paper
    solid = (fill >= 0.45) & (c.h >= 0.5 * text_h)
    dense = solid & ((c.w >= 2.5 * c.h) | (c.stroke >= 2.5 * text_stroke) | (c.h >= 3 * text_h))
    # Rows of glyphs far taller than the page's text are a title, or a signature in
    # separate block letters: they stay candidates, with a penalty (see `_score`).
    printed = in_row & (c.h < 1.6 * text_h)
    free = np.flatnonzero(~printed & ~bar & ~dense)
    if free.size == 0:
        return []
    # 1. pieces of one word: a stroke cut by a removed rule, letters lifted apart
    boxes = np.stack([c.x[free], c.y[free], c.x[free] + c.w[free], c.y[free] + c.h[free]], 1)
    words = _clusters(boxes, _word_reach)
    # 2. words of one signature: the space between words scales with their height
    wbox = np.array([_union_box(boxes[k]) for k in words])
    wh = wbox[:, 3] - wbox[:, 1]
    big = (wh >= 1.3 * text_h) | (wbox[:, 2] - wbox[:, 0] >= 3.0 * text_h)
    if not big.any():  # a signature no taller than the print: group what there is
        big[:] = True
    # 3. a cluster inside the margin of a taller one (a dot, an underline) joins it;
    # small words may bridge big ones, but a cluster of small words alone is print
    w_area = np.array([c.area[free[k]].sum() for k in words])
    w_stroke = np.array([(c.stroke[free[k]] * c.area[free[k]]).sum() for k in words]) / w_area
    w_aligned = np.array([in_row[free[k]].mean() > 0.5 for k in words])
    seeds = np.flatnonzero(big)
    clusters = [seeds[g] for g in _signature_clusters(
        wbox[seeds], w_aligned[seeds], w_area[seeds], w_stroke[seeds])]
    clusters += [np.array([k]) for k in np.flatnonzero(~big)]
    w_touch = np.array([c.touches_rule[free[k]].any() for k in words])
    members = _absorb(wbox, clusters, big, w_area, w_stroke, w_touch)
    groups = []
    for m in members:
        comps = free[np.concatenate([words[k] for k in m])]
        # a straight stroke inside the writing is part of it (an l, a t-bar); outside
        # it is more likely a box's edge, so bars never link or start a group
        comps = np.concatenate([comps, _inside(c, comps, np.flatnonzero(bar & ~printed))])
        groups.append(_score(c, comps, fill, in_row, text_h, text_stroke, shape))
    groups.sort(key=lambda g: -g.score)
    return groups


def _inside(c: Components, host: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Those of `marks` whose centre lies inside the box of the components `host`."""
    x0, y0 = c.x[host].min(), c.y[host].min()
    x1, y1 = (c.x[host] + c.w[host]).max(), (c.y[host] + c.h[host]).max()
    cx, cy = c.x[marks] + c.w[marks] / 2, c.y[marks] + c.h[marks] / 2
    return marks[(cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)]


def _word_reach(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sideways, vertical) gap that still joins two pieces of one word: small."""
    low = np.minimum(ha, hb)
    return 0.6 * low + 2, 0.3 * low + 2


def _signature_reach(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap that joins two words of one signature. Sideways: 2.2 × their (geometric)
    mean height; up or down hardly at all: words of a signature sit side by side,
    and print above or below it must stay out. Words more than four
    times apart in height do not join: a tall stroke overlaps in height with every
    small mark beside it (small marks inside a signature are taken in by `_absorb`)."""
    similar = np.maximum(ha, hb) <= 4 * np.minimum(ha, hb)
    rx = np.where(similar, 1.8 * np.sqrt(ha * hb), 1e-6)
    return rx, 0.3 * np.minimum(ha, hb) + 1


def _signature_clusters(boxes: np.ndarray, aligned: np.ndarray, area: np.ndarray,
                        stroke: np.ndarray) -> list[np.ndarray]:
    """Words clustered by `_signature_reach`, then clusters by their own (larger)
    heights, until nothing more joins: a rule line through a signature leaves
    small pieces between its words, too small to bridge the space on their own.

    Words join only if written with much the same stroke width (one pen: a logo's
    rings are thicker), and a word of tall print (`aligned`, a bank's name) only
    with words of its own height: block letters of one signature are, a logo is not.
    """
    clusters = _clusters(boxes, _signature_reach, aligned, stroke)
    for _ in range(3):
        cbox = np.array([_union_box(boxes[g]) for g in clusters])
        c_aligned = np.array([aligned[g].all() for g in clusters])
        c_stroke = np.array([(stroke[g] * area[g]).sum() / area[g].sum() for g in clusters])
        merged = _clusters(cbox, _signature_reach, c_aligned, c_stroke)
        if len(merged) == len(clusters):
            break
        clusters = [np.concatenate([clusters[k] for k in m]) for m in merged]
    return clusters


def _clusters(boxes: np.ndarray, reach, aligned: np.ndarray | None = None,
              stroke: np.ndarray | None = None) -> list[np.ndarray]:
    """Single-link clusters (as index arrays) of boxes (x0, y0, x1, y1) whose gap is
    inside the ellipse with half-axes `reach(height_a, height_b)`."""
    x0, y0, x1, y1 = boxes.T
    h = y1 - y0
    a_all, b_all = [], []
    for start in range(0, len(boxes), 512):  # bounded memory on busy pages
        s = slice(start, start + 512)
        gx = np.maximum(0, np.maximum(x0[s, None], x0) - np.minimum(x1[s, None], x1))
        gy = np.maximum(0, np.maximum(y0[s, None], y0) - np.minimum(y1[s, None], y1))
        rx, ry = reach(h[s, None], h[None, :])
        near = (gx / rx) ** 2 + (gy / ry) ** 2 <= 1.0
        if aligned is not None:
            alike = np.maximum(h[s, None], h) <= 1.5 * np.minimum(h[s, None], h)
            near &= (aligned[s, None] == aligned) | alike
        if stroke is not None:
            near &= np.maximum(stroke[s, None], stroke) <= 2.0 * np.minimum(stroke[s, None], stroke)
        a, b = np.nonzero(near)
        a_all.append(a + start)
        b_all.append(b)
    roots = connected(len(boxes), np.concatenate(a_all), np.concatenate(b_all))
    order = np.argsort(roots, kind="stable")
    cuts = np.flatnonzero(np.diff(roots[order])) + 1
    return np.split(order, cuts)


def _union_box(boxes: np.ndarray) -> np.ndarray:
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def _absorb(boxes: np.ndarray, clusters: list[np.ndarray], big: np.ndarray,
            area: np.ndarray, stroke: np.ndarray, touches: np.ndarray) -> list[np.ndarray]:
    """Merge clusters into the taller cluster (the host) they belong to.

    Taken in: anything centred inside the host's box; marks (dots, a short stroke,
    a loop a rule cut off) within half the host's height to its sides and 0.4 of
    it below; pen-thin flat lines (underlines,
    flourishes, the rest of a line a rule cut) up to 0.6 of its height below. Print
    near a signature is neither, so it does not stretch the box. Clusters with no
    big word that nothing takes in are dropped: a few small words are print.
    """
    cbox = np.array([_union_box(boxes[g]) for g in clusters])
    c_area = np.array([area[g].sum() for g in clusters])
    c_stroke = np.array([(stroke[g] * area[g]).sum() for g in clusters]) / c_area
    w, h = cbox[:, 2] - cbox[:, 0], cbox[:, 3] - cbox[:, 1]
    cx, cy = (cbox[:, 0] + cbox[:, 2]) / 2, (cbox[:, 1] + cbox[:, 3]) / 2
    # one pen stroke drawn across: its ink is about its width × the pen's width
    thin_line = (w >= 4 * h) & (c_area <= 1.2 * w * c_stroke)
    touch = np.array([touches[g].any() for g in clusters])
    hosts: list[int] = []
    members: dict[int, list[np.ndarray]] = {}
    for k in np.argsort(-h, kind="stable"):
        for host in hosts:
            x0, y0, x1, y1 = cbox[host]
            hh = h[host]
            inside = x0 <= cx[k] <= x1 and y0 <= cy[k] <= y1
            mark = (
                c_area[k] <= 0.05 * c_area[host] and h[k] <= 0.25 * hh
                and x0 - 0.2 * hh <= cx[k] <= x1 + 0.2 * hh
                and y0 <= cy[k] <= y1
            )
            line = thin_line[k] and x0 - 0.5 * hh <= cx[k] <= x1 + 0.5 * hh and (
                y0 - 0.1 * hh <= cy[k] <= y1 + 0.6 * hh
            )
            gap = max(y0 - cbox[k, 3], cbox[k, 1] - y1)  # above or below, if apart
            cut = touch[k] and h[k] <= 0.5 * hh and x0 <= cx[k] <= x1 and gap <= 0.1 * hh + 4
            if (inside or mark or line or cut) and _DEBUG:
                print("absorb", cbox[k].round(), "into", cbox[host].round(), inside, mark, line, cut)
            if inside or mark or line or cut:
                members[host].append(clusters[k])
                break
        else:
            if big[clusters[k]].any():
                hosts.append(k)
                members[k] = [clusters[k]]
    return [np.concatenate(members[k]) for k in hosts]


def _features(c: Components, m: np.ndarray, fill: np.ndarray, in_row: np.ndarray,
              text_h: float, text_stroke: float, shape: tuple[int, int]) -> dict[str, float]:
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
        "aligned": float(c.area[m][in_row[m]].sum() / area),
        "n": float(m.size),
        "biggest": float(c.area[m].max() / area),
        "aspect": width / max(height, 1.0),
        "enclosed": _largest_hole(c, m, (x0, y0, x1, y1)) / max(width * height, 1.0),
        "cx": (x0 + x1) / 2 / pw,
        "cy": (y0 + y1) / 2 / ph,
        "landscape": float(pw > 1.2 * ph),
    }


def _largest_hole(c: Components, m: np.ndarray, box) -> float:
    """Area of the largest region the group's ink encloses (a logo's ring, an O)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    member = np.zeros(int(c.labels.max()) + 1, np.uint8)
    member[c.ids[m]] = 1
    crop = member[c.labels[y0:y1, x0:x1]]
    contours, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0.0
    holes = [cv2.contourArea(k) for k, h in zip(contours, hierarchy[0]) if h[3] >= 0]
    return max(holes, default=0.0)


def _score(c: Components, m: np.ndarray, fill: np.ndarray, in_row: np.ndarray,
           text_h: float, text_stroke: float, shape: tuple[int, int]) -> _Group:
    f = _features(c, m, fill, in_row, text_h, text_stroke, shape)
    size = np.clip((f["rel_h"] - 1.2) / 1.8, 0, 1)  # taller than the print
    extent = np.clip((f["rel_w"] - 2.0) / 4.0, 0, 1)  # and wider than a few letters
    meander = np.clip((f["trace"] - 1.5) / 4.0, 0, 1)  # a long pen path for its height
    wide = np.clip((f["aspect"] - 1.0) / 2.0, 0, 1)  # names are written sideways
    thick = np.clip((f["rel_stroke"] - 2.0) / 2.0, 0, 1)  # a pen is not a logo's brush
    ring = np.clip((f["enclosed"] - 0.15) / 0.25, 0, 1)  # a logo's circle, a frame
    score = (
        0.35 * size + 0.2 * extent + 0.3 * meander + 0.15 * wide
        - 0.6 * f["solid"] - 0.5 * thick - 0.8 * ring - 0.4 * f["aligned"]
    )
    if f["landscape"]:  # a cheque's signature sits bottom right
        score += 0.15 * (f["cx"] - 0.5) + 0.15 * (f["cy"] - 0.5)
    else:  # a form's at the end
        score += 0.15 * (f["cy"] - 0.5)
    return _Group(members=m, box=(f["x0"], f["y0"], f["x1"], f["y1"]), score=float(score))


def _with_underline(box: tuple[float, float, float, float], lines: np.ndarray):
    """The box grown to hold the writer's own underline, which was taken for a rule.

    A straight line under the writing that ends within a tenth of its width of the
    writing's ends is taken for the writer's: a printed rule runs on past the
    signature, and one that does not is right under it, where it adds little.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    rx0, rx1 = int(max(0, x0 - 0.1 * w)), int(min(lines.shape[1], x1 + 0.1 * w + 1))
    ry0, ry1 = int(max(0, y0 + 0.3 * h)), int(min(lines.shape[0], y1 + 0.5 * h + 1))
    region = lines[ry0:ry1, rx0:rx1]
    if not region.any():
        return box
    n, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    for lx, ly, lw, lh, _ in stats[1:]:
        thin = lh <= max(4, 0.15 * h)  # a line, not a box's outline
        if thin and lx > 0 and lx + lw < region.shape[1] and lw >= 0.3 * w:
            x0, x1 = min(x0, rx0 + lx), max(x1, rx0 + lx + lw)
            y0, y1 = min(y0, ry0 + ly), max(y1, ry0 + ly + lh)
    return x0, y0, x1, y1


def _confidence(score: float) -> float:
    return float(1.0 / (1.0 + np.exp(-8.0 * (score - 0.5))))


def _to_page(box: tuple[float, float, float, float], scale: float, shape) -> Box:
    x0, y0, x1, y1 = (v / scale for v in box)
    ph, pw = shape
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(pw, int(np.ceil(x1))), min(ph, int(np.ceil(y1)))
    return x0, y0, x1 - x0, y1 - y0
