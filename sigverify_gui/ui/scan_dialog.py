"""Scanning from the GUI: pick the scanner and resolution, preview, crop and straighten,
then the real scan, off the UI thread, with progress and cancel.

The preview is a quick low-resolution scan of the whole glass; the teller drags the
area to keep on it, which becomes the scanner's scan area (in millimetres), so the
final scan reads only that part at full resolution. Rotation (quarter turns and a
small angle for a signature written askew) is applied to the final image. The
result goes through the normal quality check in the capture panel.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from model.zone_orientation import turn
from sigverify_gui.services.capture import (
    DEFAULT_DPI,
    Capture,
    ScanArea,
    ScanSettings,
    list_devices,
    open_scanner,
)
from sigverify_gui.ui.box_editor import BoxEditor
from sigverify_gui.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSize,
    QVBoxLayout,
    Signal,
)
from sigverify_gui.ui.signature_view import SignatureView
from sigverify_gui.ui.window_fit import fit_dialog
from sigverify_gui.ui.workers import BackgroundTask, run_in_background

# The whole glass in a second or two, enough to place a box; a scanner that does not
# offer it previews at the resolution nearest it.
PREVIEW_DPI = 75
DPI_CHOICES = (150, 200, 300, 400, 600)
MM_PER_INCH = 25.4


def rotate_image(gray: np.ndarray, quarter_turns: int = 0, angle_deg: float = 0.0) -> np.ndarray:
    """Turn clockwise by `quarter_turns` x 90 degrees (`model.zone_orientation.turn`,
    as the cheque dialog turns pages) and then `angle_deg` (clockwise positive); the
    canvas grows to keep every corner, and new area is white paper."""
    out = turn(gray, quarter_turns)
    if abs(angle_deg) < 1e-6:
        return out
    h, w = out.shape
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(round(h * sin + w * cos)), int(round(h * cos + w * sin))
    matrix[0, 2] += new_w / 2.0 - w / 2.0
    matrix[1, 2] += new_h / 2.0 - h / 2.0
    return cv2.warpAffine(out, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=255)


class _CancelFlag:
    """A `threading.Event` look-alike for the capture services, set by the progress
    dialog's Cancel button (through the worker's progress bridge)."""

    def __init__(self, progress) -> None:
        self._progress = progress

    def is_set(self) -> bool:
        return bool(self._progress.cancelled)

    def wait(self, timeout: float | None = None) -> bool:
        time.sleep(min(timeout or 0.05, 0.05))
        return self.is_set()


class ScanDialog(QDialog):
    captured = Signal(object)  # Capture of the final, cropped and rotated scan

    def __init__(self, context, parent=None, *, title: str = "Scan a signature") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.context = context
        # Extra scanner options by the backend's names, e.g. SANE's test picture (tests).
        self.scan_options: dict[str, object] = {}
        self.preview_capture: Capture | None = None
        self.task: BackgroundTask | None = None
        self.quarter_turns = 0

        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Scanner")
        self.network_button = QPushButton("Look on the &network too")
        self.dpi_combo = QComboBox()
        self.dpi_combo.setAccessibleName("Resolution")
        for dpi in DPI_CHOICES:
            self.dpi_combo.addItem(f"{dpi} dpi", dpi)
        self.dpi_combo.setCurrentIndex(DPI_CHOICES.index(DEFAULT_DPI))
        self.preview_button = QPushButton("&Preview")
        self.left_button = QPushButton("⟲ &Left")
        self.left_button.setToolTip("Turn a quarter turn to the left")
        self.right_button = QPushButton("⟳ &Right")
        self.right_button.setToolTip("Turn a quarter turn to the right")
        self.angle = QDoubleSpinBox()
        self.angle.setRange(-15.0, 15.0)
        self.angle.setSingleStep(0.5)
        self.angle.setSuffix("°")
        self.angle.setAccessibleName("Small rotation angle, clockwise")
        self.editor = BoxEditor()
        self.editor.setAccessibleName("Preview of the scanner glass; drag to choose the area")
        self.result_view = SignatureView()
        self.result_view.setAccessibleName("What will be scanned")
        self.result_view.set_image(None, placeholder="Preview first, then drag the area")
        self.status = QLabel("Looking for scanners…")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.scan_button = self.buttons.addButton("&Scan", QDialogButtonBox.ButtonRole.AcceptRole)
        self.scan_button.setEnabled(False)
        self.preview_button.setEnabled(False)

        form = QFormLayout()
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_combo, 1)
        device_row.addWidget(self.network_button)
        form.addRow("Scanner:", device_row)
        form.addRow("Resolution:", self.dpi_combo)
        rotate_row = QHBoxLayout()
        for w in (self.left_button, self.right_button, QLabel("Straighten:"), self.angle):
            rotate_row.addWidget(w)
        rotate_row.addStretch(1)
        form.addRow("Turn:", rotate_row)
        views = QHBoxLayout()
        views.addWidget(self.editor, 3)
        views.addWidget(self.result_view, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_button)
        layout.addLayout(views, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        fit_dialog(self, QSize(900, 620))

        self.network_button.clicked.connect(lambda: self.find_devices(local_only=False))
        self.preview_button.clicked.connect(self.preview)
        self.left_button.clicked.connect(lambda: self._turn(-1))
        self.right_button.clicked.connect(lambda: self._turn(1))
        self.angle.valueChanged.connect(self._update_result)
        self.editor.box_changed.connect(self._update_result)
        self.buttons.accepted.connect(self.scan)
        self.buttons.rejected.connect(self.reject)
        self.find_devices(local_only=True)

    # --- devices -----------------------------------------------------------------------
    def find_devices(self, local_only: bool = True) -> BackgroundTask | None:
        return self._start(
            lambda progress: list_devices(local_only=local_only),
            "Looking for scanners…",
            self._on_devices,
            show_progress=not local_only,
        )

    def _on_devices(self, devices) -> None:
        chosen = self.device_id() or self.context.settings.scanner_device
        self.device_combo.clear()
        for device in devices:
            self.device_combo.addItem(f"{device.name} ({device.id})", device.id)
        if chosen and self.device_combo.findData(chosen) < 0:
            self.device_combo.addItem(f"{chosen} (from the settings)", chosen)
        if chosen:
            self.device_combo.setCurrentIndex(self.device_combo.findData(chosen))
        found = self.device_combo.count() > 0
        self.preview_button.setEnabled(found)
        self.scan_button.setEnabled(found)
        self.status.setText(
            "Put the document on the glass, then Preview to choose the area, or Scan the "
            "whole glass."
            if found
            else "No scanner was found; check that it is connected and switched on."
        )

    def device_id(self) -> str | None:
        return self.device_combo.currentData()

    def dpi(self) -> int:
        return int(self.dpi_combo.currentData())

    # --- preview ---------------------------------------------------------------------------
    def preview(self) -> BackgroundTask | None:
        settings = ScanSettings(dpi=PREVIEW_DPI, options=dict(self.scan_options), exact_dpi=False)
        device = self.device_id()
        return self._start(
            lambda progress: open_scanner(device, settings).capture(_CancelFlag(progress)),
            "Preview scan…",
            self._on_preview,
        )

    def _on_preview(self, capture: Capture) -> None:
        if self._was_cancelled():
            return
        self.preview_capture = capture
        self.editor.set_image(capture.gray)
        self.status.setText("Drag on the preview to choose the area to scan.")
        self._update_result()

    def scan_area(self) -> ScanArea | None:
        """The chosen box on the preview, in millimetres on the glass (None: all of it)."""
        box = self.editor.box()
        if box is None or self.preview_capture is None:
            return None
        mm = MM_PER_INCH / float(self.preview_capture.dpi or PREVIEW_DPI)
        x, y, w, h = box
        return ScanArea(x * mm, y * mm, w * mm, h * mm)

    def _turn(self, quarter_turns: int) -> None:
        self.quarter_turns = (self.quarter_turns + quarter_turns) % 4
        self._update_result()

    def _update_result(self, *_args) -> None:
        if self.preview_capture is None:
            return
        gray = self.preview_capture.gray
        box = self.editor.box()
        if box is not None:
            x, y, w, h = box
            gray = gray[y : y + h, x : x + w]
        self.result_view.set_image(
            rotate_image(gray, self.quarter_turns, self.angle.value()),
            self.preview_capture.dpi or PREVIEW_DPI,
        )

    # --- the scan --------------------------------------------------------------------------
    def scan(self) -> BackgroundTask | None:
        settings = ScanSettings(
            dpi=self.dpi(), area=self.scan_area(), options=dict(self.scan_options)
        )
        device, turns, angle = self.device_id(), self.quarter_turns, self.angle.value()

        def work(progress) -> Capture:
            raw = open_scanner(device, settings).capture(_CancelFlag(progress))
            gray = rotate_image(raw.gray, turns, angle)
            return Capture(gray, raw.dpi, raw.source)

        return self._start(work, f"Scanning at {settings.dpi} dpi…", self._on_scanned)

    def _on_scanned(self, capture: Capture) -> None:
        if self._was_cancelled():
            return
        self.accept()
        self.captured.emit(capture)

    # --- one job at a time -------------------------------------------------------------
    def _start(self, work, label, on_done, show_progress: bool = True):
        if self.task is not None:
            return None
        for widget in (self.preview_button, self.scan_button, self.network_button):
            widget.setEnabled(False)
        self.task = run_in_background(
            work, on_done=on_done, label=label, parent=self, progress=show_progress
        )
        self.task.finished.connect(self._job_ended)
        return self.task

    def _was_cancelled(self) -> bool:
        """Cancel was pressed (or the dialog closed) while the job ran. Many scanners
        finish a page once started, whatever the driver is told; that page must not
        arrive after the teller said no to it."""
        return self.task is not None and self.task.progress.cancelled

    def _job_ended(self) -> None:
        self.task = None
        found = self.device_combo.count() > 0
        self.preview_button.setEnabled(found)
        self.scan_button.setEnabled(found)
        self.network_button.setEnabled(True)

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
        super().done(result)
