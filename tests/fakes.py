"""Test doubles shared by the service, CLI and UI tests.

`FakeVerifier` implements `sigverify_gui.services.verifier_protocol.VerifierLike`
without torch: deterministic, microseconds per signature, and good enough that two
renderings of one synthetic writer score higher than two different writers. Its
embedding is the preprocessed canvas, blurred and downsampled (so small shifts of
the strokes matter little), centred, projected by a fixed seeded random matrix and
L2-normalised; its score is a logistic of the mean of the best two cosine
similarities, like the real model's calibration.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL_ID = "fake-0001"
_BINS = 8  # stroke directions, over 180 degrees


def cancel_after(seconds: float) -> tuple[threading.Event, list[float]]:
    """A caller that cancels: an event set `seconds` from now, and a list that gets
    the moment it was set, so a test can time the answer from the cancel itself."""
    cancel, set_at = threading.Event(), []
    timer = threading.Timer(seconds, lambda: (set_at.append(time.monotonic()), cancel.set()))
    timer.start()
    return cancel, set_at


@functools.cache
def _projection(n_in: int, dim: int, seed: int) -> np.ndarray:
    """Orthonormal columns: a random rotation onto `dim` axes, which keeps cosine
    similarities closer to the features' own than a plain Gaussian matrix does.
    Cached: the QR decomposition takes most of a second."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n_in, dim)))
    projection = q.astype(np.float32)
    projection.flags.writeable = False
    return projection


class FakeVerifier:
    device = "cpu"
    device_name = "CPU"
    gpu_available = False

    def __init__(
        self,
        model_id: str = DEFAULT_MODEL_ID,
        embedding_dim: int = 128,
        t_accept: float = 0.7,
        t_reject: float = 0.3,
        seed: int = 1234,
        slope: float = 40.0,
        midpoint: float = 0.80,
        calibration_id: str = "cal-fake",
    ) -> None:
        self.model_id = model_id
        self.calibration_id = calibration_id
        self.embedding_dim = embedding_dim
        self.t_accept = t_accept
        self.t_reject = t_reject
        self.slope = slope
        self.midpoint = midpoint
        self._grid = (6, 12)  # cells, rows x columns
        n_in = self._grid[0] * self._grid[1] * _BINS
        self._projection = _projection(n_in, embedding_dim, seed)
        self.calls = {"embed": 0, "embed_canvases": 0, "score": 0}
        # What another workstation does while this one computes: run once, during the
        # next embedding (or, with `at_score`, the next scoring), then forgotten.
        self.meanwhile = None
        self.at_score = False

    def _other_workstation(self, scoring: bool) -> None:
        if self.meanwhile is not None and scoring == self.at_score:
            action, self.meanwhile = self.meanwhile, None
            action()

    # --- embeddings --------------------------------------------------------------------
    def embed(self, images: Sequence[np.ndarray | str | Path]) -> np.ndarray:
        from model.imageio import load_gray
        from model.preprocess import preprocess

        self.calls["embed"] += 1
        canvases = []
        for image in images:
            gray = image if isinstance(image, np.ndarray) else load_gray(image)
            canvases.append(preprocess(gray).canvas)
        return self.embed_canvases(canvases)

    def embed_canvases(self, canvases: Sequence[np.ndarray]) -> np.ndarray:
        self._other_workstation(scoring=False)
        self.calls["embed_canvases"] += 1
        if len(canvases) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        features = np.stack([self._stroke_directions(np.asarray(c, np.float32)) for c in canvases])
        out = features @ self._projection
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def _stroke_directions(self, canvas: np.ndarray) -> np.ndarray:
        """A histogram of stroke directions per cell of a coarse grid (a tiny HOG).

        Directions in place of raw pixels, because renderings of one hand differ by
        small shifts that move every pixel but keep the strokes' directions.
        """
        import cv2

        blurred = cv2.GaussianBlur(canvas, (0, 0), 1.5)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
        magnitude = np.hypot(gx, gy)
        direction = np.mod(np.arctan2(gy, gx), np.pi)
        bin_of = np.minimum((direction / np.pi * _BINS).astype(np.int32), _BINS - 1)
        cells = [
            cv2.resize(
                np.where(bin_of == b, magnitude, 0.0).astype(np.float32),
                self._grid[::-1],
                interpolation=cv2.INTER_AREA,
            )
            for b in range(_BINS)
        ]
        feature = np.sqrt(np.stack(cells, axis=-1)).ravel()
        return feature - feature.mean()

    # --- scores ------------------------------------------------------------------------
    def scores(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        self.calls["score"] += 1
        refs = np.asarray(refs, np.float32)
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        sims = queries @ refs.T  # (Q, R)
        k = min(2, refs.shape[0])
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        raw = top.mean(axis=1)
        return 1.0 / (1.0 + np.exp(-self.slope * (raw - self.midpoint)))

    def score(self, refs: np.ndarray, query: np.ndarray) -> float:
        self._other_workstation(scoring=True)
        return float(self.scores(refs, np.asarray(query)[None, :])[0])

    def shape_similarities(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        return np.atleast_2d(np.asarray(refs, np.float32)) @ np.asarray(query, np.float32)

    def reference_scores(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        raw = self.shape_similarities(refs, query)  # the fake has no stroke texture
        return 1.0 / (1.0 + np.exp(-self.slope * (raw - self.midpoint)))

    def decide(
        self, score: float, t_accept: float | None = None, t_reject: float | None = None
    ) -> str:
        accept = self.t_accept if t_accept is None else t_accept
        reject = self.t_reject if t_reject is None else t_reject
        if score >= accept:
            return "accept"
        if score < reject:
            return "reject"
        return "refer"


# --- synthetic signature files -------------------------------------------------------
def render_signatures(writer_seed: int, count: int, first: int = 0, forged: bool = False):
    """`count` grey renderings (uint8 arrays) of synthetic writer `writer_seed`."""
    from model.synth import render_samples

    return render_samples(writer_seed, count, first, forged)


def write_signatures(
    folder: Path, writer_seed: int, count: int, first: int = 0, forged: bool = False
) -> list[Path]:
    """Render and save as PNG files named w<seed>-<g|f><i>.png; returns their paths."""
    from model.imageio import encode_png

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    tag = "f" if forged else "g"
    for i, gray in enumerate(render_signatures(writer_seed, count, first, forged), start=first):
        path = folder / f"w{writer_seed}-{tag}{i}.png"
        path.write_bytes(encode_png(gray))
        paths.append(path)
    return paths


# --- store contents ------------------------------------------------------------------
def store_contents(store) -> dict[str, list[dict]]:
    """Every row of the tables that hold customers' data, images included, in a fixed
    order: compare two of these to prove that an operation changed nothing."""
    out = {}
    for name, table, order in (
        ("customers", "customers", "customer_id"),
        ("refs", "reference_signatures", "id"),
        ("audit_log", "audit_log", "id"),
    ):
        cursor = store.db.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cursor.description]
        out[name] = [dict(zip(names, row, strict=True)) for row in cursor]
    return out


def edit_thresholds_setting(store, value: str | None) -> None:
    """Replace (None: remove) the store's thresholds setting as someone with an SQLite
    tool and write access to the file can: without sigverify, so without an audit row."""
    with store.write() as db:
        db.execute("DELETE FROM settings WHERE key = 'thresholds'")
        if value is not None:
            db.execute("INSERT INTO settings (key, value) VALUES ('thresholds', ?)", [value])


@contextlib.contextmanager
def named_pipe(path: Path, unblock_after_s: float = 3.0) -> Iterator[Path]:
    """A named pipe (FIFO) at `path`, POSIX only. Opening one to read waits for a writer,
    for good: after `unblock_after_s` a writer comes and goes every 0.1 s, so that code
    that opens it fails its test (too slow) instead of hanging the whole run."""
    os.mkfifo(path)
    stop = threading.Event()

    def writer() -> None:
        if stop.wait(unblock_after_s):
            return
        while not stop.wait(0.1):
            with contextlib.suppress(OSError):  # no reader waiting
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=writer, name="fifo-writer", daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()


def press_settings_ok(qtbot, dialog, timeout_ms: int = 15_000) -> bool:
    """OK in the Settings dialog, and the store write it may start waited for: whether
    the changes were applied (the dialog closed accepted)."""
    if not dialog.accept_changes():
        return False
    saving = dialog.saving
    if saving is not None:
        with qtbot.waitSignal(saving.finished, timeout=timeout_ms):
            pass
    return dialog.result() == dialog.DialogCode.Accepted


def box_iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes: how well a found zone fits."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)
