"""Light and dark palettes.

Both are applied over the Fusion style, which draws every widget from the palette,
so one palette change recolours the whole application the same way on every
platform (native styles ignore parts of a custom palette).
"""

from __future__ import annotations

from sigverify_gui.ui.qt import QApplication, QColor, QPalette


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(230, 230, 230)
    disabled = QColor(130, 130, 130)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: QColor(60, 60, 64),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(100, 170, 255),
        QPalette.ColorRole.Highlight: QColor(42, 110, 190),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def light_palette() -> QPalette:
    app = QApplication.instance()
    return app.style().standardPalette()


def apply_theme(theme: str) -> None:
    """Recolour the running application; unknown names mean light."""
    app = QApplication.instance()
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if theme == "dark" else light_palette())


def is_dark() -> bool:
    window = QApplication.instance().palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


# Text saying good or bad ("✓ Good enough to use", "✗ Not usable", the audit check):
# the colours of the gauge and the thumbnails' frames are too light for text on a light
# window (under 3.4:1), so text takes these, each at least 4.5:1 (WCAG AA) against the
# window colour of its theme.
_STATUS_TEXT = {  # status -> (on light, on dark)
    "ok": ("#007A5A", "#4CD6A8"),
    "problem": ("#B34700", "#FF9457"),
}


def status_text_colour(status: str) -> str:
    """The colour for text of `status` ("ok" or "problem") in the theme in use."""
    light, dark = _STATUS_TEXT[status]
    return dark if is_dark() else light


def status_style(status: str, bold: bool = False) -> str:
    """A style sheet for status text ("ok" or "problem") in the theme in use."""
    return f"color: {status_text_colour(status)};" + (" font-weight: bold;" if bold else "")
