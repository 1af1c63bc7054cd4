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
)
from sigverify_gui.ui.signature_view import SharedScale, SignatureView

OVERLAY, HEATMAP = "overlay", "heatmap"


def _swatch(rgb: tuple[int, int, int], text: str) -> str:
    r, g, b = rgb
    # nowrap: a line may break between two swatches, never inside one.
    return (
        f'<span style="white-space: nowrap;"><span style="background-color: rgb({r},{g},{b}); '
        f'color: rgb({r},{g},{b});">&nbsp;■■&nbsp;</span>&nbsp;{text}</span>'
    )


class CompareOverlay(QFrame):
    """Questioned and reference canvases, aligned: an overlay or a difference heat map."""

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
        self.heatmap_button = QRadioButton("Heat ma&p")
        self.overlay_button.setToolTip("Both signatures laid over each other (Alt+L)")
        self.heatmap_button.setToolTip(
            "A heat map of the differences: where the two signatures differ (Alt+P)"
        )
        self.overlay_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.overlay_button)
        group.addButton(self.heatmap_button)
        self.overlay_button.toggled.connect(self._on_toggle)

        self.view = SignatureView(SharedScale(self))
        self.view.setAccessibleName("Overlay of the questioned and reference signatures")
        self.view.setMinimumHeight(140)
        both = overlay_rgb(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32))[0, 0]
        self.legend_overlay = QLabel(
            " &nbsp; ".join(
                (
                    _swatch(QUESTIONED_RGB, "questioned"),
                    _swatch(REFERENCE_RGB, "reference"),
                    _swatch(tuple(int(v) for v in both), "both (agree)"),
                )
            )
        )
        self.legend_overlay.setWordWrap(True)
        self.legend_heat = QLabel(
            "Dark: the same. Bright yellow: the strokes differ most. "
            "The questioned signature is drawn faintly on top."
        )
        self.legend_heat.setWordWrap(True)
        self.alignment_label = QLabel()
        self.alignment_label.setWordWrap(True)

        # Short labels on a row of their own, under the title: beside it, the panel was
        # too wide to sit next to the score on a 1024-pixel screen.
        modes = QHBoxLayout()
        modes.addWidget(self.overlay_button)
        modes.addWidget(self.heatmap_button)
        modes.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(modes)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend_overlay)
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

    def _show_legend(self) -> None:
        self.legend_overlay.setVisible(self._mode == OVERLAY)
        self.legend_heat.setVisible(self._mode == HEATMAP)

    def _render(self) -> None:
        image = self.displayed_image()
        self.view.set_image(image, placeholder="Verify to see the comparison")
        self.view.setAccessibleName(
            "Heat map of the differences"
            if self._mode == HEATMAP
            else "Overlay of the questioned and reference signatures"
        )
