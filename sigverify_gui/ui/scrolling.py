"""Pages that scroll on a small screen while their actions stay in view.

A branch laptop's 1024 x 600 screen is shorter than the Enrol and Verify pages.
When the whole page scrolled, "Check and save" and "Verify" lay below the fold:
the teller had to know to scroll for the one button the page is for. Here only
the body scrolls; the footer (the page's result line and its buttons) is always
shown.
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
    area = scrollable(body)
    # The footer lines up with the body's contents, whose layout sets the margins.
    margins = body.layout().contentsMargins() if body.layout() else QMargins()
    footer.setContentsMargins(margins.left(), 0, margins.right(), margins.bottom())
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(area, 1)
    layout.addLayout(footer)
    return area
