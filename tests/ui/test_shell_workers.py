"""Background work: results, progress, cancellation and errors reach the UI thread."""

from __future__ import annotations

import os
import threading
import time

import pytest

from model.errors import CancelledError, SigverifyError
from sigverify_gui.ui import workers
from sigverify_gui.ui.qt import QProgressDialog, QThread, QThreadPool, QWidget


def test_result_arrives_on_the_ui_thread(qtbot):
    seen = {}

    def job(progress):
        seen["thread"] = QThread.currentThread()
        return 42

    results = []
    task = workers.run_in_background(job, progress=False, on_done=results.append)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert results == [42]
    assert task.result == 42
    assert seen["thread"] is not QThread.currentThread()  # really ran elsewhere
    assert not workers.running_tasks()


def test_progress_updates_are_forwarded_in_order(qtbot):
    def job(progress):
        for i in range(5):
            progress.update(i, 4, f"step {i}")
        return "ok"

    task = workers.run_in_background(job, progress=False)
    updates = []
    task.progressed.connect(lambda d, t, text: updates.append((d, t, text)))
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        pass
    assert updates == [(i, 4, f"step {i}") for i in range(5)]


def test_cancel_stops_the_job_at_its_next_update(qtbot):
    started = threading.Event()
    release = threading.Event()
    steps = []

    def job(progress):
        started.set()
        release.wait(5)
        for i in range(100):
            progress.update(i, 100)
            steps.append(i)
        return "finished"

    cancelled = []
    done = []
    task = workers.run_in_background(
        job, progress=False, on_done=done.append, on_cancel=lambda: cancelled.append(True)
    )
    assert started.wait(5)
    task.cancel()
    release.set()
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        pass
    assert cancelled == [True] and done == []
    assert steps == []  # the very first update raised
    assert task.was_cancelled


def test_cancelled_error_in_bridge_is_the_domain_one():
    bridge = workers.ProgressBridge()
    bridge.update(0, 1)
    bridge.cancel()
    with pytest.raises(CancelledError):
        bridge.update(1, 1)


def test_user_error_goes_to_the_error_dialog_by_default(qtbot, dialogs):
    def job(progress):
        raise SigverifyError("The file is not an image.")

    task = workers.run_in_background(job, progress=False)
    with qtbot.waitSignal(task.failed, timeout=5000):
        pass
    assert [m.text for m in dialogs.errors] == ["The file is not an image."]
    assert not dialogs.crashes


def test_bug_in_a_job_becomes_a_crash_dialog(qtbot, dialogs):
    dialogs.expect_crash()

    def job(progress):
        raise ZeroDivisionError("division by zero")

    task = workers.run_in_background(job, progress=False)
    with qtbot.waitSignal(task.failed, timeout=5000):
        pass
    assert isinstance(task.error, ZeroDivisionError)
    assert len(dialogs.crashes) == 1
    assert "division" not in dialogs.crashes[0].text  # no exception text, no traceback


def test_on_error_replaces_the_dialog(qtbot, dialogs):
    caught = []
    task = workers.run_in_background(lambda p: 1 / 0, progress=False, on_error=caught.append)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert isinstance(caught[0], ZeroDivisionError)
    assert dialogs.messages == []


def test_failing_callback_still_reaches_the_user(qtbot, dialogs):
    def on_done(result):
        raise SigverifyError("Customer 12 is already enrolled.")

    task = workers.run_in_background(lambda p: None, progress=False, on_done=on_done)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert [m.text for m in dialogs.errors] == ["Customer 12 is already enrolled."]


def _slow(progress):
    for i in range(400):
        progress.update(i, 400, "embedding")
        time.sleep(0.01)


def _waiting_job_with_its_dialog(qtbot):
    """A job that runs until the returned event is set, its progress dialog showing."""
    parent = QWidget()
    qtbot.addWidget(parent)
    release = threading.Event()
    task = workers.run_in_background(lambda p: release.wait(5), parent=parent, label="Job")
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=3000)
    return task, release


def test_quick_job_shows_no_dialog_slow_one_does_and_cancel_button_works(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    quick = workers.run_in_background(lambda p: 1, parent=parent, label="Quick")
    with qtbot.waitSignal(quick.finished, timeout=5000):
        pass
    qtbot.wait(workers.SHOW_DIALOG_AFTER_MS + 50)
    assert quick.dialog is None
    assert not parent.findChildren(QProgressDialog)

    task = workers.run_in_background(_slow, parent=parent, label="Enrolling")
    qtbot.waitUntil(  # visible, and the job's first update has reached it
        lambda: task.dialog is not None and task.dialog.isVisible() and task.dialog.maximum() > 0,
        timeout=3000,
    )
    assert task.dialog.maximum() == 400
    assert "Enrolling" in task.dialog.labelText()
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.dialog.canceled.emit()  # what the Cancel button does
    assert task.dialog is None


def test_escape_before_the_dialog_is_active_still_cancels(qtbot):
    """Escape only reaches QProgressDialog's cancel shortcut once its window is active;
    before that QDialog rejects and hides it. A hidden dialog with the job running on
    would leave the teller believing it had stopped."""
    parent = QWidget()
    qtbot.addWidget(parent)

    task = workers.run_in_background(_slow, parent=parent, label="Enrolling")
    qtbot.waitUntil(lambda: task.dialog is not None, timeout=3000)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.dialog.reject()  # what Escape does on a dialog that is not the active window
    assert task.was_cancelled and task.dialog is None


def test_a_finished_job_is_not_reported_cancelled_by_closing_its_dialog(qtbot):
    task, release = _waiting_job_with_its_dialog(qtbot)
    release.set()
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        pass
    assert not task.was_cancelled and not task.progress.cancelled


def test_job_ending_while_the_modal_dialog_processes_events(qtbot):
    # A modal QProgressDialog runs the event loop inside setValue(); the job's end can
    # be delivered right there and close the dialog under the progress handler's feet.
    task, release = _waiting_job_with_its_dialog(qtbot)
    release.set()
    assert QThreadPool.globalInstance().waitForDone(5000)  # its end is queued, not yet seen
    for i in range(1, 4):  # what queued progress signals would run; one of them ends it
        task._on_progress(i, 4, "almost")
    assert task.dialog is None and not task.running
    assert task.result is True


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files via /proc")
def test_a_days_background_work_does_not_pile_up_store_connections(qtbot, tmp_path):
    # Each pool task runs in a fresh Python thread state, hence with a fresh
    # connection: it must close with the task, or a teller's day of verifications
    # leaves hundreds of files open until the store closes.
    from sigverify_gui.store import records
    from sigverify_gui.store.db import Store

    with Store(tmp_path / "s.db") as store:

        def job(progress):
            return records.list_customers(store.db)

        def run_one():
            task = workers.run_in_background(job, progress=False)
            with qtbot.waitSignal(task.finished, timeout=5000):
                pass

        run_one()
        open_files = len(os.listdir("/proc/self/fd"))
        for _ in range(40):
            run_one()
        # one per task without the fix; a few of Qt's own may come and go meanwhile
        assert len(os.listdir("/proc/self/fd")) < open_files + 10


def test_a_finished_task_lets_go_of_its_job_and_what_it_holds(qtbot):
    # The job's closure holds the teller's images; a task kept by the pool after it
    # finished kept them too, about 0.7 MB per verification, all day.
    import gc
    import weakref

    class Capture:  # stands for the images a job's closure holds
        pass

    held = []

    def start_one():
        capture = Capture()
        held.append(weakref.ref(capture))
        task = workers.run_in_background(lambda progress: id(capture), progress=False)
        with qtbot.waitSignal(task.finished, timeout=5000):
            pass

    for _ in range(5):
        start_one()
    gc.collect()  # here, on the UI thread
    assert [ref() for ref in held] == [None] * 5


@pytest.mark.parametrize("ending", ["done", "cancelled"])
def test_a_job_holds_nothing_of_its_window_by_the_time_it_signals_its_end(qtbot, ending):
    # The job's closure holds the window that started it (`self`). If the job's thread
    # still held it (a cancellation's traceback, a frame) when the UI thread dropped the
    # job, the window's last reference went in that thread: Qt then destroyed a window
    # off the UI thread, and the test run died in a segmentation fault, once in many.
    import weakref

    from sigverify_gui.ui.qt import Qt

    class Window:  # stands for the widget whose method started the job
        pass

    def job_of(window):
        def job(progress):
            assert window is not None
            if ending == "cancelled":
                progress.cancel()
                progress.update(0, 1)
            return "result"

        return job

    window = Window()
    alive = weakref.ref(window)
    worker = workers.Worker(job_of(window), workers.ProgressBridge())
    del window
    at_signal = []

    def ended():  # in the job's thread, as the signal leaves it
        worker.fn = None  # what the UI thread does first, at its fastest
        at_signal.append(alive() is None)

    worker.signals.ended.connect(ended, Qt.ConnectionType.DirectConnection)
    worker.run()
    assert at_signal == [True]
    assert worker.outcome[0] == ending


def test_cycles_are_collected_on_the_ui_thread_only(qtbot):
    # A Qt object in a reference cycle, freed by a collection a job's thread set
    # off, was destroyed in that thread: "Timers cannot be stopped from another
    # thread", then a crash.
    import gc

    assert not gc.isenabled()  # automatic collection off; a UI-thread timer runs it
    from sigverify_gui.ui.collector import UiThreadCollector
    from sigverify_gui.ui.qt import QApplication

    collector = QApplication.instance().findChild(UiThreadCollector)
    assert collector is not None and collector.timer.isActive()
    for _ in range(collector.thresholds[0] + 10):
        cycle = []
        cycle.append(cycle)
    del cycle
    before = gc.get_count()[0]
    collector.collect_if_due()
    assert gc.get_count()[0] < before
