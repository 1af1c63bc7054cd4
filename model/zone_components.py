"""The ink of a page as connected components, with what tells print from handwriting.

Used by `model.zone.find_signature`. The page is thresholded with the preprocessing
building blocks, long straight rules are taken out, and each remaining connected
component gets its box, area and stroke width. Printed text is then recognised by
its layout rather than by its letters: printed glyphs sit in rows, neighbours of
similar height with their bottoms (baseline) or tops (x- or cap-height) level to a
pixel or two. Handwriting rarely lines up like that four times in a row.
The same rows tell which way up the print is (see `PrintRows.upright_votes`), which
`model.zone_orientation` goes by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from model.preprocess import normalise_background

# A rule is straight for at least this long (inches). Printed letters never are, and
# a pen stroke is rarely axis-straight for so long; rules of forms and cheques are longer.
RULE_MIN_INCHES = 0.8
# Ink that fills a square this wide (inches) is a block, not a pen stroke; a shape
# this much block is no writing.
_SOLID_INCHES = 0.1
_SOLID_SHARE = 0.3
# Faint ink: this many grey levels below the flattened paper. Paper grain, tint
# and light security patterns stay above it (the preprocessing, which sees only a
# signature, can afford 40; a light ballpoint on a tinted cheque needs less).
_FAINT_CONTRAST = 30
# A scanner's lid: this many grey levels brighter than the page's paper (grain spreads
# paper by a few), joined to the image's border, and this share of the image at least.
_LID_STEP = 12
_MIN_LID_SHARE = 0.02
# Glyphs this many in a chain of aligned neighbours are a printed line of text,
# if this share of the neighbours are level at both top and bottom.
MIN_ROW_GLYPHS = 4
_MIN_LEVEL_FRACTION = 0.25


@dataclass(frozen=True)
class Components:
    """Struct of arrays, one entry per connected component (label 0 is paper)."""

    labels: np.ndarray | None  # int32 label image of all ink, specks included (or None)
    ids: np.ndarray  # each component's label in `labels`
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    area: np.ndarray
    stroke: np.ndarray  # mean stroke width in pixels, from the distance transform
    touches_rule: np.ndarray  # bool: a removed rule ran along or through it
    boxlike: np.ndarray  # bool: ink along all four sides of its box

    @property
    def count(self) -> int:
        return int(self.x.size)


def page_ink(gray: np.ndarray, scale: float) -> np.ndarray:
    """A grey page → its ink at `scale`, as a uint8 0/1 mask.

    Print is dark, but a ballpoint signature is often faint, and one global
    threshold cannot suit both: set by the print (as Otsu's is) it cuts a faint
    signature into pieces, set for faint ink it takes the blurred rims of print
    too and glues printed letters into blobs. So a pixel is ink when it is darker
    than halfway between the paper and the darkest ink near it, and at least
    `_FAINT_CONTRAST` levels below the paper.
    """
    work = gray
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        work = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    smooth = normalise_background(_lid_as_paper(work))
    darkest_near = cv2.erode(smooth, np.ones((7, 7), np.uint8))
    threshold = np.minimum((darkest_near.astype(np.uint16) + 255) // 2, 255 - _FAINT_CONTRAST)
    return (smooth <= threshold).view(np.uint8)


def _lid_as_paper(work: np.ndarray) -> np.ndarray:
    """The page with the scanner's white lid around it painted the page's paper tone.

    The background normalisation takes the brightest paper near each pixel for the
    paper: beside a white lid, a tinted cheque's paper near its edge looked darker than
    paper by the lid's margin, and a band along the edge read as a line of writing (on
    4 cheques in 16, with high confidence). What is brighter than the page's own paper
    and joined to the image's border is the lid.
    """
    h, w = work.shape
    centre = work[h // 4 : max(h // 4 + 1, 3 * h // 4), w // 4 : max(w // 4 + 1, 3 * w // 4)]
    paper = float(np.percentile(centre, 75))  # ink is dark and a minority
    bright = (work >= paper + _LID_STEP).view(np.uint8)
    if not bright.any():
        return work
    n, labels = cv2.connectedComponents(bright, connectivity=4)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    lid_labels = np.zeros(n, bool)
    lid_labels[np.unique(edge[edge > 0])] = True
    lid = lid_labels[labels]
    if lid.sum() < _MIN_LID_SHARE * h * w:
        return work
    painted = work.copy()
    painted[lid] = np.uint8(round(paper))
    return painted


def drop_solid_blocks(mask: np.ndarray, dpi: float) -> np.ndarray:
    """The ink mask without any shape that holds a solid block of ink.

    A pen stroke is about a millimetre wide at most; a shape that is mostly ink
    filling squares of 2.5 mm is a logo, a bar with a form's title in white, a
    stamp's pad. Whole shapes go, not just their solid parts: what a rule removal
    leaves of a bar with white letters (the ink between them) looks like writing.
    """
    side = max(3, int(round(_SOLID_INCHES * dpi)))
    solid = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    if not solid.any():
        return mask
    n, labels = cv2.connectedComponents(mask, connectivity=8, ltype=cv2.CV_32S)
    where = np.flatnonzero(mask)
    lab = labels.ravel()[where]
    area = np.bincount(lab, minlength=n)
    solid_area = np.bincount(lab, weights=solid.ravel()[where], minlength=n)
    # mostly solid: a thick pen's blot where strokes cross is only a small part
    doomed = (solid_area >= _SOLID_SHARE * np.maximum(area, 1)).astype(np.uint8)
    doomed[0] = 0
    return mask & (1 - doomed[labels])


def split_rules(mask: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """Ink mask → (ink without rules, the rules' pixels removed), uint8 0/1 images.

    A 3-pixel vertical (horizontal) smear before the opening lets lines that a
    crooked scan tilted by a fraction of a degree still count as straight; the
    opening runs on a copy pooled 4:1 along the line, which is 16 times cheaper.
    Where a pen stroke crosses a rule, the rule's pixels between ink above and below
    are given back, so a signature written through its line stays in one piece.
    """
    length = max(16, int(RULE_MIN_INCHES * dpi))
    horiz = _straight_runs(cv2.dilate(mask, np.ones((3, 1), np.uint8)), length)
    vert = _straight_runs(cv2.dilate(mask, np.ones((1, 3), np.uint8)).T, length).T
    rules = cv2.dilate(horiz | vert, np.ones((3, 3), np.uint8)) & mask
    ink = mask & (1 - rules)
    across = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((9, 1), np.uint8))
    across |= cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
    crossing = across & rules
    return ink | crossing, rules & (1 - crossing)


def _straight_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Pixels on horizontal runs of ink at least `length` long (about: pooled 4:1)."""
    h, w = mask.shape
    pooled_w = max(1, w // 4)
    pooled = cv2.resize(mask, (pooled_w, h), interpolation=cv2.INTER_AREA) >= 0.99
    runs = cv2.morphologyEx(
        pooled.view(np.uint8), cv2.MORPH_OPEN, np.ones((1, max(1, length // 4)), np.uint8)
    )
    return cv2.resize(runs, (w, h), interpolation=cv2.INTER_NEAREST) & mask


def find_components(ink: np.ndarray, rules: np.ndarray, min_area: int) -> Components:
    """Components of `ink` of at least `min_area` pixels, with their statistics;
    `rules` are the removed rule pixels (see `split_rules`)."""
    # Statistics from the ink pixels alone (a few percent of the page): far cheaper
    # than OpenCV's per-pixel statistics pass over the whole image.
    _, labels = cv2.connectedComponents(ink, connectivity=8, ltype=cv2.CV_32S)
    where = np.flatnonzero(ink)
    if where.size == 0:
        nothing = np.zeros(0)
        return Components(
            labels,
            nothing.astype(np.int32),
            *[nothing] * 6,
            *[nothing.astype(bool)] * 2,
        )
    lab = labels.ravel()[where]
    order = np.argsort(lab, kind="stable")
    lab, where = lab[order], where[order]
    ys, xs = np.divmod(where, ink.shape[1])
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    ids = lab[starts]
    area = np.diff(np.r_[starts, lab.size]).astype(np.float64)
    x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, 3).ravel()[where]
    # mean distance to paper over a stroke of width s is about s/4 (+ half a pixel)
    stroke = np.maximum(1.0, 4.0 * np.add.reduceat(dist, starts) / area - 1.0)
    near_rule = cv2.dilate(rules, np.ones((5, 5), np.uint8)).ravel()[where] > 0
    touches = np.add.reduceat(near_rule.astype(np.int64), starts) > 0
    boxlike = _outlines(xs, ys, starts, x0, x1, y0, y1)
    keep = area >= min_area
    return Components(
        labels=labels,
        ids=ids[keep],
        x=x0[keep].astype(np.float64),
        y=y0[keep].astype(np.float64),
        w=(x1 - x0 + 1)[keep].astype(np.float64),
        h=(y1 - y0 + 1)[keep].astype(np.float64),
        area=area[keep],
        stroke=stroke[keep],
        touches_rule=touches[keep],
        boxlike=boxlike[keep],
    )


def glyph_boxes(stats: np.ndarray, touches_rule: np.ndarray | None = None) -> Components:
    """Components from OpenCV's `connectedComponentsWithStats` rows (background row
    dropped): their boxes and areas, and which touch a removed rule (`touches_rule`,
    one per row, background included), which is all `print_rows` reads."""
    s = stats[1:].astype(np.float64)
    none = np.zeros(len(s), bool)
    cut = none if touches_rule is None else touches_rule[1:]
    x, y, w, h, area = (s[:, k] for k in range(5))
    return Components(None, np.arange(len(s)), x, y, w, h, area, np.ones(len(s)), cut, none)


def _outlines(xs, ys, starts, x0, x1, y0, y1) -> np.ndarray:
    """Bool per component: ink along all four sides of its box (a printed box, a
    check box), which a pen stroke never is."""
    size = np.diff(np.r_[starts, xs.size])
    bx0, bx1 = np.repeat(x0, size), np.repeat(x1, size)
    by0, by1 = np.repeat(y0, size), np.repeat(y1, size)
    w, h = x1 - x0 + 1, y1 - y0 + 1

    def share(on_side: np.ndarray, length: np.ndarray) -> np.ndarray:
        return np.add.reduceat(on_side.astype(np.int64), starts) >= 0.8 * length

    # ink within a pixel of each side, as much as one full line along it
    top = share(ys <= by0 + 1, w)
    bottom = share(ys >= by1 - 1, w)
    left = share(xs <= bx0 + 1, h)
    right = share(xs >= bx1 - 1, h)
    return top & bottom & left & right & (w >= 6) & (h >= 6)


class PrintRows(NamedTuple):
    in_row: np.ndarray  # bool per component: a glyph in a row of print
    # per component, which row it is in (one number per row, shared by its glyphs);
    # meaningful where `in_row` holds
    row: np.ndarray
    # Which way up the print reads: neighbours in a row level at the bottom only (a
    # t or an l beside an a, on one baseline) count +1, level at the top only (a g
    # or a p beside an a) count -1. Latin print has far more ascenders than
    # descenders, so upright print votes up and print upside down votes down.
    upright_votes: int


def print_rows(c: Components) -> PrintRows:
    """The rows of aligned, similar glyphs (printed text) and which way up they read."""
    idx = np.flatnonzero(c.h >= 3)
    if idx.size < MIN_ROW_GLYPHS:
        return PrintRows(np.zeros(c.count, bool), np.arange(c.count), 0)
    cy = c.y + c.h / 2
    order = idx[np.argsort(cy[idx], kind="stable")]
    ys = cy[order]
    # candidate neighbours: centres within 1.4 heights (similar height and overlapping)
    lo = np.searchsorted(ys, ys - 1.4 * c.h[order], "left")
    hi = np.searchsorted(ys, ys + 1.4 * c.h[order], "right")
    counts = hi - lo
    a = np.repeat(np.arange(order.size), counts)
    b = lo[a] + np.arange(a.size) - np.repeat(np.cumsum(counts) - counts, counts)
    i, j = order[a], order[b]
    hmin, hmax = np.minimum(c.h[i], c.h[j]), np.maximum(c.h[i], c.h[j])
    gap = c.x[j] - (c.x[i] + c.w[i])
    overlap = np.minimum(c.y[i] + c.h[i], c.y[j] + c.h[j]) - np.maximum(c.y[i], c.y[j])
    tol = np.maximum(1.5, 0.08 * hmax)
    bottoms = np.abs((c.y[i] + c.h[i]) - (c.y[j] + c.h[j])) <= tol
    tops = np.abs(c.y[i] - c.y[j]) <= tol
    # an edge cut by a removed rule is level with every other cut edge: no evidence
    cut = c.touches_rule[i] | c.touches_rule[j]
    link = (
        (c.x[j] >= c.x[i] + 0.5 * c.w[i])
        & (gap <= 1.1 * hmax)
        & (gap >= -0.25 * np.minimum(c.w[i], c.w[j]))
        & (hmax <= 1.8 * hmin)
        & (overlap >= 0.5 * hmin)
        & (bottoms | tops)
        & ~cut
    )
    groups = connected(c.count, i[link], j[link])
    sizes = np.bincount(groups, minlength=c.count)
    # Printed letters of one case line up top and bottom at once; a hand's strokes
    # may line up one way by chance, rarely both, pair after pair.
    both = np.bincount(groups[i[link]], weights=(bottoms & tops)[link], minlength=c.count)
    links = np.bincount(groups[i[link]], minlength=c.count)
    level = both >= _MIN_LEVEL_FRACTION * np.maximum(links, 1)
    in_row = (sizes[groups] >= MIN_ROW_GLYPHS) & level[groups]
    in_print = link & in_row[i]
    votes = int((bottoms & ~tops)[in_print].sum()) - int((tops & ~bottoms)[in_print].sum())
    return PrintRows(in_row, groups, votes)


def connected(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the graph on n nodes with edges a[k]–b[k]: a root per node."""
    root = np.arange(n)
    while a.size:
        ra, rb = root[a], root[b]
        differ = ra != rb
        if not differ.any():
            break
        # hook the higher root under the lower, then flatten the trees
        np.minimum.at(root, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        while True:
            up = root[root]
            if np.array_equal(up, root):
                break
            root = up
    return root
