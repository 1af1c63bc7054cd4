"""The main window's size: a comfortable default that never exceeds the screen.

Branch workstations still have 1024 x 768 screens. A fixed default size (or one
saved on a larger screen) put the window's right edge and status bar off such a
screen, with no visible way to get them back.
"""

from __future__ import annotations

from sigverify_gui.ui.qt import QApplication, QRect, QSize, QtCore, QWidget

DEFAULT_SIZE = QSize(1200, 780)
# The smallest window in which the verification result still shows the score, the
# gauge and the decision buttons together, with no sideways scrolling (tested);
# small enough for any screen with a taskbar and a title bar.
MINIMUM_SIZE = QSize(760, 520)
# The title bar and borders the window manager adds outside the geometry set here;
# their real size is unknown until the window is shown.
FRAME_ALLOWANCE = QtCore.QMargins(8, 32, 8, 8)


def room_on_screen(available: QRect) -> QRect:
    """Where the window's inside may go on a screen with this available geometry."""
    return available.marginsRemoved(FRAME_ALLOWANCE)


def fit_within(rect: QRect, room: QRect) -> QRect:
    """`rect` shrunk to `room` where it is larger, then moved inside it."""
    width, height = min(rect.width(), room.width()), min(rect.height(), room.height())
    x = min(max(rect.x(), room.left()), room.left() + room.width() - width)
    y = min(max(rect.y(), room.top()), room.top() + room.height() - height)
    return QRect(x, y, width, height)


def size_window(window: QWidget, saved_geometry: object | None) -> None:
    """Restore the saved geometry, or take the default size; either way fit the screen."""
    window.setMinimumSize(MINIMUM_SIZE)
    restored = saved_geometry is not None and window.restoreGeometry(saved_geometry)
    screen = QApplication.screenAt(window.geometry().center()) or window.screen()
    room = room_on_screen(screen.availableGeometry())
    if not restored:
        # Only the size: the window manager places a new window where it sees fit.
        window.resize(DEFAULT_SIZE.boundedTo(room.size()))
    elif not (window.isMaximized() or window.isFullScreen()):
        fitted = fit_within(window.geometry(), room)
        if fitted != window.geometry():
            window.setGeometry(fitted)


def fit_dialog(dialog: QWidget, preferred: QSize | None = None, room: QRect | None = None) -> None:
    """Size a dialog before it is shown: `preferred` (else its size hint), tall enough
    for its wrapped texts at that width, and no larger than the screen's room.

    Qt opens a window at most two thirds of the screen tall and sizes it without
    asking wrapped labels how tall they are at its width: on a 1024 x 600 screen the
    scan and cheque dialogs put their buttons off the screen, and Settings cut its
    lines about the model's thresholds.
    """
    if room is None:
        owner = dialog.parentWidget().window() if dialog.parentWidget() else dialog
        room = room_on_screen(owner.screen().availableGeometry())
    size = QSize(preferred if preferred is not None else dialog.sizeHint())
    size = size.expandedTo(dialog.minimumSizeHint())
    layout = dialog.layout()
    if layout is not None and layout.hasHeightForWidth():
        size.setHeight(max(size.height(), layout.totalHeightForWidth(size.width())))
    dialog.resize(size.boundedTo(room.size()))
