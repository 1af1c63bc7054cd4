"""The cheque dialog with pages fed sideways, unsure zones, files of several pages and
pages too coarse to search."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.imageio import encode_png
from model.pages import make_page, make_unsigned_page
from model.zone import ZoneResult, turn, turn_box
from sigverify_gui.services.capture import read_capture
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui import cheque_dialog
from sigverify_gui.ui.cheque_dialog import ChequeDialog
from sigverify_gui.ui.qt import Qt
from tests.fakes import box_iou, render_signatures


@pytest.fixture(scope="module")
def cheque():
    return make_page(render_signatures(44, 1)[0], np.random.default_rng(3), kind="cheque")


def _open(qtbot, page: Capture) -> ChequeDialog:
    dialog = ChequeDialog(page)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    return dialog


def test_a_sideways_cheque_is_shown_upright_with_its_signature_boxed(qtbot, cheque):
    height, width = cheque.image.shape
    dialog = _open(qtbot, Capture(turn(cheque.image, -1), 300.0, "rot.png"))  # fed turned left
    assert dialog.quarter_turns == 1
    assert dialog.editor.image_size() == (width, height)  # shown upright
    assert box_iou(dialog.box(), cheque.signature_box) > 0.7
    assert "Signature found" in dialog.status.text()
    capture = dialog.crop()
    assert capture.gray.shape[1] > capture.gray.shape[0]  # a signature lies wide, upright


def test_turning_the_page_turns_the_box_with_it(qtbot, cheque):
    dialog = _open(qtbot, Capture(cheque.image, 300.0, "cheque.png"))
    box, (width, height) = dialog.box(), dialog.editor.image_size()
    qtbot.mouseClick(dialog.right_button, Qt.MouseButton.LeftButton)
    assert dialog.quarter_turns == 1 and dialog.editor.image_size() == (height, width)
    assert dialog.box() == turn_box(box, 1, (height, width))  # on the same ink
    assert dialog.spins["w"].maximum() == height  # the numbers follow the turned page
    crop = dialog.crop().gray
    assert crop.shape[0] > crop.shape[1]  # what is shown is what is used
    qtbot.mouseClick(dialog.left_button, Qt.MouseButton.LeftButton)
    assert dialog.quarter_turns == 0 and dialog.box() == box


def test_an_unsure_zone_is_flagged_and_not_taken_by_enter(qtbot, cheque, monkeypatch):
    x, y, w, h = cheque.signature_box
    half = ZoneResult((x, y, w // 2, h), 0.53, ((x, y, w, h),))
    monkeypatch.setattr(cheque_dialog, "find_signature", lambda gray, dpi=None: half)
    dialog = _open(qtbot, Capture(cheque.image, 300.0, "cheque.png"))
    text = dialog.status.text()
    assert "could not be found with confidence (53%)" in text and "Left or Right" in text
    assert not dialog.ok_button.isDefault()
    assert dialog.left_button.isEnabled() and dialog.right_button.isEnabled()
    dialog.candidates.activated.emit(1)  # the teller picks the whole signature instead
    assert dialog.box() == (x, y, w, h) and dialog.ok_button.isEnabled()


def test_a_file_of_two_pages_offers_the_second(qtbot, cheque, tmp_path):
    from PIL import Image

    unsigned = make_unsigned_page(np.random.default_rng(8), kind="cheque")  # print only
    path = tmp_path / "two-pages.tif"
    Image.fromarray(unsigned).save(
        path, save_all=True, append_images=[Image.fromarray(cheque.image)], dpi=(300, 300)
    )
    dialog = _open(qtbot, read_capture(path))  # as "Whole cheque/form… > From a file…" does
    assert dialog.page_label.isVisible() and dialog.page_label.text() == "Page 1 of 2"
    assert not dialog.previous_button.isEnabled() and dialog.next_button.isEnabled()
    assert "This file has 2 pages" in dialog.status.text()  # found nothing sure on page 1

    qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    assert dialog.page_label.text() == "Page 2 of 2" and dialog.previous_button.isEnabled()
    assert not dialog.next_button.isEnabled()
    assert box_iou(dialog.box(), cheque.signature_box) > 0.7
    with qtbot.waitSignal(dialog.cropped) as cropped:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert cropped.args[0].source == "two-pages.tif, page 2 (signature area)"


def test_a_file_of_one_page_has_no_page_controls(qtbot, cheque, tmp_path):
    path = tmp_path / "cheque.png"
    path.write_bytes(encode_png(cheque.image))
    dialog = _open(qtbot, read_capture(path))
    assert not dialog.page_label.isVisible() and not dialog.next_button.isVisible()
    assert dialog.crop().source == "cheque.png (signature area)"


def test_a_tiny_page_is_called_too_coarse_and_a_box_can_be_drawn(qtbot, cheque):
    tiny = cv2.resize(cheque.image, (180, 85), interpolation=cv2.INTER_AREA)
    dialog = _open(qtbot, Capture(tiny, None, "tiny.png"))
    text = dialog.status.text()
    assert "180×85 pixels" in text and "150 dpi" in text and "draw a box" in text
    dialog.set_box((100, 40, 70, 30))
    assert dialog.ok_button.isEnabled()
