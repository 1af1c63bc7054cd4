"""Strips of signature thumbnails: a customer's references, an enrolment's captures.

Each thumbnail is kept under a key the caller chooses (a reference id, a capture
number) and can carry a status, shown as a coloured frame *and* a symbol in its
caption, so that it does not depend on seeing colour.
"""

from __future__ import annotations

from collections.abc import Hashable

import cv2
import numpy as np

from sigverify_gui.ui.qt import (
    QColor,
    QFont,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPainter,
    QPen,
    QPixmap,
    QSize,
    Qt,
    QtGui,
    QtWidgets,
    Signal,
)
from sigverify_gui.ui.signature_view import image_pixmap

STATUS_STYLES: dict[str, tuple[str, str]] = {
    "ok": ("#009E73", "✓"),
    "problem": ("#D55E00", "✗"),
    "warning": ("#E69F00", "!"),
    "selected": ("#0072B2", "★"),
}

THUMB_SIZE = QSize(168, 84)


def thumbnail_pixmap(
    image: np.ndarray, size: QSize = THUMB_SIZE, frame: str | None = None, dpr: float = 1.0
) -> QPixmap:
    """The image reduced into `size` (logical pixels) on white paper, with an optional
    coloured frame; drawn at `dpr` device pixels per logical one, sharp on high-DPI."""
    arr = np.asarray(image)
    h, w = arr.shape[:2]
    width, height = round(size.width() * dpr), round(size.height() * dpr)
    border = round(4 * dpr)
    scale = min((width - 2 * border) / w, (height - 2 * border) / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(arr, (nw, nh), interpolation=interp)
    out = QPixmap(width, height)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.drawPixmap((width - nw) // 2, (height - nh) // 2, image_pixmap(small))
    if frame is not None:
        pen_width = max(1, round(3 * dpr))
        painter.setPen(QPen(QColor(frame), pen_width))
        half = pen_width // 2
        painter.drawRect(half, half, width - pen_width, height - pen_width)
    painter.end()
    out.setDevicePixelRatio(dpr)
    return out


class ThumbnailStrip(QListWidget):
    """A horizontal strip of signature thumbnails, each under a key the caller chooses."""

    current_key_changed = Signal(object)  # the key, or None when nothing is selected

    def __init__(self, parent=None, thumb_size: QSize = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._thumb_size = thumb_size
        self._images: dict[Hashable, np.ndarray] = {}
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(thumb_size)
        self.setSpacing(2)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the tooltip has it all
        # Room for the thumbnail and one line of caption; the strip scrolls sideways.
        self._item_size = QSize(
            thumb_size.width() + 16, thumb_size.height() + self.fontMetrics().height() + 12
        )
        self.setGridSize(self._item_size)
        scrollbar = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setFixedHeight(self._item_size.height() + scrollbar + 2 * self.frameWidth() + 4)
        self.currentItemChanged.connect(self._on_current_changed)

    def add(self, key: Hashable, image: np.ndarray, caption: str, tooltip: str = "") -> None:
        item = QListWidgetItem(caption)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setIcon(self._icon(image))
        item.setToolTip(tooltip or caption)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        item.setSizeHint(self._item_size)
        self._images[key] = np.asarray(image)
        self.addItem(item)

    def _icon(self, image: np.ndarray, frame: str | None = None) -> QtGui.QIcon:
        pixmap = thumbnail_pixmap(image, self._thumb_size, frame, self.devicePixelRatioF())
        return QtGui.QIcon(pixmap)

    def keys(self) -> list[Hashable]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def _item(self, key: Hashable) -> QListWidgetItem | None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == key:
                return self.item(i)
        return None

    def caption(self, key: Hashable) -> str:
        item = self._item(key)
        return item.text() if item is not None else ""

    def set_status(
        self, key: Hashable, status: str | None, caption: str, tooltip: str = ""
    ) -> None:
        """Frame the thumbnail in the status's colour and prefix its symbol to `caption`."""
        item = self._item(key)
        if item is None:
            return
        colour, symbol = STATUS_STYLES.get(status or "", (None, ""))
        image = self._images[key]
        item.setIcon(self._icon(image, colour))
        item.setText(f"{symbol} {caption}".strip())
        item.setToolTip(tooltip or caption)
        font = QFont(self.font())
        font.setBold(status in ("problem", "warning"))
        item.setFont(font)

    def remove(self, key: Hashable) -> None:
        item = self._item(key)
        if item is not None:
            self.takeItem(self.row(item))
            self._images.pop(key, None)

    def clear(self) -> None:  # also forget the images
        super().clear()
        self._images.clear()

    def current_key(self) -> Hashable | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, key: Hashable) -> None:
        item = self._item(key)
        if item is not None:
            self.setCurrentItem(item)

    def _on_current_changed(self, current, _previous) -> None:
        self.current_key_changed.emit(
            current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        )
