"""Enrolment through the real widgets: files -> quality -> check and save, and its errors.

Writer seeds are chosen so that `FakeVerifier` finds their renderings consistent
(some synthetic hands vary more than the fake's crude features tolerate).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.store import audit, records
from sigverify_gui.ui import enrol_folder
from sigverify_gui.ui.enrol_view import EnrolmentView
from sigverify_gui.ui.qt import Qt
from tests.fakes import edit_thresholds_setting, render_signatures, write_signatures


@pytest.fixture
def view(qtbot, context):
    v = EnrolmentView(context)
    qtbot.addWidget(v)
    v.resize(1000, 800)
    v.show()
    return v


def add_files(qtbot, view, paths):
    task = view.panel.add_files(paths)
    assert task is not None
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass


def save(qtbot, view, button=None):
    button = button or view.save_button
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert view.task is not None
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass


def test_new_customer_from_files_is_checked_and_saved(qtbot, view, context, tmp_path):
    paths = write_signatures(tmp_path, 21, 4)
    add_files(qtbot, view, paths)
    assert len(view.captures) == 4 and view.strip.count() == 4
    assert all(c.ok for c in view.captures.values())
    assert all(view.strip.item(i).text().startswith("✓") for i in range(4))
    assert "4 signatures collected" in view.count_label.text()
    # the preview shows what the model sees of the selected capture
    assert view.panel.preview.canvas_view.has_image()
    assert view.panel.preview.verdict.text().startswith("✓")
    assert not view.save_button.isEnabled()  # no customer number yet

    qtbot.keyClicks(view.number_edit, "C-100")
    qtbot.keyClicks(view.name_edit, "Ada Lovelace")
    with qtbot.waitSignal(view.customer_enrolled, timeout=10_000) as enrolled:
        save(qtbot, view)
    assert enrolled.args == ["C-100"]

    customer = records.get_customer(context.store.db, "C-100")
    assert customer.name == "Ada Lovelace" and customer.active_references == 4
    rows = audit.list_rows(context.store.db, customer_id="C-100", kinds=("enrolment",))
    assert len(rows) == 1
    assert "Saved 4 reference signature(s)" in view.result_label.text()
    # each reference's consistency score is shown on its thumbnail
    assert all("·" in view.strip.item(i).text() for i in range(4))
    assert view.saved and not view.save_button.isEnabled()
    view.set_customer("C-100")  # the main window selects whoever was just enrolled
    assert "Saved 4" in view.result_label.text() and view.number_edit.isReadOnly()
    view.set_customer(None)  # New customer: C-100's saved signatures leave the page
    assert view.strip.count() == 0 and view.captures == {} and not view.saved
    qtbot.keyClicks(view.number_edit, "C-100")
    assert "already enrolled" in view.number_problem.text()  # said at once, as ever


def test_bad_file_gives_a_readable_dialog_and_changes_nothing(
    qtbot, view, context, tmp_path, dialogs
):
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"this is not a picture at all")
    add_files(qtbot, view, [bad])
    assert len(dialogs.errors) == 1
    message = dialogs.errors[0].text
    assert "scan.png" in message and "Traceback" not in message
    assert view.strip.count() == 0 and not view.save_button.isEnabled()
    assert records.list_customers(context.store.db) == []


def test_one_bad_file_among_good_ones_keeps_the_good(qtbot, view, tmp_path, dialogs):
    good = write_signatures(tmp_path, 22, 2)
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    add_files(qtbot, view, [good[0], bad, good[1]])
    assert view.strip.count() == 2
    assert len(dialogs.errors) == 1 and "empty.png" in dialogs.errors[0].text


def test_a_file_of_several_pages_is_refused_in_a_dialog(qtbot, view, tmp_path, dialogs):
    """Not its first page taken silently: the signature may be on another."""
    from PIL import Image

    first, second = (Image.fromarray(g) for g in render_signatures(22, 2))
    first.save(tmp_path / "both.tif", save_all=True, append_images=[second])
    add_files(qtbot, view, [tmp_path / "both.tif"])
    assert view.strip.count() == 0 and len(dialogs.errors) == 1
    assert "'both.tif' holds 2 pages" in dialogs.errors[0].text
    assert "Whole cheque/form… > From a file…" in dialogs.errors[0].hint
    shown = dialogs.errors[0].text + dialogs.errors[0].hint
    assert "sigverify" not in shown  # the command line's way is its own


def test_unusable_capture_is_marked_and_blocks_saving(qtbot, view):
    blank = np.full((200, 500), 250, np.uint8)
    task = view.panel.add_array(blank, 300.0, "blank card")
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    (inspected,) = view.captures.values()
    assert not inspected.ok and inspected.reasons
    assert view.strip.item(0).text().startswith("✗")
    assert view.panel.preview.verdict.text().startswith("✗")
    view.number_edit.setText("C-1")
    assert not view.save_button.isEnabled()
    assert "Remove the 1 marked" in view.count_label.text()
    view.strip.setCurrentRow(0)
    qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)
    assert view.strip.count() == 0 and not view.captures


def test_inconsistent_set_shows_the_outlier_and_a_supervisor_can_force(
    qtbot, view, context, tmp_path
):
    paths = write_signatures(tmp_path, 29, 3) + write_signatures(tmp_path, 30, 1)
    add_files(qtbot, view, paths)
    view.number_edit.setText("C-200")
    save(qtbot, view)
    assert records.get_customer(context.store.db, "C-200") is None  # nothing written
    assert view.force_button.isVisible()
    assert "do not match" in view.result_label.text()
    outlier_text = view.strip.item(3).text()
    assert outlier_text.startswith("✗") and "·" in outlier_text  # marked, with its score

    save(qtbot, view, view.force_button)
    customer = records.get_customer(context.store.db, "C-200")
    assert customer is not None and customer.active_references == 4
    assert "supervisor" in view.result_label.text()


def test_two_writers_in_one_set_are_marked_as_a_group_apart(qtbot, view, context, tmp_path):
    add_files(qtbot, view, write_signatures(tmp_path, 29, 3) + write_signatures(tmp_path, 30, 3))
    view.number_edit.setText("C-201")
    save(qtbot, view)
    assert records.get_customer(context.store.db, "C-201") is None
    assert "as if two people had signed" in view.result_label.text()
    marked = [view.strip.item(i).toolTip() for i in range(6)]
    assert all("another person" in tip for tip in marked[3:])
    assert not any("another person" in tip for tip in marked[:3])


def test_another_customers_card_is_refused_and_a_supervisor_can_force(
    qtbot, view, context, fake_verifier, tmp_path
):
    theirs = write_signatures(tmp_path / "theirs", 33, 3)
    enrol_customer(context.store, fake_verifier, "C-500", theirs)
    add_files(qtbot, view, [*write_signatures(tmp_path / "mine", 21, 3), theirs[1]])
    view.number_edit.setText("C-501")
    save(qtbot, view)
    assert records.get_customer(context.store.db, "C-501") is None
    assert "is the same image as a reference of customer C-500" in view.result_label.text()
    assert view.force_button.isVisible()

    save(qtbot, view, view.force_button)
    assert records.get_customer(context.store.db, "C-501").active_references == 4
    assert "customer C-500 (enrolled anyway by a supervisor)" in view.result_label.text()


def test_adding_references_to_an_existing_customer(qtbot, view, context, fake_verifier, tmp_path):
    enrol_customer(context.store, fake_verifier, "C-300", render_signatures(33, 3), name="Bo")
    view.set_customer("C-300")
    assert view.number_edit.isReadOnly() and view.number_edit.text() == "C-300"
    assert "3 already enrolled" in view.heading.text()
    add_files(qtbot, view, write_signatures(tmp_path, 33, 2, first=3))
    save(qtbot, view)
    assert records.get_customer(context.store.db, "C-300").active_references == 5
    rows = audit.list_rows(context.store.db, customer_id="C-300", kinds=("references_added",))
    assert len(rows) == 1


def test_signatures_collected_for_one_customer_are_never_saved_as_anothers(
    qtbot, view, context, fake_verifier, tmp_path
):
    enrol_customer(context.store, fake_verifier, "C-400", render_signatures(33, 3), name="Ana")
    enrol_customer(context.store, fake_verifier, "C-401", render_signatures(21, 3), name="Bea")
    view.set_customer("C-400")
    add_files(qtbot, view, write_signatures(tmp_path, 33, 2, first=3))
    view.set_customer("C-400")  # the same customer again: the work stays
    assert len(view.captures) == 2
    view.set_customer("C-401")  # the teller clicked another customer in the list
    assert view.captures == {} and view.strip.count() == 0
    assert not view.save_button.isEnabled()
    assert "2 signature(s) collected for C-400 were not saved" in view.result_label.text()
    add_files(qtbot, view, write_signatures(tmp_path / "new", 21, 1, first=3))
    view.set_customer(None)  # New customer: the same
    assert view.captures == {} and view.number_edit.text() == ""
    assert "collected for C-401" in view.result_label.text()
    assert records.get_customer(context.store.db, "C-401").active_references == 3


def test_an_enrolled_number_or_its_other_case_is_flagged_while_typing(
    qtbot, view, context, fake_verifier, tmp_path
):
    enrol_customer(context.store, fake_verifier, "C-400", render_signatures(34, 3))
    add_files(qtbot, view, write_signatures(tmp_path, 36, 3))
    qtbot.keyClicks(view.number_edit, "C-400")
    assert view.number_problem.isVisible() and not view.save_button.isEnabled()
    assert "C-400 is already enrolled" in view.number_problem.text()
    view.number_edit.setText("c-400 ")
    assert "c-400 differs only in letter case from the enrolled customer C-400" in (
        view.number_problem.text()
    )
    assert not view.save_button.isEnabled()
    view.number_edit.setText("C-401")
    assert not view.number_problem.isVisible() and view.save_button.isEnabled()


def test_problems_are_shown_in_the_colours_of_the_theme_in_use(qtbot, view, context, fake_verifier):
    from sigverify_gui.ui.palette import apply_theme, status_text_colour

    enrol_customer(context.store, fake_verifier, "C-400", render_signatures(34, 3))
    apply_theme("dark")  # the light theme's red is too dark to read on a dark window
    try:
        qtbot.keyClicks(view.number_edit, "C-400")
        assert status_text_colour("problem") in view.number_problem.styleSheet()
        assert status_text_colour("problem") != "#C0392B"
    finally:
        apply_theme("light")


def test_a_number_enrolled_elsewhere_meanwhile_is_refused_on_saving(
    qtbot, view, context, fake_verifier, tmp_path, dialogs
):
    add_files(qtbot, view, write_signatures(tmp_path, 36, 3))
    view.number_edit.setText("C-400")
    # another workstation on the same store enrols the number before this one saves
    enrol_customer(context.store, fake_verifier, "C-400", render_signatures(34, 3))
    save(qtbot, view)
    assert len(dialogs.errors) == 1 and "already enrolled" in dialogs.errors[0].text
    assert records.get_customer(context.store.db, "C-400").active_references == 3


def test_a_cancelled_save_says_nothing_was_saved(
    qtbot, view, context, fake_verifier, tmp_path, monkeypatch
):
    # The result line used to keep saying "Checking and saving…" after the cancel.
    add_files(qtbot, view, write_signatures(tmp_path, 21, 4))
    qtbot.keyClicks(view.number_edit, "C-300")
    cancel_pressed = threading.Event()
    real_embed = fake_verifier.embed_canvases
    monkeypatch.setattr(
        fake_verifier, "embed_canvases", lambda c: (cancel_pressed.wait(10), real_embed(c))[1]
    )
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    task = view.task
    assert view.result_label.text() == "Checking and saving…"
    qtbot.waitUntil(lambda: task.dialog is not None, timeout=10_000)
    qtbot.keyClick(task.dialog, Qt.Key.Key_Escape)
    cancel_pressed.set()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert task.was_cancelled
    assert view.result_label.text() == "Cancelled: nothing was saved."
    assert records.get_customer(context.store.db, "C-300") is None
    assert view.save_button.isEnabled() and len(view.captures) == 4


def test_a_save_waiting_for_a_model_that_fails_to_load_gives_the_buttons_back(
    qtbot, store, tmp_path, dialogs
):
    from model.errors import ModelError
    from sigverify_gui.ui.context import AppContext

    def missing(device):
        raise ModelError("The bundled model sigverify-v1.pt is missing.")

    failing = AppContext(store, verifier_factory=missing)
    view = EnrolmentView(failing)
    qtbot.addWidget(view)
    add_files(qtbot, view, write_signatures(tmp_path, 21, 4))
    qtbot.keyClicks(view.number_edit, "C-301")
    with qtbot.waitSignal(failing.verifier_failed, timeout=5000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
        assert view.result_label.text() == "Waiting for the signature model…"
        assert not view.save_button.isEnabled()
    assert view.result_label.text() == ""
    assert view.save_button.isEnabled() and view.folder_button.isEnabled()
    assert [m.text for m in dialogs.errors] == ["The bundled model sigverify-v1.pt is missing."]


def _folder_to_enrol(tmp_path, monkeypatch, writers: int) -> list:
    """A synthetic data set of `writers` writers that the folder button is given; the
    summaries the run shows land in the returned list instead of a dialog."""
    from model.synth import write_dataset

    folder = tmp_path / "dataset"
    write_dataset(folder, writers=writers, genuine=3, forged=0, seed=5)
    monkeypatch.setattr(enrol_folder, "ask_folder", lambda parent: str(folder))
    shown = []
    monkeypatch.setattr(enrol_folder, "show_summary", lambda parent, report: shown.append(report))
    return shown


def test_enrol_a_folder_in_the_background(qtbot, view, context, tmp_path, monkeypatch):
    shown = _folder_to_enrol(tmp_path, monkeypatch, writers=2)
    task = view.enrol_folder()
    assert task is not None
    with qtbot.waitSignal(task.finished, timeout=20_000):
        pass
    assert len(shown) == 1 and len(shown[0].enrolled) + len(shown[0].failed) == 2
    assert len(records.list_customers(context.store.db)) == len(shown[0].enrolled)
    assert "customer(s) enrolled" in view.result_label.text()


def test_a_folder_is_refused_once_before_any_writer_when_the_thresholds_are_damaged(
    qtbot, view, context, fake_verifier, tmp_path, monkeypatch, dialogs
):
    # Each writer had been read and embedded, then listed as failed with the same message.
    shown = _folder_to_enrol(tmp_path, monkeypatch, writers=3)
    edit_thresholds_setting(
        context.store, '{"model_id": "fake-0001", "t_accept": 0.55, "t_reject": 0.1}'
    )
    embedded_before = dict(fake_verifier.calls)
    task = view.enrol_folder()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert shown == []
    assert [m.title for m in dialogs.errors] == ["Thresholds damaged"]
    assert "changed outside sigverify" in dialogs.errors[0].text
    assert fake_verifier.calls == embedded_before
    assert records.list_customers(context.store.db) == []
    assert view.folder_button.isEnabled()


def test_a_folder_run_stopped_by_damaged_thresholds_shows_who_was_enrolled_before(
    qtbot, view, context, fake_verifier, tmp_path, monkeypatch, dialogs
):
    # The dialog had said only that the thresholds were damaged: the teller could not
    # tell that the first writers were in. Another program damages the setting while
    # the second writer is embedded.
    from sigverify_gui.services import bulk
    from sigverify_gui.store.db import Store

    shown = _folder_to_enrol(tmp_path, monkeypatch, writers=3)
    real_enrol = bulk.enrol_customer  # forced: the fake's consistency check is not under test
    monkeypatch.setattr(
        bulk, "enrol_customer", lambda *a, **k: real_enrol(*a, **{**k, "force": True})
    )

    def edit_elsewhere():
        with Store(context.store.path) as other:
            edit_thresholds_setting(
                other, '{"model_id": "fake-0001", "t_accept": 0.5, "t_reject": 0.1}'
            )

    fake_verifier.meanwhile = lambda: setattr(fake_verifier, "meanwhile", edit_elsewhere)
    task = view.enrol_folder()
    with qtbot.waitSignal(task.finished, timeout=20_000):
        pass
    assert shown == [] and [m.title for m in dialogs.errors] == ["Thresholds damaged"]
    (first,) = [c.customer_id for c in records.list_customers(context.store.db)]
    text = view.result_label.text()
    assert text.startswith("Stopped at ") and "which is not enrolled" in text
    assert "Before it: 1 customer(s) enrolled, 0 already enrolled" in text
    assert first not in text.split("Before it")[0]
    assert view.folder_button.isEnabled()


def test_a_folder_summary_says_how_a_supervisor_enrols_the_refused_ones():
    from sigverify_gui.services.bulk import BulkEnrolmentReport

    report = BulkEnrolmentReport(
        enrolled=["A"],
        failed=[("B", "Some signatures do not match the others"), ("C", "unreadable")],
        overridable=["B"],
    )
    text = enrol_folder.summary(report)
    assert "• B: Some signatures do not match" in text
    assert "1 of them a supervisor may still enrol one by one" in text and "Save anyway" in text
    assert "supervisor" not in enrol_folder.summary(BulkEnrolmentReport(enrolled=["A"]))


def test_cancelling_a_folder_enrolment_shows_and_lists_those_enrolled_before(
    qtbot, context, tmp_path, monkeypatch
):
    """Escape on the progress dialog part-way: the customers enrolled before the cancel
    appear in the list and the search, and a summary says how many there were."""
    from sigverify_gui.services import bulk
    from sigverify_gui.ui.main_window import MainWindow

    shown = _folder_to_enrol(tmp_path, monkeypatch, writers=5)
    # Each writer is "enrolled" (forced: the fake's consistency check is not under test);
    # the third waits until the test has pressed Escape, as a teller would at ~60%.
    calls, escape_pressed = [], threading.Event()
    real_enrol = bulk.enrol_customer

    def enrol_then_wait(*args, **kwargs):
        calls.append(args[2])
        result = real_enrol(*args, **{**kwargs, "force": True})
        if len(calls) == 3:
            escape_pressed.wait(10)
        return result

    monkeypatch.setattr(bulk, "enrol_customer", enrol_then_wait)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    assert window.customers.total == 0
    view = window.enrolment

    task = view.enrol_folder()
    assert task is not None and not view.folder_button.isEnabled()
    qtbot.waitUntil(lambda: len(calls) == 3 and task.dialog is not None, timeout=10_000)
    qtbot.keyClick(task.dialog, Qt.Key.Key_Escape)
    escape_pressed.set()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass

    enrolled = records.list_customers(context.store.db)
    assert len(enrolled) == 3  # the third finished; the fourth never started
    assert len(shown) == 1 and shown[0].cancelled and len(shown[0].enrolled) == 3
    assert view.result_label.text().startswith("Cancelled. Before the cancel: 3 customer(s)")
    assert window.customers.total == 3
    qtbot.keyClicks(window.customers.search, enrolled[-1].customer_id)
    assert window.customers.customer_ids() == [enrolled[-1].customer_id]
    assert view.folder_button.isEnabled()


def test_a_folder_that_is_not_a_data_set_clears_the_progress_line(
    qtbot, view, context, tmp_path, monkeypatch, dialogs
):
    folder = tmp_path / "holiday photos"
    folder.mkdir()
    (folder / "notes.txt").write_text("not signatures")
    monkeypatch.setattr(enrol_folder, "ask_folder", lambda parent: str(folder))
    task = view.enrol_folder()
    assert "Enrolling the writers of" in view.result_label.text()
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert len(dialogs.errors) == 1
    assert view.result_label.text() == ""
    assert view.folder_button.isEnabled()
    assert records.list_customers(context.store.db) == []


def test_enter_in_the_name_field_checks_and_saves(qtbot, view, context, tmp_path):
    add_files(qtbot, view, write_signatures(tmp_path, 21, 4))
    qtbot.keyClicks(view.number_edit, "C-101")
    qtbot.keyClicks(view.name_edit, "Grace Hopper")
    view.activateWindow()
    view.name_edit.setFocus()
    qtbot.waitUntil(lambda: view.name_edit.hasFocus(), timeout=2000)
    with qtbot.waitSignal(view.customer_enrolled, timeout=10_000):
        qtbot.keyClick(view.name_edit, Qt.Key.Key_Return)
    assert records.get_customer(context.store.db, "C-101").active_references == 4
