"""The visual aid: what the model sees of both signatures, aligned and laid over each other.

Two views of the same aligned pair (`sigverify_gui.services.compare`): an overlay with
the questioned ink in blue and the reference's in orange (dark where they agree), and
a heat map of where they differ. A legend says in words what each colour means.
"""

from __future__ import annotations

import numpy as np

from sigverify_gui.services.compare import (
    QUESTIONED_RGB,
    REFERENCE_RGB,
    Alignment,
    aligned_reference,
    heatmap_rgb,
    overlay_rgb,
)
from sigverify_gui.ui.qt import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    Signal,
)
from sigverify_gui.ui.signature_view import SharedScale, SignatureView

OVERLAY, HEATMAP = "overlay", "heatmap"


def _swatch(rgb: tuple[int, int, int], text: str) -> QLabel:
    r, g, b = rgb
    label = QLabel(
        f'<span style="background-color: rgb({r},{g},{b}); color: rgb({r},{g},{b});">'
        f"&nbsp;■■&nbsp;</span>&nbsp;{text}"
    )
    return label


class CompareOverlay(QFrame):
    """Questioned and reference canvases, aligned: an overlay or a difference heat map."""

    mode_changed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._questioned: np.ndarray | None = None
        self._reference: np.ndarray | None = None
        self.alignment: Alignment | None = None
        self._mode = OVERLAY

        title = QLabel("What the model compares")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.overlay_button = QRadioButton("Over&lay")
        self.heatmap_button = QRadioButton("Heat &map of differences")
        self.overlay_button.setToolTip("Both signatures laid over each other (Alt+L)")
        self.heatmap_button.setToolTip("Where the two signatures differ (Alt+M)")
        self.overlay_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.overlay_button)
        group.addButton(self.heatmap_button)
        self.overlay_button.toggled.connect(self._on_toggle)

        self.view = SignatureView(SharedScale(self))
        self.view.setAccessibleName("Overlay of the questioned and reference signatures")
        self.view.setMinimumHeight(140)
        self.legend_overlay = QHBoxLayout()
        self.legend_overlay.addWidget(_swatch(QUESTIONED_RGB, "questioned"))
        self.legend_overlay.addWidget(_swatch(REFERENCE_RGB, "reference"))
        both = overlay_rgb(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32))[0, 0]
        self.legend_overlay.addWidget(_swatch(tuple(int(v) for v in both), "both (agree)"))
        self.legend_overlay.addStretch(1)
        self.legend_heat = QLabel(
            "Dark: the same. Bright yellow: the strokes differ most. "
            "The questioned signature is drawn faintly on top."
        )
        self.legend_heat.setWordWrap(True)
        self.alignment_label = QLabel()
        self.alignment_label.setWordWrap(True)

        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.overlay_button)
        header.addWidget(self.heatmap_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        layout.addLayout(self.legend_overlay)
        layout.addWidget(self.legend_heat)
        layout.addWidget(self.alignment_label)
        self._show_legend()

    # --- content ---------------------------------------------------------------------
    def set_canvases(self, questioned: np.ndarray, reference: np.ndarray) -> None:
        """Two preprocessed canvases (ink bright on 0); the reference is aligned here."""
        self._questioned = np.asarray(questioned, np.float32)
        self._reference, self.alignment = aligned_reference(self._questioned, reference)
        self.alignment_label.setText(self._describe(self.alignment))
        self._render()

    def clear(self) -> None:
        self._questioned = self._reference = None
        self.alignment = None
        self.alignment_label.setText("")
        self.view.set_image(None)

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        (self.heatmap_button if mode == HEATMAP else self.overlay_button).setChecked(True)

    def displayed_image(self) -> np.ndarray | None:
        """The RGB image the view shows (for tests and screenshots)."""
        if self._questioned is None or self._reference is None:
            return None
        if self._mode == HEATMAP:
            return heatmap_rgb(self._questioned, self._reference)
        return overlay_rgb(self._questioned, self._reference)

    # --- internals -------------------------------------------------------------------
    @staticmethod
    def _describe(alignment: Alignment) -> str:
        if alignment.dx == 0 and alignment.dy == 0:
            return "Aligned as captured; no shift was needed."
        parts = []
        if alignment.dx:
            parts.append(f"{abs(alignment.dx)} px {'right' if alignment.dx > 0 else 'left'}")
        if alignment.dy:
            parts.append(f"{abs(alignment.dy)} px {'down' if alignment.dy > 0 else 'up'}")
        return f"Reference moved {' and '.join(parts)} to lie over the questioned signature."

    def _on_toggle(self, overlay_checked: bool) -> None:
        self._mode = OVERLAY if overlay_checked else HEATMAP
        self._show_legend()
        self._render()
        self.mode_changed.emit(self._mode)

    def _show_legend(self) -> None:
        for i in range(self.legend_overlay.count()):
            widget = self.legend_overlay.itemAt(i).widget()
            if widget is not None:
                widget.setVisible(self._mode == OVERLAY)
        self.legend_heat.setVisible(self._mode == HEATMAP)

    def _render(self) -> None:
        image = self.displayed_image()
        self.view.set_image(image, placeholder="Verify to see the comparison")
        self.view.setAccessibleName(
            "Heat map of the differences"
            if self._mode == HEATMAP
            else "Overlay of the questioned and reference signatures"
        )
