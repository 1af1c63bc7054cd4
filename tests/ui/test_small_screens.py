"""Small screens: the window fits the screen, and on 1024 x 768 (and the smallest
window) the verification and its result need no sideways scrolling, with the score,
the gauge and the decision buttons in view; the decision controls stay put when the
"reason required" hint appears; Verify and Save stay in view while the page above
them scrolls."""

from __future__ import annotations

import numpy as np
import pytest

from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.ui import palette
from sigverify_gui.ui.main_window import MainWindow
from sigverify_gui.ui.qt import QPoint, QRect, QSize, Qt, QtWidgets
from sigverify_gui.ui.verify_view import RESULT_PAGE
from sigverify_gui.ui.window_fit import (
    DEFAULT_SIZE,
    MINIMUM_SIZE,
    fit_dialog,
    fit_within,
    room_on_screen,
)
from tests.fakes import render_signatures, write_signatures

SCREEN_1024 = QRect(0, 0, 1024, 768)
# 1024 x 768 as a window gets it, and less: a title bar and a taskbar take ~60 px.
SIZES = [(1024, 768), (1024, 708), (MINIMUM_SIZE.width(), MINIMUM_SIZE.height())]


# --- the window on the screen ----------------------------------------------------------------
def test_the_default_size_is_bounded_by_the_screen():
    room = room_on_screen(SCREEN_1024)
    assert SCREEN_1024.contains(room)
    size = DEFAULT_SIZE.boundedTo(room.size())
    assert size.width() <= 1024 - 16 and size.height() <= 768 - 40
    assert MINIMUM_SIZE.width() <= size.width() and MINIMUM_SIZE.height() <= size.height()


def test_a_rectangle_too_large_or_off_screen_is_brought_inside():
    room = room_on_screen(SCREEN_1024)
    assert room.contains(fit_within(QRect(-300, 500, 1200, 780), room))
    assert fit_within(QRect(-300, 500, 1200, 780), room).size() == room.size()
    assert fit_within(QRect(900, 700, 400, 300), room) == QRect(
        room.right() - 399, room.bottom() - 299, 400, 300
    )
    inside = QRect(40, 60, 800, 600)
    assert fit_within(inside, room) == inside


@pytest.fixture
def new_window(qtbot, context):
    windows = []

    def make() -> MainWindow:
        window = MainWindow(context)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    palette.apply_theme("light")


def _room(window: MainWindow) -> QRect:
    return room_on_screen(window.screen().availableGeometry())


def test_a_first_window_fits_the_screen(new_window):
    window = new_window()
    window.show()
    room = _room(window)
    assert window.width() <= room.width() and window.height() <= room.height()
    assert window.minimumSize() == MINIMUM_SIZE


def test_a_saved_geometry_larger_than_the_screen_is_clamped(new_window):
    first = new_window()
    first.show()
    room = _room(first)
    first.setGeometry(-200, -100, room.width() + 400, room.height() + 300)
    first.close()  # saves the geometry
    second = new_window()
    second.show()
    assert room.contains(second.geometry())


# --- the verification at small sizes ---------------------------------------------------------
@pytest.fixture
def window(qtbot, context, new_window):
    enrol_customer(context.store, context.verifier, "V-1", render_signatures(38, 4), name="Vera")
    win = new_window()
    win.show()
    context.notify_store_changed()
    win.customers.select("V-1")
    win.verify_customer("V-1")
    return win


def _viewport(window: MainWindow):
    return window.verification.scroll_area().viewport()


def fully_visible(widget, viewport) -> bool:
    """Shown whole inside `viewport` (a scroll area's, or any widget holding it),
    clipped by nothing."""
    rect = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return (
        widget.isVisible()
        and viewport.rect().contains(rect)
        and widget.visibleRegion().boundingRect() == widget.rect()
    )


def no_sideways_scrolling(window: MainWindow) -> bool:
    return not window.verification.scroll_area().horizontalScrollBar().isVisible()


def bring_in_and_verify(qtbot, window, tmp_path):
    view = window.verification
    task = view.panel.add_files(write_signatures(tmp_path, 38, 1, first=4))
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: fully_visible(view.verify_button, view), timeout=3000)
    assert no_sideways_scrolling(window)
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    assert view.pages.currentIndex() == RESULT_PAGE


def verdict_widgets(window: MainWindow) -> list:
    page = window.verification.result_page
    gauge, decision = page.gauge, page.decision
    return [gauge.score_label, gauge.bar, gauge.decision_label, *decision.buttons.values(),
            decision.reason, decision.record_button]  # fmt: skip


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_verdict_is_in_view_without_sideways_scrolling(qtbot, window, tmp_path, width, height):
    window.resize(width, height)
    assert (window.width(), window.height()) == (width, height)
    bring_in_and_verify(qtbot, window, tmp_path)
    viewport = _viewport(window)
    qtbot.waitUntil(
        lambda: all(fully_visible(w, viewport) for w in verdict_widgets(window)), timeout=3000
    )
    assert no_sideways_scrolling(window)
    gauge = window.verification.result_page.gauge
    shown = gauge.score_label.fontMetrics().horizontalAdvance(gauge.score_text())
    assert shown <= gauge.score_label.contentsRect().width()  # "0.97", not "97"
    # The two signatures the verdict is about, right above it, in view as well: with the
    # references' strip between them, at 600 pixels the pair was scrolled away.
    pair = window.verification.result_page.pair
    assert fully_visible(pair.left, viewport) and fully_visible(pair.right, viewport)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_reason_required_hint_moves_no_control(qtbot, window, tmp_path, width, height):
    window.resize(width, height)
    bring_in_and_verify(qtbot, window, tmp_path)
    panel = window.verification.result_page.decision
    assert window.verification.result_page.outcome.result.decision == "accept"
    qtbot.mouseClick(panel.buttons["accept"], Qt.MouseButton.LeftButton)
    qtbot.wait(50)  # any layout the click causes has happened
    controls = (panel.reason, panel.record_button, *panel.buttons.values())
    before = [(w.mapTo(window, QPoint(0, 0)), w.size()) for w in controls]
    qtbot.mouseClick(panel.buttons["reject"], Qt.MouseButton.LeftButton)
    assert "reason is required" in panel.hint.text()
    qtbot.wait(50)
    after = [(w.mapTo(window, QPoint(0, 0)), w.size()) for w in controls]
    assert after == before
    assert panel.hint.height() >= panel.hint.heightForWidth(panel.hint.width())  # not cut


def test_once_the_teller_scrolls_the_page_stays_where_they_put_it(qtbot, window, tmp_path):
    window.resize(MINIMUM_SIZE)
    bring_in_and_verify(qtbot, window, tmp_path)
    bar = window.verification.result_area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=3000)  # down to the verdict
    bar.triggerAction(QtWidgets.QAbstractSlider.SliderAction.SliderToMinimum)  # as a wheel does
    assert bar.value() == 0
    window.resize(MINIMUM_SIZE.width() + 40, MINIMUM_SIZE.height() + 10)  # a new range
    qtbot.wait(50)
    assert bar.value() == 0


def test_each_alt_letter_does_one_thing_on_the_result_page(qtbot, window, tmp_path):
    from tests.ui.test_shell_window import alt_letters

    bring_in_and_verify(qtbot, window, tmp_path)
    letters = alt_letters(window)
    assert not sorted({x for x in letters if letters.count(x) > 1}), letters


@pytest.mark.parametrize(("width", "height"), [(1024, 708), (1024, 560), (760, 520)])
def test_the_enrol_page_keeps_its_buttons_in_view_with_a_capture_refused(
    qtbot, context, new_window, tmp_path, width, height
):
    from model.imageio import encode_png
    from sigverify_gui.ui.main_window import ENROL_TAB

    window = new_window()
    window.show()
    window.resize(width, height)  # 1024 x 560: a 1024 x 600 laptop screen with its bars
    window.show_tab(ENROL_TAB)
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode_png(np.full((200, 500), 245, np.uint8)))  # marked ✗
    view = window.enrolment
    task = view.panel.add_files([*write_signatures(tmp_path, 38, 5), blank])
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: "Remove the 1 marked" in view.count_label.text(), timeout=3000)
    qtbot.wait(200)  # the page's layout follows the new text through posted events
    assert fully_visible(view.save_button, view)
    assert fully_visible(view.count_label, view)  # why Save is greyed out
    # a refusal naming ten images keeps to four lines of the footer, and scrolls
    view.result_label.setText(
        " ".join(f"'scan{i}.png' is the same image as ..." for i in range(40))
    )
    qtbot.wait(50)
    lines = view.result_label.height() / view.result_label.label.fontMetrics().lineSpacing()
    assert 3.5 < lines < 4.5 and view.result_label.verticalScrollBar().maximum() > 0
    assert view.result_label.focusPolicy() != Qt.FocusPolicy.NoFocus  # Tab, then arrows
    shown = QRect(view.result_label.mapTo(view, QPoint(0, 0)), view.result_label.size())
    assert view.rect().contains(shown) and fully_visible(view.save_button, view)
    view.result_label.setText("Saved 5 reference signature(s) for customer C-1.")
    qtbot.wait(50)
    assert view.result_label.verticalScrollBar().maximum() == 0
    assert view.result_label.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert view.result_label.height() <= view.result_label.label.fontMetrics().lineSpacing() + 4
    assert not view.scroll_area.horizontalScrollBar().isVisible()
    if height < 700:  # the page is taller than the room: its body scrolls, not Save
        assert view.scroll_area.verticalScrollBar().maximum() > 0


def test_verify_stays_in_view_on_a_short_window_with_a_tall_capture(qtbot, window, tmp_path):
    window.resize(1024, 560)
    view = window.verification
    task = view.panel.add_files(write_signatures(tmp_path, 38, 1, first=4))
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    qtbot.waitUntil(view.verify_button.isEnabled, timeout=3000)
    view.capture_area.widget().setMinimumHeight(900)  # a capture taller than the screen
    qtbot.wait(50)
    assert view.capture_area.verticalScrollBar().maximum() > 0
    assert fully_visible(view.verify_button, view) and fully_visible(view.status, view)


# --- dialogs on a short screen ---------------------------------------------------------------
ROOM_1024_600 = room_on_screen(QRect(0, 0, 1024, 600))


def _dialog_with_wrapped_text(qtbot) -> tuple[QtWidgets.QDialog, QtWidgets.QLabel]:
    dialog = QtWidgets.QDialog()
    qtbot.addWidget(dialog)
    label = QtWidgets.QLabel("The model's thresholds and their error rates, at length. " * 12)
    label.setWordWrap(True)
    layout = QtWidgets.QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addWidget(QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok))
    return dialog, label


def test_a_dialog_is_as_tall_as_its_wrapped_text_needs(qtbot):
    dialog, label = _dialog_with_wrapped_text(qtbot)
    fit_dialog(dialog, QSize(560, 120), ROOM_1024_600)  # 120: shorter than the text
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() == 560
    assert label.height() >= label.heightForWidth(label.width())


def test_a_dialog_is_no_larger_than_the_screen(qtbot):
    dialog, _ = _dialog_with_wrapped_text(qtbot)
    fit_dialog(dialog, QSize(900, 640), ROOM_1024_600)  # the cheque dialog's wish
    assert dialog.height() == ROOM_1024_600.height() and dialog.width() == 900


@pytest.mark.parametrize("make", ["scan", "cheque", "settings"])
def test_the_dialogs_fit_the_screen_they_open_on(qtbot, context, make):
    from sigverify_gui.services.captures import Capture
    from sigverify_gui.ui.cheque_dialog import ChequeDialog
    from sigverify_gui.ui.scan_dialog import ScanDialog
    from sigverify_gui.ui.settings_dialog import SettingsDialog

    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    room = room_on_screen(parent.screen().availableGeometry())
    build = {
        "scan": lambda: ScanDialog(context, parent),
        "cheque": lambda: ChequeDialog(Capture(render_signatures(3, 1)[0], 300.0, "p.png"), parent),
        "settings": lambda: SettingsDialog(context, parent),
    }[make]
    dialog = build()
    assert room.height() >= dialog.height() and room.width() >= dialog.width()
    if dialog.layout().hasHeightForWidth():
        assert dialog.height() >= min(
            room.height(), dialog.layout().totalHeightForWidth(dialog.width())
        )


# --- where focus goes, and whose result it is ------------------------------------------------
def test_the_keyboard_flow_of_a_verification_on_a_short_window(qtbot, window, tmp_path):
    """Focus goes where the teller goes next, visibly and in view: the system's decision
    on a result, then (recorded) Next signature, which Enter presses, then the first
    way to bring in the next signature. Whose result it is stays in view throughout."""
    window.resize(1024, 560)
    window.activateWindow()
    view = window.verification
    bring_in_and_verify(qtbot, window, tmp_path)
    page = view.result_page
    assert page.outcome.result.decision == "accept"
    qtbot.waitUntil(lambda: page.decision.buttons["accept"].hasFocus(), timeout=3000)
    assert fully_visible(page.heading, view) and fully_visible(page.next_button, view)
    qtbot.keyClick(page.decision.buttons["accept"], Qt.Key.Key_Space)
    qtbot.keyClick(page.decision.buttons["accept"], Qt.Key.Key_Return)  # focus stayed there
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    assert view.decision_recorded and page.next_button.hasFocus()
    qtbot.waitUntil(lambda: fully_visible(page.decision.status, _viewport(window)), timeout=3000)
    qtbot.keyClick(page.next_button, Qt.Key.Key_Return)
    assert view.pages.currentIndex() != RESULT_PAGE
    assert view.panel.file_button.hasFocus()


def test_shortcuts_put_focus_where_the_work_starts(qtbot, window):
    window.activateWindow()
    window.new_customer()
    assert window.enrolment.number_edit.hasFocus()
    window.verify_customer("V-1")
    assert window.verification.panel.file_button.hasFocus()
    window.enrol_for_customer("V-1")
    assert window.enrolment.panel.file_button.hasFocus()


def test_a_long_name_does_not_squeeze_the_customer_list(qtbot, context, new_window):
    long_name = "Maximiliana Theodora Wilhelmina von Hohenzollern-Sigmaringen de la Cruz " * 2
    enrol_customer(context.store, context.verifier, "L-1", render_signatures(38, 4), name=long_name)
    window = new_window()
    window.show()
    window.resize(1024, 560)
    context.notify_store_changed()
    window.customers.select("L-1")
    window.show_customer("L-1")
    qtbot.wait(50)
    assert window.customers.width() >= 200, window.customers.width()
    assert window.customer_page.width() <= 1024 - window.customers.width()


def test_the_history_filters_and_integrity_line_fit_the_smallest_window(qtbot, context, new_window):
    """The customer filter had shrunk to three characters, and the integrity line was
    cut mid-word under the row count."""
    from sigverify_gui.ui.main_window import HISTORY_TAB

    window = new_window()
    window.show()
    window.resize(MINIMUM_SIZE)
    window.show_tab(HISTORY_TAB)
    history = window.history
    history.customer.setText("DEMO-1003")
    history.integrity.setText(
        "Integrity: intact up to the check (14 rows); 1 newer row not checked yet"
    )
    qtbot.wait(50)
    needed = history.customer.fontMetrics().horizontalAdvance("DEMO-1003")
    assert history.customer.width() > needed
    integrity, count = history.integrity.geometry(), history.count.geometry()
    assert not integrity.intersects(count)
    assert integrity.height() >= 2 * history.integrity.fontMetrics().lineSpacing()  # wrapped
