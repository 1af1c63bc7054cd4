"""SIGVERIFY_REPORT_STARTUP: one line when the first window is painted, then nothing."""

from __future__ import annotations

import re
import time

from sigverify_gui.ui import startup_report
from sigverify_gui.ui.qt import QLabel

LINE = re.compile(
    r"sigverify-startup: window painted \d+ ms after the entry point \(unix time \d+\.\d{3}\)"
)


def test_reports_the_first_painted_window_once(qtbot, capsys):
    startup_report.install(time.perf_counter())
    window = QLabel("first")
    qtbot.addWidget(window)
    window.show()
    err: list[str] = []

    def reported() -> None:
        err.append(capsys.readouterr().err)
        assert startup_report.PREFIX in "".join(err)

    qtbot.waitUntil(reported)
    assert LINE.fullmatch("".join(err).strip())

    other = QLabel("second")
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    other.repaint()
    assert startup_report.PREFIX not in capsys.readouterr().err
