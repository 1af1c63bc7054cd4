"""The status bar: which model, on which device, which store, which thresholds.

A teller (or IT on the phone) must be able to tell at a glance what the decisions
are being made with. While the model loads, the model field says so, and says how
many actions are waiting for it.
"""

from __future__ import annotations

from sigverify_gui.services.thresholds_record import ThresholdsDamagedError
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.qt import QLabel, QStatusBar, QWidget


class StatusFields:
    """Four permanent labels on a status bar, kept up to date from the context."""

    def __init__(self, context: AppContext, bar: QStatusBar) -> None:
        self.context = context
        self.model = self._label(bar, "Model")
        self.device = self._label(bar, "Device")
        self.store = self._label(bar, "Signature store")
        self.thresholds = self._label(bar, "Thresholds")
        context.verifier_loading.connect(self.update)
        context.verifier_ready.connect(self.update)
        context.verifier_failed.connect(self.update)
        context.waiting_changed.connect(self.update)
        context.store_replaced.connect(self.update)
        context.thresholds_changed.connect(self.update)
        context.settings_changed.connect(self.update)
        self.update()

    @staticmethod
    def _label(bar: QStatusBar, name: str) -> QLabel:
        label = QLabel()
        label.setAccessibleName(name)
        bar.addPermanentWidget(label)
        return label

    def update(self, *_args: object) -> None:
        ctx = self.context
        verifier = ctx.verifier
        self.store.setText(f"Store: {ctx.store.path}")
        self.store.setToolTip(str(ctx.store.path))
        if verifier is not None:
            self.model.setText(f"Model: {verifier.model_id}")
            self.device.setText(f"Device: {verifier.device_name}")
            try:
                thresholds = ctx.thresholds()
            except ThresholdsDamagedError as err:  # verifications refused: said here
                self.thresholds.setText("Thresholds: damaged in the store (IT: see Settings)")
                self.thresholds.setToolTip(str(err))
                return
            if thresholds is not None:
                origin = "model default" if thresholds.source == "model" else "branch setting"
                text = f"Accept ≥ {thresholds.t_accept:.3f} · reject < {thresholds.t_reject:.3f}"
                if thresholds.set_for_another:
                    # after an upgrade the branch's own no longer apply: said where the
                    # teller looks, not only in Settings
                    text += " (model's own: branch's lapsed)"
                    origin += "; the branch's own were set for another model or calibration"
                self.thresholds.setText(text)
                self.thresholds.setToolTip(f"Decision thresholds ({origin})")
            return
        if ctx.is_loading:
            waiting = f" ({ctx.waiting} waiting)" if ctx.waiting else ""
            self.model.setText(f"Model: loading…{waiting}")
        elif ctx.load_error is not None:
            self.model.setText("Model: not loaded")
            self.model.setToolTip(str(ctx.load_error))
        else:
            self.model.setText("Model: —")
        self.device.setText(f"Device: {ctx.settings.device}")
        self.thresholds.setText("Thresholds: —")

    def texts(self) -> list[str]:
        return [w.text() for w in self.widgets()]

    def widgets(self) -> list[QWidget]:
        return [self.model, self.device, self.store, self.thresholds]
