"""The match score, large, on a gauge with the reject / refer / accept bands.

The bands use the Okabe-Ito palette (vermillion, orange, bluish green), which stays
distinguishable with the common colour-vision deficiencies, and every band and the
decision also carry their name in words (a band too narrow for it, a mark), so nothing
depends on seeing colour.
"""

from __future__ import annotations

from sigverify_gui.services.thresholds import shown_score
from sigverify_gui.ui.qt import (
    QColor,
    QFont,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPen,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QtGui,
    QVBoxLayout,
    QWidget,
)

# decision -> (band colour, text colour on it, label). Okabe and Ito's colour-blind-safe
# hues; green and vermilion darkened so that their white labels read at 4.5:1 or more
# (WCAG AA; the lighter shades gave 3.4 and 3.9), since the gauge's labels are small.
DECISION_STYLES: dict[str, tuple[str, str, str]] = {
    "reject": ("#B34700", "#FFFFFF", "Reject"),
    "refer": ("#E69F00", "#000000", "Refer"),
    "accept": ("#007A5A", "#FFFFFF", "Accept"),
}

# A band too narrow for its name (a strict accept threshold such as 0.92 leaves the
# accept band a few per cent of the bar) shows these marks, as the enrolment strip
# marks its captures, rather than nothing.
BAND_MARKS = {"reject": "✗", "refer": "?", "accept": "✓"}

DECISION_PADDING = (8, 16)  # vertical, horizontal: around the system's decision

EXPLANATIONS = {
    "accept": "At or above {accept:.3f}: the signature matches the customer's references.",
    "refer": (
        "Between {reject:.3f} and {accept:.3f}: not conclusive; compare the signatures "
        "closely and refer to a supervisor when in doubt."
    ),
    "reject": "Below {reject:.3f}: the signature does not match the customer's references.",
}


class GaugeBar(QWidget):
    """The painted bar: bands from 0 to 1, threshold ticks, and a needle at the score."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.score: float | None = None
        self.t_accept = 0.7
        self.t_reject = 0.3
        self.setMinimumSize(260, 64)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(420, 72)

    def set_values(self, score: float | None, t_accept: float, t_reject: float) -> None:
        self.score = None if score is None else min(1.0, max(0.0, float(score)))
        self.t_accept, self.t_reject = float(t_accept), float(t_reject)
        self.update()

    def bar_rect(self) -> QRectF:
        fm = self.fontMetrics()
        top = fm.height() * 0.5 + 6  # room for the needle's head
        height = max(18.0, self.height() - top - fm.height() - 8)
        return QRectF(10, top, max(10.0, self.width() - 20.0), height)

    def scale_labels(self) -> list[tuple[str, QRectF]]:
        """The numbers under the bar and where they go: both thresholds always, the
        ends 0 and 1 only where they do not run into a threshold's number (a strict
        T_accept such as 0.97 sits right at the end)."""
        fm = self.fontMetrics()
        top = self.bar_rect().bottom() + 3

        def label(value: float, text: str, anchor: float) -> tuple[str, QRectF]:
            # anchor: where `value` falls on the text, 0 its left edge, 1 its right
            width = fm.horizontalAdvance(text) + 2
            return text, QRectF(self.x_of(value) - anchor * width, top, width, fm.height())

        # Two decimals on the axis, a guide; the explanation below gives them exactly.
        thresholds = [label(v, f"{v:.2f}", 0.5) for v in (self.t_reject, self.t_accept)]
        ends = [label(0.0, "0", 0.0), label(1.0, "1", 1.0)]
        clear_ends = [
            (text, rect)
            for text, rect in ends  # a space of 4 px kept between two numbers
            if not any(rect.adjusted(-4, 0, 4, 0).intersects(r) for _, r in thresholds)
        ]
        return clear_ends + thresholds

    def bands(self) -> list[tuple[str, QRectF, str]]:
        """(decision, its rectangle on the bar, the text on it: its name where that
        fits, else its mark, else nothing) for each band wider than nothing."""
        bar = self.bar_rect()
        fm = QtGui.QFontMetrics(self._label_font())
        limits = (
            ("reject", 0.0, self.t_reject),
            ("refer", self.t_reject, self.t_accept),
            ("accept", self.t_accept, 1.0),
        )
        found = []
        for name, lo, hi in limits:
            rect = QRectF(self.x_of(lo), bar.top(), self.x_of(hi) - self.x_of(lo), bar.height())
            if rect.width() <= 0:
                continue
            fitting = [
                text
                for text in (DECISION_STYLES[name][2], BAND_MARKS[name])
                if fm.horizontalAdvance(text) + 6 <= rect.width()
            ]
            found.append((name, rect, fitting[0] if fitting else ""))
        return found

    def _label_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def x_of(self, value: float) -> float:
        bar = self.bar_rect()
        return bar.left() + bar.width() * min(1.0, max(0.0, value))

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = self.bar_rect()
        painter.setFont(self._label_font())
        for name, rect, text in self.bands():
            colour, text_colour, _ = DECISION_STYLES[name]
            painter.fillRect(rect, QColor(colour))
            painter.setPen(QColor(text_colour))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        text_pen = QPen(self.palette().color(self.foregroundRole()))
        painter.setPen(text_pen)
        painter.setFont(self.font())
        for value in (self.t_reject, self.t_accept):
            x = self.x_of(value)
            painter.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom() + 3))
        for text, rect in self.scale_labels():
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        if self.score is not None:
            self._paint_needle(painter, bar)
        painter.end()

    def _paint_needle(self, painter: QPainter, bar: QRectF) -> None:
        x = self.x_of(self.score)
        # A dark line with a light halo reads on every band colour and both palettes.
        painter.setPen(QPen(QColor("white"), 6))
        painter.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        painter.setPen(QPen(QColor("#111111"), 3))
        painter.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        head = QtGui.QPolygonF(
            [QPointF(x - 8, bar.top() - 12), QPointF(x + 8, bar.top() - 12), QPointF(x, bar.top())]
        )
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(QColor("#111111"))
        painter.drawPolygon(head)


class ScoreGauge(QFrame):
    """Score in large type, the band gauge, and the system's decision in words."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel("Match score")
        self.score_label = QLabel("–")
        big = QFont(self.font())
        big.setPointSizeF(max(28.0, self.font().pointSizeF() * 3.2))
        big.setBold(True)
        self.score_label.setFont(big)
        self.score_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.decision_label = QLabel()
        decision_font = QFont(self.font())
        decision_font.setPointSizeF(self.font().pointSizeF() * 1.4)
        decision_font.setBold(True)
        self.decision_label.setFont(decision_font)
        self.decision_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # As wide as the widest decision with its padding (set_result): one width for
        # all three, and never less, or a cramped row cuts the word off.
        widest = max(
            QtGui.QFontMetrics(decision_font).horizontalAdvance(f"System: {label.upper()}")
            for _, _, label in DECISION_STYLES.values()
        )
        self.decision_label.setMinimumWidth(widest + 2 * DECISION_PADDING[1] + 4)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.bar = GaugeBar()

        # The title beside the score rather than above it: the line it saves lets the
        # score and the decision fit together on a 1024 x 768 screen.
        top = QHBoxLayout()
        top.addWidget(self.title, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.score_label)
        top.addStretch(1)
        top.addWidget(self.decision_label, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.explanation)
        self.setAccessibleName("Match score")
        self.clear()

    def set_result(self, score: float, decision: str, t_accept: float, t_reject: float) -> None:
        colour, text_colour, label = DECISION_STYLES[decision]
        shown = shown_score(score, decision, t_accept, t_reject)
        self.score_label.setText(shown)
        self.decision_label.setText(f"System: {label.upper()}")
        self.decision_label.setStyleSheet(
            f"background: {colour}; color: {text_colour}; border-radius: 6px; "
            f"padding: {DECISION_PADDING[0]}px {DECISION_PADDING[1]}px;"
        )
        self.explanation.setText(EXPLANATIONS[decision].format(accept=t_accept, reject=t_reject))
        self.bar.set_values(score, t_accept, t_reject)
        description = (
            f"Match score {shown}. System decision: {label}. Accept at or above "
            f"{t_accept:.3f}, reject below {t_reject:.3f}, refer in between."
        )
        self.setAccessibleDescription(description)
        self.bar.setAccessibleDescription(description)

    def clear(self) -> None:
        """No score; the bar keeps the thresholds it last showed."""
        self.score_label.setText("–")
        self.decision_label.setText("")
        self.decision_label.setStyleSheet("")
        self.explanation.setText("")
        self.bar.set_values(None, self.bar.t_accept, self.bar.t_reject)
        self.setAccessibleDescription("No score yet.")

    def score_text(self) -> str:
        return self.score_label.text()

    def decision_text(self) -> str:
        return self.decision_label.text()
