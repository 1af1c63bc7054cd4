"""The cheque dialog with pages fed sideways, unsure zones, files of several pages, pages
too coarse to search and pages that cannot be read; and the signature it cuts, the same
as `extract`'s and `verify --page`'s."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import sigverify_gui.cli as cli
from model.errors import ImageError
from model.imageio import encode_png, load_image
from model.pages import make_page, make_unsigned_page
from model.zone import ZoneResult
from model.zone_orientation import turn, turn_box
from sigverify_gui.services import verify as verify_service
from sigverify_gui.services.capture import read_capture
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui import cheque_dialog
from sigverify_gui.ui.cheque_dialog import ChequeDialog
from sigverify_gui.ui.qt import Qt
from tests.fakes import box_iou, render_signatures
from tests.test_cli_verify_page import enrolled_cli_store


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


def _two_page_tiff(path, first: np.ndarray, second: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(first).save(
        path, save_all=True, append_images=[Image.fromarray(second)], dpi=(300, 300)
    )


def test_a_page_that_cannot_be_read_leaves_the_shown_page_and_says_so(
    qtbot, cheque, tmp_path, monkeypatch, dialogs
):
    path = tmp_path / "two-pages.tif"
    _two_page_tiff(path, cheque.image, cheque.image)
    dialog = _open(qtbot, read_capture(path))
    box = dialog.box()

    def damaged(data, number, name=None):
        raise ImageError(f"'{name}' is damaged: page {number} cannot be decoded.")

    monkeypatch.setattr(cheque_dialog, "load_page", damaged)
    qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Reading page 2…"
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    assert [m.text for m in dialogs.errors] == [
        "'two-pages.tif' is damaged: page 2 cannot be decoded."
    ]
    text = dialog.status.text()
    assert "Reading" not in text
    assert "Page 2 could not be read." in text and "Page 1 is still shown." in text
    assert dialog.page_label.text() == "Page 1 of 2" and dialog.page_number == 1
    assert dialog.box() == box and dialog.ok_button.isEnabled()  # page 1's box still usable
    assert dialog.next_button.isEnabled() and dialog.right_button.isEnabled()  # try again


# --- one cut for every path -------------------------------------------------------------
@pytest.fixture
def enrolled_store(monkeypatch, tmp_path) -> str:
    return enrolled_cli_store(monkeypatch, tmp_path, ["enroll", "verify", "extract"])


@pytest.mark.parametrize("given", [False, True], ids=["found on a sideways page", "box given"])
def test_extract_verify_page_and_the_dialog_cut_the_same_pixels(
    qtbot, cheque, tmp_path, monkeypatch, capsys, enrolled_store, given
):
    verified = []  # what verify --page hands to the quality check and the network
    real_prepare = verify_service.prepare
    monkeypatch.setattr(
        verify_service,
        "prepare",
        lambda image, **kw: verified.append(image) or real_prepare(image, **kw),
    )
    x, y, w, h = cheque.signature_box
    page = cheque.image if given else turn(cheque.image, -1)  # fed turned a quarter left
    box = (x - 5, y - 5, w + 10, h + 10)
    path, out = tmp_path / "page.png", tmp_path / "signature.png"
    path.write_bytes(encode_png(page))
    extra = ["--box", ",".join(map(str, box))] if given else []

    assert cli.main(["extract", str(path), "-o", str(out), *extra]) == 0
    assert cli.main(["verify", "1001", "--page", str(path), "--db", enrolled_store, *extra]) == 0
    capsys.readouterr()
    dialog = _open(qtbot, read_capture(path))
    if given:
        dialog.set_box(box)
    else:
        assert dialog.quarter_turns == 1  # the dialog shows the page upright
    by_extract, by_verify, by_dialog = load_image(out).gray, verified[-1].gray, dialog.crop().gray
    assert by_verify.shape[1] > by_verify.shape[0]  # upright: a signature lies wide
    assert np.array_equal(by_extract, by_verify)
    assert np.array_equal(by_dialog, by_verify)
