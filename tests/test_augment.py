"""Training-time augmentation: what a writer and a scanner vary, never what identifies."""

import numpy as np
import pytest

from model.augment import augment
from model.preprocess import CANVAS_HW
from model.training_data import synthetic_canvases


@pytest.fixture(scope="module")
def canvas() -> np.ndarray:
    """A synthetic signature's training canvas (uint8, ink bright)."""
    return synthetic_canvases(n_writers=1, genuine=1, forged=0, seed=4).canvases[0]


def test_shape_range_and_determinism(canvas):
    a = augment(canvas, np.random.default_rng(1))
    assert a.shape == CANVAS_HW and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert np.array_equal(a, augment(canvas, np.random.default_rng(1)))
    assert not np.array_equal(a, augment(canvas, np.random.default_rng(2)))


def test_background_stays_empty_and_ink_is_never_erased(canvas):
    blank = np.zeros(CANVAS_HW, np.uint8)
    rng = np.random.default_rng(0)
    assert all(augment(blank, rng).max() == 0.0 for _ in range(20))
    ink = canvas.astype(np.float32).sum() / 255
    for _ in range(200):
        out = augment(canvas, rng)
        assert 0.3 * ink < out.sum() < 3.0 * ink


def test_draws_vary_size_stroke_and_tone_both_ways(canvas):
    rng = np.random.default_rng(3)
    outs = [augment(canvas, rng) for _ in range(200)]
    base = canvas.astype(np.float32) / 255
    area = np.array([(o > 0.05).sum() for o in outs]) / (base > 0.05).sum()
    tone = np.array([o[o > 0.05].mean() for o in outs]) / base[base > 0.05].mean()
    moved = np.array([np.abs(o - base).mean() for o in outs])
    assert area.min() < 0.95 and area.max() > 1.2  # thinner and thicker strokes
    assert tone.min() < 0.85 and tone.max() > 1.1  # lighter and heavier ink
    assert (moved > 0.005).mean() > 0.5  # most draws change the signature somewhat
    assert (moved == 0).mean() < 0.2
