"""Settings' OK on a store another program is writing: the window keeps painting.

Thresholds are written to the store, which waits for another program's write lock
(`store.db.longest_write_wait_s`, about 10 s) before saying it is busy. That wait ran
on the UI thread and froze the whole window; it runs in a worker now, the dialog open
until it ends: closed when the thresholds are saved, the problem shown when not.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sigverify_gui.store import db as store_db
from sigverify_gui.ui import context as context_module
from sigverify_gui.ui import settings as settings_mod
from sigverify_gui.ui.qt import QApplication, QProgressDialog, Qt, QThreadPool, QTimer
from sigverify_gui.ui.settings import save_settings
from sigverify_gui.ui.settings_dialog import SettingsDialog
from sigverify_gui.ui.workers import run_in_background

BUSY_TIMEOUT_S = 0.4  # the store's wait, shortened: 4 attempts, some 1.7 s in all
LONGEST_UI_GAP_S = 0.5  # the window repaints at least this often meanwhile


@pytest.fixture
def quick_busy(monkeypatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", BUSY_TIMEOUT_S)
    return store_db.longest_write_wait_s()


@pytest.fixture
def another_program(context):
    """A second connection holding the store's write lock, as a program writing it."""
    conn = sqlite3.connect(str(context.store.path), isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.rollback()
    conn.close()


@pytest.fixture
def ticks(qtbot):
    """When the UI thread's event loop ran a 20 ms timer: the gaps are its freezes."""
    seen: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(20)
    timer.timeout.connect(lambda: seen.append(time.monotonic()))
    timer.start()
    yield seen
    timer.stop()


def longest_gap(started: float, seen: list[float]) -> float:
    points = [started, *seen]
    return max(b - a for a, b in zip(points, points[1:], strict=False))


def settings_file_bytes() -> bytes:
    return Path(settings_mod.qsettings().fileName()).read_bytes()


def open_dialog(qtbot, context) -> SettingsDialog:
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.accept_spin.setValue(0.9)
    dialog.reject_spin.setValue(0.2)
    return dialog


def test_ok_on_a_busy_store_keeps_the_window_painting_and_says_so(
    qtbot, context, dialogs, quick_busy, another_program, ticks
):
    save_settings(context.settings)
    saved = settings_file_bytes()
    dialog = open_dialog(qtbot, context)
    started = time.monotonic()
    assert dialog.accept_changes() is True  # taken: being written
    assert time.monotonic() - started < LONGEST_UI_GAP_S
    saving = dialog.saving
    assert saving is not None and dialog.isVisible()
    assert not dialog.buttons.isEnabled()  # no second OK meanwhile
    with qtbot.waitSignal(saving.finished, timeout=int(1000 * quick_busy) + 10_000):
        pass
    assert time.monotonic() - started >= quick_busy * 0.9  # it did wait for the lock
    assert longest_gap(started, ticks) < LONGEST_UI_GAP_S
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    assert "busy in another program" in dialog.problem.text()
    assert dialogs.messages == []  # in the dialog's problem line, no box
    assert context.thresholds().source == "model"  # nothing written
    assert settings_file_bytes() == saved


def test_the_progress_window_shows_while_waiting_and_ok_closes_once_saved(
    qtbot, context, another_program
):
    dialog = open_dialog(qtbot, context)
    shown = []

    def look_then_let_go():
        shown.extend(
            w.labelText()
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QProgressDialog) and w.isVisible()
        )
        another_program.rollback()  # the other program is done with the store

    QTimer.singleShot(800, look_then_let_go)
    assert dialog.accept_changes() is True
    with qtbot.waitSignal(dialog.saving.finished, timeout=15_000):
        pass
    assert shown == [context_module.SAVING_THRESHOLDS]
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
    in_force = context.thresholds()
    assert (in_force.t_accept, in_force.t_reject, in_force.source) == (0.9, 0.2, "settings")


def test_escape_while_saving_does_not_close_the_dialog(qtbot, context, quick_busy, another_program):
    dialog = open_dialog(qtbot, context)
    assert dialog.accept_changes() is True
    saving = dialog.saving
    with qtbot.waitSignal(saving.progressed, timeout=5000):
        pass  # the write has begun: past its last point of cancelling
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()  # the write may still happen: not closed as cancelled
    with qtbot.waitSignal(saving.finished, timeout=int(1000 * quick_busy) + 10_000):
        pass
    assert dialog.isVisible()
    assert "busy in another program" in dialog.problem.text()
    assert context.thresholds().source == "model"


def test_a_new_store_with_thresholds_refused_as_busy_changes_nothing(
    qtbot, context, tmp_path, quick_busy, another_program
):
    save_settings(context.settings)
    saved = settings_file_bytes()
    old_store = context.store
    dialog = open_dialog(qtbot, context)
    dialog.store_path.setText(str(tmp_path / "branch-2.db"))
    assert dialog.accept_changes() is True
    with qtbot.waitSignal(dialog.saving.finished, timeout=int(1000 * quick_busy) + 10_000):
        pass
    assert "busy in another program" in dialog.problem.text()
    assert context.store is old_store and settings_file_bytes() == saved
    assert not list(tmp_path.glob("branch-2.db*"))  # the store it made is not left behind


@pytest.fixture
def one_busy_worker():
    """A pool of one thread, taken by another job until the event is set: a job started
    now waits its turn (as behind a verification on a two-core computer)."""
    pool = QThreadPool.globalInstance()
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(1)
    release = threading.Event()
    run_in_background(lambda progress: release.wait(10), progress=False)
    yield release
    release.set()
    pool.waitForDone(10_000)
    pool.setMaxThreadCount(threads)


def test_cancel_before_the_write_begins_changes_nothing(qtbot, context, one_busy_worker):
    save_settings(context.settings)
    saved = settings_file_bytes()
    dialog = open_dialog(qtbot, context)
    assert dialog.accept_changes() is True
    saving = dialog.saving
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # as the progress window's Cancel
    one_busy_worker.set()
    with qtbot.waitSignal(saving.finished, timeout=10_000):
        pass
    assert saving.was_cancelled
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    assert dialog.problem.text() == "Cancelled: nothing was changed."
    assert context.thresholds().source == "model" and settings_file_bytes() == saved
