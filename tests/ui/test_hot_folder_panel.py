"""The Hot folder button: a recent scan already waiting is taken (newest first, with a
note of how many more wait, its caption saying when it was scanned), older files are
left alone, what was taken is remembered across panels and restarts, and the wait for a
new scan can be cancelled."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sigverify_gui import paths
from sigverify_gui.services.capture.files import describe_scan
from sigverify_gui.ui.capture_panel import CapturePanel
from sigverify_gui.ui.qt import Qt, QTimer
from tests.fakes import write_signatures


def _hot_folder(context, tmp_path) -> Path:
    folder = tmp_path / "hot"
    folder.mkdir()
    context.apply_settings(context.settings.with_changes(hot_folder=str(folder)))
    return folder


def _panel(qtbot, context) -> CapturePanel:
    panel = CapturePanel(context)
    qtbot.addWidget(panel)
    return panel


def _scan(folder: Path, seed: int, minutes_ago: float = 0) -> Path:
    (path,) = write_signatures(folder, seed, 1)
    when = time.time_ns() - int(minutes_ago * 60e9)
    os.utime(path, ns=(when, when))
    return path


def _take(qtbot, panel) -> str:
    qtbot.mouseClick(panel.hot_folder_button, Qt.MouseButton.LeftButton)
    assert panel.task is not None
    with qtbot.waitSignal(panel.captured, timeout=10_000) as captured:
        pass
    qtbot.waitUntil(lambda: panel.task is None, timeout=5000)
    return captured.args[0].source


def _described(path: Path) -> str:
    """What the capture's caption says, read now (a scan from before midnight has a date)."""
    return describe_scan(path.name, path.stat().st_mtime_ns)


def test_recent_scans_waiting_are_taken_newest_first_and_only_once(qtbot, context, tmp_path):
    folder = _hot_folder(context, tmp_path)
    leftover = _scan(folder, 44, minutes_ago=20)  # another customer's, never taken
    earlier = _scan(folder, 45, minutes_ago=3)
    just_made = _scan(folder, 46, minutes_ago=0.1)  # the teller scanned, then clicks

    enrol = _panel(qtbot, context)
    source = _take(qtbot, enrol)
    assert source == _described(just_made)
    assert enrol.preview.caption.text() == source  # the teller sees when it was scanned
    assert not enrol.hot_folder_queue.isHidden()
    assert enrol.hot_folder_queue.text().startswith("1 more scan is waiting")

    verify = _panel(qtbot, context)  # the other panel: its own watcher, the same record
    assert _take(qtbot, verify).startswith(f"{earlier.name}, scanned ")
    assert verify.hot_folder_queue.isHidden()  # nothing more waiting: the leftover is old

    # The record is in the app's state folder (the tests' XDG_STATE_HOME), not the hot folder.
    state = Path(os.environ["XDG_STATE_HOME"]) / "sigverify"
    assert state == paths.state_dir()
    assert len(list(state.glob("hotfolder-*.json"))) == 1
    names = sorted([leftover.name, earlier.name, just_made.name])
    assert sorted(p.name for p in folder.iterdir()) == names

    # After a restart (a new panel), nothing is offered again, the leftover neither, and
    # the wait says why the old file is not taken; a new scan is.
    restarted = _panel(qtbot, context)
    qtbot.mouseClick(restarted.hot_folder_button, Qt.MouseButton.LeftButton)
    task = restarted.task
    left_alone = "Cancel to stop waiting. 1 file older than 10 minutes is left alone."
    with qtbot.waitSignal(
        task.progressed, timeout=5000, check_params_cb=lambda *args: args[2] == left_alone
    ):
        pass
    threading.Timer(1.5, lambda: _scan(folder, 47)).start()
    with qtbot.waitSignal(restarted.captured, timeout=10_000) as captured:
        pass
    assert captured.args[0].source.startswith("w47-g0.png, scanned ")
    qtbot.waitUntil(lambda: restarted.task is None, timeout=5000)
    assert task.result is not None


def test_waiting_for_a_new_scan_can_be_cancelled(qtbot, context, tmp_path):
    _hot_folder(context, tmp_path)
    panel = _panel(qtbot, context)
    task = panel.wait_for_hot_folder()
    assert not panel.file_button.isEnabled()  # one capture at a time
    QTimer.singleShot(300, task.cancel)  # in the UI thread, as the Cancel button does
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        pass
    qtbot.waitUntil(lambda: panel.task is None, timeout=5000)
    assert panel.file_button.isEnabled()
