"""The main window's actions: menus, toolbar and a keyboard shortcut for each.

Listed in one place so that the shortcuts can be read (and checked for clashes)
at a glance. Ctrl+V, Ctrl+O and Ctrl+Shift+S are left free for the enrolment and
verification screens (paste, open files, scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sigverify_gui.ui.qt import QAction, QKeySequence, QMessageBox, Qt

if TYPE_CHECKING:
    from sigverify_gui.ui.main_window import MainWindow

ABOUT_TEXT = (
    "<b>sigverify</b><br>Offline signature verification for bank branches.<br><br>"
    "The score says how much a signature looks like the customer's references; "
    "the decision is always the teller's."
)


@dataclass
class WindowActions:
    find: QAction
    new_customer: QAction
    add_references: QAction
    verify: QAction
    history: QAction
    settings: QAction
    quit: QAction
    tabs: list[QAction]
    dark_theme: QAction
    load_demo: QAction
    guide: QAction
    about: QAction

    def all(self) -> list[QAction]:
        return [
            self.find, self.new_customer, self.add_references, self.verify, self.history,
            self.settings, self.quit, *self.tabs, self.dark_theme, self.load_demo,
            self.guide, self.about,
        ]  # fmt: skip


def _action(window, text: str, shortcut, slot, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(
            f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        )
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_actions(window: MainWindow) -> WindowActions:
    from sigverify_gui.ui.main_window import CUSTOMER_TAB, ENROL_TAB, HISTORY_TAB, VERIFY_TAB

    key = QKeySequence.StandardKey
    a = WindowActions(
        find=_action(window, "&Find customer", key.Find, window.focus_search,
                     "Search customers by number or name"),
        new_customer=_action(window, "&New customer…", key.New, window.new_customer,
                             "Enrol a new customer"),
        add_references=_action(window, "&Add references…", "Ctrl+E", window.enrol_for_customer,
                               "Add reference signatures to the selected customer"),
        verify=_action(window, "&Verify signature…", "Ctrl+R", window.verify_customer,
                       "Verify a signature of the selected customer"),
        history=_action(window, "&History", "Ctrl+H", window.show_history,
                        "The audit trail of the selected customer"),
        settings=_action(window, "&Settings…", "Ctrl+,", window.open_settings,
                         "Thresholds, device, store, scanner"),
        quit=_action(window, "&Quit", key.Quit, window.close),
        tabs=[
            _action(window, name, f"Ctrl+{i + 1}", lambda i=index: window.show_tab(i))
            for i, (name, index) in enumerate(
                (("&Customer", CUSTOMER_TAB), ("&Enrol", ENROL_TAB),
                 ("&Verify", VERIFY_TAB), ("&History", HISTORY_TAB))
            )
        ],
        dark_theme=QAction("&Dark theme", window),
        load_demo=_action(window, "Load &demo customers", None, window.load_demo,
                          "Enrol a few synthetic customers to try every screen"),
        guide=_action(window, "&Getting started", key.HelpContents,
                      lambda: _show_guide(window)),
        about=_action(window, "&About sigverify", None, lambda: _about(window)),
    )  # fmt: skip
    a.dark_theme.setCheckable(True)
    a.dark_theme.setShortcut(QKeySequence("Ctrl+Shift+D"))
    a.dark_theme.toggled.connect(window.set_theme)
    window.addAction(a.dark_theme)
    quit_shortcut = QKeySequence(key.Quit)
    if quit_shortcut.isEmpty():  # Windows has no standard Quit key
        a.quit.setShortcut(QKeySequence("Ctrl+Q"))

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(a.settings)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    customer_menu = bar.addMenu("C&ustomer")
    for action in (a.find, a.new_customer, a.add_references, a.verify, a.history):
        customer_menu.addAction(action)
    view_menu = bar.addMenu("&View")
    for action in a.tabs:
        view_menu.addAction(action)
    view_menu.addSeparator()
    view_menu.addAction(a.dark_theme)
    help_menu = bar.addMenu("&Help")
    for action in (a.guide, a.load_demo, a.about):
        help_menu.addAction(action)

    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")  # saveState needs a name
    toolbar.setAccessibleName("Main toolbar")
    for action in (a.find, a.new_customer, a.verify, a.history, a.settings):
        toolbar.addAction(action)
    return a


def _show_guide(window: MainWindow) -> None:
    from sigverify_gui.ui.main_window import CUSTOMER_TAB

    window.customer_page.setCurrentWidget(window.guide)
    window.show_tab(CUSTOMER_TAB)


def _about(window: MainWindow) -> None:
    box = QMessageBox(
        QMessageBox.Icon.Information, "About sigverify", ABOUT_TEXT,
        QMessageBox.StandardButton.Ok, window,
    )  # fmt: skip
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
