"""Speed figures of the services, for `model.bench` (imported to register them).

- `identify_ms_100k`: ranking 20,000 customers with 100,000 references (random
  embeddings laid out as the shipped model's: a 192-d unit vector, the shape network's
  128 and the stroke tower's 64, and a 59-bin stroke texture histogram) for one query:
  the in-memory search plus the exact scores of the shortlist; the one-off reading of
  the matrix from the store is not timed (it is cached between searches).
- `enroll_ms`: one customer with 5 references, end to end through the service
  (reading the files, quality, preprocessing, embedding, consistency, one transaction).
- `verify_service_ms`: one verification end to end through the service, audit row
  included.

The captures are drawn in code with `model.bench`'s signature drawing (a signature
with a margin on scanned paper, 300 dpi, like a teller's capture), so the inputs stay
the same while the synthetic data generator evolves.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from model.bench import benchmark, median_ms, signature_capture
from model.scoring import (
    REFERENCE_CENTRING,
    Calibration,
    match_scores,
    reference_scores,
    shape_similarities,
)
from model.texture import TEXTURE_DIMS, TEXTURE_VERSION
from sigverify_gui.services.verifier_protocol import VerifierLike

REFERENCES_PER_ENROLMENT = 5


# A typical calibration, so that the identification figure needs no model.
_TYPICAL_CALIBRATION = Calibration(
    a=12.0,
    b=-3.0,
    k=2,
    centre=REFERENCE_CENTRING,
    texture=TEXTURE_VERSION,
    texture_weight=5.0,
    typical_texture_distance=0.05,
)


def _typical_score(refs: np.ndarray, query: np.ndarray) -> float:
    """`Verifier.score`'s arithmetic: centred top-2 shape and texture terms, logistic."""
    return float(match_scores(refs, query[None], _TYPICAL_CALIBRATION)[0])


def _shape_cosines(refs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """`Verifier.shape_similarities`' arithmetic: identification's shortlist."""
    return shape_similarities(refs, query, _TYPICAL_CALIBRATION)


def _reference_scores(refs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """`Verifier.reference_scores`' arithmetic: a candidate's closest reference."""
    return reference_scores(refs, query, _TYPICAL_CALIBRATION)


def identify_ms_100k(
    repeat: int, n_references: int = 100_000, n_customers: int = 20_000, dim: int = 192
) -> float:
    from sigverify_gui.services.identify import rank_customers
    from sigverify_gui.store.embeddings import EmbeddingMatrix

    rng = np.random.default_rng(0)
    shape = rng.standard_normal((n_references, dim)).astype(np.float32)
    shape /= np.linalg.norm(shape, axis=1, keepdims=True)
    texture = rng.dirichlet(np.ones(TEXTURE_DIMS), n_references).astype(np.float32)
    matrix = np.hstack([shape, texture])
    owners = np.sort(rng.integers(0, n_customers, n_references))
    index = EmbeddingMatrix.from_arrays(
        "bench", 0, matrix, np.arange(n_references), [f"C{o:06d}" for o in owners]
    )
    # A query near one customer's reference, so the search has a true answer.
    query_shape = shape[n_references // 2] + 0.3 * rng.standard_normal(dim).astype(np.float32)
    query = np.concatenate([query_shape / np.linalg.norm(query_shape), texture[n_references // 2]])

    def search():
        return rank_customers(
            index, query, _typical_score, _shape_cosines, _reference_scores, top_k=5
        )

    return median_ms(search, repeat)


def _write_scans(folder: Path, count: int, first_seed: int) -> list[Path]:
    from model.imageio import encode_png

    paths = []
    for seed in range(first_seed, first_seed + count):
        path = folder / f"capture-{seed}.png"
        path.write_bytes(encode_png(signature_capture(seed)))
        paths.append(path)
    return paths


def enroll_ms(verifier: VerifierLike, repeat: int) -> float:
    from sigverify_gui.services.enrol import enrol_customer
    from sigverify_gui.store.db import Store

    with tempfile.TemporaryDirectory() as tmp:
        scans = _write_scans(Path(tmp), REFERENCES_PER_ENROLMENT, first_seed=0)
        with Store(Path(tmp) / "bench.db") as store:
            counter = iter(range(10**9))

            def enrol_one() -> None:
                # Five different drawn signatures: the consistency check runs in full
                # (and flags them, hence force).
                enrol_customer(store, verifier, f"B{next(counter)}", scans, force=True)

            return median_ms(enrol_one, repeat)


def verify_service_ms(verifier: VerifierLike, repeat: int) -> float:
    from sigverify_gui.services.enrol import enrol_customer
    from sigverify_gui.services.verify import verify_signature
    from sigverify_gui.store.db import Store

    with tempfile.TemporaryDirectory() as tmp:
        scans = _write_scans(Path(tmp), REFERENCES_PER_ENROLMENT + 1, first_seed=0)
        with Store(Path(tmp) / "bench.db") as store:
            enrol_customer(store, verifier, "B1", scans[:-1], force=True)
            return median_ms(lambda: verify_signature(store, verifier, "B1", scans[-1]), repeat)


@benchmark("identify")
def _identify_figures(repeat: int, options: dict) -> dict[str, float]:
    return {"identify_ms_100k": identify_ms_100k(repeat)}


@benchmark("services")
def _service_figures(repeat: int, options: dict) -> dict[str, float]:
    from sigverify_gui.services import runtime

    verifier = runtime.load_verifier(options.get("weights"), device=options.get("device", "auto"))
    return {
        "enroll_ms": enroll_ms(verifier, repeat),
        "verify_service_ms": verify_service_ms(verifier, repeat),
    }


# The launch is timed in a fresh interpreter, as a teller's double-click is: imports
# and Qt's start-up are part of the cost. The window is drawn offscreen, so the figure
# does not need a display; the model keeps loading in the background, as in real use.
_LAUNCH_SCRIPT = """
import os, sys, time
began = time.monotonic()
from sigverify_gui.ui import app
running = app.start(["--db", sys.argv[1]])
running.app.processEvents()
print(time.monotonic() - began, running.window.isVisible())
os._exit(0)
"""


def window_ms(repeat: int) -> float:
    """Median time from a fresh interpreter to the main window shown, in ms."""
    import os
    import subprocess
    import sys

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=f"{tmp}/cfg")
        for i in range(max(1, repeat) + 1):  # the first launch warms the disk cache
            out = subprocess.run(
                [sys.executable, "-c", _LAUNCH_SCRIPT, f"{tmp}/launch.db"],
                capture_output=True, text=True, env=env, timeout=120, check=True,
            ).stdout.split()  # fmt: skip
            if out[1] != "True":
                raise RuntimeError("the main window did not appear")
            if i:
                times.append(float(out[0]) * 1000.0)
    return round(float(np.median(times)), 1)


@benchmark("window")
def _window_figures(repeat: int, options: dict) -> dict[str, float]:
    return {"window_ms": window_ms(min(repeat, 5))}
