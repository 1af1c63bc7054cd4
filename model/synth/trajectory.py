"""From a writer's plan to pen paths in pixels: shape variation, splines, geometry.

One signature = the writer's keypoints, varied (`vary_keypoints`), joined by cubic
Hermite splines (`sample_stroke`) and placed on the page by the writer's geometry
(`place_on_page`: size, slant, baseline, rotation). Variation comes in two sizes:
`GENUINE` is how much a person differs from their own last signature; a forger
copying a specimen adds the larger `FORGER` on top (see `forgery.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.synth.writer import Writer

# Sample spacing along a stroke, in output pixels: fine enough that the polyline
# drawn through the samples looks curved at 2x supersampling.
_STEP_PX = 0.8


@dataclass(frozen=True)
class Variation:
    """How far one signature strays from the writer's plan (standard deviations)."""

    letter_width: float  # log-scale of each letter's width
    letter_height: float  # log-scale of each letter's height
    point: float  # independent keypoint displacement, x-height units
    drift: float  # slowly varying keypoint displacement along the signature
    direction_deg: float  # turn of the pen direction at a keypoint
    speed: float  # log-scale of each stroke segment's duration
    scale: float  # log-scale of the whole signature
    aspect: float  # log-scale of width against height
    rotation_deg: float
    slant_deg: float


GENUINE = Variation(
    letter_width=0.05,
    letter_height=0.05,
    point=0.025,
    drift=0.04,
    direction_deg=5.0,
    speed=0.12,
    scale=0.05,
    aspect=0.03,
    rotation_deg=1.5,
    slant_deg=2.0,
)
# A forger copying a specimen: proportions and slant are what they get wrong most.
FORGER = Variation(
    letter_width=0.16,
    letter_height=0.15,
    point=0.05,
    drift=0.08,
    direction_deg=9.0,
    speed=0.25,
    scale=0.10,
    aspect=0.09,
    rotation_deg=2.0,
    slant_deg=6.0,
)


@dataclass(frozen=True)
class Geometry:
    """Where the signature lands on the page: the writer's habit plus this sample's jitter."""

    xheight_px: float
    slant_deg: float
    aspect: float
    rotation_deg: float  # the paper's and the hand's together
    baseline_slope_deg: float
    baseline_bow: float


@dataclass
class PenPath:
    """One pen-down stroke, densely sampled."""

    kind: str
    xy: np.ndarray  # (n, 2) float64, pixels, y down (origin arbitrary until framing)
    speed: np.ndarray  # (n,) speed relative to the signature's median speed
    down: np.ndarray  # (n,) how much the pen moves downwards here, 0..1


def keypoint_arrays(writer: Writer) -> list[tuple[str, np.ndarray]]:
    """The plan as (kind, array of rows x, y, dx, dy, letter) per stroke."""
    return [(s.kind, np.array(s.points, dtype=np.float64)) for s in writer.strokes]


def vary_keypoints(
    strokes: list[tuple[str, np.ndarray]],
    edges: np.ndarray,
    var: Variation,
    rng: np.random.Generator,
) -> list[tuple[str, np.ndarray]]:
    """Keypoints with this sample's letter proportions, shape noise and pen directions."""
    n_letters = len(edges) - 1
    width_f = np.exp(rng.normal(0.0, var.letter_width, n_letters))
    height_f = np.exp(rng.normal(0.0, var.letter_height, n_letters))
    new_edges = edges[0] + np.concatenate([[0.0], np.cumsum(np.diff(edges) * width_f)])
    # Piecewise-linear map from old to new letter positions, slope 1 beyond the ends
    # (the underline and flourishes reach past the first and last letter).
    far = 1e3
    xp = np.concatenate([[edges[0] - far], edges, [edges[-1] + far]])
    fp = np.concatenate([[new_edges[0] - far], new_edges, [new_edges[-1] + far]])

    total = sum(len(a) for _, a in strokes)
    drift = _smooth_noise(rng, total, nodes=max(2, total // 5), sd=var.drift)
    jitter = rng.normal(0.0, var.point, (total, 2)) + drift
    turn = np.deg2rad(rng.normal(0.0, var.direction_deg, total))
    out = []
    at = 0
    for kind, a in strokes:
        n = len(a)
        letter = a[:, 4].astype(int)
        inside = letter >= 0
        wf = np.where(inside, width_f[np.clip(letter, 0, None)], 1.0)
        hf = np.where(inside, height_f[np.clip(letter, 0, None)], 1.0)
        b = a.copy()
        b[:, 0] = np.interp(a[:, 0], xp, fp) + jitter[at : at + n, 0]
        b[:, 1] = a[:, 1] * hf + jitter[at : at + n, 1]
        c, s = np.cos(turn[at : at + n]), np.sin(turn[at : at + n])
        dx, dy = a[:, 2] * wf, a[:, 3] * hf
        b[:, 2], b[:, 3] = c * dx - s * dy, s * dx + c * dy
        out.append((kind, b))
        at += n
    return out


def sample_geometry(writer: Writer, var: Variation, rng: np.random.Generator) -> Geometry:
    return Geometry(
        xheight_px=writer.xheight_px * float(np.exp(rng.normal(0.0, var.scale))),
        slant_deg=writer.slant_deg + float(rng.normal(0.0, var.slant_deg)),
        aspect=float(np.exp(rng.normal(0.0, var.aspect))),
        rotation_deg=float(rng.normal(0.0, var.rotation_deg)),
        baseline_slope_deg=writer.baseline_slope_deg,
        baseline_bow=writer.baseline_bow,
    )


def sample_stroke(
    keypoints: np.ndarray, roundness: float, px_per_unit: float, speed_sd: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Hermite spline through the keypoints: (points in units, absolute speed per point).

    Each segment between two turning points takes about the same time whatever its
    length (movements are near isochronous), so long strokes are fast and turning
    points slow, and the pen's speed there decides how much ink it leaves.
    """
    p = keypoints[:, :2]
    d = keypoints[:, 2:4]
    p0, p1 = p[:-1], p[1:]
    chord = np.maximum(np.linalg.norm(p1 - p0, axis=1), 1e-6)
    m0 = d[:-1] * (chord * roundness)[:, None]
    m1 = d[1:] * (chord * roundness)[:, None]
    duration = np.cbrt(chord) * np.exp(rng.normal(0.0, speed_sd, len(chord)))

    counts = np.maximum(2, np.ceil(chord * px_per_unit * 1.3 / _STEP_PX)).astype(int)
    seg = np.repeat(np.arange(len(chord)), counts)
    starts = np.cumsum(counts) - counts
    u = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(counts, counts)
    seg = np.append(seg, len(chord) - 1)  # close with the last keypoint itself
    u = np.append(u, 1.0)[:, None]

    u2, u3 = u * u, u * u * u
    h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
    xy = h00 * p0[seg] + h10 * m0[seg] + h01 * p1[seg] + h11 * m1[seg]
    g00, g10, g01, g11 = 6 * u2 - 6 * u, 3 * u2 - 4 * u + 1, -6 * u2 + 6 * u, 3 * u2 - 2 * u
    vel = g00 * p0[seg] + g10 * m0[seg] + g01 * p1[seg] + g11 * m1[seg]
    speed = np.linalg.norm(vel, axis=1) / duration[seg]
    return xy, speed


def place_on_page(xy: np.ndarray, geo: Geometry, x_range: tuple[float, float]) -> np.ndarray:
    """Units (y up) to pixels (y down): baseline drift, slant, aspect, rotation, size."""
    x, y = xy[:, 0] * geo.aspect, xy[:, 1].copy()
    lo, hi = x_range[0] * geo.aspect, x_range[1] * geo.aspect
    half = max((hi - lo) / 2, 1e-6)
    u = np.clip((x - (lo + hi) / 2) / half, -1.5, 1.5)
    y += np.tan(np.deg2rad(geo.baseline_slope_deg)) * (x - lo) - geo.baseline_bow * (1 - u * u)
    x = x + y * np.tan(np.deg2rad(geo.slant_deg))
    a = np.deg2rad(geo.rotation_deg)
    c, s = np.cos(a), np.sin(a)
    xr, yr = c * x - s * y, s * x + c * y
    return np.stack([xr, -yr], axis=1) * geo.xheight_px


def pen_paths(
    strokes: list[tuple[str, np.ndarray]], writer: Writer, geo: Geometry, speed_sd: float,
    rng: np.random.Generator,
) -> list[PenPath]:  # fmt: skip
    """All strokes as dense pixel paths with relative speed and downward motion."""
    edges = writer.letter_edges
    raw = []
    for kind, kp in strokes:
        xy, speed = sample_stroke(kp, writer.roundness, geo.xheight_px, speed_sd, rng)
        raw.append((kind, place_on_page(xy, geo, (edges[0], edges[-1])), speed))
    median = float(np.median(np.concatenate([s for _, _, s in raw]))) or 1.0
    paths = []
    for kind, xy, speed in raw:
        step = np.gradient(xy, axis=0)
        norm = np.maximum(np.linalg.norm(step, axis=1), 1e-9)
        down = np.clip(step[:, 1] / norm, 0.0, 1.0)  # y grows downwards in pixels
        paths.append(PenPath(kind, xy, speed / median, down))
    return paths


def arc_length(xy: np.ndarray) -> np.ndarray:
    """Distance travelled along the path up to each point, starting at 0."""
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])


def smooth_along(rng: np.random.Generator, s: np.ndarray, wavelength: float) -> np.ndarray:
    """Zero-mean, unit-sd noise varying smoothly with arc length `s` (one value per point)."""
    nodes = max(2, int(np.ceil((s[-1] if len(s) else 0.0) / wavelength)) + 2)
    values = rng.normal(0.0, 1.0, nodes)
    return np.interp(s / wavelength, np.arange(nodes), values)


def _smooth_noise(rng: np.random.Generator, n: int, nodes: int, sd: float) -> np.ndarray:
    """(n, 2) noise that wanders slowly over the n keypoints, interpolated from `nodes` draws."""
    at = np.linspace(0.0, nodes - 1, n)
    values = rng.normal(0.0, sd, (nodes, 2))
    return np.stack([np.interp(at, np.arange(nodes), values[:, k]) for k in (0, 1)], axis=1)
