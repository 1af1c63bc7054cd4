"""Every failure becomes one clear dialog; bugs go to the log with their traceback."""

from __future__ import annotations

import logging
import sys

import pytest

from model.errors import (
    CancelledError,
    CaptureError,
    DeviceUnavailableError,
    ImageError,
    TruncatedImageError,
)
from sigverify_gui.services.errors import (
    ClutteredCaptureError,
    ConsistencyError,
    QualityError,
    UnknownCustomerError,
)
from sigverify_gui.store.errors import StoreError
from sigverify_gui.ui import errors
from sigverify_gui.ui.qt import QApplication, QMessageBox, QWidget


def _raise(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as err:  # keep the traceback, as a real failure has one
        return err


def test_user_error_shows_its_own_message(dialogs):
    shown = errors.show_error(None, _raise(UnknownCustomerError("No customer 42.")))
    assert shown == dialogs.messages[0]
    assert shown.kind == errors.ERROR
    assert shown.text == "No customer 42."
    assert shown.hint == ""


@pytest.mark.parametrize(
    ("err", "title", "hint"),
    [
        (TruncatedImageError("The file 'a.png' is damaged."), "Cannot read the image", "again"),
        (
            QualityError("'a.png' is not good enough to use: faint."),
            "Signature not usable",
            "again",
        ),
        (
            ClutteredCaptureError("'a.png' is not good enough to use: print."),
            "Signature not usable",
            "Whole cheque/form…",
        ),
        (CaptureError("The scanner is not responding."), "Cannot capture", "connected"),
        (ConsistencyError("These do not match."), "Cannot enrol", ""),
        (UnknownCustomerError("No customer 42."), "Cannot continue", ""),
        (DeviceUnavailableError("No CUDA graphics card."), "Signature model problem", "CPU"),
        (errors.NothingToPasteError("The clipboard holds no image."), "Nothing to paste", ""),
    ],
)
def test_each_kind_of_user_error_has_its_own_title_and_next_step(dialogs, err, title, hint):
    message = errors.show_error(None, _raise(err))
    assert (message.title, message.text) == (title, str(err))
    assert hint in message.hint and bool(message.hint) == bool(hint)


def test_store_fault_gets_a_hint(dialogs):
    errors.show_error(None, _raise(StoreError("The signature store x.db is busy.")))
    (message,) = dialogs.errors
    assert message.text == "The signature store x.db is busy."
    assert "backup" in message.hint


def test_damaged_thresholds_say_who_mends_them_not_to_retry_or_restore(dialogs):
    from sigverify_gui.services.thresholds_record import damaged

    errors.show_error(None, _raise(damaged("none are stored: changed outside sigverify")))
    (message,) = dialogs.errors
    assert message.title == "Thresholds damaged"
    assert "IT sets the thresholds again" in message.hint
    assert "Try again" not in message.hint and "restore" not in message.hint


def test_a_store_that_fails_under_sqlite_is_a_store_problem_not_a_crash(dialogs):
    """A drive gone, a file damaged while open: SQLite's own errors reach the UI."""
    import sqlite3

    message = errors.show_error(None, _raise(sqlite3.OperationalError("disk I/O error")))
    assert (message.kind, message.title) == (errors.ERROR, "Signature store problem")
    assert "disk I/O error" in message.text and "backup" in message.hint


def test_without_a_log_file_a_crash_dialog_carries_the_details(dialogs, monkeypatch):
    # Pointing at a log that could not be written would send IT looking for nothing.
    from sigverify_gui import applog

    monkeypatch.setattr(applog, "unavailable", "/home/t/.local/state/sigverify: Read-only")
    dialogs.expect_crash()
    message = errors.show_error(None, _raise(KeyError("lost_key")))
    assert message.kind == errors.CRASH
    assert "No log file could be written (/home/t/.local/state/sigverify: Read-only)" in (
        message.hint
    )
    assert "KeyError: 'lost_key'" in message.hint and "Traceback" not in message.hint


def test_disk_fault_is_an_environment_error_not_a_crash(dialogs):
    err = _raise(PermissionError(13, "Permission denied", "/mnt/share/out.csv"))
    message = errors.show_error(None, err)
    assert message.kind == errors.ERROR
    assert "/mnt/share/out.csv" in message.text and "Permission denied" in message.text


def test_bug_gets_a_crash_dialog_naming_the_log_and_no_traceback(dialogs, caplog):
    dialogs.expect_crash()
    err = _raise(KeyError("secret_internal_key"))
    with caplog.at_level(logging.ERROR, logger="sigverify.ui"):
        message = errors.show_error(None, err)
    assert message.kind == errors.CRASH
    shown = f"{message.title} {message.text} {message.hint}"
    assert str(errors.current_log_path()) in shown
    assert "Traceback" not in shown and "secret_internal_key" not in shown
    # ... while the log has everything IT needs
    record = caplog.records[-1]
    assert record.exc_info[1] is err
    assert "Traceback" in caplog.text and "secret_internal_key" in caplog.text


def test_cancellation_is_not_reported(dialogs):
    assert errors.show_error(None, CancelledError("cancelled")) is None
    assert dialogs.messages == []


def test_excepthook_routes_slot_exceptions(dialogs):
    dialogs.expect_crash()
    previous = errors.install_excepthook()
    try:
        err = _raise(ImageError("The file is not an image."))
        sys.excepthook(type(err), err, err.__traceback__)
        bug = _raise(RuntimeError("boom"))
        sys.excepthook(type(bug), bug, bug.__traceback__)
    finally:
        sys.excepthook = previous
    assert [m.kind for m in dialogs.messages] == [errors.ERROR, errors.CRASH]
    assert dialogs.messages[0].text == "The file is not an image."


def test_real_presenter_opens_a_non_blocking_message_box(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    message = errors.describe(UnknownCustomerError("No customer 42."))
    errors.present_dialog(parent, message)  # returns at once: open(), not exec()
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    box = next(b for b in boxes if b.text() == "No customer 42.")
    assert box.isVisible()
    assert box.windowTitle() == message.title
    box.close()
