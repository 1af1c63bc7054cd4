"""Showing signature images: zoomable views that share one scale.

Comparing a questioned signature with a reference only works when both are shown at
the same scale: a forger's signature is often larger or smaller than the genuine one,
and independent "fit to window" scaling would hide exactly that. `SharedScale` is the
one zoom factor that a group of `SignatureView`s obey; it is expressed for a 300-dpi
scan, so two scans of different resolutions still show at the same physical size.
"""

from __future__ import annotations

import numpy as np

from sigverify_gui.ui.qt import (
    QColor,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QHBoxLayout,
    QImage,
    QLabel,
    QObject,
    QPainter,
    QPen,
    QPixmap,
    QRectF,
    QSize,
    Qt,
    QtGui,
    QToolButton,
    QWidget,
    Signal,
)

DISPLAY_DPI = 300.0  # the zoom factor is stated for a scan at this resolution
MIN_ZOOM, MAX_ZOOM = 0.05, 8.0
ZOOM_STEP = 1.25


# --- numpy -> Qt -------------------------------------------------------------------------
def gray_to_qimage(gray: np.ndarray) -> QImage:
    """A uint8 2-D array as a QImage that owns a copy of the pixels."""
    arr = np.ascontiguousarray(gray, dtype=np.uint8)
    h, w = arr.shape
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A uint8 (H, W, 3) RGB array as a QImage that owns a copy of the pixels."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


def canvas_to_gray(canvas: np.ndarray) -> np.ndarray:
    """A preprocessed canvas (ink bright on 0) as dark ink on white paper, uint8."""
    return (255.0 - np.clip(canvas, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def image_pixmap(image: np.ndarray) -> QPixmap:
    arr = np.asarray(image)
    qimage = rgb_to_qimage(arr) if arr.ndim == 3 else gray_to_qimage(arr)
    return QPixmap.fromImage(qimage)


# --- a zoom shared by several views -------------------------------------------------------
class SharedScale(QObject):
    """One zoom factor for a group of views; "fit" picks the largest zoom at which every
    view's image fits, so the group still shows all images at the same scale."""

    changed = Signal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self.fitting = True  # re-fit when a view is resized or gets a new image
        self._views: list[SignatureView] = []

    @property
    def zoom(self) -> float:
        return self._zoom

    def register(self, view: SignatureView) -> None:
        self._views.append(view)

    def set_zoom(self, zoom: float, *, fitting: bool = False) -> None:
        self.fitting = fitting
        zoom = float(np.clip(zoom, MIN_ZOOM, MAX_ZOOM))
        if abs(zoom - self._zoom) > 1e-9:
            self._zoom = zoom
            self.changed.emit(zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def fit(self) -> None:
        fits = [z for z in (v.fit_zoom() for v in self._views) if z is not None]
        if fits:
            self.set_zoom(min(fits), fitting=True)
        else:
            self.fitting = True


class SignatureView(QGraphicsView):
    """One signature image, drawn at `scale.zoom` (for its dpi); Ctrl+wheel zooms."""

    def __init__(self, scale: SharedScale | None = None, parent=None) -> None:
        super().__init__(parent)
        self.scale_model = scale or SharedScale(self)
        self.scale_model.register(self)
        self.scale_model.changed.connect(self._apply_zoom)
        self._dpi = DISPLAY_DPI
        self._placeholder = "No signature"
        self.setScene(QGraphicsScene(self))
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap_item)
        self._box_item = QGraphicsRectItem()
        pen = QPen(QColor("#009E73"), 0, Qt.PenStyle.DashLine)  # cosmetic: 1 screen px
        self._box_item.setPen(pen)
        self._box_item.setVisible(False)
        self.scene().addItem(self._box_item)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setBackgroundBrush(QColor("white"))
        self.setMinimumSize(120, 70)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # --- content ---------------------------------------------------------------------
    def set_image(
        self, image: np.ndarray | None, dpi: float | None = None, placeholder: str | None = None
    ) -> None:
        """Show a grey (2-D) or RGB (H, W, 3) uint8 image; None clears the view."""
        if placeholder is not None:
            self._placeholder = placeholder
        self._box_item.setVisible(False)
        if image is None:
            self._pixmap_item.setPixmap(QPixmap())
            self.scene().setSceneRect(QRectF())
        else:
            pixmap = image_pixmap(image)
            self._pixmap_item.setPixmap(pixmap)
            self.scene().setSceneRect(QRectF(pixmap.rect()))
        self._dpi = float(dpi) if dpi and dpi > 0 else DISPLAY_DPI
        self._after_content_change()

    def set_box(self, box: tuple[int, int, int, int] | None) -> None:
        """Outline (x, y, w, h) on the image (the ink the model takes), or hide it."""
        if box is None:
            self._box_item.setVisible(False)
            return
        x, y, w, h = box
        self._box_item.setRect(QRectF(x, y, w, h))
        self._box_item.setVisible(True)

    def has_image(self) -> bool:
        return not self._pixmap_item.pixmap().isNull()

    def image_size(self) -> QSize:
        return self._pixmap_item.pixmap().size()

    def box_rect(self) -> QRectF | None:
        return self._box_item.rect() if self._box_item.isVisible() else None

    # --- scale -----------------------------------------------------------------------
    def _dpi_factor(self) -> float:
        return DISPLAY_DPI / self._dpi

    def effective_scale(self) -> float:
        """Screen pixels per image pixel."""
        return self.scale_model.zoom * self._dpi_factor()

    def fit_zoom(self) -> float | None:
        """The shared zoom at which this view's image just fits, or None when empty."""
        if not self.has_image():
            return None
        size = self.image_size()
        margin = 8
        avail_w = max(1, self.viewport().width() - margin)
        avail_h = max(1, self.viewport().height() - margin)
        fit = min(avail_w / size.width(), avail_h / size.height())
        return fit / self._dpi_factor()

    def _apply_zoom(self, *_args) -> None:
        s = self.effective_scale()
        self.setTransform(QtGui.QTransform.fromScale(s, s))

    def _after_content_change(self) -> None:
        if self.scale_model.fitting:
            self.scale_model.fit()
        self._apply_zoom()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.scale_model.fitting:
            self.scale_model.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if event.angleDelta().y() > 0:
                self.scale_model.zoom_in()
            elif event.angleDelta().y() < 0:
                self.scale_model.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawForeground(painter, rect)
        if self.has_image():
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor("#777777"))
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        painter.restore()


def bold_label(text: str) -> QLabel:
    """A heading over a picture."""
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class SignaturePair(QWidget):
    """Two signatures side by side at one scale, with a caption each and zoom buttons."""

    def __init__(self, left_title: str, right_title: str, parent=None) -> None:
        super().__init__(parent)
        self.scale_model = SharedScale(self)
        self.left = SignatureView(self.scale_model)
        self.right = SignatureView(self.scale_model)
        self.left_caption = QLabel()
        self.right_caption = QLabel()
        for view, title, caption in (
            (self.left, left_title, self.left_caption),
            (self.right, right_title, self.right_caption),
        ):
            view.setAccessibleName(title)
            caption.setWordWrap(True)
        # The zoom buttons share the reference's heading row: on a 1024 x 768 screen a
        # row of their own cost the height that the score and decision need below.
        right_heading = QHBoxLayout()
        right_heading.addWidget(bold_label(right_title))
        right_heading.addStretch(1)
        right_heading.addWidget(QLabel("Same scale:"))
        for text, tip, slot in (
            ("−", "Zoom out both (Ctrl+wheel)", self.scale_model.zoom_out),
            ("Fit", "Fit both signatures, keeping one scale", self.scale_model.fit),
            ("+", "Zoom in both (Ctrl+wheel)", self.scale_model.zoom_in),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.clicked.connect(slot)
            right_heading.addWidget(button)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(bold_label(left_title), 0, 0)
        grid.addLayout(right_heading, 0, 1)
        grid.addWidget(self.left, 1, 0)
        grid.addWidget(self.right, 1, 1)
        grid.addWidget(self.left_caption, 2, 0)
        grid.addWidget(self.right_caption, 2, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def set_images(
        self,
        left: np.ndarray | None,
        right: np.ndarray | None,
        left_dpi: float | None = None,
        right_dpi: float | None = None,
    ) -> None:
        self.scale_model.fitting = True
        self.left.set_image(left, left_dpi)
        self.right.set_image(right, right_dpi)
        self.scale_model.fit()

    def set_captions(self, left: str, right: str) -> None:
        self.left_caption.setText(left)
        self.right_caption.setText(right)
