"""What gives a skilled forgery away: the ways a copying hand differs from a writing one.

A forger copies the shape of one genuine specimen, slowly. Compared with the
writer's own signatures that leaves:
- wrong proportions and slant (the larger `FORGER` variation in `trajectory.py`);
- tremor: a fine high-frequency wobble of the line, and a slower drawing wobble;
- pen lifts: the forger stops to look at the model, so a stroke the writer draws in
  one go is broken, restarted a little off the old line;
- hesitation: where the pen pauses, ink pools into a blob;
- slow, even pressure: blunt stroke ends instead of tapers, little difference
  between up and down strokes or fast and slow passages (`forger_hand`);
- often another pen.
"""

from __future__ import annotations

import numpy as np

from model.synth.ink import Hand, InkStroke
from model.synth.trajectory import PenPath, arc_length, smooth_along
from model.synth.writer import INKS, Writer

_LIFTABLE = ("capital", "word", "underline")


def forger_hand(writer: Writer, rng: np.random.Generator) -> Hand:
    own_pen = rng.random() < 0.4
    width = rng.uniform(1.8, 4.6) if own_pen else writer.pen_width_px
    return Hand(
        pen_width_px=float(width * np.exp(rng.normal(0.0, 0.08))),
        pressure=float(rng.uniform(0.65, 0.9)),
        downstroke_emphasis=writer.downstroke_emphasis * 0.3,
        taper_px=float(rng.uniform(1.0, 4.0)),
        wobble=float(rng.uniform(0.02, 0.06)),
        speed_effect=0.15,
    )


def forger_ink(writer: Writer, rng: np.random.Generator) -> tuple[int, int, int]:
    return INKS[int(rng.integers(len(INKS)))] if rng.random() < 0.4 else writer.ink_rgb


def add_tremor(paths: list[PenPath], rng: np.random.Generator) -> None:
    """Shift each path sideways by a fine tremor plus a slower, unsure wobble (in place)."""
    fine_amp = rng.uniform(0.25, 0.8)
    fine_wave = rng.uniform(3.0, 7.0)
    slow_amp = rng.uniform(0.3, 1.0)
    for p in paths:
        if len(p.xy) < 4:
            continue
        s = arc_length(p.xy)
        off = fine_amp * smooth_along(rng, s, fine_wave) + slow_amp * smooth_along(rng, s, 25.0)
        t = np.gradient(p.xy, axis=0)
        t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
        normal = np.stack([-t[:, 1], t[:, 0]], axis=1)
        p.xy = p.xy + normal * off[:, None]


def lift_pen(paths: list[PenPath], rng: np.random.Generator) -> list[PenPath]:
    """Break long strokes where the forger would pause (slow turning points)."""
    long = [i for i, p in enumerate(paths) if p.kind in _LIFTABLE and len(p.xy) > 150]
    if not long:
        return paths
    lifts = dict.fromkeys(long, 0)
    for _ in range(int(rng.integers(1, 4))):
        lifts[long[int(rng.integers(len(long)))]] += 1
    out: list[PenPath] = []
    for i, p in enumerate(paths):
        pieces = [p]
        for _ in range(lifts.get(i, 0)):
            pieces.sort(key=lambda q: len(q.xy))
            pieces[-1:] = _split(pieces[-1], rng)
        out.extend(pieces)
    return out


def _split(p: PenPath, rng: np.random.Generator) -> list[PenPath]:
    n = len(p.xy)
    if n < 60:
        return [p]
    lo, hi = n // 8, n - n // 8
    slowness = 1.0 / (p.speed[lo:hi] + 0.2) ** 2
    at = lo + int(rng.choice(hi - lo, p=slowness / slowness.sum()))
    gap = int(round(rng.uniform(-3.0, 6.0) / 0.8))  # negative: the restart overlaps the end
    end, start = at, at + gap
    first = PenPath(p.kind, p.xy[:end], p.speed[:end], p.down[:end])
    xy = p.xy[start:].copy()
    # Restarting by eye lands a little off the line, then rejoins it.
    settle = np.exp(-arc_length(xy) / rng.uniform(8.0, 25.0))[:, None]
    xy += rng.normal(0.0, 1.3, 2) * settle
    second = PenPath(p.kind, xy, p.speed[start:], p.down[start:])
    return [first, second]


def add_hesitations(strokes: list[InkStroke], rng: np.random.Generator) -> None:
    """Ink blobs where the pen paused, and at the blunt ends where it rested (in place)."""
    total = sum(len(st.xy) for st in strokes)
    n_blobs = 1 + int(rng.poisson(total / 1500))
    for _ in range(n_blobs):
        st = strokes[int(rng.choice(len(strokes), p=[len(q.xy) / total for q in strokes]))]
        _blob(st, rng.uniform(0.0, 1.0), rng.uniform(0.5, 1.0), rng.uniform(1.5, 4.0))
    for st in strokes:
        if len(st.xy) > 8:
            _blob(st, 0.0, rng.uniform(0.1, 0.5), 2.0)
            _blob(st, 1.0, rng.uniform(0.1, 0.5), 2.0)


def _blob(st: InkStroke, where: float, strength: float, sigma_px: float) -> None:
    s = arc_length(st.xy)
    centre = where * s[-1]
    bump = strength * np.exp(-0.5 * ((s - centre) / sigma_px) ** 2)
    st.width = st.width * (1.0 + 0.6 * bump)
    st.density = np.maximum(st.density, np.clip(0.6 + 0.4 * bump, 0.0, 1.0) * (bump > 0.05))
