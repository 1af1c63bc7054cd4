"""The customer search: a filter box over the list of enrolled customers.

Filtering happens in a proxy model as one types (number or name, any part, any
case), so it is instant for the thousands of customers a branch has; the list is
read from the store again only when its customers or their references changed (the
store's change counter moved; every verification changes only the audit trail), and
shown again only when the customers themselves did.
The list model holds the customers themselves and makes each row's text only when
the view draws it: one item object per customer took seconds to rebuild for a
branch of 20,000.
"""

from __future__ import annotations

import unicodedata

from sigverify_gui.store import records
from sigverify_gui.store.db import Store
from sigverify_gui.ui.qt import (
    QAbstractItemView,
    QAbstractListModel,
    QLabel,
    QLineEdit,
    QListView,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class CustomerFilter(QSortFilterProxyModel):
    """Keeps rows whose number or name contains every word typed, ignoring case and
    accents (`search_form`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []

    def set_query(self, text: str) -> None:
        words = search_form(text).split()
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            self._words = words
            self.endFilterChange()
        else:
            self._words = words
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 (Qt)
        if not self._words:
            return True
        haystack = self.sourceModel().search_text(row)
        return all(word in haystack for word in self._words)


def search_form(text: str) -> str:
    """Text as search compares it: without case or accents, full-width forms plain, so
    that "chloe" finds "Chloé" and "angstrom" finds "Ångström" whatever the keyboard."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def customer_label(customer: records.Customer) -> str:
    label = customer.customer_id + (f"  —  {customer.name}" if customer.name else "")
    if customer.status != "active":
        label += f"  ({customer.status})"
    return label


class CustomerListModel(QAbstractListModel):
    """The store's customers, in the store's order; text is made as rows are drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._customers: list[records.Customer] = []
        self._search: list[str] = []
        self._row_of: dict[str, int] = {}

    def set_customers(self, customers: list[records.Customer]) -> bool:
        """Show these customers; False (and nothing redrawn) when they are the ones shown."""
        if customers == self._customers:
            return False
        self.beginResetModel()
        self._customers = customers
        self._search = [search_form(f"{c.customer_id} {c.name}") for c in customers]
        self._row_of = {c.customer_id: row for row, c in enumerate(customers)}
        self.endResetModel()
        return True

    def search_text(self, row: int) -> str:
        return self._search[row]

    def row_of(self, customer_id: str) -> int | None:
        return self._row_of.get(customer_id)

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt)
        return 0 if parent is not None and parent.isValid() else len(self._customers)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._customers):
            return None
        customer = self._customers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return customer_label(customer)
        if role == ID_ROLE:
            return customer.customer_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{customer.active_references} active reference signature(s)"
        return None


class CustomerList(QWidget):
    """Search box and list; emits the selected customer's number (None: no selection)."""

    customer_selected = Signal(object)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._read_at: int | None = None  # the store's change counter when last read
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by number or name  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Customer search")
        self.model = CustomerListModel(self)
        self.proxy = CustomerFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAccessibleName("Customers")
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Number of customers shown")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.setTabOrder(self.search, self.view)

        self.search.textChanged.connect(self._on_query)
        self.search.returnPressed.connect(self._select_first_if_none)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.refresh()

    # --- data ----------------------------------------------------------------------------
    def set_store(self, store: Store) -> None:
        self._store = store
        self._read_at = None
        self.refresh()

    def refresh(self) -> None:
        """Reload the customers, keeping the selection when that customer still exists.

        Every verification and teller's decision changes the store, but only its audit
        trail: the customers are read again only when the store's change counter
        (raised by every change to customers or references) has moved, for reading
        them all takes a tenth of a second or more in a large branch.
        `customer_selected` is emitted only when the selection really changed: the
        screens reset themselves on a new customer, and a reload after a save must
        not look like one.
        """
        generation = self._store.generation()
        if generation == self._read_at:
            return
        keep = self.selected_customer()
        customers = records.list_customers(self._store.db)
        self._read_at = generation
        selection = self.view.selectionModel()
        selection.blockSignals(True)
        try:
            if self.model.set_customers(customers) and keep is not None:
                self.select(keep)
        finally:
            selection.blockSignals(False)
        self._update_count()
        if self.selected_customer() != keep:
            self.customer_selected.emit(self.selected_customer())

    def customer_ids(self) -> list[str]:
        """The numbers shown, in order (after filtering)."""
        return [self.proxy.index(r, 0).data(ID_ROLE) for r in range(self.proxy.rowCount())]

    @property
    def total(self) -> int:
        return self.model.rowCount()

    # --- selection -----------------------------------------------------------------------
    def selected_customer(self) -> str | None:
        index = self.view.currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def select(self, customer_id: str) -> bool:
        """Select a customer shown (not one the search hides); False if not shown."""
        row = self.model.row_of(customer_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        return True

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _select_first_if_none(self) -> None:
        if self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.view.setFocus()

    def _on_query(self, text: str) -> None:
        self.proxy.set_query(text)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(
            f"{total} customer(s)" if shown == total else f"{shown} of {total} customer(s)"
        )

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.customer_selected.emit(current.data(ID_ROLE) if current.isValid() else None)
