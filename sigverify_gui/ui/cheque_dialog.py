"""Whole-page mode: find the signature on a cheque or form, let the teller adjust the box.

The search (`model.zone.find_signature`) runs in a worker; its box appears on the page
as an editable rectangle and as four numbers, which stay in step. The search can be
wrong, so the teller always confirms; when it finds nothing, they draw the box. The
confirmed crop (`model.zone.crop_box`) continues as an ordinary capture.
"""

from __future__ import annotations

from model.errors import BlankImageError
from model.zone import ZoneResult, crop_box, find_signature
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui.box_editor import Box, BoxEditor
from sigverify_gui.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    Signal,
)
from sigverify_gui.ui.workers import BackgroundTask, run_in_background

# Pixels kept around the found ink: preprocessing wants a little paper around the
# strokes, and a tight box would clip anti-aliased edges.
CROP_MARGIN_PX = 12


class ChequeDialog(QDialog):
    cropped = Signal(object)  # Capture of the confirmed area

    def __init__(self, page: Capture, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Signature on a cheque or form")
        self.page = page
        self.result_zone: ZoneResult | None = None
        self._syncing = False

        self.status = QLabel("Looking for the signature…")
        self.status.setWordWrap(True)
        self.editor = BoxEditor()
        self.editor.setAccessibleName("The page; drag to adjust the signature area")
        self.editor.set_image(page.gray)
        self.candidates = QComboBox()
        self.candidates.setAccessibleName("Other places that may hold the signature")
        self.candidates.setEnabled(False)
        self.candidates.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.spins: dict[str, QSpinBox] = {}
        numbers = QHBoxLayout()
        height, width = page.gray.shape
        for key, label, top in (
            ("x", "&X", width),
            ("y", "&Y", height),
            ("w", "&Width", width),
            ("h", "&Height", height),
        ):
            spin = QSpinBox()
            spin.setRange(0 if key in "xy" else 1, top)
            spin.setSuffix(" px")
            spin.setAccessibleName({"x": "Left", "y": "Top", "w": "Width", "h": "Height"}[key])
            caption = QLabel(label)
            caption.setBuddy(spin)
            numbers.addWidget(caption)
            numbers.addWidget(spin)
            spin.valueChanged.connect(self._on_spin)
            self.spins[key] = spin
        numbers.addStretch(1)
        numbers.addWidget(QLabel("Other candidates:"))
        numbers.addWidget(self.candidates)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Use this area")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Check the blue box around the signature. Drag inside it to move it, drag "
                "its edges to resize it, or drag elsewhere on the page to draw a new one."
            )
        )
        layout.addWidget(self.editor, 1)
        layout.addLayout(numbers)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(900, 600)

        self.editor.box_changed.connect(self._on_box_changed)
        self.candidates.activated.connect(self._on_candidate)
        self.task: BackgroundTask | None = run_in_background(
            lambda progress: find_signature(page.gray, dpi=page.dpi),
            on_done=self._on_found,
            on_error=self._on_not_found,
            label="Looking for the signature…",
            parent=self,
        )
        self.task.finished.connect(self._search_ended)

    # --- the search ------------------------------------------------------------------
    def _search_ended(self) -> None:
        self.task = None

    def _on_found(self, zone: ZoneResult) -> None:
        self.result_zone = zone
        self.editor.set_box(zone.box)
        self.status.setText(
            f"Signature found (confidence {zone.confidence:.0%}). Adjust the box if it "
            "does not hold the whole signature and nothing else."
        )
        boxes = (zone.box, *zone.candidates)
        self.candidates.clear()
        for i, box in enumerate(boxes):
            tag = "best" if i == 0 else f"candidate {i}"
            self.candidates.addItem(f"{tag}: {box[2]}×{box[3]} at {box[0]},{box[1]}", box)
        self.candidates.setEnabled(len(boxes) > 1)

    def _on_not_found(self, err: BaseException) -> None:
        if not isinstance(err, BlankImageError):
            from sigverify_gui.ui import errors

            errors.show_error(self, err)
        self.status.setText(
            f"{err} Drag on the page to draw a box around the signature."
            if isinstance(err, BlankImageError)
            else "Drag on the page to draw a box around the signature."
        )

    def _on_candidate(self, index: int) -> None:
        box = self.candidates.itemData(index)
        if box is not None:
            self.editor.set_box(tuple(box))

    # --- the box -----------------------------------------------------------------------
    def box(self) -> Box | None:
        return self.editor.box()

    def set_box(self, box: Box) -> None:
        self.editor.set_box(box)

    def _on_box_changed(self, box: Box | None) -> None:
        self.ok_button.setEnabled(box is not None)
        if box is None:
            return
        self._syncing = True
        try:
            for key, value in zip("xywh", box, strict=True):
                self.spins[key].setValue(int(value))
        finally:
            self._syncing = False

    def _on_spin(self, _value: int) -> None:
        if self._syncing:
            return
        self.editor.set_box(tuple(self.spins[k].value() for k in "xywh"))

    # --- confirming ----------------------------------------------------------------------
    def crop(self) -> Capture | None:
        box = self.box()
        if box is None:
            return None
        gray = crop_box(self.page.gray, box, margin=CROP_MARGIN_PX)
        return Capture(gray, self.page.dpi, f"{self.page.source} (signature area)")

    def accept(self) -> None:
        capture = self.crop()
        if capture is None:
            return
        super().accept()
        self.cropped.emit(capture)

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
        super().done(result)
