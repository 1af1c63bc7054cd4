"""The teller's visual aid: two preprocessed signatures aligned, overlaid and differenced.

The network compares canvases (ink bright on black, see `model.preprocess`); the teller
compares shapes. Both canvases are already scaled and centred on their ink boxes, so a
long flourish or a stray dot can still leave the two signatures offset by a few pixels.
`align` removes that offset: it first matches the ink's centres of mass, then tries
every small shift around that and keeps the one where the strokes coincide most
(cross-correlation of lightly blurred canvases, so that near-misses of thin strokes
still count). Nothing here changes the score; it only helps a person see.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Canvases are 224 x 448: 20 px is about 5% of the width, more than the offsets a
# centroid match leaves between two renderings of one hand, and small enough that
# the search cannot slide one word of a signature onto another.
MAX_SHIFT_PX = 20
# Blur before correlating: strokes 4-6 px wide that miss by a pixel or two still overlap.
_ALIGN_BLUR_SIGMA = 3.0
# Blur of the difference map: shows regions that differ, not single-pixel jitter.
_HEAT_BLUR_SIGMA = 6.0

# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
QUESTIONED_RGB = (0, 114, 178)  # blue
REFERENCE_RGB = (230, 159, 0)  # orange


@dataclass(frozen=True)
class Alignment:
    dx: int  # shift (pixels, right positive) to apply to the reference
    dy: int  # shift (pixels, down positive) to apply to the reference
    correlation: float  # normalised cross-correlation at that shift, 0..1


def _as_canvas(canvas: np.ndarray) -> np.ndarray:
    arr = np.asarray(canvas, np.float32)
    if arr.ndim != 2:
        raise ValueError(f"a canvas must be 2-D, got shape {arr.shape}")
    return np.clip(arr, 0.0, 1.0)


def shift_image(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`image` moved by whole pixels, with zeros (no ink) shifted in."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y = slice(max(0, -dy), h - max(0, dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[dst_y, dst_x] = image[src_y, src_x]
    return out


def _centroid(canvas: np.ndarray) -> tuple[float, float] | None:
    total = float(canvas.sum())
    if total <= 0.0:
        return None
    ys, xs = np.indices(canvas.shape, dtype=np.float32)
    return float((xs * canvas).sum() / total), float((ys * canvas).sum() / total)


def align(
    questioned: np.ndarray, reference: np.ndarray, max_shift: int = MAX_SHIFT_PX
) -> Alignment:
    """The whole-pixel shift of `reference` that best lays it over `questioned`."""
    q = _as_canvas(questioned)
    r = _as_canvas(reference)
    if q.shape != r.shape:
        raise ValueError(f"canvases differ in shape: {q.shape} and {r.shape}")
    cq, cr = _centroid(q), _centroid(r)
    if cq is None or cr is None:  # an empty canvas: nothing to align
        return Alignment(0, 0, 0.0)
    # Clamped so that a centroid pulled far off by one side's flourish cannot push
    # the search window past what the refinement could bring back.
    limit = max(q.shape) // 4
    base_dx = int(np.clip(round(cq[0] - cr[0]), -limit, limit))
    base_dy = int(np.clip(round(cq[1] - cr[1]), -limit, limit))
    qb = cv2.GaussianBlur(q, (0, 0), _ALIGN_BLUR_SIGMA)
    rb = cv2.GaussianBlur(shift_image(r, base_dx, base_dy), (0, 0), _ALIGN_BLUR_SIGMA)
    s = int(max_shift)
    # Correlating `rb` over `qb` padded by s on every side gives, at [s + dy, s + dx],
    # sum(q[y + dy, x + dx] * r[y, x]): the overlap with the reference moved by (dx, dy).
    padded = cv2.copyMakeBorder(qb, s, s, s, s, cv2.BORDER_CONSTANT, value=0.0)
    overlap = cv2.matchTemplate(padded, rb, cv2.TM_CCORR)
    # Prefer the smallest shift among equal overlaps (flat maps, symmetric strokes).
    ys, xs = np.indices(overlap.shape)
    distance = np.hypot(xs - s, ys - s)
    best = np.lexsort((distance.ravel(), -overlap.ravel()))[0]
    best_dy, best_dx = divmod(int(best), overlap.shape[1])
    dx, dy = base_dx + best_dx - s, base_dy + best_dy - s
    norm = float(np.sqrt((qb * qb).sum() * (rb * rb).sum()))
    correlation = float(overlap.flat[best]) / norm if norm > 0 else 0.0
    return Alignment(dx, dy, float(np.clip(correlation, 0.0, 1.0)))


def aligned_reference(
    questioned: np.ndarray, reference: np.ndarray
) -> tuple[np.ndarray, Alignment]:
    """The reference canvas moved onto the questioned one, and the shift used."""
    alignment = align(questioned, reference)
    return shift_image(_as_canvas(reference), alignment.dx, alignment.dy), alignment


def overlay_rgb(questioned: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The two canvases as coloured inks on white paper, uint8 (H, W, 3).

    Inks multiply like real ones laid over each other: the questioned strokes in
    blue, the reference's in orange, and where both lie the colours absorb each
    other into a dark stroke, so agreement reads as dark and disagreement as colour.
    """
    q = _as_canvas(questioned)[..., None]
    r = _as_canvas(reference)[..., None]
    q_colour = np.asarray(QUESTIONED_RGB, np.float32) / 255.0
    r_colour = np.asarray(REFERENCE_RGB, np.float32) / 255.0
    paper = (1.0 - q * (1.0 - q_colour)) * (1.0 - r * (1.0 - r_colour))
    return (paper * 255.0 + 0.5).astype(np.uint8)


def difference_map(questioned: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Where the two canvases differ, 0..1 (1 = the most different place), float32."""
    q, r = _as_canvas(questioned), _as_canvas(reference)
    diff = cv2.GaussianBlur(np.abs(q - r), (0, 0), _HEAT_BLUR_SIGMA)
    # Normalised by the ink there is, not by the map's own maximum: two near-identical
    # signatures must give a nearly empty map, not their noise stretched to full red.
    ink = cv2.GaussianBlur(np.maximum(q, r), (0, 0), _HEAT_BLUR_SIGMA)
    scale = float(ink.max())
    if scale <= 0.0:
        return np.zeros_like(q)
    return np.clip(diff / scale, 0.0, 1.0).astype(np.float32)


def heatmap_rgb(questioned: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`difference_map` in a perceptually ordered colour map (dark = same), uint8 RGB,
    with the questioned strokes drawn faintly on top so that the places can be read."""
    diff = difference_map(questioned, reference)
    coloured = cv2.applyColorMap((diff * 255.0 + 0.5).astype(np.uint8), cv2.COLORMAP_INFERNO)
    rgb = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB).astype(np.float32)
    strokes = _as_canvas(questioned)[..., None] * 0.35
    return (rgb * (1.0 - strokes) + 255.0 * strokes + 0.5).astype(np.uint8)
