"""Pages that scroll on a small screen while what they are for stays in view.

A branch laptop's 1024 x 600 screen is shorter than the Enrol and Verify pages.
When the whole page scrolled, "Check and save" and "Verify" lay below the fold
(the teller had to know to scroll for the one button the page is for), and a
result opened with whose result it was, and the way on, above it. Here only the
body scrolls; a header (whose page, the way on) or a footer (the page's result
line and buttons) is always shown.
"""

from __future__ import annotations

from sigverify_gui.ui.qt import (
    QLabel,
    QLayout,
    QMargins,
    QScrollArea,
    QSize,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)


def scrollable(page: QWidget) -> QScrollArea:
    """`page` in a frameless scroll area that lets it fill the room it is given."""
    # A tall page must not force its height on the window: on a small laptop
    # display the page scrolls instead of the window growing off the screen.
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


def with_fixed_footer(owner: QWidget, body: QWidget, footer: QLayout) -> QScrollArea:
    """Lay out `owner` as `body`, scrolling, above `footer`; returns the scroll area."""
    return _framed(owner, body, footer=footer)


def with_fixed_header(owner: QWidget, header: QLayout, body: QWidget) -> QScrollArea:
    """Lay out `owner` as `header` above `body`, scrolling; returns the scroll area."""
    return _framed(owner, body, header=header)


def _framed(
    owner: QWidget, body: QWidget, header: QLayout | None = None, footer: QLayout | None = None
) -> QScrollArea:
    area = scrollable(body)
    # Header and footer line up with the body's contents, whose layout sets the margins.
    m = body.layout().contentsMargins() if body.layout() else QMargins()
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    if header is not None:
        header.setContentsMargins(m.left(), m.top(), m.right(), 0)
        layout.addLayout(header)
    layout.addWidget(area, 1)
    if footer is not None:
        footer.setContentsMargins(m.left(), 0, m.right(), m.bottom())
        layout.addLayout(footer)
    return area


class CappedText(QScrollArea):
    """Word-wrapped text in a footer: as many lines as it needs up to `max_lines`, then
    it scrolls. A refusal listing ten duplicate images ran to eight lines, and the fixed
    footer took the room the page's body needed. Used like the QLabel it holds."""

    def __init__(self, max_lines: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.max_lines = max_lines
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        self.label.setText(text)
        self._fit()

    def text(self) -> str:
        return self.label.text()

    def clear(self) -> None:
        self.setText("")

    def setStyleSheet(self, sheet: str) -> None:  # noqa: N802
        self.label.setStyleSheet(sheet)

    def setAccessibleName(self, name: str) -> None:  # noqa: N802
        self.label.setAccessibleName(name)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # the text wraps anew
            self._fit()

    def _fit(self) -> None:
        """As tall as the wrapped text, up to `max_lines` lines."""
        width = max(1, self.width() - self.verticalScrollBar().sizeHint().width())
        needed = self.label.heightForWidth(width) if self.label.text() else 0
        most = self.label.fontMetrics().lineSpacing() * self.max_lines + 2
        height = min(needed, most)
        if height != self.height():
            self.setFixedHeight(height)
        # a stop on the Tab key only when there is more to read: then arrows scroll it
        scrolls = needed > most
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if scrolls else Qt.FocusPolicy.NoFocus)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(super().sizeHint().width(), self.height())
