"""What a teller does while work runs: cancelling it, choosing another customer or
another store. A result must never land on, or be recorded against, someone else."""

import time

from sigverify_gui.services.accounts import close_account
from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.services.verify import verify_signature
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.customer_actions import ReasonDialog
from sigverify_gui.ui.enrol_view import EnrolmentView
from sigverify_gui.ui.main_window import MainWindow
from sigverify_gui.ui.qt import QPushButton, Qt
from sigverify_gui.ui.settings import Settings
from sigverify_gui.ui.verify_view import CAPTURE_PAGE, RESULT_PAGE, VerificationView
from tests.fakes import FakeVerifier, render_signatures, write_signatures


def _two_customers(store, verifier) -> None:
    enrol_customer(store, verifier, "A-1", render_signatures(38, 4), name="Anna")
    enrol_customer(store, verifier, "B-2", render_signatures(41, 4), name="Bob")


def _window(qtbot, context) -> MainWindow:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    return win


def _bring_in(qtbot, panel, tmp_path, seed: int, n: int, first: int) -> None:
    task = panel.add_files(write_signatures(tmp_path, seed, n, first=first))
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass


def _slow(monkeypatch, verifier, seconds: float) -> None:
    real = verifier.embed_canvases
    monkeypatch.setattr(verifier, "embed_canvases", lambda c: (time.sleep(seconds), real(c))[1])


def _slow_job_for_a1(qtbot, context, verifier, tmp_path, monkeypatch, tab: str):
    """A-1 and B-2 enrolled, A-1's tab ("enrol" or "verify") with a capture, the model
    slowed, and its button pressed: the window, the view and the job running."""
    _two_customers(context.store, verifier)
    win = _window(qtbot, context)
    win.customers.select("A-1")
    if tab == "enrol":
        win.enrol_for_customer("A-1")
        view, count, button = win.enrolment, 2, win.enrolment.save_button
    else:
        win.verify_customer("A-1")
        view, count, button = win.verification, 1, win.verification.verify_button
    _bring_in(qtbot, view.panel, tmp_path, 38, count, first=4)
    _slow(monkeypatch, verifier, 1.0 if tab == "enrol" else 0.5)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return win, view, view.task


def _press_cancel(qtbot, task) -> None:
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=5000)
    cancel = [b for b in task.dialog.findChildren(QPushButton) if b.text() == "Cancel"][0]
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)


def test_cancel_keeps_the_dialog_up_until_the_save_has_stopped_with_nothing_saved(
    qtbot, context, fake_verifier, tmp_path, monkeypatch
):
    _, _, task = _slow_job_for_a1(qtbot, context, fake_verifier, tmp_path, monkeypatch, "enrol")
    _press_cancel(qtbot, task)
    # Qt's dialog hides itself on Cancel; it must stay, saying so, and block the window
    assert task.dialog.isVisible() and task.dialog.labelText() == "Cancelling…"
    assert not any(b.isEnabled() for b in task.dialog.findChildren(QPushButton))
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert task.was_cancelled
    assert len(records.references_of(context.store.db, "A-1")) == 4  # nothing added


def test_a_cancelled_verification_shows_nothing_and_records_nothing(
    qtbot, context, fake_verifier, tmp_path, monkeypatch
):
    # The teller cancels, having picked the wrong customer: the comparison goes on to
    # its end, but no verification of that customer may reach the trail or the screen.
    _, view, task = _slow_job_for_a1(qtbot, context, fake_verifier, tmp_path, monkeypatch, "verify")
    _press_cancel(qtbot, task)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert task.was_cancelled and view.pages.currentIndex() == CAPTURE_PAGE
    kinds = [row["kind"] for row in audit.list_rows(context.store.db)]
    assert "verification" not in kinds and "verification_failed" not in kinds


def test_a_verification_ending_after_the_teller_moved_on_does_not_take_the_page(
    qtbot, context, fake_verifier, tmp_path, monkeypatch
):
    win, view, task = _slow_job_for_a1(
        qtbot, context, fake_verifier, tmp_path, monkeypatch, "verify"
    )
    win.customers.select("B-2")  # before the progress dialog comes up
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert view.customer_id == "B-2" and view.pages.currentIndex() == CAPTURE_PAGE
    assert "verification of A-1 ended after you moved on" in view.status.text()


def test_a_decision_is_never_recorded_in_a_store_opened_after_the_verification(
    qtbot, context, fake_verifier, tmp_path
):
    enrol_customer(context.store, fake_verifier, "V-1", render_signatures(38, 4), name="Vera")
    other_path = tmp_path / "other.db"  # another store, its own verification number 2
    with Store(other_path) as other:
        enrol_customer(other, fake_verifier, "W-9", render_signatures(41, 4), name="Walt")
        verify_signature(other, fake_verifier, "W-9", render_signatures(41, 1, first=5)[0])
    win = _window(qtbot, context)
    win.customers.select("V-1")
    view = win.verification
    _bring_in(qtbot, view.panel, tmp_path, 38, 1, first=4)
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    assert view.pages.currentIndex() == RESULT_PAGE
    context.replace_store(other_path)
    assert view.pages.currentIndex() == CAPTURE_PAGE  # the old store's result is gone
    assert view.record_decision("accept", "") is None
    assert not audit.list_rows(context.store.db, kinds=("teller_decision",))


def test_start_again_and_new_captures_wait_for_the_save(
    qtbot, context, fake_verifier, tmp_path, monkeypatch, dialogs
):
    enrol_customer(context.store, fake_verifier, "A-1", render_signatures(38, 4), name="Anna")
    view = EnrolmentView(context)
    qtbot.addWidget(view)
    view.show()
    view.set_customer("A-1")
    _bring_in(qtbot, view.panel, tmp_path, 38, 2, first=4)
    _slow(monkeypatch, fake_verifier, 0.3)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    task = view.task
    assert not view.clear_button.isEnabled() and not view.panel.isEnabled()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert view.clear_button.isEnabled() and view.panel.isEnabled()
    assert view.result_label.text().startswith("Saved 2 reference signature(s)")
    assert not dialogs.crashes


def test_a_save_waiting_for_the_model_is_not_made_for_the_customer_chosen_meanwhile(
    qtbot, store, tmp_path
):
    verifier = FakeVerifier()
    _two_customers(store, verifier)

    def slow_model(device):
        time.sleep(0.5)
        return verifier

    context = AppContext(store, Settings(store_path=str(store.path)), verifier_factory=slow_model)
    win = _window(qtbot, context)
    win.customers.select("A-1")
    win.enrol_for_customer("A-1")
    view = win.enrolment
    _bring_in(qtbot, view.panel, tmp_path, 38, 2, first=4)  # A's signatures
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert view.waiting_for_model
    win.customers.select("B-2")
    qtbot.waitUntil(lambda: not view.waiting_for_model and view.task is None, timeout=10_000)
    assert len(records.references_of(store.db, "A-1")) == 4
    assert len(records.references_of(store.db, "B-2")) == 4
    assert view.result_label.text().startswith("Not saved: another customer")
    assert not view.force_button.isVisibleTo(view)


def test_verify_waits_for_an_open_account_with_references(qtbot, context, fake_verifier, tmp_path):
    enrol_customer(context.store, fake_verifier, "A-1", render_signatures(38, 4))
    close_account(context.store, "A-1", reason="moved away")
    view = VerificationView(context)
    qtbot.addWidget(view)
    view.show()
    view.set_customer("A-1")
    _bring_in(qtbot, view.panel, tmp_path, 38, 1, first=4)
    assert not view.verify_button.isEnabled()
    assert view.status.text() == "The account of A-1 is closed; it cannot be verified."
    n_rows = len(audit.list_rows(context.store.db))
    view.verify()  # Ctrl+Enter: nothing happens, nothing is audited
    assert view.task is None and len(audit.list_rows(context.store.db)) == n_rows


def test_enter_confirms_once_a_reason_is_typed(qtbot):
    dialog = ReasonDialog("Retire", "Retire reference #1?", "Retire reference", None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.cancel_button.isDefault()  # nothing typed: Enter does nothing harmful
    qtbot.keyClicks(dialog.reason_edit, "signed with a glove")
    with qtbot.waitSignal(dialog.finished, timeout=1000) as ended:
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert ended.args[0] == 1 and dialog.reason() == "signed with a glove"


def test_another_store_opened_while_a_verification_runs_lets_it_finish_in_its_own(
    qtbot, context, fake_verifier, tmp_path, monkeypatch, dialogs
):
    old = context.store
    win, view, task = _slow_job_for_a1(
        qtbot, context, fake_verifier, tmp_path, monkeypatch, "verify"
    )
    context.replace_store(tmp_path / "other.db")  # before the progress dialog comes up
    assert context.store is not old
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert not dialogs.errors and task.error is None  # the old store was not closed under it
    with Store(old.path) as reopened:  # the verification is recorded where it was made
        rows = audit.list_rows(reopened.db, kinds=("verification",))
        assert [r["customer_id"] for r in rows] == ["A-1"]
    assert not audit.list_rows(context.store.db, kinds=("verification",))
    qtbot.waitUntil(lambda: old._closed, timeout=2000)  # and then closed
    assert view.pages.currentIndex() == CAPTURE_PAGE  # its result not shown over the new store


def test_an_undecided_result_says_whose_it_is_when_another_customer_is_chosen(
    qtbot, context, fake_verifier, tmp_path
):
    _two_customers(context.store, fake_verifier)
    win = _window(qtbot, context)
    win.customers.select("A-1")
    view = win.verification
    win.verify_customer("A-1")
    _bring_in(qtbot, view.panel, tmp_path, 38, 1, first=4)
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    heading = view.result_page.heading
    assert "not" not in heading.text()
    win.customers.select("B-2")  # before deciding: the result stays, and says whose
    assert view.pages.currentIndex() == RESULT_PAGE
    assert "This result is for A-1, not B-2" in heading.text()
    win.customers.select("A-1")
    assert "This result is for" not in heading.text()


def test_an_account_closed_meanwhile_is_not_offered_on_the_enrol_and_verify_pages(
    qtbot, context, fake_verifier, tmp_path
):
    # Closed in the Customer tab (or at another workstation, seen at the next store
    # change): the Verify page had gone on offering Verify, and pressing it recorded a
    # failed verification; the Enrol page offered Save, which was then refused.
    from sigverify_gui.services.enrol import deactivate_reference

    _two_customers(context.store, fake_verifier)
    win = _window(qtbot, context)
    win.customers.select("A-1")
    win.verify_customer("A-1")
    _bring_in(qtbot, win.verification.panel, tmp_path / "q", 38, 1, first=4)
    win.enrol_for_customer("A-1")
    _bring_in(qtbot, win.enrolment.panel, tmp_path / "e", 38, 1, first=5)
    assert win.verification.verify_button.isEnabled() and win.enrolment.save_button.isEnabled()
    before = audit.list_rows(context.store.db)

    close_account(context.store, "A-1", reason="moved away")
    context.notify_store_changed()
    assert not win.verification.verify_button.isEnabled()
    assert win.verification.status.text() == "The account of A-1 is closed; it cannot be verified."
    assert not win.enrolment.save_button.isEnabled()
    assert win.enrolment.heading.text().endswith("the account is closed: reopen it first")
    assert win.verification.questioned is not None  # the capture stays, for after a reopen
    assert len(audit.list_rows(context.store.db)) == len(before) + 1  # the closing only

    # B-2's last reference retired: nothing left to compare with
    win.customers.select("B-2")
    win.verify_customer("B-2")
    assert win.verification.verify_button.isEnabled()
    for ref in records.references_of(context.store.db, "B-2"):
        deactivate_reference(context.store, ref.id, reason="wrong person")
    context.notify_store_changed()
    assert not win.verification.verify_button.isEnabled()
    assert "has no active reference signatures" in win.verification.status.text()
