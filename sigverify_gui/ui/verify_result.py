"""The verification result screen: the evidence, the system's decision, the teller's.

Left: the questioned signature beside a reference at the same scale (the closest one
first; any reference in the strip below can be put there instead). Right: the match
score and its gauge, the aligned overlay or heat map of what the model compared,
and the teller's decision, which needs a reason when it overrides the system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sigverify_gui.services.cautions import caution_messages
from sigverify_gui.services.typed_text import MAX_REASON_LENGTH
from sigverify_gui.services.verify import VerificationResult
from sigverify_gui.ui.capture_preview import InspectedCapture
from sigverify_gui.ui.compare_overlay import CompareOverlay
from sigverify_gui.ui.customer_panel import reference_numbers
from sigverify_gui.ui.palette import status_style
from sigverify_gui.ui.qt import (
    QApplication,
    QEvent,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPalette,
    QPushButton,
    QRect,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from sigverify_gui.ui.score_gauge import DECISION_STYLES, ScoreGauge
from sigverify_gui.ui.scrolling import with_fixed_header
from sigverify_gui.ui.signature_view import SignaturePair
from sigverify_gui.ui.thumbnail_strip import STATUS_STYLES, ThumbnailStrip


@dataclass(frozen=True, eq=False)
class ReferenceImage:
    reference_id: int
    gray: np.ndarray = field(repr=False)
    canvas: np.ndarray = field(repr=False)  # float32, as the model saw it
    dpi: float | None
    score: float  # the match score from this reference alone
    captured_at: str


@dataclass(frozen=True, eq=False)
class VerificationOutcome:
    result: VerificationResult
    questioned: InspectedCapture
    references: tuple[ReferenceImage, ...]  # closest first

    @property
    def closest(self) -> ReferenceImage:
        return self.references[0]


DECISION_BUTTONS = (  # decision, label (with its Alt key), what it means
    ("accept", "&Accept", "Accept the signature as the customer's (Alt+A)"),
    ("refer", "Refer &to a supervisor", "Not sure: refer to a supervisor (Alt+T)"),
    ("reject", "&Reject", "Reject the signature (Alt+R)"),
)


def override_hint(system: str, chosen: str) -> str:
    """What the teller is told when `chosen` differs from the `system` decision."""
    return (
        f"The system decided {DECISION_STYLES[system][2]}. A reason is required to decide "
        f"{DECISION_STYLES[chosen][2]} instead."
    )


ALL_HINTS = tuple(
    override_hint(system, chosen)
    for system in DECISION_STYLES
    for chosen in DECISION_STYLES
    if chosen != system
)


class DecisionPanel(QGroupBox):
    """The teller's decision; a reason is required when it differs from the system's."""

    record_requested = Signal(str, str)  # decision, reason

    def __init__(self, parent=None) -> None:
        super().__init__("Your decision", parent)
        self.system_decision = ""
        # One decision at a time, kept so by `_choose_only` rather than by an exclusive
        # QButtonGroup: Tab skips the unchecked buttons of an exclusive group, as it
        # does radio buttons, and a teller tabbing along the row reached only one.
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for decision, text, tip in DECISION_BUTTONS:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.clicked.connect(lambda _checked, b=button: self._choose_only(b))
            button.installEventFilter(self)  # Enter on it: `eventFilter`
            self.buttons[decision] = button
            row.addWidget(button)
        self.reason = QLineEdit()
        self.reason.setMaxLength(MAX_REASON_LENGTH)
        self.reason.setAccessibleName("Reason for the decision")
        self.reason_label = QLabel("Reas&on:")
        self.reason_label.setBuddy(self.reason)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.record_button = QPushButton("Record &decision")
        self.record_button.setAutoDefault(True)  # Enter records, once focus is on it
        self.record_button.setToolTip("Record your decision in the audit trail")
        self.status = QLabel()
        self.status.setWordWrap(True)
        reason_row = QHBoxLayout()
        reason_row.addWidget(self.reason_label)
        reason_row.addWidget(self.reason, 1)
        reason_row.addWidget(self.record_button)
        # The hint (while deciding) and the status (once recorded) are never shown
        # together: one place for both, its room kept (`_reserve_hint_room`).
        messages = QGridLayout()
        messages.setContentsMargins(0, 0, 0, 0)
        messages.addWidget(self.hint, 0, 0)
        messages.addWidget(self.status, 0, 0)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(reason_row)
        layout.addLayout(messages)
        self.reason.textChanged.connect(self._update)
        self.reason.returnPressed.connect(self._request)
        self.record_button.clicked.connect(self._request)
        self.reset("")

    def reset(self, system_decision: str) -> None:
        self.system_decision = system_decision
        for button in self.buttons.values():
            button.setChecked(False)
            button.setEnabled(bool(system_decision))
        self.reason.clear()
        self.reason.setEnabled(bool(system_decision))
        self.status.clear()
        self._update()

    def take_focus(self) -> None:
        """Focus (visibly) the button of the system's decision: agreeing is Space, then
        Enter; deciding otherwise asks for a reason anyway."""
        button = self.buttons.get(self.system_decision)
        if button is not None and button.isEnabled():
            button.setFocus(Qt.FocusReason.TabFocusReason)  # drawn with its focus frame

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        """Enter on a decision button: chosen already, it records (or, when a reason is
        needed, goes to the Reason field); not yet, it chooses, as Space does. A plain
        button in a window ignores Enter, and "Space, then Enter" did nothing."""
        enter = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if (
            event.type() == QEvent.Type.KeyPress
            and event.key() in enter
            and watched in self.buttons.values()
            and watched.isEnabled()
        ):
            if not watched.isChecked():
                self._choose_only(watched)
            elif self.record_button.isEnabled():
                self._request()
            else:
                self.reason.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return super().eventFilter(watched, event)

    def chosen(self) -> str | None:
        return next((d for d, b in self.buttons.items() if b.isChecked()), None)

    def choose(self, decision: str) -> None:
        self._choose_only(self.buttons[decision])

    def _choose_only(self, chosen: QPushButton) -> None:
        # Clicking the chosen button again keeps it chosen, as in an exclusive group.
        for button in self.buttons.values():
            button.setChecked(button is chosen)
        self._update()

    def overrides(self) -> bool:
        chosen = self.chosen()
        return chosen is not None and chosen != self.system_decision

    def _mark_chosen(self) -> None:
        """Fusion draws a checked button barely sunken: the decision about to be recorded
        is drawn in the theme's selection colours instead, and bold. Through palettes
        that set those two roles only, not a style sheet: a widget with a style sheet
        no longer follows the application's palette, and the panel stayed light on the
        dark theme."""
        app = QApplication.instance().palette()
        for button in self.buttons.values():
            marked = QPalette()  # no role set: everything inherited, as any button
            if button.isChecked():
                marked.setColor(QPalette.ColorRole.Button, app.color(QPalette.ColorRole.Highlight))
                marked.setColor(
                    QPalette.ColorRole.ButtonText, app.color(QPalette.ColorRole.HighlightedText)
                )
            button.setPalette(marked)
            font = button.font()
            font.setBold(button.isChecked())
            button.setFont(font)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange:  # the theme was switched
            self._update()

    def _update(self, *_args) -> None:
        self._mark_chosen()
        chosen = self.chosen()
        needs_reason = self.overrides()
        has_reason = bool(self.reason.text().strip())
        self.record_button.setEnabled(chosen is not None and (has_reason or not needs_reason))
        if needs_reason:
            self.reason.setPlaceholderText("Required: why you decide otherwise")
            self.hint.setText(override_hint(self.system_decision, chosen))
            self.hint.setStyleSheet("" if has_reason else status_style("problem"))
        else:
            self.reason.setPlaceholderText("Optional")
            self.hint.clear()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._reserve_hint_room()

    def _reserve_hint_room(self) -> None:
        """Keep room for the longest hint at the hint's current width, shown or not.

        The hint appears as the teller picks a decision other than the system's; had
        it made room for itself then, the Reason field and the Record button would
        move (by a line) away from under the pointer just as the teller reached them.
        """
        bounds = QRect(0, 0, max(1, self.hint.width()), 100_000)
        metrics = self.hint.fontMetrics()
        tallest = max(
            metrics.boundingRect(bounds, Qt.TextFlag.TextWordWrap, text).height()
            for text in ALL_HINTS
        )
        if self.hint.minimumHeight() != tallest:
            self.hint.setMinimumHeight(tallest)

    def _request(self) -> None:
        if self.record_button.isEnabled():
            self.record_requested.emit(self.chosen(), self.reason.text().strip())

    def set_recorded(self, text: str) -> None:
        for button in self.buttons.values():
            button.setEnabled(False)
        self.reason.setEnabled(False)
        self.record_button.setEnabled(False)
        self.hint.clear()
        self.status.setText(text)


class ResultPage(QWidget):
    """Shows one `VerificationOutcome`; the view records the decision."""

    next_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.outcome: VerificationOutcome | None = None
        self.heading = QLabel()
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)  # a long name must not widen the page
        self.next_button = QPushButton("&Next signature")
        self.pair = SignaturePair("Questioned signature", "Reference signature")
        self.strip = ThumbnailStrip()
        self.strip.setAccessibleName("The customer's references; select one to compare")
        self.gauge = ScoreGauge()
        # Why this score deserves less trust than usual, marked by a stripe (orange
        # text on a light page reads badly).
        self.caution = QLabel()
        self.caution.setWordWrap(True)
        self.caution.setAccessibleName("Caution about this score")
        # (Qt draws one side's border only when the border as a whole is declared.)
        stripe = STATUS_STYLES["warning"][0]
        self.caution.setStyleSheet(
            f"QLabel {{ border: 0px; border-left: 4px solid {stripe}; padding: 4px 8px; }}"
        )
        self.caution.hide()
        self.overlay = CompareOverlay()
        self.decision = DecisionPanel()

        # The pair on top at full width (two wide signatures side by side need it),
        # then the verdict (score and decision) beside the visual aid, right under
        # the pair, then all the references. Every part shrinks to fit a 1024 x 768
        # screen without sideways scrolling; where the page must scroll up and down,
        # the view keeps the verdict in sight (`VerificationView`), and the pair just
        # above it stays in sight too: with the references between them, a 1024 x 600
        # screen showed the verdict without the signatures it is about.
        references = QWidget()
        references_layout = QVBoxLayout(references)
        references_layout.setContentsMargins(0, 0, 0, 0)
        references_layout.addWidget(QLabel("All references (select one to compare with it):"))
        references_layout.addWidget(self.strip)
        self.verdict = QWidget()
        verdict_layout = QVBoxLayout(self.verdict)
        verdict_layout.setContentsMargins(0, 0, 0, 0)
        verdict_layout.addWidget(self.gauge)
        verdict_layout.addWidget(self.decision)
        verdict_layout.addStretch(1)
        judgement = QWidget()
        judgement_layout = QHBoxLayout(judgement)
        judgement_layout.setContentsMargins(0, 0, 0, 0)
        judgement_layout.addWidget(self.verdict, 1)
        judgement_layout.addWidget(self.overlay, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.pair)
        splitter.addWidget(judgement)
        splitter.addWidget(references)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setStretchFactor(2, 0)
        splitter.setChildrenCollapsible(False)
        # Whose result, and the way on, stay in view above the page, which scrolls on
        # a short screen (to the verdict first: `VerificationView`).
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.next_button)
        self.next_button.setAutoDefault(True)  # Enter moves on, once focus is on it
        body = QWidget()
        layout = QVBoxLayout(body)
        # Across the page, under the heading: a note in the verdict's column would
        # squeeze the gauge (a splitter does not grow a pane for wrapped text).
        layout.addWidget(self.caution)
        layout.addWidget(splitter, 1)
        self.scroll_area = with_fixed_header(self, top, body)
        self.next_button.clicked.connect(self.next_requested)
        self.strip.current_key_changed.connect(self._compare_with)

    def show_outcome(self, outcome: VerificationOutcome, heading: str) -> None:
        self.outcome = outcome
        result = outcome.result
        self.heading.setText(heading)
        t = result.thresholds
        self.gauge.set_result(result.score, result.decision, t.t_accept, t.t_reject)
        cautions = caution_messages(result.cautions)
        self.caution.setText("\n".join(f"Caution: {c}" for c in cautions))
        self.caution.setVisible(bool(cautions))
        self.strip.clear()
        numbers = reference_numbers(r.reference_id for r in outcome.references)
        for i, ref in enumerate(outcome.references):
            caption = f"#{numbers[ref.reference_id]} · {ref.score:.3f}"
            tooltip = (
                f"Reference #{numbers[ref.reference_id]}: match {ref.score:.3f} against this "
                f"reference alone (database id {ref.reference_id})"
            )
            self.strip.add(ref.reference_id, ref.gray, caption, tooltip)
            if i == 0:
                self.strip.set_status(ref.reference_id, "selected", caption + " closest")
        self.decision.reset(result.decision)
        self._compare_with(outcome.closest.reference_id)
        self.strip.select(outcome.closest.reference_id)

    def reference_number(self, reference_id: int) -> int | None:
        """The number the teller sees for a reference (#1..#N, as the customer panel
        lists them); the database id stays in the tooltips, for IT."""
        if self.outcome is None:
            return None
        return reference_numbers(r.reference_id for r in self.outcome.references).get(reference_id)

    def _compare_with(self, reference_id) -> None:
        if self.outcome is None:
            return
        ref = next((r for r in self.outcome.references if r.reference_id == reference_id), None)
        if ref is None:
            return
        q = self.outcome.questioned
        self.pair.set_images(q.capture.gray, ref.gray, q.dpi, ref.dpi)
        closest = " (the closest)" if ref is self.outcome.closest else ""
        self.pair.set_captions(
            f"{q.source}",
            f"Reference #{self.reference_number(ref.reference_id)}{closest}, "
            f"captured {ref.captured_at[:10]}, "
            f"match {ref.score:.3f} against it alone",
        )
        if q.canvas is not None:
            self.overlay.set_canvases(q.canvas, ref.canvas)
