"""A synthetic writer: the plan of their signature and the habits of their hand.

`make_writer` draws, from one seed, everything that stays the same between two
signatures of one person: which letters they write and how they shape them, where
they lift the pen, whether they add a dot, an underline or a flourish, and their
style (slant, size, letter width, roundness, pen, pressure, baseline). Rendering
(`trajectory.py`, `scan.py`) adds what changes from one signature to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.synth.letters import LETTER_WEIGHTS, LOWERCASE, Keypoint, make_capital

# Ballpoint and rollerball inks as scanned (RGB): blues and near-blacks.
INKS: tuple[tuple[int, int, int], ...] = (
    (28, 46, 128),
    (40, 62, 150),
    (22, 34, 96),
    (52, 58, 120),
    (28, 28, 34),
    (40, 38, 44),
)


@dataclass(frozen=True)
class StrokePlan:
    kind: str  # "capital", "word", "dot", "bar", "underline": what the pen draws without lifting
    points: tuple[Keypoint, ...]


@dataclass(frozen=True)
class Writer:
    """A writer's identity: everything needed to re-draw their signature."""

    writer_id: str
    strokes: tuple[StrokePlan, ...]  # in writing order, x-height units, y up
    # x where each letter starts, then where the last one ends: strictly increasing.
    letter_edges: tuple[float, ...]
    xheight_px: float  # size of the small letters on a 300-dpi scan
    slant_deg: float  # positive leans right
    roundness: float  # tangent scale at turning points: < 1 angular, > 1 round
    baseline_slope_deg: float  # positive climbs to the right
    baseline_bow: float  # sag (+) or hump (-) of the baseline, x-height units
    pen_width_px: float
    pressure: float  # mean pen pressure, 0..1
    downstroke_emphasis: float  # extra pressure on down strokes, 0..1
    taper_px: float  # how far stroke ends fade in and out: a fast, fluent hand tapers
    pressure_wobble: float  # slow pressure variation along a stroke
    ink_rgb: tuple[int, int, int]


def make_writer(seed: int, writer_id: str | None = None) -> Writer:
    """A new writer, fully determined by `seed`; the id defaults to "w<seed>"."""
    rng = np.random.default_rng(seed)
    plan = _SignaturePlanner(rng)
    strokes, edges = plan.build()
    width_units = max(edges[-1] - edges[0], 3.0)
    # Signatures on a 300-dpi scan are some 3-7 cm wide; the size follows from the
    # letter count so that long names are written smaller, as people do.
    xheight = float(np.clip(rng.uniform(360, 800) / width_units, 16.0, 46.0))
    return Writer(
        writer_id=writer_id if writer_id is not None else f"w{seed:04d}",
        strokes=strokes,
        letter_edges=edges,
        xheight_px=xheight,
        slant_deg=float(np.clip(rng.normal(14.0, 11.0), -12.0, 38.0)),
        roundness=float(rng.uniform(0.75, 1.35)),
        baseline_slope_deg=float(rng.normal(1.5, 3.0)),
        baseline_bow=float(rng.normal(0.0, 0.25)),
        pen_width_px=float(rng.uniform(1.8, 4.6)),
        pressure=float(rng.uniform(0.45, 0.85)),
        downstroke_emphasis=float(rng.uniform(0.05, 0.5)),
        taper_px=float(rng.uniform(6.0, 30.0)),
        pressure_wobble=float(rng.uniform(0.05, 0.25)),
        ink_rgb=INKS[int(rng.integers(len(INKS)))],
    )


class _SignaturePlanner:
    """Lays out one writer's words, capitals, dots and underline as keypoint strokes."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.strokes: list[StrokePlan] = []
        self.origins: list[float] = []
        self.late: list[StrokePlan] = []  # i-dots and t-bars: written after their word
        self.x = 0.0
        # Letter habits shared by every letter of this hand.
        self.width_factor = rng.uniform(0.6, 1.35)
        self.ascender = rng.uniform(0.7, 1.15)  # scales loops above the x-height
        self.descender = rng.uniform(0.7, 1.2)
        self.decay = rng.uniform(0.0, 0.5)  # letters shrink and flatten towards the end
        self.dots = rng.random() < 0.6
        self.shape_jitter = rng.uniform(0.03, 0.09)

    def build(self) -> tuple[tuple[StrokePlan, ...], tuple[float, ...]]:
        rng = self.rng
        structure = rng.choice(["initial_surname", "first_last", "surname"], p=[0.4, 0.35, 0.25])
        if structure == "initial_surname":
            self._capital(joined=False)
            if rng.random() < 0.5:
                self._dot_after_initial()
            self.x += rng.uniform(0.4, 1.0)
            words = [int(rng.integers(3, 8))]
        elif structure == "first_last":
            words = [int(rng.integers(2, 6)), int(rng.integers(3, 8))]
        else:
            words = [int(rng.integers(4, 9))]
        total = sum(words) + len(words)
        for k, n_small in enumerate(words):
            last = k == len(words) - 1
            self._word(n_small, total, last)
            if not last:
                self.x += rng.uniform(0.7, 1.5)
        if rng.random() < 0.35:
            self._underline()
        # Plain floats: a Writer compares, hashes and prints like the value it is.
        strokes = tuple(
            StrokePlan(st.kind, tuple(Keypoint(*map(float, k[:4]), int(k[4])) for k in st.points))
            for st in self.strokes
        )
        return strokes, tuple(float(x) for x in (*self.origins, self.x))

    def _new_letter(self, width: float) -> int:
        self.origins.append(self.x)
        self.x += width
        return len(self.origins) - 1

    def _capital(self, joined: bool) -> list[Keypoint]:
        """Adds a capital; returns the keypoints a joined word continues from."""
        shape = make_capital(self.rng)
        origin = self.x
        index = self._new_letter(shape.width)
        strokes = [self._jitter_points(s, origin, index, 1.0, 1.0) for s in shape.strokes]
        for pts in strokes[: -1 if joined else None]:
            self.strokes.append(StrokePlan("capital", tuple(pts)))
        return strokes[-1] if joined else []

    def _dot_after_initial(self) -> None:
        index = len(self.origins) - 1
        x = self.x + self.rng.uniform(0.0, 0.3)
        self.strokes.append(StrokePlan("dot", _dot(x, 0.05, index)))
        self.x += 0.3

    def _word(self, n_small: int, total: int, last_word: bool) -> None:
        rng = self.rng
        joined = rng.random() < 0.6
        pts = self._capital(joined)
        if not joined:  # the pen lifts after the capital; the small letters start afresh
            self.x += self.rng.uniform(0.0, 0.3)
            pts = [Keypoint(self.x - 0.2, 0.05, 1.0, 0.9, len(self.origins))]
        names = list(LETTER_WEIGHTS)
        weights = np.array([LETTER_WEIGHTS[n] for n in names], float)
        for _ in range(n_small):
            name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            shape = LOWERCASE[name]
            origin = self.x
            position = len(self.origins) / total
            hscale = 1.0 - self.decay * position
            index = self._new_letter(shape.width * self.width_factor)
            pts += self._jitter_points(shape.points, origin, index, self.width_factor, hscale)
            if self.dots and shape.dot is not None:
                dx, dy = shape.dot
                self.late.append(
                    StrokePlan("dot", _dot(origin + dx * self.width_factor, dy * hscale, index))
                )
            if self.dots and shape.bar is not None:
                x0, y0, x1, y1 = shape.bar
                wf = self.width_factor
                bar = (
                    Keypoint(origin + x0 * wf, y0 * hscale, 1.0, 0.05, index),
                    Keypoint(origin + x1 * wf, y1 * hscale, 1.0, 0.1, index),
                )
                self.late.append(StrokePlan("bar", bar))
        pts += self._ending(last_word)
        self.strokes.append(StrokePlan("word", tuple(pts)))
        self.strokes.extend(self.late)
        self.late = []

    def _jitter_points(self, points, origin, index, wf, hscale) -> list[Keypoint]:
        """Template keypoints placed at `origin`, reshaped the way this writer shapes them."""
        out = []
        for px, py, dx, dy in points:
            y = py * hscale
            if py > 1.3:
                y = 1.0 + (py - 1.0) * self.ascender * hscale
            elif py < -0.3:
                y = py * self.descender * hscale
            jx, jy = self.rng.normal(0.0, self.shape_jitter, 2)
            out.append(Keypoint(origin + px * wf + jx, y + jy, dx * wf, dy, index))
        return out

    def _ending(self, last_word: bool) -> list[Keypoint]:
        """The stroke after the last letter: a short tail, or on the last word a flourish."""
        rng = self.rng
        end_x = self.x
        index = len(self.origins) - 1
        if last_word and rng.random() < 0.3:  # swing down and back under the name
            start = self.origins[0] if self.origins else 0.0
            depth = -rng.uniform(0.5, 1.2)
            return [
                Keypoint(end_x + rng.uniform(0.4, 1.2), depth * 0.6, 0.3, -1.0, index),
                Keypoint((end_x + start) / 2, depth, -1.0, 0.0, -1),
                Keypoint(start + rng.uniform(-0.5, 1.5), depth * 0.5, -0.8, 0.6, -1),
            ]
        if last_word and rng.random() < 0.3:  # a long rising tail
            return [Keypoint(end_x + rng.uniform(0.8, 2.0), rng.uniform(0.3, 1.2), 1.0, 0.4, -1)]
        return [Keypoint(end_x + rng.uniform(0.1, 0.4), rng.uniform(0.2, 0.6), 1.0, 0.7, index)]

    def _underline(self) -> None:
        rng = self.rng
        x0 = rng.uniform(-0.6, 0.5)
        x1 = self.x + rng.uniform(-0.2, 1.0)
        y = -rng.uniform(0.5, 1.6)
        sag = rng.normal(0.0, 0.2)
        pts = [
            Keypoint(x0, y + rng.normal(0, 0.15), 1.0, 0.05, -1),
            Keypoint((x0 + x1) / 2, y - sag, 1.0, 0.0, -1),
            Keypoint(x1, y + rng.normal(0.1, 0.15), 1.0, 0.15, -1),
        ]
        if rng.random() < 0.4:  # a hook back at the end
            pts.append(Keypoint(x1 - rng.uniform(0.3, 0.8), y + 0.3, -1.0, 0.4, -1))
        self.strokes.append(StrokePlan("underline", tuple(pts)))


def _dot(x: float, y: float, letter: int) -> tuple[Keypoint, ...]:
    # A dot is a very short stroke: the pen lands, moves a hair and leaves.
    return (Keypoint(x, y, 1.0, 0.3, letter), Keypoint(x + 0.06, y + 0.03, 1.0, 0.3, letter))
