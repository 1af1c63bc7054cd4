"""Regenerate the golden canvases of `preprocess` in tests/golden/.

Run from the repository root after changing preprocessing on purpose (and bumping
`PREPROCESS_VERSION` in model/preprocess.py):

    .venv/bin/python -m tests.make_golden

The inputs are drawn here in code with no randomness (integer "noise" patterns,
fixed coordinates), so they are the same on every machine; only the canvases are
stored, with the version that made them in golden/VERSION.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

if __package__ in (None, ""):  # run as a script: make `model` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.preprocess import PREPROCESS_VERSION, preprocess  # noqa: E402

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
VERSION_FILE = GOLDEN_DIR / "VERSION"


def grain(h: int, w: int, amplitude: int = 4) -> np.ndarray:
    """Deterministic scanner-grain stand-in: an integer hash of the pixel position
    (numpy's random streams may change between releases; this cannot)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    hashed = (x * 73_856_093) ^ (y * 19_349_663)
    return ((hashed % (2 * amplitude + 1)) - amplitude).astype(np.float32)


def paper(h: int, w: int, level: float = 232.0, shade: float = 0.0) -> np.ndarray:
    """Float grey paper, optionally darkening towards the right (a scanner's shading)."""
    ramp = np.linspace(0.0, shade, w, dtype=np.float32)[None, :]
    return level - ramp + grain(h, w)


def ink_onto(page: np.ndarray, coverage: np.ndarray, ink: float) -> np.ndarray:
    """Lay uint8 ink coverage (255 = full ink) onto float paper; returns uint8 grey."""
    alpha = coverage.astype(np.float32) / 255.0
    return np.clip(page * (1.0 - alpha) + ink * alpha, 0, 255).astype(np.uint8)


def signature_coverage(h: int, w: int, x0: int, y0: int, scale: float = 1.0) -> np.ndarray:
    """A fixed looping signature (capital, five loops, flourish, an i-dot) as coverage.

    Its ink spans roughly x0..x0+560*scale and y0..y0+210*scale.
    """
    layer = np.zeros((h, w), np.uint8)
    s = scale
    t = np.linspace(0.0, 1.0, 900)
    theta = 2 * np.pi * 5 * t
    base = y0 + 150 * s
    ry = 32 * s * (1.0 + 0.3 * np.sin(2 * np.pi * 1.5 * t))
    ry[t < 0.22] *= 2.0  # the capital
    y = base - ry * (1 - np.cos(theta))
    x = x0 + 20 * s + t * 480 * s - 28 * s * np.sin(theta) + 0.25 * (base - y)
    flourish_t = np.linspace(0.0, 1.0, 300)
    fx = x[-1] - flourish_t * (x[-1] - x[0])
    fy = base + (20 + 35 * np.sin(np.pi * flourish_t)) * s
    stroke = np.column_stack([np.r_[x, fx], np.r_[y, fy]])
    pen = max(2, round(4 * s))
    cv2.polylines(
        layer, [np.round(stroke * 16).astype(np.int32)], False, 255, pen, cv2.LINE_AA, shift=4
    )
    dot = (round(x0 + 330 * s), round(y0 + 20 * s))
    cv2.circle(layer, dot, max(2, round(5 * s)), 255, -1, cv2.LINE_AA)
    return layer


def golden_inputs() -> dict[str, np.ndarray]:
    """The fixed scans whose canvases are golden, by name."""
    # A plain 300-dpi signature scan.
    plain = ink_onto(paper(400, 700), signature_coverage(400, 700, 60, 80), ink=40.0)

    # On a cheque: uneven lighting and the printed "sign here" rule under it.
    page = paper(600, 1200, shade=50.0)
    rule = np.zeros((600, 1200), np.uint8)
    cv2.line(rule, (60, 470), (1140, 470), 255, 3, cv2.LINE_AA)
    ruled = ink_onto(page, np.maximum(rule, signature_coverage(600, 1200, 300, 200)), 55.0)

    # A colour scan: blue ballpoint on cream paper, RGB.
    cov = signature_coverage(380, 640, 40, 60, scale=0.95).astype(np.float32)[..., None] / 255
    cream = np.array([240.0, 232.0, 205.0], np.float32)
    blue = np.array([40.0, 50.0, 140.0], np.float32)
    base = paper(380, 640)[..., None] - 232.0
    colour = np.clip(base + cream * (1 - cov) + blue * cov, 0, 255).astype(np.uint8)

    # A large 16-bit scan at 600 dpi: takes the shrink-first path.
    big = ink_onto(paper(1300, 2200), signature_coverage(1300, 2200, 300, 300, 2.5), 30.0)
    big16 = big.astype(np.uint16) * 257

    return {"plain": plain, "ruled": ruled, "colour": colour, "big16": big16}


def canvas_png(image: np.ndarray) -> np.ndarray:
    """The canvas as stored: 8-bit, rounded."""
    return np.clip(preprocess(image).canvas * 255.0 + 0.5, 0, 255).astype(np.uint8)


def main() -> None:
    GOLDEN_DIR.mkdir(exist_ok=True)
    for old in GOLDEN_DIR.glob("*.png"):
        old.unlink()
    inputs = golden_inputs()
    for name, image in inputs.items():
        cv2.imwrite(str(GOLDEN_DIR / f"{name}.png"), canvas_png(image))
    VERSION_FILE.write_text(PREPROCESS_VERSION + "\n", encoding="utf-8")
    print(f"wrote {len(inputs)} golden canvases for {PREPROCESS_VERSION} in {GOLDEN_DIR}")


if __name__ == "__main__":
    main()
