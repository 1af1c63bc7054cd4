"""The visual-comparison helper: alignment, overlay and difference map (no Qt)."""

import numpy as np
import pytest

from model.preprocess import CANVAS_HW, preprocess
from sigverify_gui.services.compare import (
    QUESTIONED_RGB,
    REFERENCE_RGB,
    align,
    aligned_reference,
    difference_map,
    heatmap_rgb,
    overlay_rgb,
    shift_image,
)
from tests.fakes import render_signatures


@pytest.fixture(scope="module")
def canvas():
    return preprocess(render_signatures(11, 1)[0]).canvas


def test_shift_image_moves_content_and_fills_with_zero():
    img = np.zeros((5, 6), np.float32)
    img[1, 1] = 1.0
    moved = shift_image(img, 2, 3)
    assert moved[4, 3] == 1.0 and moved.sum() == 1.0
    assert shift_image(img, -2, 0).sum() == 0.0  # moved off the edge
    assert shift_image(img, 10, 0).sum() == 0.0


@pytest.mark.parametrize("dx,dy", [(0, 0), (4, -3), (-7, 5), (9, 9), (-20, 12)])
def test_align_recovers_a_known_shift(canvas, dx, dy):
    moved = shift_image(canvas, dx, dy)
    # the reference is the moved copy: it must be shifted back by (-dx, -dy)
    alignment = align(canvas, moved)
    assert (alignment.dx, alignment.dy) == (-dx, -dy)
    assert alignment.correlation > 0.95


def test_align_of_different_writers_correlates_less(canvas):
    other = preprocess(render_signatures(12, 1)[0]).canvas
    same = preprocess(render_signatures(11, 1, first=1)[0]).canvas
    assert align(canvas, same).correlation > align(canvas, other).correlation


def test_align_of_an_empty_canvas_is_no_shift(canvas):
    empty = np.zeros_like(canvas)
    assert align(canvas, empty) == align(empty, canvas)
    assert (align(empty, canvas).dx, align(empty, canvas).dy) == (0, 0)


def test_align_refuses_canvases_of_different_shapes(canvas):
    with pytest.raises(ValueError):
        align(canvas, canvas[:, :100])


def test_aligned_reference_lies_on_the_questioned(canvas):
    moved = shift_image(canvas, 5, -2)
    back, alignment = aligned_reference(canvas, moved)
    inner = (slice(10, -10), slice(10, -10))
    assert np.abs(back[inner] - canvas[inner]).max() < 1e-6
    assert (alignment.dx, alignment.dy) == (-5, 2)


def test_overlay_colours_each_ink_and_darkens_the_overlap():
    q = np.zeros((4, 4), np.float32)
    r = np.zeros((4, 4), np.float32)
    q[0, 0] = r[0, 1] = 1.0
    q[1, 1] = r[1, 1] = 1.0
    rgb = overlay_rgb(q, r)
    assert rgb.shape == (4, 4, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[3, 3]) == (255, 255, 255)  # paper
    assert tuple(rgb[0, 0]) == QUESTIONED_RGB
    assert tuple(rgb[0, 1]) == REFERENCE_RGB
    assert rgb[1, 1].sum() < min(sum(QUESTIONED_RGB), sum(REFERENCE_RGB)) / 2


def test_difference_map_is_empty_for_identical_and_marks_the_difference(canvas):
    assert difference_map(canvas, canvas).max() == 0.0
    altered = canvas.copy()
    altered[:, 150:] = 0.0  # the reference lacks the signature's right end
    diff = difference_map(canvas, altered)
    assert diff[:, 170:].mean() > 5 * diff[:, :120].mean()
    assert diff.min() >= 0.0 and diff.max() <= 1.0
    heat = heatmap_rgb(canvas, altered)
    assert heat.shape == canvas.shape + (3,) and heat.dtype == np.uint8


def test_difference_map_of_blank_canvases_is_zero():
    blank = np.zeros(CANVAS_HW, np.float32)
    assert difference_map(blank, blank).max() == 0.0
