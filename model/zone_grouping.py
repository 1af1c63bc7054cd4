"""Putting a page's handwriting-like components together into candidate signatures.

Used by `model.zone.find_signature`, after `model.zone_components` has found the
components and the rows of print. Three steps, each with a reach scaled to the
size of what it joins, so that one set of numbers suits a small and a large hand:
1. pieces of one word (letters lifted apart, a stroke a removed rule cut) join
   when very close;
2. words join into a signature when side by side, about two heights apart at most,
   of similar height and written with a similar pen;
3. the rest (dots, underlines, pieces cut off by the rule line) is taken into the
   signature it belongs to, by position, never by chains, so print beside a
   signature does not stretch its box.
Upright bars (box edges) and boxes never link; inside or just beside a signature
they are part of it (an l, an I), elsewhere they are dropped. So are blobs (logos,
print run together) and print in rows of ordinary height. A flat bar may be an
underline, so it stays in, to be taken into the signature above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.zone_components import Components, connected

# Print rows this much taller than the page's text stay candidates: a signature in
# separate block letters lines up like print, and it is larger than the text.
_TALL_ROW = 1.6


@dataclass(frozen=True)
class _Words:
    """Per word (a cluster of nearby components): box and what tells a pen from print."""

    members: list[np.ndarray]  # component indices
    box: np.ndarray  # (n, 4) x0, y0, x1, y1
    area: np.ndarray
    stroke: np.ndarray  # area-weighted stroke width
    aligned: np.ndarray  # bool: mostly print-row glyphs (tall ones, see _TALL_ROW)
    touches_rule: np.ndarray  # bool: some piece touches a removed rule
    big: np.ndarray  # bool: taller than the text or several letters wide


def candidate_groups(
    c: Components, in_row: np.ndarray, text_h: float, text_stroke: float
) -> list[np.ndarray]:
    """Component-index arrays, one per candidate signature (unscored)."""
    fill = c.area / (c.w * c.h)
    # straight pieces of boxes, dashes: one stroke thick, full along their length;
    # and whole boxes (check boxes, date boxes)
    long_side, narrow = np.maximum(c.w, c.h), np.minimum(c.w, c.h)
    bar = (long_side >= 4 * narrow) & (narrow <= 1.5 * c.stroke + 2)
    bar &= c.area >= 0.6 * long_side * c.stroke
    # upright bars and boxes are print; a flat one may be an underline (see _absorb)
    bar = (bar & (c.h > c.w)) | c.boxlike
    # solid blobs: print run together into a wide block (MICR digits), logos (big or
    # thick); pen strokes over an area that size leave most of it paper
    solid = (fill >= 0.45) & (c.h >= 0.5 * text_h)
    dense = solid & ((c.w >= 2.5 * c.h) | (c.stroke >= 2.5 * text_stroke) | (c.h >= 3 * text_h))
    printed = in_row & (c.h < _TALL_ROW * text_h)
    free = np.flatnonzero(~printed & ~bar & ~dense)
    if free.size == 0:
        return []
    words = _words(c, free, in_row, text_h)
    seeds = np.flatnonzero(words.big)
    clusters = [seeds[g] for g in _signature_clusters(words, seeds)]
    clusters += [np.array([k]) for k in np.flatnonzero(~words.big)]
    groups = []
    for host in _absorb(words, clusters):
        comps = np.concatenate([words.members[k] for k in host])
        groups.append(np.concatenate([comps, _beside(c, comps, np.flatnonzero(bar & ~printed))]))
    return groups


def _words(c: Components, free: np.ndarray, in_row: np.ndarray, text_h: float) -> _Words:
    boxes = np.stack([c.x[free], c.y[free], c.x[free] + c.w[free], c.y[free] + c.h[free]], 1)
    clusters = _clusters(boxes, _word_reach)
    members = [free[k] for k in clusters]
    box = np.array([_union_box(boxes[k]) for k in clusters])
    area = np.array([c.area[m].sum() for m in members])
    big = (box[:, 3] - box[:, 1] >= 1.3 * text_h) | (box[:, 2] - box[:, 0] >= 3.0 * text_h)
    if not big.any():  # a signature no taller than the print: group what there is
        big[:] = True
    return _Words(
        members=members,
        box=box,
        area=area,
        stroke=np.array([(c.stroke[m] * c.area[m]).sum() for m in members]) / area,
        aligned=np.array([in_row[m].mean() > 0.5 for m in members]),
        touches_rule=np.array([c.touches_rule[m].any() for m in members]),
        big=big,
    )


def _beside(c: Components, host: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Those of `marks` whose centre lies inside the box of the components `host`,
    widened sideways by a fifth of its height (an initial I, a final l)."""
    x0, y0 = c.x[host].min(), c.y[host].min()
    x1, y1 = (c.x[host] + c.w[host]).max(), (c.y[host] + c.h[host]).max()
    reach = 0.2 * (y1 - y0)
    cx, cy = c.x[marks] + c.w[marks] / 2, c.y[marks] + c.h[marks] / 2
    return marks[(cx >= x0 - reach) & (cx <= x1 + reach) & (cy >= y0) & (cy <= y1)]


def _word_reach(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sideways, vertical) gap that still joins two pieces of one word: small."""
    low = np.minimum(ha, hb)
    return 0.6 * low + 2, 0.3 * low + 2


def _signature_reach(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap that joins two words of one signature. Sideways 1.8 × their (geometric)
    mean height; up or down little: words of a signature sit side by side, and
    print above or below it must stay out. Words more than four times apart in
    height do not join: a tall stroke overlaps in height with every small mark
    beside it (small marks that belong are taken in by `_absorb`)."""
    similar = np.maximum(ha, hb) <= 4 * np.minimum(ha, hb)
    return np.where(similar, 1.8 * np.sqrt(ha * hb), 1e-6), 0.3 * np.minimum(ha, hb) + 1


def _signature_clusters(words: _Words, idx: np.ndarray) -> list[np.ndarray]:
    """Words `idx` clustered by `_signature_reach`, then the clusters by their own
    (larger) heights, until nothing more joins: a rule line through a signature
    leaves small pieces between its words, too small to span the space themselves.

    Words join only if written with much the same stroke width (one pen: a logo's
    rings are thicker), and a word of tall print (a bank's name) only with words of
    its own height: block letters of one signature are, a logo beside it is not.
    Returns positions into `idx`.
    """
    if idx.size == 0:
        return []
    box, area, stroke, aligned = (
        words.box[idx],
        words.area[idx],
        words.stroke[idx],
        words.aligned[idx],
    )
    clusters = _clusters(box, _signature_reach, aligned, stroke)
    for _ in range(3):
        c_box = np.array([_union_box(box[g]) for g in clusters])
        c_aligned = np.array([aligned[g].all() for g in clusters])
        c_stroke = np.array([(stroke[g] * area[g]).sum() / area[g].sum() for g in clusters])
        merged = _clusters(c_box, _signature_reach, c_aligned, c_stroke)
        if len(merged) == len(clusters):
            break
        clusters = [np.concatenate([clusters[k] for k in m]) for m in merged]
    return clusters


def _clusters(
    boxes: np.ndarray, reach, aligned: np.ndarray | None = None, stroke: np.ndarray | None = None
) -> list[np.ndarray]:
    """Single-link clusters (index arrays) of boxes (x0, y0, x1, y1) whose gap lies
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
            near &= np.maximum(stroke[s, None], stroke) <= 2 * np.minimum(stroke[s, None], stroke)
        a, b = np.nonzero(near)
        a_all.append(a + start)
        b_all.append(b)
    roots = connected(len(boxes), np.concatenate(a_all), np.concatenate(b_all))
    order = np.argsort(roots, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(roots[order])) + 1)


def _union_box(boxes: np.ndarray) -> np.ndarray:
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def _absorb(words: _Words, clusters: list[np.ndarray]) -> list[np.ndarray]:
    """Merge clusters (of word indices) into the taller cluster, the host, they
    belong to; returns the hosts' word indices.

    Taken in: anything centred inside the host's box; small marks (dots, a short
    stroke) within a fifth of its height to its sides; pen-thin flat lines
    (underlines, flourishes) beside or up to 0.6 of its height below; and what is
    just across a removed rule from it: the parts of the writing that the rule line
    through it cut off. Print near a signature is none of these, so
    it does not stretch the box. Clusters with no big word that nothing takes in
    are dropped: a few small words are print.
    """
    box = np.array([_union_box(words.box[g]) for g in clusters])
    area = np.array([words.area[g].sum() for g in clusters])
    stroke = np.array([(words.stroke[g] * words.area[g]).sum() for g in clusters]) / area
    touch = np.array([words.touches_rule[g].any() for g in clusters])
    w, h = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    # one pen stroke drawn across: its ink is about its width × the pen's width
    thin_line = (w >= 4 * h) & (area <= 1.2 * w * stroke)
    hosts: list[int] = []
    members: dict[int, list[np.ndarray]] = {}
    for k in np.argsort(-h, kind="stable"):
        for host in hosts:
            x0, y0, x1, y1 = box[host]
            hh = h[host]
            inside = x0 <= cx[k] <= x1 and y0 <= cy[k] <= y1
            mark = (
                area[k] <= 0.05 * area[host]
                and h[k] <= 0.25 * hh
                and x0 - 0.2 * hh <= cx[k] <= x1 + 0.2 * hh
                and y0 <= cy[k] <= y1
            )
            line = (
                thin_line[k]
                and x0 - 0.5 * hh <= cx[k] <= x1 + 0.5 * hh
                and y0 - 0.1 * hh <= cy[k] <= y1 + 0.6 * hh
            )
            # just across a rule from the host: apart by no more than a rule and its
            # rims (10 pixels at the working 150 dpi)
            gap = max(y0 - box[k, 3], box[k, 1] - y1)
            cut = touch[k] and h[k] <= 0.5 * hh and x0 <= cx[k] <= x1 and gap <= 10
            if inside or mark or line or cut:
                members[host].append(clusters[k])
                break
        else:
            if words.big[clusters[k]].any():
                hosts.append(k)
                members[k] = [clusters[k]]
    return [np.concatenate(members[k]) for k in hosts]
