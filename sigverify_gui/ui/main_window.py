"""The main window: customer search on the left, the work on the right.

Right-hand tabs: the selected customer (or the getting-started guide while the
store is empty), enrolment, verification and the history. The window connects the
parts and owns the menus; what each part does lives in its own module.
"""

from __future__ import annotations

import logging

from sigverify_gui.ui import palette, workers
from sigverify_gui.ui.actions import build_actions
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.customer_list import CustomerList
from sigverify_gui.ui.customer_panel import CustomerPanel
from sigverify_gui.ui.demo import load_demo_customers
from sigverify_gui.ui.enrol_view import EnrolmentView
from sigverify_gui.ui.guide import GuideView
from sigverify_gui.ui.history_view import HistoryView
from sigverify_gui.ui.qt import (
    QMainWindow,
    QSplitter,
    QStackedWidget,
    Qt,
    QTabWidget,
    QWidget,
)
from sigverify_gui.ui.settings import qsettings
from sigverify_gui.ui.settings_dialog import SettingsDialog
from sigverify_gui.ui.status import StatusFields
from sigverify_gui.ui.verify_view import VerificationView
from sigverify_gui.ui.window_fit import size_window

log = logging.getLogger("sigverify.ui.main")

CUSTOMER_TAB, ENROL_TAB, VERIFY_TAB, HISTORY_TAB = range(4)


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        context.dialog_parent = self
        self.setWindowTitle("sigverify — signature verification")
        self.setAccessibleName("sigverify main window")
        self.demo_task: workers.BackgroundTask | None = None
        self.settings_dialog: SettingsDialog | None = None

        self.customers = CustomerList(context.store)
        self.panel = CustomerPanel(context.store, context=context)
        self.guide = GuideView()
        self.customer_page = QStackedWidget()
        self.customer_page.addWidget(self.guide)
        self.customer_page.addWidget(self.panel)
        self.enrolment = EnrolmentView(context)
        self.verification = VerificationView(context)
        self.history = HistoryView(context)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Work area")
        # Alt letters chosen so that none is used twice on any page, with the menus
        # (F, U, V, H) and the pages' own buttons (tests/ui/test_shell_window.py).
        self.tabs.addTab(self.customer_page, "Custo&mer")
        self.tabs.addTab(self.enrolment, "&Enrol")  # each page scrolls its own body
        self.tabs.addTab(self.verification, "Ver&ify")
        self.tabs.addTab(self.history, "Hi&story")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.customers)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 900])
        self.setCentralWidget(self.splitter)
        self.status = StatusFields(context, self.statusBar())
        self.actions = build_actions(self)
        self.setTabOrder(self.customers.search, self.customers.view)
        self.setTabOrder(self.customers.view, self.tabs)

        self.customers.customer_selected.connect(self.show_customer)
        self.panel.verify_requested.connect(self.verify_customer)
        self.panel.enrol_requested.connect(self.enrol_for_customer)
        self.guide.load_demo_requested.connect(self.load_demo)
        self.guide.enrol_requested.connect(self.new_customer)
        context.store_changed.connect(self.refresh)
        context.store_replaced.connect(self._on_store_replaced)
        context.verifier_loading.connect(self._show_model_state)
        context.verifier_ready.connect(self._show_model_state)
        context.verifier_failed.connect(self._show_model_state)
        self.enrolment.customer_enrolled.connect(self.select_customer)

        self.restore_window_state()
        self.refresh()

    # --- what is shown -------------------------------------------------------------------
    def refresh(self) -> None:
        self.customers.refresh()
        self.panel.refresh()
        # The Enrol and Verify pages show the customer as the store now has them: an
        # account closed (here or at another workstation) or its last reference
        # retired stops a verification before it is attempted, and recorded as failed.
        if self.enrolment.customer_id is not None:  # (a new customer's page has its result)
            self.enrolment.set_customer(self.enrolment.customer_id)
        self.verification.set_customer(self.verification.customer_id)
        self._show_customer_page()

    def _show_customer_page(self) -> None:
        empty = self.customers.total == 0
        self.guide.set_store_empty(empty)
        self.actions.load_demo.setEnabled(empty)  # never made-up people beside real ones
        self.customer_page.setCurrentWidget(self.guide if empty else self.panel)

    def show_customer(self, customer_id: str | None) -> None:
        self.panel.set_customer(customer_id)
        self.enrolment.set_customer(customer_id)
        self.verification.set_customer(customer_id)
        self._show_customer_page()

    def select_customer(self, customer_id: str) -> None:
        self.customers.refresh()
        self.customers.search.clear()
        self.customers.select(customer_id)

    def _on_store_replaced(self) -> None:
        self.customers.set_store(self.context.store)
        self.panel.set_store(self.context.store)
        self.verification.store_replaced()
        self.show_customer(None)

    def _show_model_state(self, *_args: object) -> None:
        if self.context.is_loading:
            self.statusBar().showMessage("Loading the signature model…")
        elif self.context.load_error is not None:  # until Settings loads it again
            self.statusBar().showMessage(
                "The signature model could not be loaded; see Settings (device) or ask IT."
            )
        else:
            self.statusBar().showMessage("The signature model is ready.", 4000)

    # --- actions -------------------------------------------------------------------------
    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def focus_search(self) -> None:
        self.customers.focus_search()

    # Each of these moves focus where the teller goes next (the shortcut's point).
    def new_customer(self) -> None:
        self.enrolment.set_customer(None)
        self.show_tab(ENROL_TAB)
        self.enrolment.take_focus()

    def enrol_for_customer(self, customer_id: str | None = None) -> None:
        self.enrolment.set_customer(customer_id or self.customers.selected_customer())
        self.show_tab(ENROL_TAB)
        self.enrolment.take_focus()

    def verify_customer(self, customer_id: str | None = None) -> None:
        self.verification.set_customer(customer_id or self.customers.selected_customer())
        self.show_tab(VERIFY_TAB)
        self.verification.take_focus()

    def show_history(self) -> None:
        self.history.set_customer(self.customers.selected_customer())
        self.show_tab(HISTORY_TAB)

    def open_settings(self) -> SettingsDialog:
        """Non-blocking (`open`, not `exec`): the window keeps painting meanwhile."""
        if self.settings_dialog is not None:
            if self.settings_dialog.isVisible():  # already open: bring it forward
                self.settings_dialog.raise_()
                self.settings_dialog.activateWindow()
                return self.settings_dialog
            self.settings_dialog.deleteLater()  # the last one, closed: not kept all day
        self.settings_dialog = SettingsDialog(self.context, self)
        self.settings_dialog.open()
        return self.settings_dialog

    def set_theme(self, dark: bool) -> None:
        theme = "dark" if dark else "light"
        palette.apply_theme(theme)
        if self.context.settings.theme != theme:
            new = self.context.settings.with_changes(theme=theme)
            self.context.apply_settings(new, validate=False)

    def load_demo(self) -> None:
        """Enrol the demo customers in a worker, once the model is ready."""
        if self.demo_task is not None:
            return
        self.guide.set_busy(True)
        if self.context.verifier is None:  # else the status is the task's progress
            self.statusBar().showMessage("Demo customers will load once the model is ready…")
        self.context.when_ready(self._start_demo, on_failed=self._demo_not_started)

    def _demo_not_started(self, _err: BaseException) -> None:
        # The status bar already says the model could not be loaded; the button is
        # offered again, for after Settings (or IT) has put that right.
        self.guide.set_busy(False)

    def _start_demo(self, verifier) -> None:
        self.statusBar().showMessage("Enrolling the demo customers…")
        store, operator = self.context.store, self.context.operator
        self.demo_task = workers.run_in_background(
            lambda progress: load_demo_customers(
                store, verifier, operator=operator, progress=progress
            ),
            label="Enrolling the demo customers…",
            on_done=self._demo_loaded,
            parent=self,
        )
        self.demo_task.finished.connect(self._demo_finished)

    def _demo_loaded(self, report) -> None:
        self.context.notify_store_changed()
        if report.enrolled:
            self.select_customer(report.enrolled[0])
            self.show_tab(CUSTOMER_TAB)
        self.statusBar().showMessage(f"{len(report.enrolled)} demo customer(s) enrolled.", 6000)

    def _demo_finished(self) -> None:
        self.demo_task = None
        self.guide.set_busy(False)

    # --- window state --------------------------------------------------------------------
    def restore_window_state(self) -> None:
        q = qsettings()
        size_window(self, q.value("window/geometry"))
        splitter = q.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        palette.apply_theme(self.context.settings.theme)
        self.actions.dark_theme.setChecked(self.context.settings.theme == "dark")

    def save_window_state(self) -> None:
        q = qsettings()
        q.setValue("window/geometry", self.saveGeometry())
        q.setValue("window/splitter", self.splitter.saveState())
        q.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.save_window_state()
        workers.cancel_all_and_wait(5000)
        super().closeEvent(event)
