"""Enrolment: a new customer, or more references for the selected one.

Captures come in through the capture panel and are collected in a strip, each with
its quality verdict; selecting one shows what the model sees of it. Check and save
runs the enrolment service in a worker: it checks every capture and the set's
consistency, and writes all or nothing. An inconsistent set comes back with its
outliers marked and their scores; a supervisor may save it anyway (force).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sigverify_gui.services.bulk import BulkEnrolmentStopped
from sigverify_gui.services.customer_case import new_number_problem
from sigverify_gui.services.enrol import RECOMMENDED_REFERENCES, add_references, enrol_customer
from sigverify_gui.services.errors import ConsistencyError
from sigverify_gui.services.typed_text import MAX_NAME_LENGTH
from sigverify_gui.store import records
from sigverify_gui.ui import enrol_folder, errors
from sigverify_gui.ui.capture_panel import CapturePanel
from sigverify_gui.ui.capture_preview import InspectedCapture
from sigverify_gui.ui.enter_key import enter_presses
from sigverify_gui.ui.palette import status_style
from sigverify_gui.ui.qt import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from sigverify_gui.ui.scrolling import CappedText, with_fixed_footer
from sigverify_gui.ui.thumbnail_strip import ThumbnailStrip
from sigverify_gui.ui.workers import BackgroundTask, run_in_background


@dataclass(frozen=True)
class _SaveRequest:
    """A Check and save as the teller pressed it."""

    store: object
    customer_id: str | None  # None: a new customer, numbered `number`
    number: str
    name: str
    images: dict  # strip key -> capture
    force: bool


class EnrolmentView(QWidget):
    customer_enrolled = Signal(str)  # after a successful save

    def __init__(self, context, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.customer_id: str | None = None  # None: a new customer
        self.customer_closed = False
        self.captures: dict[int, InspectedCapture] = {}
        self.saved = False  # the strip shows the last save's result, not new work
        self.task: BackgroundTask | None = None
        self.waiting_for_model = False  # save pressed, the model still loading
        self._keys = itertools.count(1)

        self.heading = QLabel()
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.heading.setFont(font)
        self.number_edit = QLineEdit()
        self.number_edit.setAccessibleName("Customer number")
        self.number_edit.setPlaceholderText("account or customer number")
        self.number_problem = QLabel()  # said while typing, not after checking signatures
        self.number_problem.setWordWrap(True)
        self.number_problem.setAccessibleName("Customer number problem")
        self.number_problem.setVisible(False)
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(MAX_NAME_LENGTH)
        self.name_edit.setAccessibleName("Customer name")
        customer_box = QGroupBox("Customer")
        form = QFormLayout(customer_box)
        number_label, name_label = QLabel("Customer num&ber:"), QLabel("&Name:")
        number_label.setBuddy(self.number_edit)
        name_label.setBuddy(self.name_edit)
        form.addRow(number_label, self.number_edit)
        form.addRow("", self.number_problem)
        form.addRow(name_label, self.name_edit)

        self.panel = CapturePanel(context, multiple=True)
        self.strip = ThumbnailStrip()
        self.strip.setAccessibleName("Signatures to enrol")
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)  # at 1024 px its longest text pushed Save off
        self.remove_button = QPushButton("&Remove capture")
        self.clear_button = QPushButton("Start a&gain")
        self.save_button = QPushButton("Chec&k and save")
        self.force_button = QPushButton("Save an&yway (supervisor)")
        self.force_button.setToolTip(
            "Enrol even though some signatures do not match the others, or another customer "
            "holds the same image; a supervisor's call"
        )
        self.force_button.setVisible(False)
        self.folder_button = QPushButton("Enrol a fo&lder…")
        self.folder_button.setToolTip("Enrol every writer of a data set folder as a customer")
        self.result_label = CappedText(max_lines=4)  # the footer stays small
        self.result_label.setAccessibleName("Enrolment result")

        strip_row = QHBoxLayout()
        strip_row.addWidget(self.count_label, 1)
        strip_row.addWidget(self.remove_button)
        strip_row.addWidget(self.clear_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.force_button)
        buttons.addWidget(self.save_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addWidget(customer_box)
        layout.addWidget(self.panel, 1)
        layout.addWidget(QLabel("Signatures to enrol (select one to see it above):"))
        layout.addWidget(self.strip)
        # What stands in the way of saving (the count line: "Remove the 2 marked ✗"),
        # what a save said, and the buttons stay in view; the rest scrolls.
        footer = QVBoxLayout()
        footer.addLayout(strip_row)
        footer.addWidget(self.result_label)
        footer.addLayout(buttons)
        self.scroll_area = with_fixed_footer(self, body, footer)

        self.panel.captured.connect(self.add_capture)
        self.strip.current_key_changed.connect(self._show_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_captures)
        self.save_button.clicked.connect(lambda: self.save(force=False))
        enter_presses(self.save_button, self)
        self.force_button.clicked.connect(lambda: self.save(force=True))
        self.folder_button.clicked.connect(self.enrol_folder)
        self.number_edit.textChanged.connect(self._update_state)
        self.set_customer(None)

    # --- whom ------------------------------------------------------------------------------
    def take_focus(self) -> None:
        """Focus where the teller starts: the new customer's number, else the first way
        to bring in a signature."""
        if self.customer_id is None:
            self.number_edit.setFocus(Qt.FocusReason.TabFocusReason)
        else:
            self.panel.take_focus()

    def set_customer(self, customer_id: str | None) -> None:
        """Add to `customer_id`'s references, or (None) enrol a new customer.

        Signatures collected and not saved belong to the customer they were collected
        for: choosing another one sets them aside, so that one customer's signatures
        can never be saved as another's references. (A save under way keeps its own.)"""
        customer = records.get_customer(self.context.store.db, customer_id) if customer_id else None
        same = customer is not None and customer.customer_id == self.customer_id
        unsaved = 0 if same or self.saved or self._busy() else len(self.captures)
        previous = self.customer_id or "the new customer"
        self._show_customer(customer)
        if unsaved or (self.saved and not same and not self._busy()):
            self._clear_strip()  # saved ones are the previous customer's: off the page too
        if not same:  # a result shown is about the previous customer
            self._forget_result()
        if unsaved:
            self.result_label.setText(
                f"The {unsaved} signature(s) collected for {previous} were not saved and "
                "have been set aside: collect this customer's own."
            )
        self._update_state()

    def _busy(self) -> bool:
        return self.task is not None or self.waiting_for_model

    @staticmethod
    def _closed(customer: records.Customer | None) -> bool:
        """A closed account keeps its references and takes no new ones (the service
        refuses them): said on the page, and Save is not offered."""
        return customer is not None and customer.status == "closed"

    def _show_customer(self, customer: records.Customer | None) -> None:
        self.customer_id = customer.customer_id if customer else None
        self.customer_closed = self._closed(customer)
        self.number_edit.setReadOnly(customer is not None)
        self.name_edit.setReadOnly(customer is not None)
        if customer is None:
            self.heading.setText("Enrol a new customer")
            self.number_edit.clear()
            self.name_edit.clear()
            return
        closed = " — the account is closed: reopen it first" if self._closed(customer) else ""
        self.heading.setText(
            f"Add reference signatures to {customer.customer_id}"
            f" ({customer.active_references} already enrolled){closed}"
        )
        self.number_edit.setText(customer.customer_id)
        self.name_edit.setText(customer.name)

    # --- the captures --------------------------------------------------------------------
    def add_capture(self, inspected: InspectedCapture) -> None:
        if self.saved:  # new work after a save: the saved set leaves the strip
            self._clear_strip()
        key = next(self._keys)
        self.captures[key] = inspected
        self.strip.add(key, inspected.capture.gray, inspected.source)
        self._mark_quality(key)
        self.strip.select(key)
        self._forget_result()
        self._update_state()

    def _mark_quality(self, key: int) -> None:
        inspected = self.captures[key]
        status = "ok" if inspected.ok else "problem"
        tip = inspected.verdict() + (
            ": " + " ".join(inspected.reasons) if inspected.reasons else ""
        )
        self.strip.set_status(key, status, inspected.source, f"{inspected.source} — {tip}")

    def remove_selected(self) -> None:
        key = self.strip.current_key()
        if key is None:
            return
        self.strip.remove(key)
        self.captures.pop(key, None)
        if not self.captures:
            self.panel.clear()
        self._forget_result()
        self._update_state()

    def clear_captures(self) -> None:
        self._clear_strip()
        self._forget_result()
        self._update_state()

    def _clear_strip(self) -> None:
        self.strip.clear()
        self.captures.clear()
        self.saved = False
        self.panel.clear()

    def _show_selected(self, key) -> None:
        if key in self.captures:
            self.panel.preview.show_capture(self.captures[key])

    def _update_state(self, *_args) -> None:
        n = len(self.captures)
        bad = sum(not c.ok for c in self.captures.values())
        low, high = RECOMMENDED_REFERENCES
        text = f"{n} signature{'s' if n != 1 else ''} collected — {low} to {high} recommended."
        if bad:
            text += f" Remove the {bad} marked ✗ (not usable) before saving."
        self.count_label.setText("Saved." if self.saved else text)
        typed = self.number_edit.text()
        has_number = bool(typed.strip())
        problem = ""
        if self.customer_id is None and has_number and not self.saved:
            problem = new_number_problem(self.context.store.db, typed)
        self.number_problem.setText(problem)
        self.number_problem.setStyleSheet(status_style("problem"))  # in the theme in use
        self.number_problem.setVisible(bool(problem))
        busy = self._busy()
        ready = n > 0 and not bad and has_number and not problem and not self.saved and not busy
        ready = ready and not self.customer_closed
        self.save_button.setEnabled(ready)
        self.force_button.setEnabled(ready)
        self.remove_button.setEnabled(n > 0 and not self.saved and not busy)
        # While a save waits or runs, the captures it took stay as they are.
        self.clear_button.setEnabled(not busy)
        self.panel.setEnabled(not busy)
        self.folder_button.setEnabled(not busy)

    def _forget_result(self) -> None:
        self.force_button.setVisible(False)
        self.result_label.clear()
        if not self.saved:
            for key in self.captures:
                self._mark_quality(key)

    # --- saving ----------------------------------------------------------------------------
    def save(self, force: bool = False) -> None:
        if self._busy() or not self.captures:
            return
        self.result_label.setStyleSheet("")
        self.result_label.setText("Waiting for the signature model…")
        self.waiting_for_model = True
        self._update_state()
        # What the teller asked to save, taken now: the model may load for a while,
        # and another customer picked meanwhile must not receive these signatures.
        request = _SaveRequest(
            self.context.store,
            self.customer_id,
            self.number_edit.text(),
            self.name_edit.text().strip(),
            {key: inspected.capture for key, inspected in self.captures.items()},
            force,
        )
        self.context.when_ready(
            lambda verifier: self._start_save(verifier, request), on_failed=self._on_model_failed
        )

    def _on_model_failed(self, _err) -> None:  # the waiting save or folder was dropped
        self.waiting_for_model = False
        if self.result_label.text().startswith("Waiting"):
            self.result_label.clear()
        self._update_state()

    def _start_save(self, verifier, request: _SaveRequest) -> None:
        self.waiting_for_model = False
        if request.store is not self.context.store or request.customer_id != self.customer_id:
            self.result_label.setText("Not saved: another customer or store was chosen meanwhile.")
            self._update_state()
            return
        operator = self.context.operator
        keys = list(request.images)
        images = list(request.images.values())
        store, cid, force = request.store, request.customer_id, request.force

        def work(progress):
            if cid is None:
                return enrol_customer(
                    store, verifier, request.number, images, name=request.name,
                    force=force, operator=operator, progress=progress,
                )  # fmt: skip
            return add_references(
                store, verifier, cid, images, force=force, operator=operator, progress=progress
            )

        self.result_label.setText("Checking and saving…")
        self.task = run_in_background(
            work,
            on_done=lambda result: self._saved(keys, result),
            on_error=lambda err: self._failed(keys, err),
            on_cancel=self._save_cancelled,
            label="Checking and saving the signatures…",
            parent=self,
        )
        self.task.finished.connect(self._task_ended)
        self._update_state()

    def _task_ended(self) -> None:
        self.task = None
        self._update_state()

    def _save_cancelled(self) -> None:
        # The service writes all or nothing, and a cancel stops it before it writes.
        self.result_label.setText("Cancelled: nothing was saved.")

    def _saved(self, keys: list[int], result) -> None:
        scores = {c.index: c for c in result.consistency}
        for i, key in enumerate(keys):
            if key not in self.captures:  # cannot happen while the strip is locked
                continue
            source = self.captures[key].source
            score = scores.get(i)
            caption = f"{source} · {score.score:.3f}" if score else source
            status = "warning" if score and score.outlier else "ok"
            self.strip.set_status(key, status, caption, f"Saved. {caption}")
        self.saved = True
        overridden = result.forced and any(c.outlier for c in result.consistency)
        lines = [
            f"Saved {len(result.reference_ids)} reference signature(s) for customer "
            f"{result.customer_id}." + (" Enrolled anyway by a supervisor." if overridden else "")
        ]
        if scores:
            lines.append("Each score is that signature against the others (higher is more alike).")
        lines += list(result.warnings)
        self.result_label.setStyleSheet(status_style("ok"))
        self.result_label.setText("\n".join(lines))
        self.context.notify_store_changed()
        self._show_customer(records.get_customer(self.context.store.db, result.customer_id))
        self.customer_enrolled.emit(result.customer_id)

    def _failed(self, keys: list[int], err: BaseException) -> None:
        if not isinstance(err, ConsistencyError):
            self.result_label.clear()
            errors.show_error(self, err)
            return
        for outlier in err.outliers:
            if outlier.index < len(keys) and keys[outlier.index] in self.captures:
                key = keys[outlier.index]
                caption = f"{self.captures[key].source} · {outlier.score:.3f}"
                why = (
                    "In a group apart from the others, as if another person had signed"
                    if outlier.apart
                    else f"Does not match the others: score {outlier.score:.3f}"
                )
                self.strip.set_status(key, "problem", caption, why)
        self.result_label.setStyleSheet(status_style("problem"))
        self.result_label.setText(str(err))
        self.force_button.setVisible(True)

    # --- a whole folder --------------------------------------------------------------------
    def enrol_folder(self) -> BackgroundTask | None:
        """Enrol every writer of a folder the teller picks; the task, or None while it
        waits for the model (or when nothing was picked)."""
        if self._busy():
            return None
        folder = enrol_folder.ask_folder(self)
        if not folder:
            return None
        self.result_label.setStyleSheet("")
        self.result_label.setText("Waiting for the signature model…")
        self.waiting_for_model = True
        self._update_state()
        self.context.when_ready(
            lambda verifier: self._start_folder(verifier, folder), on_failed=self._on_model_failed
        )
        return self.task

    def _start_folder(self, verifier, folder: str) -> None:
        self.waiting_for_model = False
        self.result_label.setText(f"Enrolling the writers of {folder}…")
        self.task = enrol_folder.start_folder_enrolment(
            self.context, verifier, folder, self, self._folder_done, self._folder_failed
        )
        self.task.finished.connect(self._task_ended)
        self._update_state()

    def _folder_done(self, report) -> None:
        # Also after a cancel: the writers enrolled before it are in the store.
        self.result_label.setStyleSheet(status_style("problem") if report.failed else "")
        self.result_label.setText(enrol_folder.summary(report))
        self.context.notify_store_changed()
        enrol_folder.show_summary(self, report)

    def _folder_failed(self, err: BaseException) -> None:
        self.result_label.clear()
        if isinstance(err, BulkEnrolmentStopped):  # the writers enrolled before the stop
            self.result_label.setStyleSheet(status_style("problem"))
            self.result_label.setText(enrol_folder.summary(err.report))
        self.context.notify_store_changed()  # writers before the failure may be in
        errors.show_error(self, err)
