"""Pages that scroll on a small screen while what they are for stays in view.

A branch laptop's 1024 x 600 screen is shorter than the Enrol and Verify pages.
When the whole page scrolled, "Check and save" and "Verify" lay below the fold
(the teller had to know to scroll for the one button the page is for), and a
result opened with whose result it was, and the way on, above it. Here only the
body scrolls; a header (whose page, the way on) or a footer (the page's result
line and buttons) is always shown.
"""

from __future__ import annotations

from sigverify_gui.ui.qt import QLayout, QMargins, QScrollArea, QVBoxLayout, QWidget


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
