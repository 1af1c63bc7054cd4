"""Guards against a Qt binding that corrupts the interpreter (see pyproject's PySide6 pin)."""

import sys

from sigverify_gui.ui.qt import QApplication


def test_process_events_does_not_leak_references_to_none(qapp):
    before = sys.getrefcount(None)
    for _ in range(200):
        QApplication.processEvents()
    # PySide6 6.12.0 loses one reference per call; a few come and go in normal operation
    assert sys.getrefcount(None) >= before - 20
