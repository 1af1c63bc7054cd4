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
from model.zone import turn
from sigverify_gui.services.captures import load_page, page_count, signature_from_page
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
