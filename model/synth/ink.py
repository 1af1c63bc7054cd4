"""How much ink a pen leaves along a path: width and darkness from pressure and speed.

A ballpoint's trace is a little wider and much darker where it is pressed and moved
slowly: down strokes are pressed harder than up strokes, a fluent hand lands and
lifts the pen while moving, so its strokes fade in and out (tapers), and fast
passages are lighter. A forger's slow, careful hand loses exactly these cues,
which is why `Hand` is a separate object that `forgery.py` can change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.synth.trajectory import PenPath, arc_length, smooth_along
from model.synth.writer import Writer


@dataclass(frozen=True)
class Hand:
    pen_width_px: float
    pressure: float  # mean, 0..1
    downstroke_emphasis: float
    taper_px: float
    wobble: float  # sd of slow pressure variation
    speed_effect: float  # how much a fast pen thins and lightens the line


@dataclass
class InkStroke:
    xy: np.ndarray  # (n, 2) pixels
    width: np.ndarray  # (n,) line width in pixels
    density: np.ndarray  # (n,) ink darkness 0..1


def genuine_hand(writer: Writer, rng: np.random.Generator) -> Hand:
    """The writer's own hand today: their habits with a little day-to-day variation."""
    return Hand(
        pen_width_px=writer.pen_width_px * float(np.exp(rng.normal(0.0, 0.07))),
        pressure=float(np.clip(writer.pressure + rng.normal(0.0, 0.05), 0.2, 1.0)),
        downstroke_emphasis=writer.downstroke_emphasis,
        taper_px=writer.taper_px * float(np.exp(rng.normal(0.0, 0.15))),
        wobble=writer.pressure_wobble,
        speed_effect=0.6,
    )


def ink_path(path: PenPath, hand: Hand, rng: np.random.Generator) -> InkStroke:
    s = arc_length(path.xy)
    length = s[-1]
    if length < 3 * hand.pen_width_px:  # a dot: pressed and left, no taper
        pressure = np.full(len(s), min(1.0, hand.pressure + 0.25))
    else:
        taper = min(hand.taper_px, length / 3)
        ramp_in = np.clip(s / taper, 0.0, 1.0) ** 0.6
        ramp_out = np.clip((length - s) / taper, 0.0, 1.0) ** 0.6
        ends = 0.3 + 0.7 * np.minimum(ramp_in, ramp_out)
        wobble = 1.0 + hand.wobble * smooth_along(rng, s, wavelength=35.0)
        emphasis = 1.0 + hand.downstroke_emphasis * (path.down - 0.3)
        pressure = hand.pressure * ends * wobble * emphasis
    fast = np.clip(path.speed, 0.0, 3.0) - 1.0
    density = np.clip(0.35 + 0.7 * pressure - 0.18 * hand.speed_effect * fast, 0.1, 1.0)
    width = hand.pen_width_px * np.clip(0.6 + 0.5 * pressure - 0.08 * hand.speed_effect * fast,
                                        0.35, 1.5)  # fmt: skip
    return InkStroke(path.xy, width, density)
