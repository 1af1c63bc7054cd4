"""Python's cycle collector, run on the UI thread only.

Qt objects caught in reference cycles (a window and the closures its slots hold, say)
are destroyed when the collector frees the cycle, in whichever thread triggers the
collection: left automatic, a background job's thread could destroy a window's timers
and widgets ("Timers cannot be stopped from another thread", then a crash). So the
automatic collector is switched off and a timer on the UI thread runs it, with the
same thresholds; the background threads only ever drop plain references.
"""

from __future__ import annotations

import gc

from sigverify_gui.ui.qt import QObject, QTimer

CHECK_EVERY_MS = 500


class UiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start(CHECK_EVERY_MS)

    def collect_if_due(self) -> None:
        """What the automatic collector would have done by now, generation by generation."""
        young, middle, old = gc.get_count()
        if young > self.thresholds[0]:
            gc.collect(0)
            if middle > self.thresholds[1]:
                gc.collect(1)
                if old > self.thresholds[2]:
                    gc.collect(2)


def collect_on_ui_thread(app: QObject) -> UiThreadCollector:
    """Install the collector for the application's lifetime (once)."""
    existing = app.findChild(UiThreadCollector)
    return existing if existing is not None else UiThreadCollector(app)
