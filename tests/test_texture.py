"""Stroke texture: the LBP histogram, and how it joins the match score."""

import numpy as np
import pytest

from model.calibration import fit_texture_weight
from model.errors import ModelError
from model.scoring import (
    Calibration,
    match_scores,
    reference_scores,
    score_terms,
)
from model.synth.dataset import sample_rng, writer_for
from model.synth.render import render_genuine
from model.texture import TEXTURE_DIMS, TEXTURE_VERSION, chi2_distances, stroke_texture

TEXTURED = Calibration(
    a=10.0,
    b=-5.0,
    k=2,
    centre=0.5,
    texture=TEXTURE_VERSION,
    texture_weight=4.0,
    typical_texture_distance=0.05,
)


def _canvas(seed: int) -> np.ndarray:
    from model.preprocess import preprocess

    return preprocess(render_genuine(writer_for(seed, 0), sample_rng(seed, 0, False, 0))).canvas


def test_histogram_of_ink_codes_sums_to_one_and_blank_gives_zeros():
    canvas = _canvas(3)
    h = stroke_texture(canvas)
    assert h.shape == (TEXTURE_DIMS,) and h.dtype == np.float32
    assert h.sum() == pytest.approx(1.0) and (h >= 0).all()
    # uint8 and float canvases of the same picture give the same histogram
    as_uint8 = np.rint(canvas * 255).astype(np.uint8)
    assert np.allclose(stroke_texture(as_uint8), h)
    assert not stroke_texture(np.zeros((20, 40), np.float32)).any()


def _every_pixel_coded(canvas: np.ndarray) -> np.ndarray:
    """The histogram as first written (every pixel coded, the ink's kept): stored
    histograms of this TEXTURE_VERSION were made so, and must stay comparable."""
    import cv2

    from model.texture import _BINS, _NEIGHBOURS, INK_LEVEL, RADIUS, SMOOTHING_SIGMA, _as_uint8

    img = cv2.GaussianBlur(_as_uint8(canvas), (0, 0), SMOOTHING_SIGMA)
    h, w = img.shape
    r = RADIUS
    centre = img[r:-r, r:-r]
    code = np.zeros(centre.shape, np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        code |= (img[r + dy : h - r + dy, r + dx : w - r + dx] >= centre).view(np.uint8) << bit
    counts = np.bincount(_BINS[code[centre > INK_LEVEL]], minlength=TEXTURE_DIMS)
    return (counts / counts.sum() if counts.sum() else counts).astype(np.float32)


def test_the_histogram_is_the_one_its_version_names():
    rng = np.random.default_rng(7)
    edge = np.zeros((60, 120), np.uint8)
    edge[:, :8] = 255  # ink along the borders, where the neighbours fall off the canvas
    edge[-5:, :] = rng.integers(0, 256, (5, 120))
    canvases = [_canvas(seed) for seed in range(6)]
    canvases += [rng.random((224, 448)).astype(np.float32), edge, np.zeros((224, 448))]
    for canvas in canvases:
        assert np.array_equal(stroke_texture(canvas), _every_pixel_coded(canvas))


def test_flat_ink_and_noisy_ink_have_different_textures():
    flat = np.zeros((40, 80), np.uint8)
    flat[10:30, 10:70] = 200
    noisy = flat.copy()
    rng = np.random.default_rng(0)
    noisy[10:30, 10:70] = rng.integers(120, 255, (20, 60))
    d = chi2_distances(np.stack([stroke_texture(flat)]), np.stack([stroke_texture(noisy)]))
    assert d[0, 0] > 0.3
    assert chi2_distances(np.stack([stroke_texture(flat)]), np.stack([stroke_texture(flat)]))[
        0, 0
    ] == pytest.approx(0.0)


def test_chi2_distances_are_symmetric_bounded_and_zero_on_the_diagonal():
    rng = np.random.default_rng(1)
    h = rng.dirichlet(np.ones(TEXTURE_DIMS), 6)
    d = chi2_distances(h, h)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0) and (d <= 1 + 1e-9).all()


def _embeddings(shape_rows, texture_rows):
    shape = np.asarray(shape_rows, np.float32)
    shape /= np.linalg.norm(shape, axis=1, keepdims=True)
    return np.hstack([shape, np.asarray(texture_rows, np.float32)])


def test_the_texture_term_lowers_the_score_of_the_same_shape_in_another_hand():
    rng = np.random.default_rng(2)
    own = rng.dirichlet(np.ones(TEXTURE_DIMS) * 50)  # the customer's stroke texture
    other = rng.dirichlet(np.ones(TEXTURE_DIMS) * 50)
    refs = _embeddings([[1, 0, 0], [0.98, 0.2, 0], [0.97, 0, 0.2]], [own, own, own])
    genuine = _embeddings([[0.99, 0.1, 0.1]], [own])
    copy = _embeddings([[0.99, 0.1, 0.1]], [other])  # same shape, another hand
    g, c = match_scores(refs, np.vstack([genuine, copy]), TEXTURED)
    assert g > c
    terms = score_terms(refs, np.vstack([genuine, copy]), TEXTURED)
    assert terms[0, 0] == pytest.approx(terms[1, 0]) and terms[0, 1] > terms[1, 1]
    # each reference on its own sees the texture too: every one scores the copy lower
    own_hand = reference_scores(refs, genuine[0], TEXTURED)
    other_hand = reference_scores(refs, copy[0], TEXTURED)
    assert other_hand.shape == (3,) and (other_hand < own_hand).all()
    assert (other_hand >= 0.0).all() and (own_hand <= 1.0).all()


def test_a_single_references_score_is_the_match_score_against_it():
    rng = np.random.default_rng(4)
    refs = _embeddings([[1, 0, 0]], [rng.dirichlet(np.ones(TEXTURE_DIMS) * 50)])
    query = _embeddings([[0.9, 0.3, 0.1]], [rng.dirichlet(np.ones(TEXTURE_DIMS) * 50)])
    assert reference_scores(refs, query[0], TEXTURED)[0] == pytest.approx(
        match_scores(refs, query, TEXTURED)[0]
    )


def test_texture_weight_is_the_ratio_of_the_fitted_slopes_and_never_negative():
    rng = np.random.default_rng(3)
    n = 400
    genuine = np.column_stack([rng.normal(0.3, 0.05, n), rng.normal(-0.02, 0.01, n)])
    skilled = np.column_stack([rng.normal(0.2, 0.05, n), rng.normal(-0.06, 0.01, n)])
    random = np.column_stack([rng.normal(0.0, 0.05, n), rng.normal(-0.04, 0.01, n)])
    w = fit_texture_weight(genuine, skilled, random)
    assert w > 1.0  # the texture separates skilled forgeries: it must count
    # a texture that speaks the wrong way is given no weight at all
    flipped = [np.column_stack([x[:, 0], -x[:, 1]]) for x in (genuine, skilled, random)]
    assert fit_texture_weight(*flipped) == 0.0


def test_calibration_round_trips_and_old_fingerprints_stay():
    assert Calibration.from_dict(TEXTURED.to_dict()) == TEXTURED
    old = Calibration(a=10.0, b=-7.0, k=2, centre=0.5, typical_self_similarity=0.9)
    assert "texture" not in old.to_dict()  # as written before texture existed
    assert old.fingerprint == Calibration.from_dict(old.to_dict()).fingerprint
    assert TEXTURED.texture_dims == TEXTURE_DIMS and old.texture_dims == 0
    with pytest.raises(ModelError, match="does not compute"):
        Calibration.from_dict(TEXTURED.to_dict() | {"texture": "lbp-from-the-future"})
