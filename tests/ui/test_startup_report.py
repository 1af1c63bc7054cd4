"""SIGVERIFY_REPORT_STARTUP: one line when the main window is painted, then nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sigverify_gui.ui import startup_report
from sigverify_gui.ui.qt import QEvent, QLabel, QMainWindow, QObject

REPO = Path(__file__).resolve().parents[2]

LINE = re.compile(
    r"sigverify-startup: window painted \d+ ms after the entry point \(unix time \d+\.\d{3}\)"
)


class _PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        self.paints += event.type() == QEvent.Type.Paint
        return False


def show_and_wait_for_paint(qtbot, window) -> None:
    """Show `window` and return once it has been painted (the report's filter, installed
    on the application, has seen that paint by then)."""
    counter = _PaintCounter()
    window.installEventFilter(counter)
    window.show()
    qtbot.waitUntil(lambda: counter.paints > 0)
    window.removeEventFilter(counter)


def test_reports_the_main_windows_first_paint_once(qtbot, capsys):
    startup_report.install(time.perf_counter())
    # A window before the main one ("Opening the signature store…") is not reported.
    opening = QLabel("Opening the signature store…")
    qtbot.addWidget(opening)
    show_and_wait_for_paint(qtbot, opening)
    assert startup_report.PREFIX not in capsys.readouterr().err

    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    err: list[str] = []

    def reported() -> None:
        err.append(capsys.readouterr().err)
        assert startup_report.PREFIX in "".join(err)

    qtbot.waitUntil(reported)
    assert LINE.fullmatch("".join(err).strip())

    other = QMainWindow()
    other.setCentralWidget(QLabel("second"))
    qtbot.addWidget(other)
    show_and_wait_for_paint(qtbot, other)
    assert startup_report.PREFIX not in capsys.readouterr().err


# The app's own start, with the store slow to open: "Opening the signature store…" is
# painted first. Quitting on that window's paint had ended only its wait, and the app
# then ran on for good (once in a CI run of the built program, which never finished).
_SLOW_STORE_START = """
import sys, time
from sigverify_gui import frozen_main
from sigverify_gui.ui import startup_store, store_opening

store_opening.QUIET_S = 0.0
opened = startup_store.Store

def slow_store(*args, **kwargs):
    time.sleep(0.5)
    return opened(*args, **kwargs)

startup_store.Store = slow_store
sys.exit(frozen_main.main([]))
"""


@pytest.mark.slow
def test_exit_mode_quits_after_a_slow_store_opening(tmp_path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SIGVERIFY_REPORT_STARTUP": "exit",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
    }
    env.pop("SIGVERIFY_DB", None)
    result = subprocess.run(
        [sys.executable, "-c", _SLOW_STORE_START],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert LINE.search(result.stderr), result.stderr
