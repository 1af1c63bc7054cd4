"""What the services need from a verifier: `model.Verifier` and the tests' fake alike.

Coding against this protocol keeps the services free of torch, and lets UI and CLI
tests use `tests.fakes.FakeVerifier`, which answers in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

DECISIONS = ("accept", "refer", "reject")


@runtime_checkable
class VerifierLike(Protocol):
    model_id: str  # stable id of weights + preprocessing version, e.g. "sv1-3f2a9c1b"
    calibration_id: str  # what a score means; changes when a model is recalibrated
    device: str  # "cpu" | "cuda"
    device_name: str  # "CPU" or the GPU's name
    gpu_available: bool  # whether a CUDA graphics card could run this model
    embedding_dim: int
    t_accept: float  # accept at or above
    t_reject: float  # reject below; refer in between

    def embed(self, images: Sequence[np.ndarray | str | Path]) -> np.ndarray:
        """Raw scans -> (N, D) float32 (preprocesses internally); compare them only
        through `score` and `reference_scores`, which know what the numbers are."""
        ...

    def embed_canvases(self, canvases: Sequence[np.ndarray]) -> np.ndarray:
        """Already-preprocessed canvases -> (N, D)."""
        ...

    def score(self, refs: np.ndarray, query: np.ndarray) -> float:
        """refs (R, D), query (D,) -> calibrated match score in [0, 1]."""
        ...

    def scores(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """refs (R, D), queries (Q, D) -> (Q,) scores."""
        ...

    def reference_scores(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        """refs (R, D), query (D,) -> (R,) in [0, 1]: the match score the query would
        get from each reference on its own (orders them: the closest first)."""
        ...

    def shape_similarities(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        """refs (R, D), query (D,) -> (R,): the network's cosine alone (cheap)."""
        ...

    def decide(
        self, score: float, t_accept: float | None = None, t_reject: float | None = None
    ) -> str:
        """ "accept" | "refer" | "reject"."""
        ...
