"""The one place where an exception becomes something the teller sees.

Three kinds of failure, three treatments:
- a `SigverifyError` (bad file, unknown customer, ...) is the user's or the data's:
  its message is already one sentence a teller understands, shown as it is;
- an environment fault (the store locked, damaged or unwritable, a disk that
  refuses a file) is shown the same way with a hint of what to do about it;
- anything else is a bug: its traceback goes to the log file and the teller gets a
  crash dialog saying where that file is. Never a traceback in a dialog.

Dialogs are shown with `open()` (non-blocking, window-modal), never `exec()`, and
through the replaceable `dialog_presenter`, so tests can record them instead.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from model.errors import (
    CancelledError,
    CaptureError,
    DeviceUnavailableError,
    ImageError,
    ModelError,
    SeveralPagesError,
    SigverifyError,
)
from sigverify_gui import applog
from sigverify_gui.services.errors import (
    ClutteredCaptureError,
    EnrolmentError,
    QualityError,
    TextError,
    failed_store_access,
    is_store_failure,
    refused_file_operation,
)
from sigverify_gui.services.thresholds_record import ThresholdsDamagedError
from sigverify_gui.store.errors import StoreError
from sigverify_gui.ui.qt import QApplication, QMessageBox, Qt, QWidget

log = logging.getLogger("sigverify.ui")

ERROR = "error"
CRASH = "crash"

STORE_HINT = (
    "The signature store may be open in another program, on a drive that is not "
    "connected, or damaged. Try again in a moment; if this persists, ask IT to check "
    "the store or restore it from a backup."
)
THRESHOLDS_HINT = (
    "Verifications stop until IT sets the thresholds again (Settings, or "
    "`sigverify thresholds`). Keep a copy of the store for IT to look into."
)
DISK_HINT = "Check that the disk is connected, not full, and that you may write there."
# The app's way with a capture holding more than a signature (`ClutteredCaptureError`,
# the quality check's `cluttered`): a whole cheque or form is searched for it instead.
PAGE_WAY = "For a whole cheque or form, use Whole cheque/form…: it finds the signature on the page."


class NothingToPasteError(CaptureError):
    """Paste with no image on the clipboard: the message says what to copy; no scanner
    or folder is involved, so the capture errors' hint would mislead."""


# A dialog's title and next step by kind of error, the first that matches: the message
# itself says what is wrong.
_TITLES = (
    (
        SeveralPagesError,
        "Several pages",
        "Open the file with Whole cheque/form… > From a file…, which lets you choose the page.",
    ),
    (ImageError, "Cannot read the image", "Scan the signature again, or choose another file."),
    (ClutteredCaptureError, "Signature not usable", PAGE_WAY),
    (QualityError, "Signature not usable", "Capture the signature again."),
    (NothingToPasteError, "Nothing to paste", ""),
    (CaptureError, "Cannot capture", "Check that the scanner or scan folder is connected."),
    (EnrolmentError, "Cannot enrol", ""),
    (TextError, "Check what was typed", ""),
    (DeviceUnavailableError, "Signature model problem", "Choose Automatic or CPU in Settings."),
    (ModelError, "Signature model problem", "Ask IT to check the model file."),
    (SigverifyError, "Cannot continue", ""),
)


@dataclass(frozen=True)
class ErrorMessage:
    """What a dialog shows: never more than the teller needs, never a traceback."""

    kind: str  # ERROR (the user's or the environment's) or CRASH (a bug)
    title: str
    text: str
    hint: str = ""


def describe(err: BaseException, log_path: Path | None = None) -> ErrorMessage:
    """The dialog's content for `err` (pure: logs nothing, shows nothing)."""
    if isinstance(err, ThresholdsDamagedError):  # retrying or a restore would not help
        return ErrorMessage(ERROR, "Thresholds damaged", str(err), THRESHOLDS_HINT)
    if isinstance(err, StoreError):
        return ErrorMessage(ERROR, "Signature store problem", str(err), STORE_HINT)
    if isinstance(err, SigverifyError):
        title, hint = next((t, h) for kind, t, h in _TITLES if isinstance(err, kind))
        return ErrorMessage(ERROR, title, str(err), hint)
    if is_store_failure(err):  # the file or its drive failed under us
        return ErrorMessage(
            ERROR,
            "Signature store problem",
            failed_store_access(err),
            STORE_HINT,
        )
    if isinstance(err, OSError):
        return ErrorMessage(ERROR, "File problem", refused_file_operation(err), DISK_HINT)
    path = log_path or current_log_path()
    if path is not None:
        hint = f"The details were written to {path}. Please send that file to IT support."
    else:
        hint = (
            f"No log file could be written ({applog.unavailable}), so please tell IT "
            f"support what you were doing and this: {type(err).__name__}: {err}"
        )
    return ErrorMessage(
        CRASH,
        "Unexpected error",
        "Something went wrong inside sigverify; this is a fault in the program, not "
        "something you did.",
        hint,
    )


def current_log_path() -> Path | None:
    """The log file `applog.setup_logging()` writes to (or would write to); None when
    it could not be opened."""
    from sigverify_gui.paths import log_file

    if applog.unavailable:
        return None
    return applog._configured or log_file()


def present_dialog(parent: QWidget | None, message: ErrorMessage) -> None:
    """Show `message` in a message box without blocking the event loop."""
    if QApplication.instance() is None:  # failed before the app existed: stderr is all
        print(f"{message.title}: {message.text} {message.hint}".strip(), file=sys.stderr)
        return
    icon = QMessageBox.Icon.Critical if message.kind == CRASH else QMessageBox.Icon.Warning
    box = QMessageBox(icon, message.title, message.text, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(message.hint)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setAccessibleName(message.title)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()


# Tests replace this with a recorder: `monkeypatch.setattr(errors, "dialog_presenter", f)`.
dialog_presenter: Callable[[QWidget | None, ErrorMessage], None] = present_dialog


def show_error(parent: QWidget | None, err: BaseException) -> ErrorMessage | None:
    """Log `err` and show it to the teller; returns what was shown (None: nothing).

    A cancelled operation is the teller's own choice and is not reported.
    """
    if isinstance(err, CancelledError):
        log.info("operation cancelled: %s", err)
        return None
    message = describe(err)
    exc_info = (type(err), err, err.__traceback__)
    if message.kind == CRASH:
        log.error("unexpected error", exc_info=exc_info)
    elif isinstance(err, SigverifyError) and not isinstance(err, StoreError):
        log.info("user-facing error: %s: %s", type(err).__name__, err)
    else:  # the environment's fault: IT may need the details
        log.warning("environment error: %s", err, exc_info=exc_info)
    dialog_presenter(parent, message)
    return message


def install_excepthook() -> Callable:
    """Route uncaught exceptions (e.g. raised in a slot) to `show_error`.

    Returns the previous hook so a caller (a test) can put it back.
    """
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: default
            previous(exc_type, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        show_error(QApplication.activeWindow(), exc)

    sys.excepthook = hook
    return previous
