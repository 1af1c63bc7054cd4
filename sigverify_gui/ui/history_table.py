"""The audit trail as a table model: the rows themselves, their cells made only as the
view draws them. A year's trail is tens of thousands of rows; an item object per
cell took about a second to rebuild per 20,000 rows, on every keystroke in a filter.
"""

from __future__ import annotations

from typing import Any

from sigverify_gui.ui.history_query import display_time, event_name, outcome
from sigverify_gui.ui.qt import QAbstractTableModel, QModelIndex, QObject, Qt

COLUMNS = ("Row", "Time", "Event", "Customer", "Score", "Operator", "Decisions")


def cells(row: dict[str, Any]) -> tuple[str, ...]:
    """What the table shows of one audit row, column by column."""
    return (
        str(row["id"]),
        display_time(row["time"]),
        event_name(row["kind"]),
        row.get("customer_id") or "",
        "" if row.get("score") is None else f"{row['score']:.3f}",
        row.get("operator") or "",
        outcome(row),
    )


class AuditTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def text(self, row: int, column: int) -> str:
        return cells(self._rows[row])[column]

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt)
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt)
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # The tooltip shows a cell whole: a long reason is cut short in its column.
        shown = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
        if role not in shown or not index.isValid():
            return None
        if not 0 <= index.row() < len(self._rows):
            return None
        return self.text(index.row(), index.column())

    def headerData(  # noqa: N802 (Qt)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None
