"""The main window: search, customer panel, status bar, guide and demo, window state."""

from __future__ import annotations

import re

import pytest

from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.store import records
from sigverify_gui.ui import palette
from sigverify_gui.ui.main_window import ENROL_TAB, HISTORY_TAB, VERIFY_TAB, MainWindow
from sigverify_gui.ui.qt import QApplication, QEvent, Qt, QtWidgets
from sigverify_gui.ui.settings import load_settings
from tests.fakes import render_signatures


def _add_customers(store, rows):
    with store.write() as db:
        for cid, name in rows:
            records.insert_customer(db, cid, name=name)


@pytest.fixture
def window(qtbot, context):
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win
    palette.apply_theme("light")  # the palette is application-wide


def test_search_filters_instantly_by_number_or_name(qtbot, context, window):
    _add_customers(
        context.store,
        [("100234", "Alice Martin"), ("100999", "Bruno Keller"), ("200555", "Alicia Keys")],
    )
    context.notify_store_changed()
    assert window.customers.customer_ids() == ["100234", "100999", "200555"]
    qtbot.keyClicks(window.customers.search, "ali")  # every keystroke filters
    assert window.customers.customer_ids() == ["100234", "200555"]
    window.customers.search.clear()
    qtbot.keyClicks(window.customers.search, "1009")
    assert window.customers.customer_ids() == ["100999"]
    window.customers.search.setText("keys 200")  # all words must match, any order
    assert window.customers.customer_ids() == ["200555"]
    assert window.customers.count_label.text() == "1 of 3 customer(s)"
    window.customers.search.setText("nobody")
    assert window.customers.customer_ids() == []


def test_search_ignores_accents_both_ways(qtbot, context, window):
    _add_customers(context.store, [("1003", "Chloé Dubois"), ("1004", "Zoe Angstrom")])
    context.notify_store_changed()
    window.customers.search.setText("chloe")
    assert window.customers.customer_ids() == ["1003"]
    window.customers.search.setText("ZOË ÅNGSTRÖM")
    assert window.customers.customer_ids() == ["1004"]


def test_enter_in_search_selects_the_first_match(qtbot, context, window):
    _add_customers(context.store, [("1", "Ann"), ("2", "Bob")])
    context.notify_store_changed()
    window.customers.search.setText("bob")
    qtbot.keyClick(window.customers.search, Qt.Key.Key_Return)
    assert window.customers.selected_customer() == "2"
    assert window.panel.customer_id == "2"


def test_a_reload_keeps_the_selection_without_announcing_a_new_customer(qtbot, context, window):
    # The screens reset themselves for a new customer; a save elsewhere must not do that.
    _add_customers(context.store, [("1", "Ann"), ("2", "Bob")])
    context.notify_store_changed()
    window.customers.select("2")
    announced = []
    window.customers.customer_selected.connect(announced.append)
    _add_customers(context.store, [("0", "Zoe")])  # sorts before: row numbers shift
    context.notify_store_changed()
    assert window.customers.selected_customer() == "2"
    assert announced == []
    with context.store.write() as db:
        records.delete_customer(db, "2")
    context.notify_store_changed()
    assert announced == [None]  # a customer that is gone is a real change


def test_panel_shows_the_references_as_thumbnails(qtbot, context, window):
    result = enrol_customer(
        context.store, context.verifier, "555", render_signatures(7, 3), name="Dana Scully"
    )
    context.notify_store_changed()
    assert window.customer_page.currentWidget() is window.panel  # not the guide any more
    assert window.customers.select("555")
    assert "555" in window.panel.title.text() and "Dana Scully" in window.panel.title.text()
    assert "3 active reference" in window.panel.details.text()
    assert window.panel.reference_ids() == list(result.reference_ids)
    icon = window.panel.thumbnails.item(0).icon()
    pixmap = icon.pixmap(window.panel.thumbnails.iconSize())
    assert not pixmap.isNull() and pixmap.width() > 50
    assert window.panel.verify_button.isEnabled()


def test_panel_buttons_open_enrolment_and_verification_for_the_customer(qtbot, context, window):
    enrol_customer(context.store, context.verifier, "555", render_signatures(7, 3))
    context.notify_store_changed()
    window.customers.select("555")
    calls = []
    window.verification.set_customer = lambda cid: calls.append(("verify", cid))
    window.enrolment.set_customer = lambda cid: calls.append(("enrol", cid))
    qtbot.mouseClick(window.panel.verify_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == VERIFY_TAB
    qtbot.mouseClick(window.panel.enrol_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == ENROL_TAB
    assert calls == [("verify", "555"), ("enrol", "555")]


def test_status_bar_names_model_device_store_and_thresholds(qtbot, context, window):
    texts = window.status.texts()
    assert texts[0] == "Model: fake-0001"
    assert texts[1] == "Device: CPU"
    assert str(context.store.path) in texts[2]
    assert texts[3] == "Accept ≥ 0.700 · reject < 0.300"
    context.set_thresholds(0.8, 0.25)
    assert window.status.texts()[3] == "Accept ≥ 0.800 · reject < 0.250"


def test_status_bar_says_when_the_branchs_thresholds_lapsed(qtbot, context, window):
    # A branch that set stricter thresholds must see, after a model change, that the
    # model's own are in force (only Settings had said it).
    from sigverify_gui.services.thresholds import set_thresholds
    from tests.fakes import FakeVerifier

    set_thresholds(context.store, FakeVerifier(calibration_id="cal-before"), 0.95, 0.4)
    context.thresholds_changed.emit()
    assert (
        window.status.texts()[3] == "Accept ≥ 0.700 · reject < 0.300 (model's own: branch's lapsed)"
    )
    assert "set for another model" in window.status.thresholds.toolTip()


def test_status_bar_says_when_the_thresholds_are_damaged(qtbot, context, window):
    from tests.fakes import edit_thresholds_setting

    lowered = '{"model_id": "fake-0001", "t_accept": 0.55, "t_reject": 0.1}'
    edit_thresholds_setting(context.store, lowered)  # no audit row set these
    context._check_for_other_writers()  # the store watch's tick: no signal says it
    assert window.status.texts()[3] == "Thresholds: damaged in the store (IT: see Settings)"
    assert "changed outside sigverify" in window.status.thresholds.toolTip()
    edit_thresholds_setting(context.store, None)  # as IT mends it elsewhere
    context._check_for_other_writers()
    assert window.status.texts()[3] == "Accept ≥ 0.700 · reject < 0.300"


def test_status_bar_says_the_model_is_loading(qtbot, store):
    import threading

    from sigverify_gui.ui.context import AppContext
    from tests.fakes import FakeVerifier

    release = threading.Event()
    ctx = AppContext(store, verifier_factory=lambda d: release.wait(5) and FakeVerifier())
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    ctx.load_verifier()
    ctx.when_ready(lambda v: None)
    assert win.status.texts()[0] == "Model: loading… (1 waiting)"
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        release.set()
    assert win.status.texts()[0] == "Model: fake-0001"


def test_first_launch_shows_the_guide_and_loads_demo_customers(qtbot, context, window):
    assert window.customer_page.currentWidget() is window.guide
    assert window.guide.empty_note.isVisible() and window.actions.load_demo.isEnabled()
    import sigverify_gui.ui.main_window as main_window

    real = main_window.load_demo_customers
    # Two demo customers keep the test fast; the real action loads all five.
    main_window.load_demo_customers = lambda *a, **k: real(*a, count=2, **k)
    try:
        qtbot.mouseClick(window.guide.demo_button, Qt.MouseButton.LeftButton)
        assert not window.guide.demo_button.isEnabled()
        # the model is ready here: the status says what is happening, not "once ready"
        assert window.statusBar().currentMessage() == "Enrolling the demo customers…"
        qtbot.waitUntil(lambda: window.demo_task is None, timeout=15000)
    finally:
        main_window.load_demo_customers = real
    assert window.customers.customer_ids() == ["DEMO-1001", "DEMO-1002"]
    assert window.customers.selected_customer() == "DEMO-1001"
    assert window.customer_page.currentWidget() is window.panel
    assert len(window.panel.reference_ids()) == 5
    assert window.guide.demo_button.isEnabled()


def test_demo_customers_are_offered_again_when_the_model_fails_to_load(
    qtbot, store, dialogs, monkeypatch
):
    # The queued demo was dropped with the failed load; the button used to stay
    # disabled, saying "Loading demo customers…", for the rest of the session.
    import sigverify_gui.ui.main_window as main_window
    from model.errors import ModelError
    from sigverify_gui.ui.context import AppContext
    from tests.fakes import FakeVerifier

    def missing_then_there(device):
        if not dialogs.errors:
            raise ModelError("The bundled model sigverify-v1.pt is missing.")
        return FakeVerifier()  # once IT has put the file back

    real = main_window.load_demo_customers
    monkeypatch.setattr(main_window, "load_demo_customers", lambda *a, **k: real(*a, count=1, **k))
    ctx = AppContext(store, verifier_factory=missing_then_there)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(ctx.verifier_failed, timeout=5000):
        qtbot.mouseClick(win.guide.demo_button, Qt.MouseButton.LeftButton)
        assert not win.guide.demo_button.isEnabled()
    assert win.guide.demo_button.isEnabled()
    assert win.guide.demo_button.text() == "Load &demo customers"
    assert "could not be loaded" in win.statusBar().currentMessage()
    assert [m.text for m in dialogs.errors] == ["The bundled model sigverify-v1.pt is missing."]
    qtbot.mouseClick(win.guide.demo_button, Qt.MouseButton.LeftButton)  # tries again
    qtbot.waitUntil(lambda: win.customers.customer_ids() == ["DEMO-1001"], timeout=15000)
    qtbot.waitUntil(lambda: win.demo_task is None, timeout=15000)
    assert len(dialogs.errors) == 1


def test_demo_customers_are_never_offered_or_loaded_beside_real_ones(
    qtbot, context, fake_verifier, window
):
    from model.errors import SigverifyError
    from sigverify_gui.ui.demo import load_demo_customers

    enrol_customer(context.store, fake_verifier, "5001", render_signatures(38, 3), name="Real")
    window.refresh()
    window.actions.guide.trigger()  # Help > Getting started, on a store in use
    assert window.customer_page.currentWidget() is window.guide
    assert not window.guide.demo_button.isVisible() and not window.guide.empty_note.isVisible()
    assert not window.actions.load_demo.isEnabled()  # Help's entry as well
    with pytest.raises(SigverifyError, match="only for an empty store"):
        load_demo_customers(context.store, fake_verifier, count=1)
    assert records.get_customer(context.store.db, "DEMO-1001") is None


def test_window_geometry_and_theme_are_remembered(qtbot, context):
    first = MainWindow(context)
    qtbot.addWidget(first)
    first.show()
    first.resize(771, 523)  # within the offscreen screen (800 x 600)
    size = (first.width(), first.height())
    assert size == (771, 523)
    first.actions.dark_theme.setChecked(True)
    assert palette.is_dark()
    first.close()
    assert load_settings().theme == "dark"

    second = MainWindow(context)
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == size
    assert second.actions.dark_theme.isChecked() and palette.is_dark()
    second.actions.dark_theme.setChecked(False)
    assert not palette.is_dark()


def test_every_main_action_has_a_unique_shortcut(window):
    actions = window.actions.all()
    shortcuts = [a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts))
    named = [window.actions.find, window.actions.new_customer, window.actions.verify,
             window.actions.history, window.actions.settings, *window.actions.tabs]  # fmt: skip
    assert all(not a.shortcut().isEmpty() for a in named)


def test_shortcuts_switch_screens(qtbot, context, window):
    _add_customers(context.store, [("1", "Ann")])
    context.notify_store_changed()
    window.customers.select("1")
    window.actions.history.trigger()
    assert window.tabs.currentIndex() == HISTORY_TAB
    assert window.history.customer.text() == "1"
    window.actions.tabs[0].trigger()
    assert window.tabs.currentIndex() == 0
    window.actions.find.trigger()
    assert QApplication.focusWidget() in (window.customers.search, None)  # offscreen focus


def test_accessible_names_on_the_interactive_widgets(window):
    for widget in (
        window.customers.search, window.customers.view, window.panel.thumbnails,
        window.panel.verify_button, window.panel.enrol_button, window.guide.demo_button,
        window.history.table, window.history.customer, window.history.decision, window.tabs,
    ):  # fmt: skip
        assert widget.accessibleName(), widget


def test_settings_dialog_opens_without_blocking(qtbot, window):
    dialog = window.open_settings()
    assert dialog.isVisible()  # open() returned: the event loop was never blocked
    assert window.open_settings() is dialog  # open already: brought forward, not another
    dialog.reject()


def test_settings_dialogs_opened_all_day_do_not_pile_up(qtbot, window):
    from sigverify_gui.ui.settings_dialog import SettingsDialog

    for _ in range(5):
        window.open_settings().reject()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(window.findChildren(SettingsDialog)) == 1


def alt_letters(window) -> list[str]:
    """The Alt letters on screen: menu titles, tab labels, and the buttons and labels
    (of a field) now visible."""
    texts = [action.text() for action in window.menuBar().actions()]
    texts += [window.tabs.tabText(i) for i in range(window.tabs.count())]
    texts += [b.text() for b in window.findChildren(QtWidgets.QAbstractButton) if b.isVisible()]
    labels = window.findChildren(QtWidgets.QLabel)
    texts += [label.text() for label in labels if label.isVisible() and label.buddy()]
    letters = []
    for text in texts:
        found = re.search(r"(?<!&)&([^&\s])", text)
        if found:
            letters.append(found.group(1).casefold())
    return letters


def test_each_alt_letter_does_one_thing_on_every_page(qtbot, context, window):
    pages: dict[str, list[str] | None] = {"empty store": None}
    for label, tab in [("guide", 0), ("enrol", 1), ("verify", 2), ("history", 3)]:
        window.tabs.setCurrentIndex(tab)
        pages[label] = alt_letters(window)
    _add_customers(context.store, [("100234", "Alice Martin")])
    context.notify_store_changed()
    window.select_customer("100234")
    window.tabs.setCurrentIndex(0)
    assert window.panel.isVisible()
    pages["customer"] = alt_letters(window)
    del pages["empty store"]
    for page, letters in pages.items():
        clashes = sorted({x for x in letters if letters.count(x) > 1})
        assert not clashes, f"{page}: Alt+{clashes} used more than once"
