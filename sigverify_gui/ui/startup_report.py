"""SIGVERIFY_REPORT_STARTUP: say when the first window was painted (startup figures).

With the variable set, the program prints one line on stderr when its main window
is first painted on screen:

    sigverify-startup: window painted 812 ms after the entry point (unix time 1700000000.123)

"exit" as the value also quits right after, for scripted measurements; a script that
notes the time before starting the program gets exec-to-window from the unix time.

Only the main window counts. A window painted before it, such as "Opening the
signature store…" on a slow start, is not the window the teller waits for; and
quitting from there left the program running for good (the quit ended that window's
wait, not the program, whose main loop had yet to start).
"""

from __future__ import annotations

import sys
import time

from sigverify_gui.ui.qt import QApplication, QEvent, QMainWindow, QObject, QTimer

PREFIX = "sigverify-startup:"


class _FirstPaint(QObject):
    def __init__(self, started: float, quit_after: bool) -> None:
        super().__init__()
        self._started = started
        self._quit_after = quit_after

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
            app = QApplication.instance()
            app.removeEventFilter(self)
            ms = (time.perf_counter() - self._started) * 1000.0
            print(
                f"{PREFIX} window painted {ms:.0f} ms after the entry point "
                f"(unix time {time.time():.3f})",
                file=sys.stderr,
                flush=True,
            )
            if self._quit_after:
                QTimer.singleShot(0, app.quit)
        return False


_installed: list[_FirstPaint] = []  # keeps the filter alive as long as the app


def install(started: float, quit_after: str = "") -> None:
    """Watch for the main window's first paint; `started` is a `time.perf_counter()` value."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    watcher = _FirstPaint(started, quit_after.strip().lower() == "exit")
    app.installEventFilter(watcher)
    _installed.append(watcher)
