"""Losses, score calibration, thresholds and decisions."""

import numpy as np
import pytest
import torch

from model.calibration import choose_thresholds, fit_calibration
from model.losses import contrastive_loss, make_loss, triplet_loss
from model.scoring import (
    Calibration,
    Thresholds,
    calibrated,
    decide,
    match_scores,
    self_similarity,
    shape_term,
)


def _unit(x):
    return torch.nn.functional.normalize(torch.tensor(x, dtype=torch.float32), dim=1)


# two writers, well apart; writer 0 also has a forgery
SEPARATED = _unit([[1, 0.01], [1, -0.01], [0.01, 1], [-0.01, 1], [0.7, 0.7]])
LABELS = torch.tensor([0, 0, 1, 1, -1])


def _at_angles(*angles):
    return _unit([[np.cos(a), np.sin(a)] for a in angles])


@pytest.mark.parametrize("mining", ["hard", "semihard"])
def test_triplet_loss_is_zero_when_separated_and_positive_when_not(mining):
    far = _at_angles(0.0, 0.01, np.pi / 2, np.pi / 2 + 0.01, np.pi)
    assert triplet_loss(far, LABELS, margin=0.3, mining=mining) == 0
    # writer 0's forgery lies just beyond its positive, inside the margin: both
    # mining modes must push it away
    close = _at_angles(0.0, 0.3, np.pi / 2, np.pi / 2 + 0.01, -0.45)
    assert triplet_loss(close, LABELS, margin=0.3, mining=mining) > 0


def test_hard_mining_sees_a_forgery_closer_than_the_positive():
    inside = _at_angles(0.0, 0.5, np.pi / 2, np.pi / 2 + 0.01, 0.05)
    assert triplet_loss(inside, LABELS, margin=0.3, mining="hard") > 0.2


def test_forgeries_are_never_anchors_or_positives():
    # only forgeries of one writer: nothing to anchor on
    emb = _unit([[1, 0], [1, 0.1], [0, 1]])
    assert triplet_loss(emb, torch.tensor([-1, -1, -2])) == 0
    assert contrastive_loss(emb, torch.tensor([-1, -1, -2])) == 0


def test_contrastive_loss_pulls_genuine_and_pushes_forgeries():
    aligned = _unit([[1, 0], [1, 0], [0, 1], [0, 1], [-1, 0]])
    assert float(contrastive_loss(aligned, LABELS)) == pytest.approx(0.0, abs=1e-6)
    assert contrastive_loss(_unit([[1, 0], [0, 1], [0, 1], [1, 0], [1, 0]]), LABELS) > 0.5


def test_losses_have_gradients_and_unknown_names_fail():
    emb = SEPARATED.clone().requires_grad_(True)
    for name in ("triplet", "contrastive"):
        make_loss(name)(emb * 0.5 + 0.5 * _unit([[1, 1]] * 5), LABELS).backward()
    with pytest.raises(ValueError):
        make_loss("arcface")


def test_shape_term_is_mean_of_k_best():
    refs = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    q = np.array([[1, 0]], np.float32)
    assert shape_term(refs, q, k=1)[0] == pytest.approx(1.0)
    assert shape_term(refs, q, k=2)[0] == pytest.approx(0.8)
    assert shape_term(refs[:1], q, k=2)[0] == pytest.approx(1.0)  # k capped by refs


def test_calibration_fits_monotone_probability():
    rng = np.random.default_rng(0)
    genuine = rng.normal(0.8, 0.05, 400)
    skilled = rng.normal(0.6, 0.07, 400)
    rnd = rng.normal(0.3, 0.1, 400)
    cal = fit_calibration(genuine, skilled, rnd, k=2)
    assert cal.a > 0
    p = calibrated(np.array([0.3, 0.6, 0.7, 0.8, 0.95]), cal)
    assert np.all(np.diff(p) > 0) and p.min() >= 0 and p.max() <= 1
    assert calibrated(np.array([0.8]), cal)[0] > 0.9 and calibrated(np.array([0.3]), cal)[0] < 0.01
    assert Calibration.from_dict(cal.to_dict()) == cal


def test_calibration_of_separated_scores_keeps_a_finite_slope():
    cal = fit_calibration(np.full(50, 0.9), np.full(50, 0.2), np.full(50, 0.1), k=2)
    assert cal.a <= 60 and 0.0 < calibrated(np.array([0.55]), cal)[0] < 1.0


def test_calibration_does_not_depend_on_the_scores_scale():
    """Centred similarities spread several times less than raw ones: the same data on
    a narrower scale must get the same probabilities."""
    rng = np.random.default_rng(2)
    genuine, skilled, rnd = rng.normal(0.8, 0.05, 300), rng.normal(0.6, 0.07, 300), None
    wide = fit_calibration(genuine, skilled, rnd, k=2)
    narrow = fit_calibration(0.2 * genuine + 0.3, 0.2 * skilled + 0.3, rnd, k=2)
    probe = np.array([0.55, 0.7, 0.85])
    assert np.allclose(calibrated(probe, wide), calibrated(0.2 * probe + 0.3, narrow), atol=1e-6)


def test_centring_takes_off_part_of_the_references_own_similarity():
    refs = np.array([[1.0, 0.0], [0.8, 0.6]], np.float32)  # mutual cosine 0.8
    q = np.array([[1.0, 0.0]], np.float32)
    assert self_similarity(refs) == pytest.approx(0.8) and self_similarity(refs[:1]) is None
    plain = shape_term(refs, q, k=2)[0]
    assert shape_term(refs, q, k=2, centre=0.5)[0] == pytest.approx(plain - 0.4)
    # a single reference: the typical value stands in for its own similarity
    one = shape_term(refs[:1], q, k=2, centre=0.5, typical_self_similarity=0.9)[0]
    assert one == pytest.approx(1.0 - 0.45)
    cal = Calibration(centre=0.5, typical_self_similarity=0.9)
    assert Calibration.from_dict(cal.to_dict()) == cal
    old = {"a": 10.0, "b": -7.0, "k": 2}  # a checkpoint made before centring
    assert Calibration.from_dict(old).centre == 0.0


def test_thresholds_meet_their_operating_points_and_bands():
    rng = np.random.default_rng(1)
    gen, sk = rng.uniform(0.4, 1.0, 1000), rng.uniform(0.0, 0.7, 1000)
    t = choose_thresholds(gen, sk, None, target_far=0.01, target_frr=0.02)
    assert np.mean(sk >= t.accept) <= 0.01 and np.mean(gen < t.reject) <= 0.02
    assert t.reject <= t.accept
    assert decide(t.accept, t) == "accept"
    assert decide(t.reject, t) in ("refer", "accept")
    assert decide(np.nextafter(t.reject, 0), t) == "reject"
    with pytest.raises(ValueError):
        Thresholds(accept=0.3, reject=0.6)


def test_an_accept_threshold_is_never_fitted_below_one_half():
    # Two validation writers whose forgeries all scored low had put it at 0.012: the
    # model then accepted signatures it judged more likely forged than genuine.
    gen, sk = np.array([0.02, 0.3, 0.9]), np.array([0.001, 0.005, 0.01])
    t = choose_thresholds(gen, sk, None, target_far=0.01, target_frr=0.02)
    assert t.accept == 0.5 and t.reject <= t.accept


def test_match_scores_shape():
    refs = np.eye(4, dtype=np.float32)[:3]
    assert match_scores(refs, np.eye(4, dtype=np.float32), Calibration()).shape == (4,)
