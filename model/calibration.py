"""Fitting what `model.scoring` uses, on validation writers' scores: the texture
weight, the logistic calibration, and the accept / reject thresholds."""

from __future__ import annotations

import numpy as np

from model.metrics import threshold_at_far, threshold_at_frr
from model.scoring import Calibration, Thresholds


def _balanced_sample(
    genuine: np.ndarray, skilled: np.ndarray | None, random: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Genuine 1/2 of the weight; the forgeries share the other half, split evenly
    between skilled and random when both exist, so neither kind dominates by its count.
    → (the groups, genuine first; labels; weights)."""
    negatives = [x for x in (skilled, random) if x is not None and len(x)]
    if not len(genuine) or not negatives:
        raise ValueError("calibration needs genuine scores and forgery scores")
    xs = [np.asarray(genuine, np.float64)] + [np.asarray(n, np.float64) for n in negatives]
    ys = [np.ones(len(xs[0]))] + [np.zeros(len(n)) for n in xs[1:]]
    ws = [np.full(len(xs[0]), 0.5 / len(xs[0]))]
    ws += [np.full(len(n), 0.5 / len(negatives) / len(n)) for n in xs[1:]]
    return xs, np.concatenate(ys), np.concatenate(ws)


def _weighted_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Newton's method; X (N, F) with a column of ones for the intercept → (F,)."""
    theta = np.zeros(X.shape[1])
    theta[0] = 1.0
    ridge = 1e-6  # keeps the Hessian invertible when the classes separate perfectly
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ theta, -50, 50)))
        grad = X.T @ (w * (p - y)) + ridge * theta
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-9:
            break
    return theta


def fit_texture_weight(
    genuine: np.ndarray, skilled: np.ndarray | None, random: np.ndarray | None
) -> float:
    """How much the texture term counts beside the shape term: the ratio of their
    slopes in a logistic regression on both ((N, 2) `score_terms` of each group).
    Never negative: a texture unlike the references' never speaks for the customer."""
    xs, y, w = _balanced_sample(genuine, skilled, random)
    x = np.concatenate(xs)
    mu = np.average(x, axis=0, weights=w)
    sd = np.sqrt(np.average((x - mu) ** 2, axis=0, weights=w))
    sd[sd == 0] = 1.0
    theta = _weighted_logistic(np.column_stack([(x - mu) / sd, np.ones(len(x))]), y, w)
    shape_slope, texture_slope = theta[0] / sd[0], theta[1] / sd[1]
    if shape_slope <= 0:
        return 0.0
    return float(max(0.0, texture_slope / shape_slope))


def fit_calibration(
    genuine: np.ndarray,
    skilled: np.ndarray,
    random: np.ndarray,
    k: int,
    centre: float = 0.0,
    typical_self_similarity: float = 0.0,
) -> Calibration:
    """Weighted logistic regression of genuine vs. forgeries raw similarities (weights:
    see `_balanced_sample`)."""
    xs, y, w = _balanced_sample(genuine, skilled, random)
    x = np.concatenate(xs)
    # Fitted on standardised scores, so that the slope's cap below means the same
    # whatever the raw similarities' spread (centring narrows it several times).
    mu = float(np.average(x, weights=w))
    sd = float(np.sqrt(np.average((x - mu) ** 2, weights=w))) or 1.0
    theta = _weighted_logistic(np.stack([(x - mu) / sd, np.ones_like(x)], axis=1), y, w)
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


# The score behaves like the probability that the signature is the customer's when a
# genuine one and a forgery are equally likely: an accept threshold below one half would
# accept, unseen, signatures the model judges more likely forged than genuine. (A few
# validation writers can put the fitted point there: 0.012 was fitted on two.)
MIN_ACCEPT = 0.5


def choose_thresholds(
    genuine: np.ndarray,
    skilled: np.ndarray | None,
    random: np.ndarray | None,
    target_far: float = 0.01,
    target_frr: float = 0.02,
) -> Thresholds:
    """Operating points on validation scores (already calibrated to [0, 1]).

    accept: the lowest score at which at most `target_far` of forgeries (skilled when
    the data has them, else random) would be accepted, and never under `MIN_ACCEPT`;
    reject: the highest score below which at most `target_frr` of genuine signatures
    fall. Between them the teller is asked to look closer ("refer").
    """
    impostor = skilled if skilled is not None and len(skilled) else random
    accept = float(np.clip(threshold_at_far(impostor, target_far), MIN_ACCEPT, 1.0))
    reject = float(np.clip(threshold_at_frr(genuine, target_frr), 0.0, accept))
    return Thresholds(accept=accept, reject=reject)
