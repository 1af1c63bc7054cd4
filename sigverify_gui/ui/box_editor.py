"""A page with one editable box on it: drag inside to move, drag an edge or corner to
resize, drag outside to draw a new one. Used for the signature zone on a cheque and
the crop of a scanner preview.

The box is kept in image pixels, whatever the zoom; everything outside it is dimmed,
so the part that will be used stands out.
"""

from __future__ import annotations

import numpy as np

from sigverify_gui.ui.qt import (
    QColor,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QPainter,
    QPainterPath,
    QPen,
    QPointF,
    QRectF,
    Qt,
    QtWidgets,
    Signal,
)
from sigverify_gui.ui.signature_view import image_pixmap

Box = tuple[int, int, int, int]  # x, y, w, h in image pixels
GRAB_PX = 7  # how close (screen pixels) to an edge a press grabs it
MIN_SIDE = 4  # image pixels; a smaller box is a slip of the mouse


def clamp_box(box: Box, width: int, height: int) -> Box:
    """`box` moved and shrunk as little as needed to lie within a width x height image."""
    x, y, w, h = (int(round(v)) for v in box)
    w = max(1, min(w, width))
    h = max(1, min(h, height))
    x = max(0, min(x, width - w))
    y = max(0, min(y, height - h))
    return x, y, w, h


class BoxEditor(QGraphicsView):
    box_changed = Signal(object)  # Box or None

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self._shade = QtWidgets.QGraphicsPathItem()
        self._shade.setBrush(QColor(0, 0, 0, 90))
        self._shade.setPen(Qt.PenStyle.NoPen)
        self.scene().addItem(self._shade)
        self._rect = QGraphicsRectItem()
        pen = QPen(QColor("#0072B2"), 3)
        pen.setCosmetic(True)  # the same width at every zoom
        self._rect.setPen(pen)
        self.scene().addItem(self._rect)
        self._size = (0, 0)
        self._box: Box | None = None
        self._drag: tuple[str, QPointF, Box | None] | None = None  # mode, start, box then
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QColor("#606060"))
        self.setMinimumSize(300, 200)

    # --- content ---------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None) -> None:
        if image is None:
            self._pixmap.setPixmap(image_pixmap(np.full((1, 1), 255, np.uint8)))
            self._size = (1, 1)
        else:
            self._pixmap.setPixmap(image_pixmap(image))
            self._size = (int(image.shape[1]), int(image.shape[0]))
        self.scene().setSceneRect(QRectF(0, 0, *self._size))
        self.set_box(None)
        self.fit()

    def image_size(self) -> tuple[int, int]:
        return self._size

    def box(self) -> Box | None:
        return self._box

    def set_box(self, box: Box | None) -> None:
        new = None if box is None else clamp_box(box, *self._size)
        if new == self._box:
            return
        self._box = new
        self._redraw()
        self.box_changed.emit(new)

    def fit(self) -> None:
        if self._size[0] > 0:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit()

    def _redraw(self) -> None:
        whole = QPainterPath()
        whole.addRect(self.scene().sceneRect())
        if self._box is None:
            self._rect.setVisible(False)
            self._shade.setPath(QPainterPath())
            return
        rect = QRectF(*self._box)
        hole = QPainterPath()
        hole.addRect(rect)
        self._shade.setPath(whole.subtracted(hole))
        self._rect.setRect(rect)
        self._rect.setVisible(True)

    # --- mouse -----------------------------------------------------------------------
    def _grab_zone(self, pos: QPointF) -> str:
        """Which part of the box a press at scene `pos` takes: edges ("l", "tr", ...),
        "move" inside, "new" outside."""
        if self._box is None:
            return "new"
        x, y, w, h = self._box
        tol = GRAB_PX / max(self.transform().m11(), 1e-6)
        near = {
            "l": abs(pos.x() - x) <= tol,
            "r": abs(pos.x() - (x + w)) <= tol,
            "t": abs(pos.y() - y) <= tol,
            "b": abs(pos.y() - (y + h)) <= tol,
        }
        within_x = x - tol <= pos.x() <= x + w + tol
        within_y = y - tol <= pos.y() <= y + h + tol
        zone = ""
        if within_y:
            zone += "l" if near["l"] else "r" if near["r"] else ""
        if within_x:
            zone += "t" if near["t"] else "b" if near["b"] else ""
        if zone:
            return zone
        if x < pos.x() < x + w and y < pos.y() < y + h:
            return "move"
        return "new"

    _CURSORS = {
        "move": Qt.CursorShape.SizeAllCursor,
        "l": Qt.CursorShape.SizeHorCursor,
        "r": Qt.CursorShape.SizeHorCursor,
        "t": Qt.CursorShape.SizeVerCursor,
        "b": Qt.CursorShape.SizeVerCursor,
        "lt": Qt.CursorShape.SizeFDiagCursor,
        "rb": Qt.CursorShape.SizeFDiagCursor,
        "lb": Qt.CursorShape.SizeBDiagCursor,
        "rt": Qt.CursorShape.SizeBDiagCursor,
        "new": Qt.CursorShape.CrossCursor,
    }

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = self.mapToScene(event.position().toPoint())
        self._drag = (self._grab_zone(pos), pos, self._box)
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = self.mapToScene(event.position().toPoint())
        if self._drag is None:
            self.viewport().setCursor(self._CURSORS[self._grab_zone(pos)])
            return
        mode, start, before = self._drag
        self.set_box(self._dragged(mode, start, pos, before))
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            mode, start, before = self._drag
            self._drag = None
            box = self._dragged(mode, start, self.mapToScene(event.position().toPoint()), before)
            if box is None or min(box[2], box[3]) < MIN_SIDE:
                box = before  # a click, not a drag: keep what was there
            self.set_box(box)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _dragged(self, mode: str, start: QPointF, pos: QPointF, before: Box | None) -> Box | None:
        width, height = self._size
        px = min(max(pos.x(), 0.0), float(width))
        py = min(max(pos.y(), 0.0), float(height))
        if mode == "new" or before is None:
            x0, x1 = sorted((min(max(start.x(), 0.0), width), px))
            y0, y1 = sorted((min(max(start.y(), 0.0), height), py))
            return (round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)))
        x, y, w, h = before
        if mode == "move":
            return clamp_box(
                (x + pos.x() - start.x(), y + pos.y() - start.y(), w, h), width, height
            )
        left, top, right, bottom = float(x), float(y), float(x + w), float(y + h)
        if "l" in mode:
            left = min(px, right - MIN_SIDE)
        if "r" in mode:
            right = max(px, left + MIN_SIDE)
        if "t" in mode:
            top = min(py, bottom - MIN_SIDE)
        if "b" in mode:
            bottom = max(py, top + MIN_SIDE)
        return (round(left), round(top), round(right - left), round(bottom - top))
