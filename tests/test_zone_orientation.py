"""Pages fed sideways or upside down (`model.zone_orientation`), and pages too coarse
to search (`model.zone`).

`orientation_results` is the measurement behind `model.zone.CONFIDENT`: run on two
seeds of 90 pages (`_pages(90, seed)` for seeds 100 and 900) it found the orientation
of all 718 turned pages it found a box on; the suite runs it on a small sample.
"""

from __future__ import annotations

import contextlib

import cv2
import numpy as np
import pytest

import model.zone as zone
from model.errors import BlankImageError
from model.pages import (
    make_page,
    make_scribble_signature,
    make_script_signature,
    make_unsigned_page,
)
from model.synth import make_writer, render_genuine
from model.zone import CONFIDENT, PageResolutionError, crop_box, find_signature
from model.zone_orientation import turn, turn_box, turn_in_words
from tests.fakes import box_iou


def _signature(k: int, rng: np.random.Generator) -> np.ndarray:
    if k % 3 == 0:
        return render_genuine(make_writer(5000 + k), rng)
    return make_script_signature(rng) if k % 3 == 1 else make_scribble_signature(rng)


def _pages(n: int, seed: int, forms_every: int = 3):
    """n synthetic pages: a form every `forms_every`-th, cheques otherwise."""
    for k in range(n):
        rng = np.random.default_rng(seed + k)
        kind = "form" if k % forms_every == 0 else "cheque"
        yield make_page(_signature(k, rng), rng, kind=kind)


def orientation_results(pages) -> list[tuple[int, int | None, float, float]]:
    """Each page turned anticlockwise 0 to 3 times, as a scanner might feed it:
    (turns needed, turns found or None when nothing was found, IoU, confidence)."""
    results = []
    for page in pages:
        for k in range(4):
            turned = turn(page.image, -k)
            truth = turn_box(page.signature_box, -k, page.image.shape)
            try:
                found = find_signature(turned, dpi=300)
            except BlankImageError:
                results.append((k, None, 0.0, 0.0))
                continue
            results.append((k, found.quarter_turns, box_iou(found.box, truth), found.confidence))
    return results


def test_turn_box_follows_the_pixels_as_the_image_turns():
    image = np.zeros((30, 50), np.uint8)
    box = (7, 4, 12, 9)
    x, y, w, h = box
    image[y : y + h, x : x + w] = 1
    for k in range(-3, 5):
        turned = turn(image, k)
        tx, ty, tw, th = turn_box(box, k, image.shape)
        assert turned[ty : ty + th, tx : tx + tw].all() and turned.sum() == w * h
    assert turn_box(turn_box(box, 1, image.shape), -1, (50, 30)) == box


def test_turns_are_told_in_one_phrasing():
    assert [turn_in_words(k) for k in (1, 2, 3, -1)] == [
        "turned a quarter turn clockwise",
        "turned upside down",
        "turned a quarter turn anticlockwise",
        "turned a quarter turn anticlockwise",
    ]


def test_turned_pages_are_read_the_right_way_up():
    results = orientation_results(_pages(8, seed=300, forms_every=4))
    found = [r for r in results if r[1] is not None]
    assert len(found) >= 30
    assert all(needed == got for needed, got, _, _ in found), found
    right = [r for r in found if r[2] >= 0.7]
    assert len(right) >= 28, results
    assert sum(r[3] >= CONFIDENT for r in right) >= 26


def test_the_crop_of_a_turned_page_is_the_upright_signature():
    rng = np.random.default_rng(41)
    page = make_page(render_genuine(make_writer(41), rng), rng, kind="cheque")
    upright = find_signature(page.image, dpi=300)
    sideways = find_signature(turn(page.image, 1), dpi=300)  # turned right: 3 turns back
    assert upright.quarter_turns == 0 and sideways.quarter_turns == 3
    expected = crop_box(page.image, upright.box)
    crop = turn(crop_box(turn(page.image, 1), sideways.box), sideways.quarter_turns)
    assert abs(crop.shape[0] - expected.shape[0]) <= 2
    assert abs(crop.shape[1] - expected.shape[1]) <= 2
    h, w = min(crop.shape[0], expected.shape[0]), min(crop.shape[1], expected.shape[1])
    same = np.corrcoef(crop[:h, :w].ravel(), expected[:h, :w].ravel())[0, 1]
    assert same > 0.8  # the same ink, the same way up


def test_an_upright_confident_page_is_read_once(monkeypatch):
    reads = []
    real = zone._read
    monkeypatch.setattr(zone, "_read", lambda *a: reads.append(a[2]) or real(*a))
    rng = np.random.default_rng(5)
    page = make_page(render_genuine(make_writer(8), rng), rng, kind="cheque")
    assert find_signature(page.image, dpi=300).confidence >= CONFIDENT
    assert reads == [0]  # the upright path costs what it did before turning existed


def test_a_bare_signature_stays_as_given_and_a_turn_guessed_from_writing_is_unsure():
    # No print: upright cannot be told from upside down, so the page as given wins,
    # and a sideways one is turned, but with half the confidence (it may be upside down).
    rng = np.random.default_rng(3)
    scans = [render_genuine(make_writer(k), rng) for k in range(4)]
    for scan in scans:
        assert find_signature(scan).quarter_turns == 0
        turned = find_signature(turn(scan, 1))
        assert turned.quarter_turns in (1, 3) and turned.confidence <= 0.5


def test_print_only_pages_are_not_confident_whichever_way_up():
    rng = np.random.default_rng(12)
    for k in range(4):
        page = turn(make_unsigned_page(rng, kind="cheque"), k)
        with contextlib.suppress(BlankImageError):  # refused outright: fine too
            assert find_signature(page, dpi=300).confidence < CONFIDENT


@pytest.fixture(scope="module")
def cheque():
    rng = np.random.default_rng(2)
    return make_page(render_genuine(make_writer(2), rng), rng, kind="cheque")


@pytest.mark.parametrize("dpi", [None, 300.0])
def test_a_tiny_page_is_called_too_coarse_with_its_size_and_what_is_needed(cheque, dpi):
    tiny = cv2.resize(cheque.image, (180, 85), interpolation=cv2.INTER_AREA)
    with pytest.raises(PageResolutionError) as err:
        find_signature(tiny, dpi=dpi)
    message = str(err.value)
    assert "180×85 pixels" in message and "150 dpi" in message and "900 pixels" in message
    assert isinstance(err.value, BlankImageError)  # callers that handle "not found" still do


def test_a_page_scanned_at_a_low_dpi_says_its_dpi(cheque):
    tiny = cv2.resize(cheque.image, (180, 85), interpolation=cv2.INTER_AREA)
    with pytest.raises(PageResolutionError, match=r"scanned at 30 dpi \(180×85 pixels\)"):
        find_signature(tiny, dpi=30)


def test_a_small_image_with_a_clear_signature_is_still_found():
    # Resolution is blamed only when the search fails: a bare signature is small too.
    rng = np.random.default_rng(11)
    scan = render_genuine(make_writer(11), rng)
    assert max(scan.shape) < zone.MIN_PAGE_PIXELS
    assert find_signature(scan).confidence >= CONFIDENT
