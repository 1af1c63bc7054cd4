"""Ink strokes to a scanned crop: framing, anti-aliased drawing, paper, scanner.

Strokes are drawn at 2x with OpenCV's anti-aliased polylines, one call per run of
equal width and darkness, then area-averaged down: that gives smooth edges and
half-pixel width steps at a few hundred draw calls per signature. The crop is
sized like a 300-dpi signature box (400-1000 x 150-400 px) and then made to look
scanned: tinted, textured, unevenly lit paper; ink grain; optics blur; sensor
noise; sometimes a JPEG round trip.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.synth.ink import InkStroke

_SS = 2  # supersampling factor of the ink layer
_SHIFT = 4  # fixed-point bits for sub-pixel coordinates in OpenCV drawing
_LEVELS = 15  # darkness steps per stroke run
WIDTH_RANGE = (400, 1000)
HEIGHT_RANGE = (150, 400)


def frame(strokes: list[InkStroke], rng: np.random.Generator) -> tuple[int, int]:
    """Move (and if too large, shrink) the strokes into a crop with margins; returns (h, w)."""
    xy = np.concatenate([st.xy for st in strokes])
    pad = max(float(np.max(st.width)) for st in strokes)
    lo, hi = xy.min(axis=0) - pad, xy.max(axis=0) + pad
    margin = rng.uniform([12, 10, 12, 10], [70, 50, 70, 50])  # left, top, right, bottom
    size = hi - lo
    room = np.array([WIDTH_RANGE[1], HEIGHT_RANGE[1]]) - (margin[:2] + margin[2:])
    # The pen does not shrink with the writing, so widths stay as they are.
    scale = min(1.0, float(np.min(room / np.maximum(size, 1.0))))
    w = max(WIDTH_RANGE[0], int(np.ceil(size[0] * scale + margin[0] + margin[2])))
    h = max(HEIGHT_RANGE[0], int(np.ceil(size[1] * scale + margin[1] + margin[3])))
    # Left-over room from the minimum size goes to both sides at random.
    spare = np.array([w, h]) - (size * scale + margin[:2] + margin[2:])
    offset = margin[:2] + spare * rng.uniform(0.2, 0.8, 2)
    for st in strokes:
        st.xy = (st.xy - lo) * scale + offset
    return h, w


def draw_ink(strokes: list[InkStroke], hw: tuple[int, int]) -> np.ndarray:
    """Ink darkness 0..1 (float32, shape hw) of the strokes, anti-aliased."""
    h, w = hw
    layer = np.zeros((h * _SS, w * _SS), np.uint8)
    one = float(_SS * (1 << _SHIFT))
    for st in strokes:
        pts = np.round(st.xy * one).astype(np.int32)
        thick = np.maximum(1, np.round(st.width * _SS)).astype(np.int32)
        level = np.round(st.density * _LEVELS).astype(np.int32)
        key = thick * (_LEVELS + 1) + level
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [len(key)]])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            run = pts[max(a - 1, 0) : b]  # overlap one point so runs join up
            colour = int(level[a]) * 255 // _LEVELS
            if len(run) == 1:
                run = np.repeat(run, 2, axis=0)
            cv2.polylines(layer, [run], False, colour, int(thick[a]), cv2.LINE_AA, _SHIFT)
    return cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def scan(
    ink: np.ndarray, ink_rgb: tuple[int, int, int], rng: np.random.Generator, color: bool
) -> np.ndarray:
    """Ink darkness on paper, as a scanner delivers it: uint8 grey (h, w) or RGB (h, w, 3)."""
    h, w = ink.shape
    # Ballpoint ink is grainy: the ball skips a little on the paper's fibres.
    grain = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 0.7)
    ink = ink * (1.0 - rng.uniform(0.1, 0.35) * (grain - grain.mean()) * 4.0).clip(0.4, 1.3)
    ink = np.clip(ink, 0.0, 1.0)

    paper = np.full((h, w), rng.uniform(214.0, 248.0), np.float32)
    # Uneven lighting: a gentle gradient and blotches, scanner shading and paper tone.
    gx, gy = rng.normal(0.0, 6.0, 2)
    paper += gx * (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    paper += gy * (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    blotch = rng.normal(0.0, rng.uniform(1.0, 5.0), (4, 8)).astype(np.float32)
    paper += cv2.resize(blotch, (w, h), interpolation=cv2.INTER_CUBIC)
    fibres = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 1.2)
    paper += fibres * rng.uniform(3.0, 9.0)

    blur = rng.uniform(0.35, 0.9)
    noise = rng.standard_normal((h, w), dtype=np.float32) * np.float32(rng.uniform(1.0, 3.5))
    jpeg_quality = int(rng.integers(60, 96)) if rng.random() < 0.35 else 0
    if color:
        tint = np.array([1.0, 0.99, 0.965]) + rng.normal(0.0, 0.01, 3)
        absorb = 1.0 - np.asarray(ink_rgb, np.float32) / 255.0
        img = paper[:, :, None] * tint.astype(np.float32) * (1.0 - ink[:, :, None] * absorb)
    else:
        lum = 0.299 * ink_rgb[0] + 0.587 * ink_rgb[1] + 0.114 * ink_rgb[2]
        img = paper * (1.0 - ink * (1.0 - lum / 255.0))
    img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img + (noise[:, :, None] if color else noise)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if jpeg_quality:
        out = _jpeg_round_trip(out, jpeg_quality)
    return out


def _jpeg_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    # OpenCV codes colour as BGR; swap around the round trip so channels stay RGB.
    bgr = img[:, :, ::-1] if img.ndim == 3 else img
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # encoding an in-memory array cannot fail for a valid uint8 image
        return img
    back = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return np.ascontiguousarray(back[:, :, ::-1]) if back.ndim == 3 else back
