"""Verification: bring in the questioned signature, verify, decide, next.

Two pages: the capture page (the capture panel and Verify) and the result page
(`verify_result.ResultPage`). Verify runs in a worker: references made by another
model are re-embedded first, with progress (the service would do it anyway, but
silently), then the verification service scores and audits it. The teller's
decision is a second audit row (`record_teller_decision`); Next starts again.
"""

from __future__ import annotations

from sigverify_gui.services.captures import canvas_from_png, gray_from_png
from sigverify_gui.services.reembed import count_stale, reembed_stale
from sigverify_gui.services.verify import (
    record_teller_decision,
    unverifiable,
    verify_signature,
)
from sigverify_gui.store import records
from sigverify_gui.ui import errors
from sigverify_gui.ui.capture_panel import CapturePanel
from sigverify_gui.ui.capture_preview import InspectedCapture
from sigverify_gui.ui.enter_key import enter_presses
from sigverify_gui.ui.qt import (
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSizePolicy,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from sigverify_gui.ui.score_gauge import DECISION_STYLES
from sigverify_gui.ui.scrolling import with_fixed_footer
from sigverify_gui.ui.verify_result import ReferenceImage, ResultPage, VerificationOutcome
from sigverify_gui.ui.workers import BackgroundTask, run_in_background

CAPTURE_PAGE, RESULT_PAGE = 0, 1


def run_verification(store, verifier, customer_id, questioned, operator, progress):
    """The worker's whole job (no Qt): re-embed if needed, verify, load the images."""
    stale = count_stale(store, verifier, customer_id)
    if stale:
        progress.update(0, stale, f"Updating {stale} reference signature(s) for the new model…")
        reembed_stale(
            store, verifier, customer_id=customer_id, progress=progress, operator=operator
        )
    progress.update(0, 0, "Comparing with the references…")
    result = verify_signature(
        store,
        verifier,
        customer_id,
        questioned.capture,
        operator=operator,
        record_failure=True,
        progress=progress,
    )
    references = []
    by_id = {r.id: r for r in records.references_of(store.db, customer_id)}
    for reference_id, reference_score in result.reference_scores:
        ref = by_id.get(reference_id)
        if ref is None:
            continue
        image_png, canvas_png = records.reference_images(store.db, reference_id)
        canvas = canvas_from_png(canvas_png)
        references.append(
            ReferenceImage(
                reference_id,
                gray_from_png(image_png),
                canvas,
                ref.quality.get("dpi"),
                reference_score,
                ref.captured_at,
            )
        )
    return VerificationOutcome(result, questioned, tuple(references))


def _why_not_verifiable(customer: records.Customer | None) -> str:
    """What stops a verification of `customer` before it starts ("" when nothing does):
    the service would refuse it, and record the failed attempt."""
    why = unverifiable(customer) if customer is not None else None
    if why == "closed":
        return f"The account of {customer.customer_id} is closed; it cannot be verified."
    if why == "no_references":
        return (
            f"{customer.customer_id} has no active reference signatures; add some first "
            "(Customer, Add references)."
        )
    return ""


class VerificationView(QWidget):
    def __init__(self, context, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.customer_id: str | None = None
        self.questioned: InspectedCapture | None = None
        self.task: BackgroundTask | None = None
        self.waiting_for_model = False  # Verify pressed, the model still loading
        self.decision_recorded = False
        self.leave_box: QMessageBox | None = None  # "move on without a decision?"
        self._result_heading = ""  # the result page's heading, before any notice
        # The store the shown result was written to: the teller's decision belongs
        # there, whatever store is open when it is recorded.
        self.result_store = None
        self.blocked_reason = ""  # why this customer cannot be verified, if so
        self.notice = ""  # said in the status line until the teller does something
        self._verdict_pinned = False  # keep_verdict_in_view, until the teller scrolls

        self.heading = QLabel()
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)  # a long name must not widen the page
        self.panel = CapturePanel(context, multiple=False)
        self.verify_button = QPushButton("Verif&y")
        self.verify_button.setToolTip("Compare with the customer's references (Ctrl+Enter)")
        self.verify_button.setMinimumSize(160, 36)
        font = self.verify_button.font()
        font.setBold(True)
        self.verify_button.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        capture_body = QWidget()
        capture_layout = QVBoxLayout(capture_body)
        capture_layout.addWidget(self.heading)
        capture_layout.addWidget(self.panel, 1)
        bottom = QHBoxLayout()  # Verify stays in view; the capture scrolls
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.verify_button)
        capture_page = QWidget()
        self.capture_area = with_fixed_footer(capture_page, capture_body, bottom)
        self.result_page = ResultPage()
        self.pages = QStackedWidget()
        self.pages.addWidget(capture_page)
        self.result_area = self.result_page.scroll_area
        self.pages.addWidget(self.result_page)
        # The result page's height settles over a few rounds of the event loop after a
        # result comes in (wrapped texts, styled labels); each change may move the
        # verdict. Once the teller scrolls, where the page is is theirs to say.
        result_bar = self.result_area.verticalScrollBar()
        result_bar.rangeChanged.connect(self.keep_verdict_in_view)
        result_bar.actionTriggered.connect(self._unpin_verdict)
        self._show_page(CAPTURE_PAGE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), capture_page).activated.connect(self.verify)
        enter_presses(self.verify_button, capture_page)
        self.panel.captured.connect(self._on_captured)
        self.verify_button.clicked.connect(self.verify)
        self.result_page.next_requested.connect(self.ask_next_signature)
        self.result_page.decision.record_requested.connect(self.record_decision)
        self.set_customer(None)

    # --- state -----------------------------------------------------------------------
    def set_customer(self, customer_id: str | None) -> None:
        """The customer the next verification is for (a shown result keeps its own)."""
        customer = records.get_customer(self.context.store.db, customer_id) if customer_id else None
        changed = (customer.customer_id if customer else None) != self.customer_id
        self.customer_id = customer.customer_id if customer else None
        self.blocked_reason = _why_not_verifiable(customer)
        if changed:
            self.notice = ""
        if customer is None:
            self.heading.setText("Select a customer on the left, then bring in the signature.")
        else:
            name = f" — {customer.name}" if customer.name else ""
            refs = customer.active_references
            self.heading.setText(
                f"Verify a signature of {customer.customer_id}{name} "
                f"({refs} reference{'s' if refs != 1 else ''})"
            )
        # Another customer picked after the decision: on to their verification. (The
        # same one again is only the list refreshing, and the result stays.) Before
        # the decision the result stays, saying whose it is.
        if changed and self.pages.currentIndex() == RESULT_PAGE:
            if self.decision_recorded:
                self.next_signature()
            else:
                self._say_whose_result()
        self._update_state()

    def _say_whose_result(self) -> None:
        page = self.result_page
        verified = page.outcome.result.customer_id
        text = self._result_heading
        if verified != self.customer_id:
            selected = self.customer_id or "the customer selected"
            text += (
                f"\nThis result is for {verified}, not {selected}: record the decision, "
                "then press Next signature."
            )
        page.heading.setText(text)

    def _on_captured(self, inspected: InspectedCapture) -> None:
        self.questioned = inspected
        self.notice = ""
        self._update_state()

    def _update_state(self) -> None:
        ready = (
            self.customer_id is not None
            and not self.blocked_reason
            and self.questioned is not None
            and self.questioned.ok
            and not self.busy
        )
        self.verify_button.setEnabled(ready)
        if self.busy:
            return
        if self.notice:
            self.status.setText(self.notice)
        elif self.customer_id is None:
            self.status.setText("")
        elif self.blocked_reason:
            self.status.setText(self.blocked_reason)
        elif self.questioned is None:
            self.status.setText("Bring in the signature to verify.")
        elif not self.questioned.ok:
            self.status.setText("This capture cannot be verified; bring in a better one.")
        else:
            self.status.setText("Ready: Verify compares it with the customer's references.")

    def _show_page(self, index: int) -> None:
        # A stack is as large as its largest page; the taller result page then pushed
        # the Verify button below a small screen's edge. A hidden page asks for no room.
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.pages.widget(i).setSizePolicy(policy, policy)
        self.pages.setCurrentIndex(index)
        self.pages.updateGeometry()

    @property
    def busy(self) -> bool:
        return self.task is not None or self.waiting_for_model

    def _on_model_failed(self, _err) -> None:
        self.waiting_for_model = False
        self._update_state()

    # --- verifying -------------------------------------------------------------------
    def verify(self) -> None:
        if not self.verify_button.isEnabled():
            return
        self.waiting_for_model = True
        self.notice = ""
        self.verify_button.setEnabled(False)
        self.status.setText("Waiting for the signature model…")
        customer_id, questioned = self.customer_id, self.questioned
        # A model that failed to load drops the waiting Verify (the error is shown
        # by the context); the button comes back for another try.
        self.context.when_ready(
            lambda verifier: self._start(verifier, customer_id, questioned),
            on_failed=self._on_model_failed,
        )

    def _start(self, verifier, customer_id: str, questioned: InspectedCapture) -> None:
        store, operator = self.context.store, self.context.operator
        self.waiting_for_model = False
        self.status.setText("Verifying…")
        self.task = run_in_background(
            lambda progress: run_verification(
                store, verifier, customer_id, questioned, operator, progress
            ),
            on_done=lambda outcome: self._show_outcome(outcome, store),
            on_error=self._failed,
            label="Verifying the signature…",
            parent=self,
        )
        self.task.finished.connect(self._task_ended)

    def _task_ended(self) -> None:
        self.task = None
        self._update_state()

    def _failed(self, err: BaseException) -> None:
        self.context.notify_store_changed()  # a failed attempt is audited too
        errors.show_error(self, err)

    def _show_outcome(self, outcome: VerificationOutcome, store) -> None:
        self.context.notify_store_changed()
        verified = outcome.result.customer_id
        if store is not self.context.store or verified != self.customer_id:
            # The teller moved on (or opened another store) while it ran: the result
            # must not take the page over under another customer. It is audited.
            self.notice = (
                f"The verification of {verified} ended after you moved on; "
                "it is in that customer's history."
            )
            return
        customer = records.get_customer(store.db, verified)
        name = f" — {customer.name}" if customer and customer.name else ""
        self.result_store = store
        self.decision_recorded = False
        self._result_heading = f"Customer {outcome.result.customer_id}{name}: verification result"
        self.result_page.show_outcome(outcome, self._result_heading)
        self._show_page(RESULT_PAGE)
        self.result_page.decision.take_focus()
        self._verdict_pinned = True
        QTimer.singleShot(0, self, self.keep_verdict_in_view)  # once the page is laid out

    def scroll_area(self) -> QScrollArea:
        """The scroll area of the page shown (the capture's, or the result's)."""
        return self.result_area if self.pages.currentIndex() == RESULT_PAGE else self.capture_area

    def _unpin_verdict(self, *_args: object) -> None:
        self._verdict_pinned = False

    def keep_verdict_in_view(self, *_args: object) -> None:
        """Scroll the page, if it scrolls, so that the score and the decision show.

        On a small screen the result page is taller than its scroll area; the verdict
        is what the teller must see (and act on) first, the evidence a scroll away.
        """
        if self._verdict_pinned and self.pages.currentIndex() == RESULT_PAGE:
            self.result_area.ensureWidgetVisible(self.result_page.verdict, 0, 0)

    # --- the teller's decision -----------------------------------------------------------
    def record_decision(self, decision: str, reason: str) -> BackgroundTask | None:
        outcome = self.result_page.outcome
        if outcome is None or self.task is not None or self.decision_recorded:
            return None
        if self.result_store is not self.context.store:  # `store_replaced` drops it first
            return None
        store, operator = self.result_store, self.context.operator
        verification_id = outcome.result.verification_id
        self.task = run_in_background(
            lambda progress: record_teller_decision(
                store, verification_id, decision, reason, operator
            ),
            on_done=lambda audit_id: self._recorded(decision, outcome, audit_id),
            label="Recording the decision…",
            parent=self,
        )
        self.task.finished.connect(self._task_ended)
        return self.task

    def _recorded(self, decision: str, outcome: VerificationOutcome, audit_id: int) -> None:
        self.decision_recorded = True
        label = DECISION_STYLES[decision][2]
        system = outcome.result.decision
        text = f"Recorded: {label}"
        if decision != system:
            text += f" (overriding the system's {DECISION_STYLES[system][2]})"
        decision_panel = self.result_page.decision
        decision_panel.set_recorded(f"{text}. Audit entry {audit_id}.")
        self.result_area.ensureWidgetVisible(decision_panel.status, 0, 0)
        # Enter now moves on (the button is in the page's fixed header, always in view).
        self.result_page.next_button.setFocus(Qt.FocusReason.TabFocusReason)
        self.context.notify_store_changed()

    def store_replaced(self) -> None:
        """Another store was opened: a result shown came from the old one, and its
        decision could only be recorded there, so the page starts again."""
        self.result_store = None
        self.next_signature()

    def ask_next_signature(self) -> None:
        """Next signature; before a decision is recorded, only once the teller says so:
        a verification left undecided reads in History with the system's decision alone,
        and moving on used to drop the pending decision without a word."""
        if self.decision_recorded or self.task is not None:
            self.next_signature()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "No decision recorded",
            "You have not recorded a decision for this signature. The verification stays "
            "in the audit trail with the system's decision alone.\n\nMove on without "
            "recording one?",
            parent=self,
        )
        move_on = box.addButton("&Move on", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton("&Stay and decide", QMessageBox.ButtonRole.RejectRole))
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _code: self._left_box(box, box.clickedButton() is move_on))
        self.leave_box = box
        box.open()

    def _left_box(self, box: QMessageBox, move_on: bool) -> None:
        if self.leave_box is box:
            self.leave_box = None
        if move_on and self.pages.currentIndex() == RESULT_PAGE:
            self.next_signature()

    def next_signature(self) -> None:
        """Back to the capture page, empty, for the same customer."""
        self.questioned = None
        self.decision_recorded = False
        self._verdict_pinned = False
        self.panel.clear()
        self._show_page(CAPTURE_PAGE)
        self._update_state()
        self.take_focus()

    def take_focus(self) -> None:
        """Focus where the teller goes next: the decision on a result, else the first
        way to bring in the signature."""
        if self.pages.currentIndex() == RESULT_PAGE:
            self.result_page.decision.take_focus()
        else:
            self.panel.take_focus()
