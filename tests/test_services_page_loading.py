"""Whole pages in the services: a page of a file of several, counting pages, and the
signature isolated the right way up from a page fed sideways."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from model.errors import ImageError
from model.imageio import encode_png
from model.pages import make_page
from model.zone import crop_box
from model.zone_orientation import turn, turn_box
from sigverify_gui.services.captures import (
    cut_signature,
    load_page,
    page_count,
    paper_margin,
    signature_from_page,
)
from tests.fakes import render_signatures


def _tiff(*pages: np.ndarray) -> bytes:
    out = io.BytesIO()
    first, *rest = (Image.fromarray(p) for p in pages)
    first.save(out, format="TIFF", save_all=True, append_images=rest, dpi=(200, 200))
    return out.getvalue()


def test_load_page_names_the_page_of_a_file_of_several(tmp_path):
    data = _tiff(np.full((40, 60), 200, np.uint8), np.full((30, 50), 100, np.uint8))
    second = load_page(data, 2, name="doc.tif")
    assert (second.number, second.count) == (2, 2)
    assert second.capture.source == "doc.tif, page 2" and second.capture.gray.shape == (30, 50)
    assert second.capture.dpi == pytest.approx(200, abs=1)
    path = tmp_path / "one.png"
    path.write_bytes(encode_png(np.full((20, 30), 255, np.uint8)))
    only = load_page(path)
    assert (only.count, only.capture.source) == (1, "one.png")
    with pytest.raises(ImageError, match="no page 3"):
        load_page(data, 3, name="doc.tif")


def test_page_count_reads_only_files_that_can_hold_several():
    assert page_count(_tiff(*[np.zeros((8, 8), np.uint8)] * 3)) == 3
    assert page_count(encode_png(np.zeros((8, 8), np.uint8))) == 1


def test_a_signature_file_of_several_pages_is_refused_not_read_as_its_first(tmp_path):
    """Its first page, taken silently, may well not be the one the signature is on."""
    from sigverify_gui.services.capture.files import read_capture
    from sigverify_gui.services.captures import load_input

    signature = render_signatures(9, 1)[0]
    path = tmp_path / "scans.tif"
    path.write_bytes(_tiff(signature, np.full((30, 50), 250, np.uint8)))
    for read in (load_input, lambda p: read_capture(p, one_page=True)):
        with pytest.raises(ImageError, match="'scans.tif' holds 2 pages, and a signature is"):
            read(path)
    assert read_capture(path).gray.shape == signature.shape  # a page to search: page 1
    one = tmp_path / "one.tif"
    one.write_bytes(_tiff(signature))
    assert load_input(one).gray.shape == signature.shape


def test_the_signature_of_a_sideways_page_comes_out_upright():
    page = make_page(render_signatures(9, 1, first=7)[0], np.random.default_rng(4))
    upright, _ = signature_from_page(page.image, dpi=300)
    sideways, zone = signature_from_page(turn(page.image, 1), dpi=300)
    assert zone.quarter_turns == 3
    assert abs(sideways.gray.shape[0] - upright.gray.shape[0]) <= 3
    assert abs(sideways.gray.shape[1] - upright.gray.shape[1]) <= 3


def test_a_given_box_is_taken_as_it_stands():
    page = np.full((100, 200), 240, np.uint8)
    capture, zone = signature_from_page(page, dpi=300, box=(10, 20, 50, 30))
    assert zone is None and capture.gray.shape == (30 + 24, 50 + 24)  # 12 px of paper around


def test_a_cut_of_a_turned_page_is_the_turned_cut_of_the_page():
    # The cheque dialog cuts the page as read with its box turned back, extract and
    # verify --page cut the page with the zone's box: the same pixels either way.
    rng = np.random.default_rng(6)
    page = rng.integers(150, 256, (90, 160)).astype(np.uint8)
    box = (30, 20, 70, 40)
    for k in range(4):
        shown = turn(page, k)
        on_shown = turn_box(box, k, page.shape)
        expected = cut_signature(page, box, quarter_turns=k)
        assert np.array_equal(cut_signature(shown, on_shown), expected)
        m = paper_margin(turn(crop_box(page, box), k).shape)
        assert np.array_equal(expected[m:-m, m:-m], turn(crop_box(page, box), k))


def test_cut_signature_pads_with_paper_only():
    page = np.zeros((100, 200), np.uint8)  # print all around the box
    page[20:50, 10:60] = 240
    cut = cut_signature(page, (10, 20, 50, 30))
    assert cut.shape == (30 + 24, 50 + 24) and (cut == 240).all()
    assert cut_signature(page, (10, 20, 50, 30), margin=0).shape == (30, 50)
    with pytest.raises(ImageError, match="negative"):
        cut_signature(page, (10, 20, 50, 30), margin=-1)
    with pytest.raises(ImageError, match="at most 1000 pixels"):
        cut_signature(page, (10, 20, 50, 30), margin=1001)
