"""The history screen: the audit trail, filtered, exported, and its integrity checked.

Reading the trail and walking its hash chain read every row (the chain check reads
every questioned image too), so both run in workers; the filters then work on the
rows in memory and apply as one types. Rows are only ever appended, so when the store
changes (each verification does) only the new rows are read; a branch's trail grows
by tens of thousands of rows a year. Refresh, or another store, reads it all again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sigverify_gui.store import audit
from sigverify_gui.ui import errors
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.history_query import HistoryFilter, filter_rows, with_local_days, write_csv
from sigverify_gui.ui.history_table import COLUMNS, AuditTableModel
from sigverify_gui.ui.palette import status_style
from sigverify_gui.ui.qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDate,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from sigverify_gui.ui.workers import run_in_background

DECISION_CHOICES = (
    ("All decisions", ""),
    ("Accepted", "accept"),
    ("Referred", "refer"),
    ("Rejected", "reject"),
    ("Teller overrode the system", "override"),
    ("No teller's decision recorded", "undecided"),
)


class HistoryView(QWidget):
    loaded = Signal()  # rows (re)read from the store
    integrity_checked = Signal(object)  # the ChainReport

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._rows: list[dict[str, Any]] = []
        self.shown_rows: list[dict[str, Any]] = []
        self._stale = True
        self._rows_from: object = None  # the store `_rows` were read from
        self._reading = 0  # the latest reading; an older one's rows arrive too late
        self._integrity: tuple = (None, None)  # the last ChainReport, of which store
        self._build()
        context.store_changed.connect(self._on_store_changed)

    def _build(self) -> None:
        self.customer = QLineEdit()
        self.customer.setPlaceholderText("Customer number")
        self.customer.setAccessibleName("Filter by customer")
        self.use_from, self.date_from = self._date_filter("From", "Filter from date")
        self.use_to, self.date_to = self._date_filter("To", "Filter to date")
        # In a narrow window the field keeps room for a customer number (it had shrunk
        # to three characters) and the list of decisions gives way: its popup still
        # shows the whole of each choice.
        self.customer.setMinimumWidth(self.customer.fontMetrics().horizontalAdvance("M" * 9))
        self.decision = QComboBox()
        self.decision.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.decision.setMinimumContentsLength(10)
        self.decision.setAccessibleName("Filter by decision")
        for label, value in DECISION_CHOICES:
            self.decision.addItem(label, value)
        self.refresh_button = QPushButton("&Refresh")
        self.export_button = QPushButton("E&xport CSV…")
        self.export_button.setAccessibleName("Export the rows shown to a CSV file")
        self.check_button = QPushButton("&Check integrity")
        self.integrity = QLabel("Integrity: not checked yet")
        self.integrity.setAccessibleName("Audit trail integrity")
        self.integrity.setWordWrap(True)  # a narrow window cut it mid-word, under the count
        self.count = QLabel()

        filters = QHBoxLayout()
        filters.addWidget(self.customer, 2)
        for widget in (self.use_from, self.date_from, self.use_to, self.date_to):
            filters.addWidget(widget)
        filters.addWidget(self.decision, 1)
        filters.addWidget(self.refresh_button)
        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Audit trail")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        # Tab leaves the table (arrow keys move within it): otherwise it walks every
        # cell and the buttons below are out of a keyboard user's reach.
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # the decisions and reasons take the rest
        header.setResizeContentsPrecision(200)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        footer = QHBoxLayout()
        footer.addWidget(self.integrity, 1)
        footer.addWidget(self.count)
        footer.addWidget(self.check_button)
        footer.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

        self.customer.textChanged.connect(self.apply_filter)
        self.decision.currentIndexChanged.connect(self.apply_filter)
        for check, edit in ((self.use_from, self.date_from), (self.use_to, self.date_to)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.apply_filter)
            edit.dateChanged.connect(self.apply_filter)
        self.refresh_button.clicked.connect(lambda: self.refresh(everything=True))
        self.export_button.clicked.connect(self.export)
        self.check_button.clicked.connect(self.check_integrity)

    @staticmethod
    def _date_filter(text: str, name: str) -> tuple[QCheckBox, QDateEdit]:
        check = QCheckBox(text)
        check.setAccessibleName(f"Use the '{text.lower()}' date")
        edit = QDateEdit(QDate.currentDate())
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        edit.setEnabled(False)
        return check, edit

    # --- reading -------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_store_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self, everything: bool = False):
        """Read the rows appended since the last reading (all of them when `everything`,
        or from another store) in a worker; `loaded` is emitted when the table is filled."""
        self._stale = False
        store = self.context.store
        since = None  # the newest row read: rows are newest first
        if not everything and self._rows_from is store and self._rows:
            since = self._rows[0]["id"]
        self._reading += 1
        reading = self._reading
        return run_in_background(
            lambda progress: with_local_days(audit.list_rows(store.db, after_id=since)),
            progress=False,
            on_done=lambda rows: self._on_rows(rows, store, since, reading),
            label="Reading the history…",
            parent=self,
        )

    def _on_rows(
        self, rows: list[dict[str, Any]], store: object, since: int | None, reading: int
    ) -> None:
        if reading != self._reading:
            return  # a later reading is under way and reads these rows too
        self._rows = rows + self._rows if since is not None else rows
        self._rows_from = store
        self._keep_integrity_current()
        # Sized once per reading, to the newest rows (the header's resizeContentsPrecision
        # rows, not all): columns that jumped as one types would be harder to read. The
        # newest of all rows, not of those the filter shows: read with one customer's
        # filter, the others' numbers were cut to "DEMO-1…" once it was cleared.
        self.model.set_rows(self._rows)
        for column in range(len(COLUMNS) - 1):  # the last one stretches
            self.table.resizeColumnToContents(column)
        self.apply_filter()
        self.loaded.emit()

    # --- filtering -----------------------------------------------------------------------
    def current_filter(self) -> HistoryFilter:
        return HistoryFilter(
            customer=self.customer.text().strip(),
            date_from=self.date_from.date().toPython() if self.use_from.isChecked() else None,
            date_to=self.date_to.date().toPython() if self.use_to.isChecked() else None,
            decision=self.decision.currentData() or "",
        )

    def apply_filter(self, *_args: object) -> None:
        self.shown_rows = filter_rows(self._rows, self.current_filter())
        self.model.set_rows(self.shown_rows)
        self.count.setText(f"{len(self.shown_rows)} of {len(self._rows)} rows")

    def set_customer(self, customer_id: str | None) -> None:
        """Show one customer's history (None: everyone's)."""
        self.customer.setText(customer_id or "")

    # --- export and integrity ----------------------------------------------------------------
    def ask_export_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export history", "sigverify-history.csv", "CSV files (*.csv)"
        )
        return Path(name) if name else None

    def export(self) -> int | None:
        """Write the rows shown to a CSV file the teller picks; returns the count."""
        path = self.ask_export_path()
        if path is None:
            return None
        try:
            count = write_csv(self.shown_rows, path)
        except OSError as err:
            errors.show_error(self, err)
            return None
        self.count.setText(f"{len(self.shown_rows)} of {len(self._rows)} rows — exported")
        return count

    def check_integrity(self):
        self.integrity.setText("Integrity: checking…")
        self.check_button.setEnabled(False)
        store = self.context.store
        return run_in_background(
            lambda progress: audit.verify_chain(store.db, progress=progress),
            label="Checking the audit trail…",
            on_done=lambda report: self._on_integrity(report, store),
            on_error=self._on_integrity_failed,
            on_cancel=self._on_integrity_cancelled,
            parent=self,
        )

    def _keep_integrity_current(self) -> None:
        """An integrity result speaks of the rows it checked, in the store it checked:
        another store's trail is unchecked, and rows added since are said to be."""
        report, store = self._integrity
        if report is None:
            return
        if store is not self.context.store:
            self._integrity = (None, None)
            self._show_integrity("Integrity: not checked yet", "")
            self.integrity.setToolTip("")
            return
        newer = len(self._rows) - report.rows_checked if self._rows_from is store else 0
        if report.ok and newer > 0:  # a broken chain stays broken whatever follows it
            self._show_integrity(
                f"Integrity: intact up to the check ({report.rows_checked} rows); "
                f"{newer} newer {'row' if newer == 1 else 'rows'} not checked yet",
                "",
            )

    def _show_integrity(self, text: str, style: str) -> None:
        self.integrity.setText(text)
        self.integrity.setStyleSheet(style)

    def _on_integrity(self, report: audit.ChainReport, store: object) -> None:
        self.check_button.setEnabled(True)
        if store is not self.context.store:  # the teller moved to another store meanwhile
            self._show_integrity("Integrity: not checked yet", "")
            return
        self._integrity = (report, store)
        if report.ok:
            self._show_integrity(
                f"✓ Integrity: intact ({report.rows_checked} rows checked)",
                status_style("ok", bold=True),
            )
            # for IT, who keep the head elsewhere (`sigverify audit verify --anchor`)
            self.integrity.setToolTip(f"Head of the chain: {report.head}" if report.head else "")
        else:
            self._show_integrity(
                f"✗ Integrity: BROKEN at row {report.broken_at}: {report.problem}. "
                "Tell IT; keep a copy of the store.",
                status_style("problem", bold=True),
            )
        self._keep_integrity_current()  # rows read while the check ran
        self.integrity_checked.emit(report)

    def _on_integrity_cancelled(self) -> None:
        # Part of the trail was checked: no verdict, not even the last check's, which
        # the label no longer showed once this one started.
        self._forget_integrity("Integrity: not checked (the check was cancelled)")

    def _on_integrity_failed(self, err: BaseException) -> None:
        self._forget_integrity("Integrity: could not be checked")
        errors.show_error(self, err)

    def _forget_integrity(self, text: str) -> None:
        self.check_button.setEnabled(True)
        self._integrity = (None, None)
        self._show_integrity(text, "")
        self.integrity.setToolTip("")  # the head of a chain no longer reported
