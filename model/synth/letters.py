"""The shapes a synthetic hand is built from: cursive letters and capitals as keypoints.

Cursive writing is a chain of up and down strokes; what makes an "n" an "n" is
where the pen turns and in which direction it moves there. So a letter here is a
short list of keypoints `(x, y, dx, dy)` in x-height units (baseline y = 0, the
top of an "n" y = 1, y pointing up): the turning points of the pen and its
direction of travel at each. A cubic Hermite spline through them (see
`trajectory.py`) gives the stroke. The direction alone decides the shape:
- a top passed moving right is an arch ("n", "m"), moving left a loop ("l", "e");
- a bottom passed moving right is a garland ("u"), moving left a descender loop;
- a zero direction is a cusp: the pen stops and turns back on its path ("i", "t").

Letters are joined by letting the spline run from one letter's last keypoint to
the next one's first, which draws the connecting upstroke as a real hand does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Keypoint(NamedTuple):
    x: float
    y: float
    dx: float  # direction and relative speed of the pen here; (0, 0) is a cusp
    dy: float
    letter: int  # index of the letter it belongs to, -1 for strokes outside letters


@dataclass(frozen=True)
class LetterShape:
    width: float  # advance to the next letter, in x-height units
    points: tuple[tuple[float, float, float, float], ...]
    dot: tuple[float, float] | None = None  # an i-dot, drawn after the word
    bar: tuple[float, float, float, float] | None = None  # a t-bar x0, y0, x1, y1


_CUSP = (0.0, 0.0)
_RIGHT = (1.0, 0.0)
_LEFT = (-1.0, 0.0)

# fmt: off
# Lower-case cursive letters. Heights: x-height 1, ascenders ~2.2, descenders ~-1.3.
LOWERCASE: dict[str, LetterShape] = {
    "n": LetterShape(1.0, ((0.10, 1.0, *_CUSP), (0.12, 0.0, *_CUSP), (0.50, 1.0, *_RIGHT),
                           (0.85, 0.0, *_RIGHT))),
    "m": LetterShape(1.35, ((0.10, 1.0, *_CUSP), (0.12, 0.0, *_CUSP), (0.42, 1.0, *_RIGHT),
                            (0.56, 0.0, *_CUSP), (0.86, 1.0, *_RIGHT), (1.20, 0.0, *_RIGHT))),
    "u": LetterShape(1.0, ((0.15, 1.0, *_CUSP), (0.35, 0.0, *_RIGHT), (0.70, 1.0, *_CUSP),
                           (0.85, 0.0, *_RIGHT))),
    "i": LetterShape(0.55, ((0.20, 1.0, *_CUSP), (0.40, 0.0, *_RIGHT)), dot=(0.28, 1.65)),
    "e": LetterShape(0.65, ((0.40, 0.75, *_LEFT), (0.25, 0.0, *_RIGHT))),
    "l": LetterShape(0.70, ((0.55, 2.3, *_LEFT), (0.35, 0.0, *_RIGHT))),
    "h": LetterShape(1.15, ((0.50, 2.3, *_LEFT), (0.25, 0.0, *_CUSP), (0.62, 1.0, *_RIGHT),
                            (0.98, 0.0, *_RIGHT))),
    "a": LetterShape(1.10, ((0.62, 0.95, *_LEFT), (0.12, 0.5, 0.0, -1.0), (0.40, 0.0, *_RIGHT),
                            (0.78, 1.0, *_CUSP), (0.98, 0.0, *_RIGHT))),
    "o": LetterShape(1.0, ((0.55, 1.0, *_LEFT), (0.10, 0.5, 0.0, -1.0), (0.45, 0.0, *_RIGHT),
                           (0.82, 0.6, 0.0, 1.0), (0.70, 1.0, *_CUSP), (1.0, 0.85, *_RIGHT))),
    "d": LetterShape(1.15, ((0.62, 0.95, *_LEFT), (0.12, 0.5, 0.0, -1.0), (0.40, 0.0, *_RIGHT),
                            (0.85, 2.2, *_CUSP), (1.0, 0.0, *_RIGHT))),
    "y": LetterShape(1.0, ((0.15, 1.0, *_CUSP), (0.35, 0.0, *_RIGHT), (0.70, 1.0, *_CUSP),
                           (0.55, -1.3, *_LEFT))),
    "g": LetterShape(1.10, ((0.62, 0.95, *_LEFT), (0.12, 0.5, 0.0, -1.0), (0.40, 0.0, *_RIGHT),
                            (0.78, 1.0, *_CUSP), (0.62, -1.3, *_LEFT))),
    "t": LetterShape(0.70, ((0.35, 1.8, *_CUSP), (0.50, 0.0, *_RIGHT)),
                     bar=(0.0, 1.15, 0.85, 1.25)),
    "r": LetterShape(0.80, ((0.20, 1.05, *_CUSP), (0.50, 0.95, 0.5, -0.5), (0.60, 0.0, *_RIGHT))),
    "s": LetterShape(0.75, ((0.35, 1.05, *_CUSP), (0.62, 0.35, 0.0, -1.0), (0.30, 0.0, *_LEFT),
                            (0.70, 0.05, *_RIGHT))),
}
# How often each letter is picked: frequent letters of Latin-script names.
LETTER_WEIGHTS: dict[str, float] = {
    "n": 8, "m": 4, "u": 4, "i": 6, "e": 9, "l": 5, "h": 3, "a": 9, "o": 6, "d": 3,
    "y": 2, "g": 2, "t": 4, "r": 6, "s": 5,
}
# fmt: on


@dataclass(frozen=True)
class CapitalShape:
    width: float
    # Strokes in writing order; the writer decides whether the last runs on into the word.
    strokes: tuple[tuple[tuple[float, float, float, float], ...], ...]


def make_capital(rng: np.random.Generator) -> CapitalShape:
    """A capital-like first letter, in x-height units, of one of a few cursive families.

    Height and width vary per writer; the families cover the usual constructions:
    a big oval (O, C, G, E), stem and bowl (P, B, R, D), arches (M, N, H) and a
    looped stem (L, J, S, T).
    """
    h = rng.uniform(2.3, 3.2)
    w = h * rng.uniform(0.55, 0.9)
    family = rng.choice(["oval", "stem_bowl", "arches", "loop_stem"], p=[0.3, 0.25, 0.25, 0.2])
    if family == "oval":
        closes = rng.random() < 0.5
        pts = [
            (0.85 * w, 0.8 * h, -0.3, 1.0),
            (0.45 * w, h, *_LEFT),
            (0.0, 0.5 * h, 0.0, -1.0),
            (0.45 * w, 0.0, *_RIGHT),
            (0.95 * w, 0.4 * h, 0.0, 1.0),
        ]
        if closes:  # runs back up over its start, then down into the word
            pts += [(0.6 * w, 0.75 * h, -1.0, 0.0), (w * 1.05, 0.05, 1.0, -0.2)]
        else:
            pts += [(w * 1.1, 0.1, 1.0, -0.6)]
        return CapitalShape(w * 1.15, (tuple(pts),))
    if family == "stem_bowl":
        stem = (
            (0.40 * w, h, *_CUSP),
            (0.30 * w, 0.0, -1.0, -0.1),
            (0.05 * w, 0.18 * h, 0.0, 1.0),
        )
        bowl = [
            (0.20 * w, 0.7 * h, *_CUSP),
            (0.55 * w, h, *_RIGHT),
            (w, 0.75 * h, 0.0, -1.0),
            (0.40 * w, 0.48 * h, *_LEFT),
        ]
        if rng.random() < 0.5:  # a leg (R) or a second bowl (B)
            bowl += [(0.9 * w, 0.2 * h, 0.3, -1.0), (1.15 * w, 0.0, *_RIGHT)]
        else:
            bowl += [(0.95 * w, 0.22 * h, 0.0, -1.0), (0.35 * w, 0.02 * h, *_LEFT),
                     (1.1 * w, 0.05, *_RIGHT)]  # fmt: skip
        return CapitalShape(w * 1.2, (stem, tuple(bowl)))
    if family == "arches":
        humps = int(rng.integers(2, 4))
        pts = [(0.0, 0.1 * h, 0.2, 1.0)]
        step = w / humps
        for k in range(humps):
            top = h * (1.0 - 0.25 * k / humps)
            pts.append((step * (k + 0.35), top, *_RIGHT))
            last = k == humps - 1
            pts.append((step * (k + 0.8), 0.0, *(_RIGHT if last else _CUSP)))
        return CapitalShape(w * 1.05, (tuple(pts),))
    # loop_stem: a tall loop whose stem ends in a small loop on the baseline
    pts = (
        (0.1 * w, 0.35 * h, 0.5, 1.0),
        (0.75 * w, h, *_LEFT),
        (0.40 * w, 0.05 * h, -0.2, -1.0),
        (0.10 * w, 0.12 * h, 0.0, 1.0),
        (0.35 * w, 0.2 * h, 1.0, -0.3),
        (1.0 * w, 0.0, *_RIGHT),
    )
    return CapitalShape(w * 1.1, (pts,))
