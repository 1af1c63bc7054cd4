"""One customer at a glance: who, how many references, and the references themselves.

Also what changes them after enrolment (retire or replace a reference, close or reopen
the account), whose actions live in `customer_actions`.

References are numbered #1..#N, in the order shown here (`reference_numbers`); the
verification result uses the same numbers. The database id is for IT (tooltips).
"""

from __future__ import annotations

from sigverify_gui.services.verify import unverifiable
from sigverify_gui.store import records
from sigverify_gui.store.db import Store
from sigverify_gui.ui.customer_actions import ReferenceActions
from sigverify_gui.ui.qt import (
    QAbstractItemView,
    QDialog,
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
from sigverify_gui.ui.workers import BackgroundTask

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


def reference_numbers(reference_ids) -> dict[int, int]:
    """The number a teller sees for each reference: its position (1..N) among the
    customer's active references in store order, as the customer panel lists them."""
    return {rid: n for n, rid in enumerate(sorted(reference_ids), start=1)}


class CustomerPanel(ReferenceActions, QWidget):
    verify_requested = Signal(str)
    enrol_requested = Signal(str)  # add references to this customer
    store_changed = Signal()  # after a retire, replace, close or reopen from here

    def __init__(self, store: Store, parent: QWidget | None = None, *, context=None) -> None:
        super().__init__(parent)
        self._store = store
        self._context = context
        self._customer_id: str | None = None
        self._status = ""
        self.dialog: QDialog | None = None  # the confirmation or file dialog open now
        self.task: BackgroundTask | None = None
        self.title = QLabel()
        self.title.setWordWrap(True)  # a long name must not widen the window (and squeeze the list)
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
        self.verify_button = QPushButton("Verify a si&gnature…")
        self.verify_button.setAccessibleName("Verify a signature of this customer")
        self.enrol_button = QPushButton("&Add references…")
        self.enrol_button.setAccessibleName("Add reference signatures to this customer")
        self.replace_button = QPushButton("Re&place reference…")
        self.replace_button.setAccessibleName("Replace the selected reference signature")
        self.replace_button.setToolTip("Replace the selected reference with a new capture")
        self.retire_button = QPushButton("Re&tire reference…")
        self.retire_button.setAccessibleName("Retire the selected reference signature")
        self.retire_button.setToolTip("Stop using the selected reference (it stays on record)")
        self.account_button = QPushButton("C&lose account…")
        self.account_button.setToolTip("Supervisor: close this account (no more verifications)")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Last change")

        buttons = QHBoxLayout()
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.enrol_button)
        buttons.addWidget(self.replace_button)
        buttons.addWidget(self.retire_button)
        buttons.addStretch(1)
        buttons.addWidget(self.account_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addWidget(QLabel("Reference signatures:"))
        layout.addWidget(self.thumbnails, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self.verify_button.clicked.connect(self._request_verify)
        self.enrol_button.clicked.connect(self._request_enrol)
        self.replace_button.clicked.connect(self.ask_replace)
        self.retire_button.clicked.connect(self.ask_retire)
        self.account_button.clicked.connect(self.ask_account_change)
        self.thumbnails.itemSelectionChanged.connect(self._update_buttons)
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
        if (customer.customer_id if customer else None) != self._customer_id:
            self.message.clear()  # a message about another customer
        self._customer_id = customer.customer_id if customer else None
        self._status = customer.status if customer else ""
        self.thumbnails.clear()
        closed = customer is not None and customer.status == "closed"
        why_not = unverifiable(customer) if customer else None
        self.verify_button.setEnabled(customer is not None and why_not is None)
        # a closed account keeps its references as they were (the services refuse more)
        self.enrol_button.setEnabled(customer is not None and not closed)
        # With nobody selected the (disabled) button keeps the usual wording.
        self.account_button.setText("Re&open account…" if closed else "C&lose account…")
        self.account_button.setAccessibleName(
            "Reopen this account" if closed else "Close this account"
        )
        self._update_buttons()
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
        if why_not == "closed":
            lines.append("The account is closed: its signatures are not verified.")
        elif why_not == "no_references":
            lines.append("This customer cannot be verified until references are added.")
        self.details.setText("\n".join(lines))
        for number, ref in enumerate(records.references_of(self._store.db, customer.customer_id)):
            image_png, _canvas_png = records.reference_images(self._store.db, ref.id)
            caption = f"#{number + 1}  {ref.captured_at[:10]}"
            item = QListWidgetItem(QIcon(png_thumbnail(image_png)), caption)
            item.setData(Qt.ItemDataRole.UserRole, ref.id)
            item.setToolTip(
                f"Reference #{number + 1} from {ref.source}, captured {ref.captured_at} "
                f"(database id {ref.id})"
            )
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"Reference signature {number + 1}, captured {ref.captured_at[:10]}",
            )
            self.thumbnails.addItem(item)
        self._update_buttons()

    def reference_ids(self) -> list[int]:
        return [
            self.thumbnails.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.thumbnails.count())
        ]

    def selected_reference(self) -> tuple[int, int] | None:
        """(number shown, database id) of the selected reference, if one is."""
        items = self.thumbnails.selectedItems()
        if not items:
            return None
        item = items[0]
        return self.thumbnails.row(item) + 1, item.data(Qt.ItemDataRole.UserRole)

    def select_reference(self, number: int) -> None:
        """Select the reference shown as #number (1-based)."""
        self.thumbnails.setCurrentRow(number - 1)

    def _update_buttons(self) -> None:
        idle = self.task is None
        chosen = self._customer_id is not None and bool(self.thumbnails.selectedItems())
        open_account = self._status != "closed"  # a closed one keeps its references
        self.replace_button.setEnabled(idle and chosen and open_account)
        self.retire_button.setEnabled(idle and chosen and open_account)
        self.account_button.setEnabled(idle and self._customer_id is not None)

    def _request_verify(self) -> None:
        if self._customer_id:
            self.verify_requested.emit(self._customer_id)

    def _request_enrol(self) -> None:
        if self._customer_id:
            self.enrol_requested.emit(self._customer_id)
