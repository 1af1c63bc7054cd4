"""Error-rate metrics: hand-worked cases, edge cases, and brute-force cross-checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import metrics

# --- hand-worked cases ------------------------------------------------------------

# genuine [.4 .6 .8], impostor [.2 .6]; accept iff score >= t:
#   t    .2   .4   .6   .8   inf
#   FAR  1    1/2  1/2  0    0
#   FRR  0    0    1/3  2/3  1
# FAR - FRR goes 1/6 -> -2/3 between .6 and .8: alpha = (1/6) / (5/6) = 0.2, so
# EER = 1/2 - 0.2 * 1/2 = 0.4 at t = .6 + 0.2 * .2 = .64.
SMALL_GENUINE = np.array([0.4, 0.6, 0.8])
SMALL_IMPOSTOR = np.array([0.2, 0.6])


def test_roc_curve_small_case():
    far, frr, thresholds = metrics.roc_curve(SMALL_GENUINE, SMALL_IMPOSTOR)
    np.testing.assert_array_equal(thresholds, [0.2, 0.4, 0.6, 0.8, np.inf])
    np.testing.assert_allclose(far, [1, 0.5, 0.5, 0, 0])
    np.testing.assert_allclose(frr, [0, 0, 1 / 3, 2 / 3, 1])


def test_eer_small_case_interpolates_the_crossing():
    rate, threshold = metrics.eer(SMALL_GENUINE, SMALL_IMPOSTOR)
    assert rate == pytest.approx(0.4)
    assert threshold == pytest.approx(0.64)


def test_auc_small_case_counts_ties_as_half():
    # .4 beats .2, loses to .6; .6 beats .2, ties .6; .8 beats both: 4.5 of 6 pairs
    assert metrics.auc(SMALL_GENUINE, SMALL_IMPOSTOR) == pytest.approx(0.75)


def test_eer_exact_crossing_on_a_threshold():
    # At t = 2: FAR = 1/2 (the 2), FRR = 1/2 (the 1); no threshold does better.
    assert metrics.eer([1, 3], [0, 2]) == (0.5, 2.0)


def test_perfect_separation():
    genuine, impostor = [0.9, 0.8, 0.7], [0.1, 0.3, 0.2]
    rate, threshold = metrics.eer(genuine, impostor)
    assert rate == 0.0
    assert 0.3 < threshold <= 0.7
    assert metrics.far_frr_at(genuine, impostor, threshold) == (0.0, 0.0)
    assert metrics.auc(genuine, impostor) == 1.0


def test_perfectly_wrong_scores():
    assert metrics.eer([0.1, 0.2], [0.8, 0.9])[0] == pytest.approx(1.0)
    assert metrics.auc([0.1, 0.2], [0.8, 0.9]) == 0.0


def test_identical_distributions():
    scores = np.arange(10, dtype=float)
    assert metrics.eer(scores, scores)[0] == pytest.approx(0.5)
    assert metrics.auc(scores, scores) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    genuine, impostor = rng.random(4000), rng.random(4000)
    assert metrics.eer(genuine, impostor)[0] == pytest.approx(0.5, abs=0.03)
    assert metrics.auc(genuine, impostor) == pytest.approx(0.5, abs=0.03)


def test_all_scores_tied():
    assert metrics.eer([0.5, 0.5], [0.5, 0.5, 0.5])[0] == pytest.approx(0.5)
    assert metrics.auc([0.5, 0.5], [0.5, 0.5, 0.5]) == 0.5


def test_far_frr_at_uses_accept_iff_at_least_threshold():
    assert metrics.far_frr_at([0.5, 0.7], [0.5, 0.1], 0.5) == (0.5, 0.0)
    assert metrics.far_frr_at([0.5, 0.7], [0.5, 0.1], 0.6) == (0.0, 0.5)


def test_threshold_at_far():
    impostor = np.array([0.1, 0.2, 0.3, 0.4])
    t = metrics.threshold_at_far(impostor, 0.25)  # one impostor (the .4) may pass
    assert t == np.nextafter(0.3, 1.0)
    assert metrics.far_at(impostor, t) == 0.25
    assert metrics.threshold_at_far(impostor, 0.0) == np.nextafter(0.4, 1.0)
    assert metrics.threshold_at_far(impostor, 0.99) == np.nextafter(0.1, 1.0)


def test_threshold_at_far_keeps_float32_precision():
    impostor = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    t = metrics.threshold_at_far(impostor, 0.25)
    # Compared in float32 (as the app's scores will be), the threshold still sits
    # above 0.3; a float64 nextafter would round back down onto it.
    assert np.float32(t) > np.float32(0.3)
    assert metrics.far_at(impostor, t) == 0.25


def test_threshold_at_frr():
    genuine = np.array([0.8, 0.5, 0.7, 0.6])
    assert metrics.threshold_at_frr(genuine, 0.25) == 0.6
    assert metrics.frr_at(genuine, 0.6) == 0.25
    assert metrics.threshold_at_frr(genuine, 0.0) == 0.5
    assert metrics.threshold_at_frr(genuine, 0.74) == 0.7


def test_threshold_targets_are_not_lost_to_float_rounding():
    # 0.29 * 100 == 28.999999999999996: a plain floor would allow 28 errors, not 29.
    genuine = np.arange(100) / 100
    t = metrics.threshold_at_frr(genuine, 0.29)
    assert metrics.frr_at(genuine, t) == 0.29
    t = metrics.threshold_at_far(genuine, 0.29)
    assert metrics.far_at(genuine, t) == 0.29


@pytest.mark.parametrize("target", [-0.1, 1.0, 1.5])
def test_threshold_targets_out_of_range(target):
    with pytest.raises(ValueError, match="target"):
        metrics.threshold_at_far([0.1, 0.2], target)
    with pytest.raises(ValueError, match="target"):
        metrics.threshold_at_frr([0.1, 0.2], target)


def test_per_writer_eer_is_the_mean_of_each_writers_eer():
    genuine = {"a": np.array([0.9, 0.8]), "b": np.array([0.5, 0.5]), "c": np.array([0.7])}
    impostor = {"a": np.array([0.1, 0.2]), "b": np.array([0.5, 0.5]), "c": np.array([])}
    # a is perfectly separated (0), b all ties (0.5), c has no impostors: skipped.
    assert metrics.per_writer_eer(genuine, impostor) == pytest.approx(0.25)
    # A threshold per writer can do better than one threshold for all.
    genuine = {"a": np.array([0.9]), "b": np.array([0.4])}
    impostor = {"a": np.array([0.5]), "b": np.array([0.1])}
    assert metrics.per_writer_eer(genuine, impostor) == 0.0
    assert metrics.eer(np.array([0.9, 0.4]), np.array([0.5, 0.1]))[0] > 0


def test_per_writer_eer_without_any_usable_writer():
    with pytest.raises(ValueError, match="No writer"):
        metrics.per_writer_eer({"a": np.array([0.5])}, {"b": np.array([0.5])})


@pytest.mark.parametrize(
    "call",
    [
        lambda: metrics.roc_curve([], [0.5]),
        lambda: metrics.eer([0.5], []),
        lambda: metrics.auc([], []),
        lambda: metrics.far_frr_at([0.5], [], 0.5),
        lambda: metrics.threshold_at_far([], 0.1),
        lambda: metrics.threshold_at_frr([], 0.1),
    ],
)
def test_empty_scores_are_refused(call):
    with pytest.raises(ValueError, match="no .* scores"):
        call()


def test_malformed_scores_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        metrics.eer([0.5, np.nan], [0.1])
    with pytest.raises(ValueError, match="1-D"):
        metrics.auc(np.ones((2, 2)), [0.1])


# --- brute force on random data -------------------------------------------------------

# Half the scores on a coarse grid, so that ties (within and across the two sides)
# are common; the rest anywhere in [0, 1].
_score = st.one_of(st.integers(0, 8).map(lambda i: i / 8), st.floats(0, 1))
_scores = st.lists(_score, min_size=1, max_size=25).map(np.array)


def _brute_rates(genuine, impostor, t):
    far = sum(1 for s in impostor if s >= t) / len(impostor)
    frr = sum(1 for s in genuine if s < t) / len(genuine)
    return far, frr


@settings(max_examples=150, deadline=None)
@given(_scores, _scores)
def test_roc_curve_matches_brute_force(genuine, impostor):
    far, frr, thresholds = metrics.roc_curve(genuine, impostor)
    assert list(thresholds) == sorted(set(genuine) | set(impostor)) + [np.inf]
    for f, r, t in zip(far, frr, thresholds, strict=True):
        assert (f, r) == pytest.approx(_brute_rates(genuine, impostor, t))


@settings(max_examples=150, deadline=None)
@given(_scores, _scores)
def test_auc_matches_brute_force(genuine, impostor):
    pairs = [(g > i) + 0.5 * (g == i) for g in genuine for i in impostor]
    assert metrics.auc(genuine, impostor) == pytest.approx(np.mean(pairs))
    assert metrics.auc(genuine, impostor) + metrics.auc(impostor, genuine) == pytest.approx(1)


@settings(max_examples=150, deadline=None)
@given(_scores, _scores)
def test_eer_lies_between_the_best_achievable_error_bounds(genuine, impostor):
    # A threshold between two scores behaves like the score above it, so the scores
    # and +inf give every achievable (FAR, FRR).
    candidates = sorted(set(genuine) | set(impostor)) + [np.inf]
    rates = [_brute_rates(genuine, impostor, t) for t in candidates]
    rate, threshold = metrics.eer(genuine, impostor)
    assert max(min(r) for r in rates) - 1e-12 <= rate <= min(max(r) for r in rates) + 1e-12
    # The threshold sits where the errors cross: FAR <= FRR there, FAR > FRR at the
    # next score below it (if any).
    far, frr = _brute_rates(genuine, impostor, threshold)
    assert far <= frr
    below = [s for s in np.concatenate([genuine, impostor]) if s < threshold]
    if below:
        far, frr = _brute_rates(genuine, impostor, max(below))
        assert far > frr


@settings(max_examples=150, deadline=None)
@given(_scores, st.floats(0, 0.999))
def test_threshold_at_far_is_the_smallest_meeting_the_target(impostor, target):
    t = metrics.threshold_at_far(impostor, target)
    assert metrics.far_at(impostor, t) <= target
    assert metrics.far_at(impostor, np.nextafter(t, -np.inf)) > target


@settings(max_examples=150, deadline=None)
@given(_scores, st.floats(0, 0.999))
def test_threshold_at_frr_is_the_largest_meeting_the_target(genuine, target):
    t = metrics.threshold_at_frr(genuine, target)
    assert metrics.frr_at(genuine, t) <= target
    assert metrics.frr_at(genuine, np.nextafter(t, np.inf)) > target


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from("abcde"), st.tuples(_scores, _scores), min_size=1))
def test_per_writer_eer_matches_mean_of_eers(by_writer):
    genuine = {w: g for w, (g, _) in by_writer.items()}
    impostor = {w: i for w, (_, i) in by_writer.items()}
    expected = np.mean([metrics.eer(g, i)[0] for g, i in by_writer.values()])
    assert metrics.per_writer_eer(genuine, impostor) == pytest.approx(expected)


def test_eer_threshold_between_scores_one_float_apart_stays_above_the_lower():
    # found by hypothesis: interpolating between 1 - eps and 1 rounded back onto 1 - eps,
    # on the wrong side of the crossing
    below_one = np.nextafter(1.0, 0.0)
    rate, threshold = metrics.eer(np.array([0.0, 0.0, 1.0]), np.array([below_one]))
    assert rate == pytest.approx(2 / 3)
    assert below_one < threshold <= 1.0


# --- the EER's confidence interval over writers -----------------------------------------
def _writers(rng, n, queries, spread):
    """n writers whose genuine and impostor score means vary by `spread` between writers."""
    shift = rng.normal(0.0, spread, n)
    genuine = {f"w{i}": rng.normal(0.8 + shift[i], 0.1, queries) for i in range(n)}
    impostor = {f"w{i}": rng.normal(0.5 + shift[i] / 2, 0.1, queries) for i in range(n)}
    return genuine, impostor


def test_the_eer_interval_holds_the_eer_and_narrows_with_more_alike_writers():
    rng = np.random.default_rng(0)
    few = _writers(rng, 15, 20, spread=0.15)
    pooled = [np.concatenate(list(d.values())) for d in few]
    point = metrics.eer(*pooled)[0]
    low, high = metrics.eer_interval(*few)
    assert low < point < high and high - low > 0.05
    many = _writers(rng, 400, 200, spread=0.0)  # alike writers: the EER is Phi(-1.5)
    low, high = metrics.eer_interval(*many)
    assert low < 0.0668 < high and high - low < 0.01
    assert metrics.eer_interval(*few) == metrics.eer_interval(*few)  # seeded


def test_the_eer_interval_needs_impostors():
    genuine = {"w1": np.array([0.9, 0.8]), "w2": np.array([0.7])}
    assert metrics.eer_interval(genuine, {}) is None
    assert metrics.eer_interval(genuine, {"w1": np.array([])}) is None
    # a writer without impostors still counts, through its genuine scores
    assert metrics.eer_interval(genuine, {"w1": np.array([0.75, 0.2])}) is not None
