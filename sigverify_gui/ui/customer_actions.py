"""What changes a customer after enrolment, for the customer panel.

Retire a reference, replace it with a new capture (checked like an added one), close or
reopen the account. Each asks for a reason and a confirmation first (`ReasonDialog`),
runs its service in a worker (replacing embeds the new capture), and refreshes the
panel and the rest of the window when done. `ReferenceActions` is mixed into
`CustomerPanel`, which provides the state these methods use (`_store`, `_customer_id`,
`_status`, `message`, `task`, `dialog`, `selected_reference`, `refresh`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sigverify_gui.services.errors import ConsistencyError
from sigverify_gui.services.typed_text import MAX_REASON_LENGTH
from sigverify_gui.store import records
from sigverify_gui.ui.capture_sources import FILE_FILTER
from sigverify_gui.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from sigverify_gui.ui.workers import run_in_background


class ReasonDialog(QDialog):
    """Asks for a confirmation and a reason (for the audit trail); OK needs a reason."""

    def __init__(self, title: str, text: str, ok_label: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON_LENGTH)
        self.reason_edit.setPlaceholderText("Why (kept in the audit trail)")
        self.reason_edit.setAccessibleName("Reason")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(ok_label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Reason:"))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(self._update)
        self._update()

    def reason(self) -> str:
        return " ".join(self.reason_edit.text().split())

    def _update(self, *_args) -> None:
        # Enter does what the teller has got to: with no reason yet, nothing is done
        # (Cancel); once a reason is typed, it confirms (before, it cancelled silently).
        has_reason = bool(self.reason())
        self.ok_button.setEnabled(has_reason)
        self.ok_button.setDefault(has_reason)
        self.cancel_button.setDefault(not has_reason)


class ReferenceActions:
    """The panel's actions that change a customer; see the module docstring."""

    def _app_context(self):
        """The application context: given, or the main window's (it has `.context`)."""
        if self._context is not None:
            return self._context
        return getattr(self.window(), "context", None)

    def _operator(self) -> str:
        context = self._app_context()
        return getattr(context, "operator", "") if context is not None else ""

    # --- retire ------------------------------------------------------------------------
    def ask_retire(self) -> None:
        chosen = self.selected_reference()
        if self._customer_id is None or chosen is None:
            return
        number, reference_id = chosen
        cid = self._customer_id
        self._ask_reason(
            "Retire a reference signature",
            f"Retire reference #{number} of customer {cid}? It will no longer be used to "
            "verify their signatures; it stays stored for the record.",
            "Retire reference",
            lambda reason: self._retire(cid, number, reference_id, reason),
        )

    def _retire(self, cid: str, number: int, reference_id: int, reason: str) -> None:
        from sigverify_gui.services.enrol import deactivate_reference

        store, operator = self._store, self._operator()
        self._start(
            lambda _progress: deactivate_reference(
                store, reference_id, operator=operator, reason=reason
            ),
            "Retiring the reference…",
            lambda warnings: self._changed(
                [f"Reference #{number} of customer {cid} was retired.", *warnings]
            ),
        )

    # --- replace -----------------------------------------------------------------------
    def ask_replace(self) -> None:
        chosen = self.selected_reference()
        if self._customer_id is None or chosen is None:
            return
        number, reference_id = chosen
        dialog = QFileDialog(self, f"Replace reference #{number}: open the new signature")
        dialog.setNameFilter(FILE_FILTER.split(";;")[0])
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(
            lambda name: self.replace_with(reference_id, number, Path(name))
        )
        self._open(dialog)

    def replace_with(
        self, reference_id: int, number: int, image: Path, *, force: bool = False
    ) -> None:
        """Check `image` like an added reference, then let it replace the reference."""
        context = self._app_context()
        if context is None:  # only without a window: nothing to embed with
            self.message.setText("The signature model is not available here.")
            return
        cid = self._customer_id
        self.message.setText("Waiting for the signature model…")
        context.when_ready(
            lambda verifier: self._start_replace(verifier, cid, reference_id, number, image, force),
            on_failed=lambda _err: self._replace_not_started(cid, number),
        )

    def _replace_not_started(self, cid: str, number: int) -> None:
        # The model's error has its own dialog; this says what became of the replacement
        # (on another customer's page, chosen meanwhile, the waiting message is gone).
        if cid != self._customer_id:
            return
        self.message.setText(
            f"Reference #{number} of customer {cid} was not replaced: the signature model "
            "could not be loaded."
        )

    def _start_replace(self, verifier, cid, reference_id, number, image, force) -> None:
        from sigverify_gui.services.enrol import replace_reference

        store, operator = self._store, self._operator()
        self._start(
            lambda _progress: replace_reference(
                store, verifier, reference_id, image, force=force, operator=operator
            ),
            "Checking and storing the new reference…",
            lambda result: self._changed(
                [
                    f"Reference #{number} of customer {cid} was replaced"
                    + (" (unlike the others: saved by a supervisor)." if result.forced else "."),
                    *result.warnings,
                ]
            ),
            on_error=lambda err: self._replace_failed(err, reference_id, number, image),
        )

    def _replace_failed(self, err: BaseException, reference_id, number, image) -> None:
        from sigverify_gui.ui import errors

        self.message.clear()
        if not isinstance(err, ConsistencyError):
            errors.show_error(self, err)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "The new signature looks unlike the others",
            # the message says what a supervisor may do; this, which reference it is
            f"{err}\n\nReference #{number} is kept unless a supervisor replaces it.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setAccessibleName("The new signature looks unlike the others")
        force = box.addButton("Replace an&yway (supervisor)", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self.replace_with(reference_id, number, image, force=True))
        self.force_button = force
        self._open(box)

    # --- close / reopen ----------------------------------------------------------------
    def ask_account_change(self) -> None:
        cid = self._customer_id
        if cid is None:
            return
        who = self._who(cid)
        if self._status == "closed":
            self._ask_reason(
                "Reopen the account",
                f"Supervisor action: reopen the account of {who}? Their "
                "signatures will be verified again against their references.",
                "Reopen account",
                lambda reason: self._set_account(cid, reason, close=False),
            )
            return
        self._ask_reason(
            "Close the account",
            f"Supervisor action: close the account of {who}?\n\nTheir signatures "
            "will no longer be verified. The customer, their references and the audit "
            "trail stay on record; the account can be reopened.",
            "Close account",
            lambda reason: self._set_account(cid, reason, close=True),
        )

    def _who(self, cid: str) -> str:
        """The customer as a supervisor recognises them: number and name."""
        customer = records.get_customer(self._store.db, cid)
        return f"customer {cid}" + (f" ({customer.name})" if customer and customer.name else "")

    def _set_account(self, cid: str, reason: str, *, close: bool) -> None:
        from sigverify_gui.services.accounts import close_account, reopen_account

        change = close_account if close else reopen_account
        store, operator = self._store, self._operator()
        done = "closed" if close else "reopened"
        self._start(
            lambda _progress: change(store, cid, reason=reason, operator=operator),
            "Closing the account…" if close else "Reopening the account…",
            lambda _result: self._changed([f"The account of customer {cid} was {done}."]),
        )

    # --- shared ------------------------------------------------------------------------
    def _ask_reason(
        self, title: str, text: str, ok_label: str, then: Callable[[str], None]
    ) -> None:
        dialog = ReasonDialog(title, text, ok_label, self)
        dialog.accepted.connect(lambda: then(dialog.reason()))
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        """Show a dialog without blocking (its answer arrives by signal)."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: self._dialog_closed(dialog))
        dialog.open()

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _start(self, fn, label: str, on_done, on_error=None) -> None:
        self.task = run_in_background(
            fn, label=label, on_done=on_done, on_error=on_error, parent=self
        )
        self.task.finished.connect(self._task_ended)
        self._update_buttons()

    def _task_ended(self) -> None:
        self.task = None
        self._update_buttons()

    def _changed(self, lines: list[str]) -> None:
        self.refresh()
        self.message.setText("\n".join(lines))
        self.store_changed.emit()
        context = self._app_context()
        if context is not None:
            context.notify_store_changed()
