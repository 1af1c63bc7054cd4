"""Enter presses a page's main button, as a button drawn as the default promises.

Qt honours a default button only inside a dialog: on the verification and enrolment
pages, drawn as the default, Verify and "Check and save" ignored Enter, and a teller
who chose a file and pressed Enter waited for nothing.
"""

from __future__ import annotations

from sigverify_gui.ui.qt import QKeySequence, QPushButton, QShortcut, Qt, QWidget


def enter_presses(button: QPushButton, page: QWidget) -> None:
    """Enter (either key), with the focus anywhere on `page`, clicks `button` when it
    is enabled and shown; elsewhere in the window (the customer search) Enter is left
    alone. The button is drawn as the default."""
    button.setDefault(True)
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        shortcut = QShortcut(QKeySequence(key), page)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: _press(button))


def _press(button: QPushButton) -> None:
    if button.isEnabled() and button.isVisible():
        button.click()
