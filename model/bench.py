"""Named speed figures, each the median of repeated runs after a warm-up.

A figure is a number worth watching release after release (`preprocess_ms`: how long
one scan takes to become the network's canvas). Each group of figures is a function
registered with `@benchmark("name")`: it prepares its inputs once, times its work
with `median_ms`, and returns its figures as a dict. `run_benchmarks` runs the
chosen groups and adds a description of the device, so that numbers from different
machines are never compared by mistake.

The scan timed here is drawn in code (`cheque_scan`), not taken from the synthetic
data generator: a benchmark's input must stay the same while the generator evolves,
or a change in the figure would say nothing about the code being timed.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from model.errors import SigverifyError

# A figure group: given how many timed repeats to make and the run's options (e.g.
# {"weights": path, "device": "auto"}), returns {figure name: value}.
BenchmarkFn = Callable[[int, dict], dict[str, float]]

BENCHMARKS: dict[str, BenchmarkFn] = {}

DEFAULT_REPEAT = 30
# Untimed runs first: the first calls pay for lazy imports, OpenCV's thread pool and
# cold caches, which a teller meets once a session, not once a signature.
WARMUP_RUNS = 3

# A cheque's signature area scanned at 300 dpi: 6 x 2.8 inches.
CHEQUE_SCAN_HW = (850, 1800)


def benchmark(name: str) -> Callable[[BenchmarkFn], BenchmarkFn]:
    """Register a figure group under `name` (what `sigverify bench --only` takes)."""

    def register(fn: BenchmarkFn) -> BenchmarkFn:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = fn
        return fn

    return register


def median_ms(work: Callable[[], object], repeat: int, warmup: int = WARMUP_RUNS) -> float:
    """Median wall time of `work()` in milliseconds: robust to the odd slow run caused
    by another process on a shared machine, which a mean would absorb."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000.0, 3)


def processor_description() -> str:
    """The processor and core count; `device` says whether the network ran on it."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"cpu: {name}, {os.cpu_count() or 1} cores"


def run_benchmarks(
    names: list[str] | None = None, repeat: int = DEFAULT_REPEAT, options: dict | None = None
) -> dict:
    """Run the named figure groups (all when `names` is None) and return every figure,
    with `device` and `repeat` first."""
    chosen = list(BENCHMARKS) if not names else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        raise SigverifyError(
            f"Unknown benchmark {unknown[0]!r}; choose from: {', '.join(BENCHMARKS)}."
        )
    result: dict = {"device": "cpu", "processor": processor_description(), "repeat": repeat}
    for name in chosen:
        result.update(BENCHMARKS[name](repeat, options or {}))
    return result


# --- the drawn scan ------------------------------------------------------------------


def _smooth_random(rng: np.random.Generator, n: int, knots: int, lo: float, hi: float):
    """A slowly varying random curve of n samples between lo and hi (a hand's drift)."""
    values = rng.uniform(lo, hi, knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values)


def draw_signature(
    rng: np.random.Generator, width: int = 1100, height: int = 380, pen_px: float = 4.0
) -> np.ndarray:
    """A cursive-looking signature as ink coverage (uint8, 255 = full ink), height x width.

    One pen stroke of looping letters (a cycloid whose loop sizes drift like a hand's),
    a tall capital at the start, a flourish back under the name, and two pen lifts (a
    dot and a bar) so that the ink has several components like real handwriting.
    Stroke width varies along the line, as pen pressure does.
    """
    layer = np.zeros((height, width), np.uint8)
    n = 1600
    t = np.linspace(0.0, 1.0, n)
    loops = int(rng.integers(7, 12))
    margin = 0.06 * width
    base = 0.62 * height
    theta = 2 * np.pi * loops * t + np.cumsum(_smooth_random(rng, n, 9, -0.01, 0.01))
    advance = margin + t * (width - 2 * margin) * 0.88
    rx = (width / loops) * 0.32 * _smooth_random(rng, n, 12, 0.6, 1.3)
    ry = height * 0.12 * _smooth_random(rng, n, 12, 0.6, 1.2)
    ry[t < 1.4 / loops] *= 2.0  # the capital letter
    y = base - ry * (1 - np.cos(theta))
    x = advance - rx * np.sin(theta) + 0.25 * (base - y)  # forward slant
    # The flourish: from the last letter back under the whole name.
    f = np.linspace(0.0, 1.0, 500)
    fx = x[-1] - f * (x[-1] - x[0]) * 0.9
    fy = base + height * (0.10 + 0.12 * np.sin(np.pi * f)) + 6 * np.sin(9 * f)
    strokes = [np.column_stack([np.r_[x, fx], np.r_[y, fy]])]
    dot_x = advance[n // 2] + 0.25 * (base - (base - 2.6 * ry[n // 2]))
    strokes.append(
        np.array([[dot_x, base - 2.6 * ry[n // 2]], [dot_x + 3, base - 2.7 * ry[n // 2]]])
    )
    bar_y = base - 1.8 * height * 0.12
    bar_x0 = advance[int(0.7 * n)]
    strokes.append(np.array([[bar_x0 - 40, bar_y + 4], [bar_x0 + 60, bar_y - 4]]))

    import cv2  # heavy import kept out of module import (the CLI lists figures without it)

    pressure = _smooth_random(rng, 64, 10, 0.7, 1.3)
    for stroke in strokes:
        pts = np.round(stroke * 16).astype(np.int32)  # 4 fractional bits: sub-pixel curves
        chunk = 40
        for i in range(0, len(pts) - 1, chunk):
            thick = max(1, round(pen_px * pressure[(i // chunk) % len(pressure)]))
            piece = pts[i : i + chunk + 1]
            cv2.polylines(layer, [piece], False, 255, thick, cv2.LINE_AA, shift=4)
    return layer


def paper(
    rng: np.random.Generator, hw: tuple[int, int], level: float = 232.0, noise: float = 3.0
) -> np.ndarray:
    """Scanned paper as float grey: a gentle shading gradient plus sensor grain."""
    h, w = hw
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 8.0 * (gx / max(w, 1)) - 5.0 * (gy / max(h, 1))
    return level + shade + rng.normal(0.0, noise, hw).astype(np.float32)


def compose(page: np.ndarray, coverage: np.ndarray, at: tuple[int, int], ink: float) -> None:
    """Lay ink coverage (uint8 255 = full ink) onto float paper at (x, y), in place."""
    x, y = at
    h, w = coverage.shape
    region = page[y : y + h, x : x + w]
    alpha = coverage[: region.shape[0], : region.shape[1]].astype(np.float32) / 255.0
    region[...] = region * (1.0 - alpha) + ink * alpha


def cheque_scan(seed: int = 0) -> np.ndarray:
    """A 300-dpi scan of a cheque's signature area (uint8 grey, 850 x 1800): a signature
    in dark ink on shaded, grainy paper, with the printed "sign here" rule under it."""
    import cv2

    rng = np.random.default_rng(seed)
    page = paper(rng, CHEQUE_SCAN_HW)
    rule = np.zeros(CHEQUE_SCAN_HW, np.uint8)
    cv2.line(rule, (120, 700), (1680, 700), 255, 3, cv2.LINE_AA)
    compose(page, rule, (0, 0), ink=70.0)
    compose(page, draw_signature(rng), (330, 300), ink=45.0)
    return np.clip(page, 0, 255).astype(np.uint8)


# A teller's signature capture: the signature with a margin, 300 dpi.
CAPTURE_HW = (450, 1250)


def signature_capture(seed: int = 1) -> np.ndarray:
    """A teller's capture: one drawn signature on scanned paper (uint8 grey)."""
    rng = np.random.default_rng(seed)
    page = paper(rng, CAPTURE_HW)
    compose(page, draw_signature(rng), (70, 40), ink=45.0)
    return np.clip(page, 0, 255).astype(np.uint8)


# --- figures -------------------------------------------------------------------------


@benchmark("preprocess")
def _preprocess_figures(repeat: int, options: dict) -> dict[str, float]:
    from model.preprocess import preprocess
    from model.quality import check_quality

    scan = cheque_scan()
    return {
        "preprocess_ms": median_ms(lambda: preprocess(scan), repeat),
        "quality_ms": median_ms(lambda: check_quality(scan, 300), repeat),
    }
