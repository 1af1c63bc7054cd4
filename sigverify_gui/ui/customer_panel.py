"""One customer at a glance: who, how many references, and the references themselves."""

from __future__ import annotations

from sigverify_gui.store import records
from sigverify_gui.store.db import Store
from sigverify_gui.ui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QIcon,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPixmap,
    QPushButton,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

THUMBNAIL = QSize(220, 110)


def png_thumbnail(png: bytes, size: QSize = THUMBNAIL) -> QPixmap:
    """A PNG from the store, scaled to fit `size` (never enlarged beyond it)."""
    pixmap = QPixmap()
    pixmap.loadFromData(png, "PNG")
    if pixmap.isNull():
        return pixmap
    return pixmap.scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class CustomerPanel(QWidget):
    verify_requested = Signal(str)
    enrol_requested = Signal(str)  # add references to this customer

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._customer_id: str | None = None
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListView.ViewMode.IconMode)
        self.thumbnails.setIconSize(THUMBNAIL)
        # One cell size for all: signatures of different shapes still line up.
        self.thumbnails.setGridSize(QSize(THUMBNAIL.width() + 16, THUMBNAIL.height() + 36))
        self.thumbnails.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumbnails.setMovement(QListView.Movement.Static)
        self.thumbnails.setSpacing(8)
        self.thumbnails.setWordWrap(True)
        self.thumbnails.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.thumbnails.setAccessibleName("Reference signatures")
        self.verify_button = QPushButton("&Verify a signature…")
        self.verify_button.setAccessibleName("Verify a signature of this customer")
        self.enrol_button = QPushButton("&Add references…")
        self.enrol_button.setAccessibleName("Add reference signatures to this customer")

        buttons = QHBoxLayout()
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.enrol_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addWidget(QLabel("Reference signatures:"))
        layout.addWidget(self.thumbnails, 1)
        layout.addLayout(buttons)

        self.verify_button.clicked.connect(self._request_verify)
        self.enrol_button.clicked.connect(self._request_enrol)
        self.set_customer(None)

    @property
    def customer_id(self) -> str | None:
        return self._customer_id

    def set_store(self, store: Store) -> None:
        self._store = store
        self.set_customer(None)

    def refresh(self) -> None:
        self.set_customer(self._customer_id)

    def set_customer(self, customer_id: str | None) -> None:
        customer = records.get_customer(self._store.db, customer_id) if customer_id else None
        self._customer_id = customer.customer_id if customer else None
        self.thumbnails.clear()
        self.verify_button.setEnabled(bool(customer and customer.active_references))
        self.enrol_button.setEnabled(customer is not None)
        if customer is None:
            self.title.setText("No customer selected")
            self.details.setText("Search for a customer on the left, or enrol a new one.")
            return
        self.title.setText(customer.customer_id + (f" — {customer.name}" if customer.name else ""))
        created = customer.created[:10]
        lines = [
            f"Status: {customer.status}  ·  enrolled {created}  ·  "
            f"{customer.active_references} active reference signature(s)"
        ]
        if customer.notes:
            lines.append(customer.notes)
        if customer.active_references == 0:
            lines.append("This customer cannot be verified until references are added.")
        self.details.setText("\n".join(lines))
        for number, ref in enumerate(records.references_of(self._store.db, customer.customer_id)):
            image_png, _canvas_png = records.reference_images(self._store.db, ref.id)
            caption = f"#{number + 1}  {ref.captured_at[:10]}"
            item = QListWidgetItem(QIcon(png_thumbnail(image_png)), caption)
            item.setData(Qt.ItemDataRole.UserRole, ref.id)
            item.setToolTip(f"Reference {ref.id} from {ref.source}, captured {ref.captured_at}")
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"Reference signature {number + 1}, captured {ref.captured_at[:10]}",
            )
            self.thumbnails.addItem(item)

    def reference_ids(self) -> list[int]:
        return [
            self.thumbnails.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.thumbnails.count())
        ]

    def _request_verify(self) -> None:
        if self._customer_id:
            self.verify_requested.emit(self._customer_id)

    def _request_enrol(self) -> None:
        if self._customer_id:
            self.enrol_requested.emit(self._customer_id)
