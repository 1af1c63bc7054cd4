"""Whole-page mode, the scan dialog, the box editor, and the other capture sources
(hot folder, drag and drop)."""

from __future__ import annotations

import time
import types

import numpy as np
import pytest

from model.errors import CaptureError
from model.pages import make_page
from sigverify_gui.services.capture import DeviceInfo
from sigverify_gui.services.capture.base import Capture as ScannedCapture
from sigverify_gui.services.captures import Capture, paper_margin
from sigverify_gui.ui import scan_dialog
from sigverify_gui.ui.box_editor import BoxEditor, clamp_box
from sigverify_gui.ui.capture_panel import CapturePanel
from sigverify_gui.ui.cheque_dialog import ChequeDialog
from sigverify_gui.ui.qt import QMimeData, QPoint, Qt, QTimer, QUrl
from sigverify_gui.ui.scan_dialog import ScanDialog, rotate_image
from tests.fakes import render_signatures, write_signatures


def _sane_test_device_available() -> bool:
    try:
        import sane  # noqa: F401
    except ImportError:
        return False
    from sigverify_gui.services.capture import list_devices

    try:
        return any(d.id == "sane:test:0" for d in list_devices(local_only=True))
    except CaptureError:
        return False


# --- cheque dialog ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def cheque():
    signature = render_signatures(44, 1)[0]
    return make_page(signature, np.random.default_rng(3), kind="cheque")


def _overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


def test_cheque_dialog_finds_the_signature_and_lets_the_teller_adjust(qtbot, cheque):
    dialog = ChequeDialog(Capture(cheque.image, 300.0, "cheque.png"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    box = dialog.box()
    assert box is not None and _overlap(box, cheque.signature_box) > 0.7
    assert dialog.ok_button.isEnabled()
    assert "found" in dialog.status.text()
    assert tuple(dialog.spins[k].value() for k in "xywh") == box

    dialog.spins["w"].setValue(box[2] + 40)  # typed: the box follows
    assert dialog.box()[2] == box[2] + 40
    with qtbot.waitSignal(dialog.cropped) as cropped:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    capture = cropped.args[0]
    x, y, w, h = dialog.box()
    assert capture.gray.shape[1] == w + 2 * paper_margin((h, w))
    assert capture.dpi == 300.0 and "cheque.png" in capture.source


def test_cheque_dialog_without_a_signature_asks_for_a_box(qtbot):
    page = np.full((400, 900), 250, np.uint8)
    dialog = ChequeDialog(Capture(page, 300.0, "blank.png"))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    assert dialog.box() is None and not dialog.ok_button.isEnabled()
    assert "draw a box" in dialog.status.text()
    dialog.set_box((100, 100, 300, 120))
    margin = paper_margin((120, 300))
    assert dialog.ok_button.isEnabled()
    assert dialog.crop().gray.shape == (120 + 2 * margin, 300 + 2 * margin)


# --- box editor ------------------------------------------------------------------------
def test_box_editor_draws_moves_and_resizes_with_the_mouse(qtbot):
    editor = BoxEditor()
    qtbot.addWidget(editor)
    editor.resize(640, 400)
    editor.show()
    editor.set_image(np.full((400, 640), 255, np.uint8))
    editor.fit()

    def at(x, y) -> QPoint:
        return editor.mapFromScene(x, y)

    def drag(a, b):
        qtbot.mousePress(editor.viewport(), Qt.MouseButton.LeftButton, pos=at(*a))
        qtbot.mouseMove(editor.viewport(), at(*b))
        qtbot.mouseRelease(editor.viewport(), Qt.MouseButton.LeftButton, pos=at(*b))

    drag((100, 100), (300, 200))  # draw
    x, y, w, h = editor.box()
    assert abs(x - 100) <= 2 and abs(y - 100) <= 2 and abs(w - 200) <= 3 and abs(h - 100) <= 3
    drag((200, 150), (250, 170))  # move from inside
    x2, y2, w2, h2 = editor.box()
    assert abs(x2 - x - 50) <= 2 and abs(y2 - y - 20) <= 2 and (w2, h2) == (w, h)
    drag((x2 + w2, y2 + 40), (x2 + w2 + 60, y2 + 40))  # the right edge
    assert abs(editor.box()[2] - (w2 + 60)) <= 3 and editor.box()[0] == x2
    before = editor.box()
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=at(600, 380))
    assert editor.box() == before  # a click outside is not a new, empty box


def test_clamp_box_keeps_the_box_on_the_image():
    assert clamp_box((-5, -5, 50, 20), 100, 100) == (0, 0, 50, 20)
    assert clamp_box((90, 95, 50, 20), 100, 100) == (50, 80, 50, 20)
    assert clamp_box((0, 0, 500, 500), 100, 80) == (0, 0, 100, 80)


def test_rotate_image_turns_and_straightens_with_white_paper():
    img = np.full((20, 40), 255, np.uint8)
    img[0, 0] = 0  # top-left mark
    right = rotate_image(img, 1)
    assert right.shape == (40, 20) and right[0, -1] == 0  # now top-right
    assert rotate_image(img, 4).shape == img.shape
    tilted = rotate_image(img, 0, 10.0)
    assert tilted.shape[0] > 20 and tilted.shape[1] > 40
    assert tilted[0, -1] == 255  # new corners are paper


# --- scan dialog -----------------------------------------------------------------------
class FakeScanner:
    """A capture source like the SANE test device: a page with a signature on it."""

    def __init__(self, settings, page: np.ndarray, delay: float = 0.0, stops: bool = True) -> None:
        self.settings = settings
        self.page = page
        self.delay = delay
        self.stops = stops
        self.description = "Fake scanner (fake:0)"

    def capture(self, cancel=None):
        end = time.monotonic() + self.delay
        while time.monotonic() < end:
            if self.stops and cancel is not None and cancel.is_set():
                from model.errors import CancelledError

                raise CancelledError("The scan was cancelled.")
            time.sleep(0.01)
        scale = self.settings.dpi / 300.0
        import cv2

        h, w = self.page.shape
        gray = cv2.resize(self.page, (max(1, int(w * scale)), max(1, int(h * scale))))
        area = self.settings.area
        if area is not None:
            px = self.settings.dpi / 25.4
            x0, y0 = int(area.x * px), int(area.y * px)
            gray = gray[y0 : y0 + int(area.height * px), x0 : x0 + int(area.width * px)]
        gray = np.ascontiguousarray(gray)
        return ScannedCapture(gray, float(self.settings.dpi), self.description)


@pytest.fixture
def fake_scanner(monkeypatch):
    page = np.full((900, 1200), 245, np.uint8)
    signature = render_signatures(44, 1)[0]
    page[300 : 300 + signature.shape[0], 200 : 200 + signature.shape[1]] = signature
    made = []

    def open_fake(device, settings, backends=None):
        scanner = FakeScanner(settings, page, behaviour.delay, behaviour.stops)
        made.append(scanner)
        return scanner

    # delay: seconds a scan takes; stops False: like many scanners, once a page has
    # started it is finished whatever the driver is told
    behaviour = types.SimpleNamespace(delay=0.0, stops=True)
    monkeypatch.setattr(
        scan_dialog,
        "list_devices",
        lambda local_only=True: [DeviceInfo("fake:0", "Fake scanner", "fake")],
    )
    monkeypatch.setattr(scan_dialog, "open_scanner", open_fake)
    return made, behaviour


def _open_scan_dialog(qtbot, context):
    dialog = ScanDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    return dialog


def test_scan_dialog_preview_crop_rotate_and_scan(qtbot, context, fake_scanner):
    made, _ = fake_scanner
    dialog = _open_scan_dialog(qtbot, context)
    assert dialog.device_id() == "fake:0" and dialog.scan_button.isEnabled()
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    assert made[-1].settings.dpi == scan_dialog.PREVIEW_DPI
    assert dialog.editor.image_size() == (300, 225)  # the whole glass at 75 dpi
    dialog.editor.set_box((40, 60, 160, 80))  # 4 preview px = 1/75 inch
    area = dialog.scan_area()
    assert area.x == pytest.approx(40 * 25.4 / 75) and area.width == pytest.approx(160 * 25.4 / 75)
    qtbot.mouseClick(dialog.right_button, Qt.MouseButton.LeftButton)
    assert dialog.result_view.image_size().width() == 80  # preview of the turned crop
    with qtbot.waitSignal(dialog.captured, timeout=10_000) as captured:
        qtbot.mouseClick(dialog.scan_button, Qt.MouseButton.LeftButton)
    capture = captured.args[0]
    assert made[-1].settings.dpi == 300 and made[-1].settings.area == area
    assert capture.gray.shape == (640, 320)  # 160x80 preview px at 300 dpi, turned
    assert capture.dpi == 300.0 and not dialog.isVisible()


def test_scan_can_be_cancelled(qtbot, context, fake_scanner):
    _, behaviour = fake_scanner
    behaviour.delay = 5.0
    dialog = _open_scan_dialog(qtbot, context)
    captured = []
    dialog.captured.connect(captured.append)
    task = dialog.scan()
    QTimer.singleShot(200, task.cancel)  # in the UI thread, as the Cancel button does
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        pass
    assert not captured and dialog.task is None and dialog.scan_button.isEnabled()


def test_a_page_the_scanner_finishes_after_cancel_is_dropped(qtbot, context, fake_scanner):
    _, behaviour = fake_scanner
    behaviour.delay, behaviour.stops = 1.0, False
    dialog = _open_scan_dialog(qtbot, context)
    captured = []
    dialog.captured.connect(captured.append)
    task = dialog.scan()
    QTimer.singleShot(200, dialog.reject)  # the dialog's own Cancel, mid-scan
    with qtbot.waitSignal(task.succeeded, timeout=5000):  # the page came anyway
        pass
    assert not captured and not dialog.isVisible()
    assert dialog.result() == dialog.DialogCode.Rejected


def test_scan_result_goes_through_the_quality_check(qtbot, context, fake_scanner):
    panel = CapturePanel(context)
    qtbot.addWidget(panel)
    dialog = _open_scan_dialog(qtbot, context)
    dialog.captured.connect(panel.add_capture)
    dialog.editor.set_image(np.zeros((10, 10), np.uint8))  # no preview box: whole glass
    with qtbot.waitSignal(panel.captured, timeout=10_000) as inspected:
        dialog.scan()
    assert inspected.args[0].report is not None
    assert panel.preview.inspected is inspected.args[0]


@pytest.mark.sane
@pytest.mark.skipif(not _sane_test_device_available(), reason="SANE's test backend is absent")
def test_scan_dialog_with_the_sane_test_device(qtbot, context):
    dialog = _open_scan_dialog(qtbot, context)
    index = dialog.device_combo.findData("sane:test:0")
    assert index >= 0
    dialog.device_combo.setCurrentIndex(index)
    dialog.scan_options = {"test_picture": "Grid"}
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=20_000)
    assert dialog.preview_capture is not None
    dialog.editor.set_box((10, 10, 100, 50))
    with qtbot.waitSignal(dialog.captured, timeout=20_000) as captured:
        dialog.scan()
    capture = captured.args[0]
    assert capture.dpi == 300.0
    assert abs(capture.gray.shape[1] - 400) <= 8 and abs(capture.gray.shape[0] - 200) <= 8
    assert "sane:test:0" in capture.source


# --- other sources ----------------------------------------------------------------------
def test_hot_folder_not_set_says_so(qtbot, context, dialogs):
    panel = CapturePanel(context)
    qtbot.addWidget(panel)
    assert panel.wait_for_hot_folder() is None
    assert "No hot folder" in dialogs.errors[0].text


def test_dropping_files_brings_them_in(qtbot, context, tmp_path):
    paths = write_signatures(tmp_path, 44, 2)
    panel = CapturePanel(context, multiple=True)
    qtbot.addWidget(panel)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    seen = []
    panel.captured.connect(seen.append)
    task = panel.accept_mime(mime, "dropped image")
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert [s.source for s in seen] == [p.name for p in paths]


def test_single_capture_panel_takes_only_the_first_file(qtbot, context, tmp_path):
    paths = write_signatures(tmp_path, 44, 2)
    panel = CapturePanel(context, multiple=False)
    qtbot.addWidget(panel)
    seen = []
    panel.captured.connect(seen.append)
    with qtbot.waitSignal(panel.add_files(paths).finished, timeout=10_000):
        pass
    assert len(seen) == 1


def test_whole_cheque_from_a_file_continues_as_a_capture(qtbot, context, cheque, tmp_path):
    from model.imageio import encode_png

    path = tmp_path / "cheque.png"
    path.write_bytes(encode_png(cheque.image))
    panel = CapturePanel(context, multiple=True)  # enrolment takes cheques too
    qtbot.addWidget(panel)
    panel.ask_page_file = lambda: str(path)
    with qtbot.waitSignal(panel.open_cheque_file().finished, timeout=10_000):
        pass
    dialog = panel.cheque_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    with qtbot.waitSignal(panel.captured, timeout=10_000) as captured:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    inspected = captured.args[0]
    assert inspected.source == "cheque.png (signature area)" and inspected.ok


def test_scan_button_opens_the_dialog_and_the_scan_comes_back(qtbot, context, fake_scanner):
    panel = CapturePanel(context)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.mouseClick(panel.scan_button, Qt.MouseButton.LeftButton)
    dialog = panel.scan_dialog
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    with qtbot.waitSignal(panel.captured, timeout=10_000) as captured:
        qtbot.mouseClick(dialog.scan_button, Qt.MouseButton.LeftButton)
    assert captured.args[0].source == "Fake scanner (fake:0)"
