"""The settings dialog: thresholds, device, store, scanner and hot folder.

Nothing is saved until every field is valid; a problem is shown in the dialog
itself, beside the buttons, and the dialog stays open. Thresholds go to the store
(audited, shared with the CLI); the rest to this workstation's settings.
"""

from __future__ import annotations

from typing import Any

from model.errors import SigverifyError
from sigverify_gui.services.errors import ThresholdBelowModelError
from sigverify_gui.services.thresholds import Thresholds, check_not_below_model
from sigverify_gui.services.thresholds_record import ThresholdsDamagedError, recorded_thresholds
from sigverify_gui.ui import errors
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.palette import status_style
from sigverify_gui.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sigverify_gui.ui.settings import Settings, validate_thresholds
from sigverify_gui.ui.window_fit import fit_dialog
from sigverify_gui.ui.workers import BackgroundTask, run_in_background

DEVICE_CHOICES = (
    ("Automatic (graphics card if present)", "auto"),
    ("CPU", "cpu"),
    ("CUDA graphics card", "cuda"),
)
NO_GPU_LABEL = "CUDA graphics card (none found on this computer)"


def device_choices() -> tuple[tuple[str, str], ...]:
    """The devices this installation can use: without torch (the executable's CPU
    flavour runs the portable model) a graphics card is not among them."""
    from model.verifier import torch_available

    if torch_available():
        return DEVICE_CHOICES
    return (("Automatic (this installation runs on the CPU)", "auto"), ("CPU", "cpu"))


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def card_summary(card: dict | None) -> str:
    """What the model's default thresholds mean, from the figures on its model card."""
    sets = (card or {}).get("metrics") or {}
    lines = []
    for name, m in sets.items():
        if not isinstance(m, dict) or "frr" not in m:
            continue
        lines.append(
            f"On the {name.replace('_', ' ')} data ({m.get('n_genuine', '?')} genuine "
            f"signatures, {m.get('n_writers', '?')} writers), at the model's thresholds: "
            f"{_percent(m.get('frr'))} of genuine signatures rejected, "
            f"{_percent(m.get('frr_accept'))} not accepted automatically; "
            f"{_percent(m.get('far_skilled'))} of skilled forgeries and "
            f"{_percent(m.get('far_random'))} of random ones accepted."
        )
    return "\n".join(lines) or "The model card records no error rates for these thresholds."


class SettingsDialog(QDialog):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._looked_at = None  # loosened thresholds already warned about (`accept_changes`)
        self.saving: BackgroundTask | None = None  # the store's write after OK, while it runs
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setMinimumWidth(560)
        self._build()
        self._fill(context.settings)
        fit_dialog(self)

    def _build(self) -> None:
        self.accept_spin = self._threshold_spin("Accept threshold")
        self.reject_spin = self._threshold_spin("Reject threshold")
        self.defaults_button = QPushButton("Use the model's &defaults")
        self.defaults_label = QLabel()
        self.defaults_label.setWordWrap(True)
        self.card_label = QLabel()
        self.card_label.setWordWrap(True)
        thresholds = QFormLayout()
        thresholds.addRow("&Accept at or above:", self.accept_spin)
        thresholds.addRow("&Reject below:", self.reject_spin)
        thresholds.addRow(self.defaults_button)
        thresholds.addRow(self.defaults_label)
        thresholds.addRow(self.card_label)
        thresholds_box = QGroupBox("Decision thresholds (for every workstation on this store)")
        thresholds_box.setLayout(thresholds)

        self.device = QComboBox()
        self.device.setAccessibleName("Device")
        for label, value in device_choices():
            self.device.addItem(label, value)
        self._offer_a_graphics_card_only_if_found()
        self.store_path = QLineEdit()
        self.store_path.setAccessibleName("Signature store file")
        self.scanner = QComboBox()
        self.scanner.setEditable(True)
        self.scanner.setAccessibleName("Scanner")
        self.find_scanners = QPushButton("&Find scanners")
        self.hot_folder = QLineEdit()
        self.hot_folder.setAccessibleName("Hot folder")
        self.hot_folder.setPlaceholderText("none")
        workstation = QFormLayout()
        workstation.addRow("De&vice:", self.device)
        workstation.addRow("&Store:", self._with_browse(self.store_path, self._browse_store))
        workstation.addRow("S&canner:", self._row(self.scanner, self.find_scanners))
        workstation.addRow("&Hot folder:", self._with_browse(self.hot_folder, self._browse_hot))
        workstation_box = QGroupBox("This workstation")
        workstation_box.setLayout(workstation)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(status_style("problem", bold=True))
        self.problem.setAccessibleName("Problem with the settings")
        self.problem.hide()  # no empty line above the buttons
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(thresholds_box)
        layout.addWidget(workstation_box)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept_changes)
        self.buttons.rejected.connect(self.reject)
        self.defaults_button.clicked.connect(self.use_model_defaults)
        self.find_scanners.clicked.connect(self.search_scanners)

    @staticmethod
    def _threshold_spin(name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1.0)
        spin.setDecimals(3)
        spin.setSingleStep(0.01)
        spin.setAccessibleName(name)
        return spin

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for i, widget in enumerate(widgets):
            layout.addWidget(widget, 1 if i == 0 else 0)
        return row

    def _with_browse(self, edit: QLineEdit, slot) -> QWidget:
        button = QPushButton("Browse…")
        button.setAccessibleName(f"Browse for the {edit.accessibleName().lower()}")
        button.clicked.connect(slot)
        return self._row(edit, button)

    def _offer_a_graphics_card_only_if_found(self) -> None:
        """The loaded model knows whether this computer has a CUDA card (torch runs in
        its process, not this one). Without one, choosing the card could only fail."""
        verifier = self.context.verifier
        index = self.device.findData("cuda")
        if index < 0 or verifier is None or verifier.gpu_available:
            return  # not offered, or not known yet: kept as it was
        self.device.setItemText(index, NO_GPU_LABEL)
        self.device.model().item(index).setEnabled(False)

    def _fill(self, settings: Settings) -> None:
        verifier = self.context.verifier
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.store_path.setText(settings.store_path)
        self.store_path.setPlaceholderText(f"the store open now: {self.context.store.path}")
        if settings.scanner_device:
            self.scanner.addItem(settings.scanner_device, settings.scanner_device)
        self.scanner.setCurrentText(settings.scanner_device)
        self.hot_folder.setText(settings.hot_folder)
        for widget in (self.accept_spin, self.reject_spin, self.defaults_button):
            widget.setEnabled(verifier is not None)
        if verifier is None:
            self.defaults_label.setText("The thresholds can be changed once the model has loaded.")
            return
        in_force, damage = self._thresholds_in_force()
        self.accept_spin.setValue(in_force.t_accept)
        self.reject_spin.setValue(in_force.t_reject)
        stale = (
            "\nThe branch's own thresholds were set for another model or calibration, so "
            "these defaults are in force until new ones are saved."
            if in_force.set_for_another
            else ""
        )
        if damage:
            stale = f"\n{damage} Saving here sets them again (audited)."
        self.defaults_label.setText(
            f"Model {verifier.model_id} defaults: accept at or above {verifier.t_accept:.3f}, "
            f"reject below {verifier.t_reject:.3f}; between the two, refer to a supervisor." + stale
        )
        self.card_label.setText(card_summary(getattr(verifier, "card", None)))

    # --- actions -------------------------------------------------------------------------
    def use_model_defaults(self) -> None:
        verifier = self.context.verifier
        if verifier is not None:
            self.accept_spin.setValue(verifier.t_accept)
            self.reject_spin.setValue(verifier.t_reject)

    def edited_settings(self) -> Settings:
        # A listed scanner shows "name (id)" and stores its id; a typed text is an id.
        text = self.scanner.currentText().strip()
        index = self.scanner.findText(text)
        scanner = (self.scanner.itemData(index) if index >= 0 else None) or text
        return self.context.settings.with_changes(
            device=self.device.currentData(),
            store_path=self.store_path.text().strip(),
            scanner_device=scanner,
            hot_folder=self.hot_folder.text().strip(),
        )

    def _show_problem(self, text: str) -> None:
        """Say what stops OK (or clear it with ""), the dialog grown to fit: squeezed,
        the lines above it had overlapped, cutting the model's error rates that a
        warning about a lower threshold asks the supervisor to weigh."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        fit_dialog(self, self.size())

    def accept_changes(self) -> bool:
        """Validate everything, then apply; on a problem show it here and stay open.

        True once the changes are taken: applied and the dialog closed, or, with
        thresholds to write, being written by `saving` (the dialog closes when it ends
        well). The write runs in a worker: the store may be busy for seconds."""
        if self.saving is not None:
            return False  # OK again while the last one is being written
        settings = self.edited_settings()
        try:
            thresholds = self._edited_thresholds()
            if self._needs_second_look(thresholds):
                return False
            # One call, so that a store that fails to open leaves nothing half applied.
            saving = self.context.apply_settings_in_background(settings, thresholds, parent=self)
        except SigverifyError as err:
            self._show_problem(str(err))
            return False
        if saving is None:
            self._applied()
        else:
            self._wait_for(saving)
        return True

    def _wait_for(self, saving: BackgroundTask) -> None:
        """Keep the dialog as it is while the store is written, its buttons off: the
        progress window's Cancel is the way to stop."""
        self.saving = saving
        self.buttons.setEnabled(False)
        saving.succeeded.connect(self._applied)
        saving.failed.connect(self._not_applied)
        saving.cancelled.connect(self._not_applied_cancelled)
        saving.finished.connect(self._saving_ended)

    def _applied(self, _in_force: object = None) -> None:
        self._show_problem("")
        self.accept()

    def _not_applied(self, err: BaseException) -> None:
        if isinstance(err, SigverifyError):
            self._show_problem(str(err))  # a busy store: said here, the dialog kept
        else:
            errors.show_error(self, err)

    def _not_applied_cancelled(self) -> None:
        self._show_problem("Cancelled: nothing was changed.")

    def _saving_ended(self) -> None:
        self.saving = None
        self.buttons.setEnabled(True)

    def reject(self) -> None:
        """Escape or the close button while the store is written asks the write to stop;
        the dialog stays until it has, never closed as if cancelled while the thresholds
        may still be written."""
        if self.saving is not None:
            self.saving.cancel()
            return
        super().reject()

    def _needs_second_look(self, thresholds) -> bool:
        """An accept threshold below the model's own is said here first (in the
        service's words), and applied when OK is pressed again on the same values."""
        verifier = self.context.verifier
        if thresholds is None or verifier is None or self._looked_at == thresholds:
            return False
        try:
            check_not_below_model(thresholds[0], verifier)
        except ThresholdBelowModelError as err:
            self._looked_at = thresholds
            self._show_problem(f"{err} Press OK again to apply it.")
            return True
        return False

    def _edited_thresholds(self) -> tuple[float | None, float | None] | None:
        """What to store: None to change nothing, (None, None) for the model's own."""
        verifier = self.context.verifier
        if verifier is None:
            return None
        t_accept = round(self.accept_spin.value(), 3)
        t_reject = round(self.reject_spin.value(), 3)
        validate_thresholds(t_accept, t_reject)
        current, damage = self._thresholds_in_force()
        unchanged = (t_accept, t_reject) == (round(current.t_accept, 3), round(current.t_reject, 3))
        # else OK clears the lapsed setting, or mends the damaged one
        if unchanged and not current.set_for_another and not damage:
            return None
        if (t_accept, t_reject) == (round(verifier.t_accept, 3), round(verifier.t_reject, 3)):
            return None, None
        return t_accept, t_reject

    def _thresholds_in_force(self) -> tuple[Thresholds, str]:
        """The thresholds in force and "", or, when the store's setting is damaged (and
        verifications refused), what the audit trail last set for this model (else the
        model's own: deleting the branch's stricter ones must not bring those back on
        the next OK) and what is wrong."""
        try:
            return self.context.thresholds(), ""
        except ThresholdsDamagedError as err:
            verifier = self.context.verifier
            recorded = recorded_thresholds(
                self.context.store, verifier.model_id, verifier.calibration_id
            )
            if recorded is not None:
                return Thresholds(*recorded, "settings"), str(err)
            return Thresholds(verifier.t_accept, verifier.t_reject, "model"), str(err)

    def _browse_store(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Signature store",
            self.store_path.text(),
            "Signature stores (*.db)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:
            self.store_path.setText(name)

    def _browse_hot(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Hot folder", self.hot_folder.text())
        if name:
            self.hot_folder.setText(name)

    def search_scanners(self):
        """List the scanners in a worker (a driver may take seconds to answer)."""
        from sigverify_gui.services.capture.registry import list_devices

        self.find_scanners.setEnabled(False)
        return run_in_background(
            lambda progress: list_devices(),
            label="Looking for scanners…",
            on_done=self._on_scanners,
            on_error=self._on_scanners_failed,
            parent=self,
        )

    def _on_scanners(self, devices) -> None:
        self.find_scanners.setEnabled(True)
        keep = self.scanner.currentText()
        self.scanner.clear()
        for device in devices:
            self.scanner.addItem(f"{device.name} ({device.id})", device.id)
        if not devices:
            self._show_problem("No scanner was found; check that it is connected.")
        index = self.scanner.findData(keep)
        if index >= 0:
            self.scanner.setCurrentIndex(index)
        elif not devices:
            self.scanner.setCurrentText(keep)

    def _on_scanners_failed(self, err: BaseException) -> None:
        self.find_scanners.setEnabled(True)
        if isinstance(err, SigverifyError):
            self._show_problem(str(err))
        else:
            errors.show_error(self, err)
