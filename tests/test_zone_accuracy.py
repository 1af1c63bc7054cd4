"""Signature-zone extraction on generated cheques and forms: the issue's measure (box IoU
at least 0.7 on at least 90% of pages), on a sample of pages small enough for the suite."""

import contextlib

import numpy as np
import pytest

from model.errors import BlankImageError
from model.pages import make_page
from model.synth import make_writer, render_genuine
from model.zone import find_signature
from tests.fakes import box_iou

PAGES = 30


def test_the_signature_box_is_found_on_at_least_90_percent_of_pages():
    hits = 0
    for i in range(PAGES):
        rng = np.random.default_rng(7000 + i)
        signature = render_genuine(make_writer(900 + i), rng)
        page = make_page(signature, rng, kind="cheque" if i % 2 == 0 else "form")
        with contextlib.suppress(BlankImageError):  # a miss
            hits += box_iou(find_signature(page.image).box, page.signature_box) >= 0.7
    assert hits >= 0.9 * PAGES


def test_a_page_without_ink_has_no_signature():
    with pytest.raises(BlankImageError):
        find_signature(np.full((850, 1800), 235, np.uint8))
