"""From embeddings to a calibrated match score and an accept / refer / reject decision.

How several references combine: the mean of the k best cosine similarities between
the questioned signature and the references (k = 2, or 1 with a single reference).
The best few, not all: a customer's references vary and a genuine signature need
only resemble some of them; more than one, so that a single lucky reference cannot
carry a forgery.

Centred on the customer: half the mean similarity among the customer's own
references is taken off (`Calibration.centre`). A customer who signs very alike every
time is held to a closer match than one whose signature varies, whose genuine
signatures would otherwise look like forgeries and whose forgeries would pass more
easily. Measured across data sets: trained on BHSig260-Bengali and tested on all of
CEDAR, skilled-forgery EER fell from 30.2% to 25.6% and random from 12.1% to 7.8%;
trained on CEDAR and tested on all of BHSig260-Bengali, from 28.6% to 25.3% and from
12.7% to 10.6%. Taking off the whole mean was worse in both cases.

That raw similarity is mapped to [0, 1] by logistic regression fitted on
validation writers (never the training writers), with genuine queries on one side
and skilled and random forgeries on the other, weighted to a 50/50 prior. The
score therefore behaves like the probability that the questioned signature is the
reference writer's when a genuine signature and a forgery are equally likely.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from model.errors import ModelError
from model.metrics import threshold_at_far, threshold_at_frr

DECISIONS = ("accept", "refer", "reject")
REFERENCE_CENTRING = 0.5  # see the module docstring


@dataclass(frozen=True)
class Calibration:
    a: float = 10.0  # slope of the logistic on the raw similarity
    b: float = -7.0  # intercept
    k: int = 2  # how many best reference similarities are averaged
    # Share of the references' mean mutual similarity taken off the raw similarity
    # (0 in checkpoints made before centring existed), and what stands in for that mean
    # when a customer has a single reference: its typical value on validation writers.
    centre: float = 0.0
    typical_self_similarity: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def fingerprint(self) -> str:
        """Stable id of what a score means: `sigverify calibrate` refits the calibration
        of unchanged weights, so the model id stays while scores shift."""
        canonical = json.dumps(self.to_dict(), sort_keys=True)
        return "cal-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(
            a=float(d["a"]),
            b=float(d["b"]),
            k=int(d["k"]),
            centre=float(d.get("centre", 0.0)),
            typical_self_similarity=float(d.get("typical_self_similarity", 0.0)),
        )


@dataclass(frozen=True)
class Thresholds:
    accept: float  # accept at or above
    reject: float  # reject below; refer in between

    def __post_init__(self) -> None:
        if not (0.0 <= self.reject <= self.accept <= 1.0):
            raise ValueError(
                f"thresholds must satisfy 0 <= reject <= accept <= 1, got {self.reject}, "
                f"{self.accept}"
            )

    def to_dict(self) -> dict:
        return {"accept": self.accept, "reject": self.reject}

    @classmethod
    def from_dict(cls, d: dict) -> Thresholds:
        return cls(accept=float(d["accept"]), reject=float(d["reject"]))


def self_similarity(refs: np.ndarray) -> float | None:
    """Mean cosine similarity between a customer's references (None for fewer than 2)."""
    refs = np.atleast_2d(np.asarray(refs, np.float32))
    n = len(refs)
    if n < 2:
        return None
    sims = refs @ refs.T
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))


def raw_similarity(
    refs: np.ndarray,
    queries: np.ndarray,
    k: int,
    centre: float = 0.0,
    typical_self_similarity: float = 0.0,
) -> np.ndarray:
    """Mean of the k best cosine similarities, less `centre` times the references' own
    mean similarity; refs (R, D), queries (Q, D) → (Q,)."""
    refs = np.atleast_2d(np.asarray(refs, np.float32))
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    sims = queries @ refs.T  # unit vectors: dot product is the cosine
    k = max(1, min(k, sims.shape[1]))
    if k == 1:
        best = sims.max(axis=1)
    else:
        best = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)
    if centre:
        own = self_similarity(refs)
        best = best - centre * (typical_self_similarity if own is None else own)
    return best


def calibrated(raw: np.ndarray, calibration: Calibration) -> np.ndarray:
    z = calibration.a * np.asarray(raw, np.float64) + calibration.b
    return (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)


def calibrated_raw_similarity(
    refs: np.ndarray, queries: np.ndarray, calibration: Calibration
) -> np.ndarray:
    """The raw similarity exactly as `calibration` was fitted on."""
    c = calibration
    return raw_similarity(refs, queries, c.k, c.centre, c.typical_self_similarity)


def match_scores(refs: np.ndarray, queries: np.ndarray, calibration: Calibration) -> np.ndarray:
    return calibrated(calibrated_raw_similarity(refs, queries, calibration), calibration)


def decide(score: float, thresholds: Thresholds) -> str:
    if score >= thresholds.accept:
        return "accept"
    if score < thresholds.reject:
        return "reject"
    return "refer"


def fit_calibration(
    genuine: np.ndarray,
    skilled: np.ndarray,
    random: np.ndarray,
    k: int,
    centre: float = 0.0,
    typical_self_similarity: float = 0.0,
) -> Calibration:
    """Weighted logistic regression (Newton's method) of genuine vs. forgeries.

    Weights: genuine 1/2; the forgeries share the other half, split evenly between
    skilled and random when both exist, so neither kind dominates by its count.
    """
    negatives = [x for x in (skilled, random) if x is not None and len(x)]
    if not len(genuine) or not negatives:
        raise ValueError("calibration needs genuine scores and forgery scores")
    xs = [np.asarray(genuine, np.float64)] + [np.asarray(n, np.float64) for n in negatives]
    ys = [np.ones(len(xs[0]))] + [np.zeros(len(n)) for n in xs[1:]]
    ws = [np.full(len(xs[0]), 0.5 / len(xs[0]))]
    ws += [np.full(len(n), 0.5 / len(negatives) / len(n)) for n in xs[1:]]
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    # Fitted on standardised scores, so that the slope's cap below means the same
    # whatever the raw similarities' spread (centring narrows it several times).
    mu = float(np.average(x, weights=w))
    sd = float(np.sqrt(np.average((x - mu) ** 2, weights=w))) or 1.0
    X = np.stack([(x - mu) / sd, np.ones_like(x)], axis=1)
    theta = np.array([1.0, 0.0])
    ridge = 1e-6  # keeps the Hessian invertible when the classes separate perfectly
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ theta, -50, 50)))
        grad = X.T @ (w * (p - y)) + ridge * theta
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-9:
            break
    # cap the slope: perfectly separated validation data would push it to infinity,
    # which would make every score 0 or 1 and hide all uncertainty from the teller
    slope = float(np.clip(theta[0], 0.1, 20.0))  # per standard deviation of the scores
    if slope == theta[0]:
        intercept = float(theta[1])
    else:
        intercept = -slope * (_midpoint(xs[0], np.concatenate(xs[1:])) - mu) / sd
    a, b = slope / sd, intercept - slope * mu / sd
    return Calibration(
        a=a, b=b, k=k, centre=centre, typical_self_similarity=typical_self_similarity
    )


def _midpoint(genuine: np.ndarray, impostor: np.ndarray) -> float:
    return float((np.median(genuine) + np.median(impostor)) / 2)


def choose_thresholds(
    genuine: np.ndarray,
    skilled: np.ndarray | None,
    random: np.ndarray | None,
    target_far: float = 0.01,
    target_frr: float = 0.02,
) -> Thresholds:
    """Operating points on validation scores (already calibrated to [0, 1]).

    accept: the lowest score at which at most `target_far` of forgeries (skilled when
    the data has them, else random) would be accepted; reject: the highest score
    below which at most `target_frr` of genuine signatures fall. Between them the
    teller is asked to look closer ("refer").
    """
    impostor = skilled if skilled is not None and len(skilled) else random
    accept = float(np.clip(threshold_at_far(impostor, target_far), 0.0, 1.0))
    reject = float(np.clip(threshold_at_frr(genuine, target_frr), 0.0, accept))
    return Thresholds(accept=accept, reject=reject)


class ScoringMixin:
    """Scores and decisions from embeddings: pure numpy, shared by `model.Verifier` and
    the GUI's process-backed verifier. Needs `self.calibration` and `self.thresholds`."""

    calibration: Calibration
    thresholds: Thresholds

    @property
    def calibration_id(self) -> str:
        return self.calibration.fingerprint

    @property
    def t_accept(self) -> float:
        return self.thresholds.accept

    @property
    def t_reject(self) -> float:
        return self.thresholds.reject

    def scores(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """refs (R, D), queries (Q, D) → (Q,) calibrated match scores in [0, 1]."""
        refs = np.atleast_2d(refs)
        if refs.shape[0] == 0:
            raise ModelError("There are no reference signatures to compare with.")
        return match_scores(refs, np.atleast_2d(queries), self.calibration)

    def score(self, refs: np.ndarray, query: np.ndarray) -> float:
        return float(
            self.scores(refs, np.asarray(query)[None] if np.ndim(query) == 1 else query)[0]
        )

    def similarities(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to each reference (for "closest reference")."""
        return np.atleast_2d(refs) @ np.asarray(query, np.float32).reshape(-1)

    def raw_similarity(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        return calibrated_raw_similarity(refs, queries, self.calibration)

    def decide(
        self, score: float, t_accept: float | None = None, t_reject: float | None = None
    ) -> str:
        t = self.thresholds
        if t_accept is not None or t_reject is not None:
            t = Thresholds(
                accept=t.accept if t_accept is None else t_accept,
                reject=t.reject if t_reject is None else t_reject,
            )
        return decide(score, t)
