"""Verification error rates from match scores: FAR, FRR, EER, ROC AUC.

Scores are "higher = more likely the same writer"; at a threshold `t` a query is
accepted iff `score >= t`. So FAR(t) is the fraction of impostor scores >= t and
FRR(t) the fraction of genuine scores < t. Definitions follow luizgh/sigver: EER
with one global threshold, EER with a threshold per writer, FAR for random and for
skilled forgeries separately (the caller picks which impostors to pass).

Pure numpy, so the app, the CLI and the training scripts can all use it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _scores(values, name: str) -> np.ndarray:
    """A 1-D float array of finite scores, or ValueError saying what is wrong."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} scores must be a 1-D array, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"There are no {name} scores to measure.")
    # Keep float32 as float32: thresholds derived from float32 scores must compare
    # the same way when the app later compares float32 scores against them.
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} scores contain NaN or infinite values.")
    return arr


def far_at(impostor, threshold: float) -> float:
    """False acceptance rate: fraction of impostor scores >= threshold."""
    imp = _scores(impostor, "impostor")
    return float(np.count_nonzero(imp >= threshold) / imp.size)


def frr_at(genuine, threshold: float) -> float:
    """False rejection rate: fraction of genuine scores < threshold."""
    gen = _scores(genuine, "genuine")
    return float(np.count_nonzero(gen < threshold) / gen.size)


def far_frr_at(genuine, impostor, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at one threshold."""
    return far_at(impostor, threshold), frr_at(genuine, threshold)


def _error_counts(genuine, impostor) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """At every distinct score and +inf: (impostors accepted, genuine rejected, thresholds,
    n_genuine, n_impostor), as exact integer counts."""
    gen = np.sort(_scores(genuine, "genuine"))
    imp = np.sort(_scores(impostor, "impostor"))
    thresholds = np.append(np.unique(np.concatenate([gen, imp])), np.inf)
    # searchsorted "left" counts the scores strictly below each threshold.
    accepted = imp.size - np.searchsorted(imp, thresholds, side="left")
    rejected = np.searchsorted(gen, thresholds, side="left")
    return accepted, rejected, thresholds, gen.size, imp.size


def roc_curve(genuine, impostor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(far, frr, thresholds) at every distinct score, thresholds ascending.

    The last threshold is +inf (accept nothing: FAR 0, FRR 1); the first is the
    lowest score (accept everything: FAR 1, FRR 0). Between two consecutive
    distinct scores FAR and FRR do not change, so these points are the whole curve.
    """
    accepted, rejected, thresholds, n_gen, n_imp = _error_counts(genuine, impostor)
    return accepted / n_imp, rejected / n_gen, thresholds


def eer(genuine, impostor) -> tuple[float, float]:
    """(equal error rate, threshold), linearly interpolated where FAR meets FRR.

    FAR - FRR falls strictly at every step of the ROC (each distinct score moves at
    least one of them), so there is exactly one crossing.
    """
    accepted, rejected, thresholds, n_gen, n_imp = _error_counts(genuine, impostor)
    far = accepted / n_imp
    # (FAR - FRR) * n_gen * n_imp in integers: a float difference of two rates that
    # are equal (2/3 and 1 - 1/3) can come out a hair away from zero.
    gap = accepted.astype(np.int64) * n_gen - rejected.astype(np.int64) * n_imp
    k = int(np.argmax(gap <= 0))  # gap > 0 at the first threshold, < 0 at the last
    if gap[k] == 0:
        return float(far[k]), float(thresholds[k])
    # The crossing lies between points k-1 and k.
    alpha = gap[k - 1] / (gap[k - 1] - gap[k])
    rate = far[k - 1] + alpha * (far[k] - far[k - 1])
    low, high = thresholds[k - 1], thresholds[k]
    if np.isinf(high):
        # The step to "accept nothing" has no finite far end; every threshold above
        # the top score behaves the same, so take the first one.
        return float(rate), float(np.nextafter(low, high))
    threshold = low + alpha * (high - low)
    if threshold <= low:  # scores a float apart: the step rounds back onto `low`
        threshold = np.nextafter(low, high)
    return float(rate), float(threshold)


def auc(genuine, impostor) -> float:
    """ROC AUC = P(genuine > impostor) + 0.5 P(equal), the Mann-Whitney statistic."""
    gen = _scores(genuine, "genuine")
    imp = np.sort(_scores(impostor, "impostor"))
    below = np.searchsorted(imp, gen, side="left")  # impostors strictly below each
    not_above = np.searchsorted(imp, gen, side="right")  # impostors below or equal
    wins = below.sum(dtype=np.float64) + 0.5 * (not_above - below).sum(dtype=np.float64)
    return float(wins / (gen.size * imp.size))


def per_writer_eer(
    genuine_by_writer: Mapping[str, np.ndarray], impostor_by_writer: Mapping[str, np.ndarray]
) -> float:
    """Mean over writers of each writer's own EER (a threshold per writer).

    Writers with no genuine or no impostor scores cannot have an EER and are skipped.
    """
    rates = [
        eer(genuine_by_writer[w], impostor_by_writer[w])[0]
        for w in genuine_by_writer
        if w in impostor_by_writer
        and np.size(genuine_by_writer[w]) > 0
        and np.size(impostor_by_writer[w]) > 0
    ]
    if not rates:
        raise ValueError("No writer has both genuine and impostor scores.")
    return float(np.mean(rates))


def _check_target(target: float, name: str) -> None:
    if not 0.0 <= target < 1.0:
        raise ValueError(f"The target {name} must be at least 0 and below 1, got {target}.")


def _max_errors(target: float, n: int) -> int:
    """Largest k with k / n <= target, computed the way the rates are (no float floor)."""
    k = min(n, int(np.floor(target * n)))
    while k < n and (k + 1) / n <= target:
        k += 1
    while k > 0 and k / n > target:
        k -= 1
    return k


def threshold_at_far(impostor, target_far: float) -> float:
    """Smallest threshold whose FAR <= target_far.

    With at most k impostors allowed through, the threshold must sit just above the
    (k+1)-th highest impostor score: the next representable float in the scores'
    own precision, so float32 scores compare against it the same way later.
    """
    _check_target(target_far, "FAR")
    imp = np.sort(_scores(impostor, "impostor"))
    k = _max_errors(target_far, imp.size)
    return float(np.nextafter(imp[imp.size - k - 1], imp.dtype.type(np.inf)))


def threshold_at_frr(genuine, target_frr: float) -> float:
    """Largest threshold whose FRR <= target_frr: the (k+1)-th lowest genuine score."""
    _check_target(target_frr, "FRR")
    gen = np.sort(_scores(genuine, "genuine"))
    return float(gen[_max_errors(target_frr, gen.size)])


def eer_interval(
    genuine_by_writer: Mapping[str, np.ndarray],
    impostor_by_writer: Mapping[str, np.ndarray],
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    bins: int = 4096,
) -> tuple[float, float] | None:
    """A `level` confidence interval of the global EER, by resampling the writers with
    replacement (a percentile bootstrap). Writers, not queries, are what a data set
    samples: one writer's queries share the writer's quirks, so counting them as
    independent would make the interval far too narrow. None without impostors.

    Each writer's scores are counted into `bins` bins between the lowest and the highest
    score, so that a resample is a weighted sum of histograms (one matrix product for
    all resamples) whatever the number of queries; the EER is then read at the bins'
    edges, interpolated as `eer` does, a bin's width (1/4096 of the range) from exact.
    """
    writers = [w for w in genuine_by_writer if np.size(genuine_by_writer[w]) > 0]
    if not any(np.size(impostor_by_writer.get(w, ())) > 0 for w in writers):
        return None
    present = [
        np.asarray(m[w])
        for m in (genuine_by_writer, impostor_by_writer)
        for w in writers
        if np.size(m.get(w, ())) > 0
    ]
    edges = np.linspace(min(a.min() for a in present), max(a.max() for a in present), bins + 1)

    def histograms(by_writer: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.stack(
            [np.histogram(np.asarray(by_writer.get(w, ())), edges)[0] for w in writers]
        ).astype(np.float64)

    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(writers), np.full(len(writers), 1 / len(writers)), resamples)
    genuine, impostor = (
        weights @ histograms(genuine_by_writer),
        weights @ histograms(impostor_by_writer),
    )
    keep = impostor.sum(axis=1) > 0  # a resample of writers without forgeries says nothing
    genuine, impostor = genuine[keep], impostor[keep]
    # At each bin's lower edge as the threshold: genuine below it rejected, impostors
    # from it on accepted.
    frr = np.hstack([np.zeros((len(genuine), 1)), np.cumsum(genuine, axis=1)])
    frr /= frr[:, -1:]
    far = 1 - np.hstack([np.zeros((len(impostor), 1)), np.cumsum(impostor, axis=1)]) / (
        impostor.sum(axis=1, keepdims=True)
    )
    gap = far - frr  # 1 at the first edge, -1 at the last
    k = np.argmax(gap <= 0, axis=1)  # the first edge at or past the crossing: k >= 1
    rows = np.arange(len(gap))
    before, after = gap[rows, k - 1], gap[rows, k]  # before > 0 >= after
    alpha = before / (before - after)
    rates = far[rows, k - 1] + alpha * (far[rows, k] - far[rows, k - 1])
    tail = 50 * (1 - level)
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)
