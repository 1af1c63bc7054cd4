"""A store or hot-folder path no file can have, or naming what is not a file, is a
problem said in the Settings dialog's problem line, at once, with nothing changed.

Before: a null character reached os.open (Python's "embedded null byte", the crash
dialog), a name over 255 bytes or a very long path the system's "File name too long"
(a "File problem" box), a hot folder that is a file was said not to exist, and a
named pipe as the store hung the app for good behind "Opening the signature store…".
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from sigverify_gui.ui import settings as settings_mod
from sigverify_gui.ui.settings import save_settings
from sigverify_gui.ui.settings_dialog import SettingsDialog
from tests.fakes import named_pipe

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="named pipes, devices: POSIX")
AT_ONCE_S = 1.0


def settings_file_bytes() -> bytes:
    return Path(settings_mod.qsettings().fileName()).read_bytes()


@pytest.fixture
def saved(context):
    save_settings(context.settings)
    return settings_file_bytes()


def refused_at_once(qtbot, context, dialogs, saved, field: str, value: str) -> str:
    """OK with `value` in `field`: the problem line's text, once checked that it was
    refused at once with nothing changed and no box."""
    old_store, old_settings = context.store, context.settings
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    dialog.open()
    getattr(dialog, field).setText(value)
    started = time.monotonic()
    assert dialog.accept_changes() is False
    assert time.monotonic() - started < AT_ONCE_S
    assert dialog.isVisible() and dialog.problem.isVisible()
    assert dialogs.messages == []
    assert context.store is old_store and context.settings == old_settings
    assert settings_file_bytes() == saved
    problem = dialog.problem.text()
    assert "\n" not in problem and len(problem) < 300, problem
    return problem


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("a\x00b.db", "holds a character no file name can have"),
        ("a" * 300 + ".db", "is too long for this system"),
        ("deep/" * 900 + "s.db", "is too long for this system"),  # over PATH_MAX
    ],
    ids=["null-character", "name-over-255-bytes", "path-over-4096-bytes"],
)
def test_a_store_name_no_file_can_have(qtbot, context, dialogs, saved, tmp_path, name, fragment):
    problem = refused_at_once(qtbot, context, dialogs, saved, "store_path", str(tmp_path / name))
    assert fragment in problem and "signature store" in problem


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("hot\x00folder", "holds a character no file name can have"),
        ("/" + "a" * 5000, "is too long for this system"),
        ("b" * 300, "is too long for this system"),
    ],
    ids=["null-character", "path-over-4096-bytes", "name-over-255-bytes"],
)
def test_a_hot_folder_name_no_folder_can_have(qtbot, context, dialogs, saved, value, fragment):
    problem = refused_at_once(qtbot, context, dialogs, saved, "hot_folder", value)
    assert fragment in problem and "hot folder" in problem


def test_a_hot_folder_that_is_a_file_is_said_to_be_a_file(qtbot, context, dialogs, saved, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    problem = refused_at_once(qtbot, context, dialogs, saved, "hot_folder", str(notes))
    assert "is not a folder" in problem and "does not exist" not in problem


@POSIX_ONLY
def test_a_named_pipe_as_the_store_is_refused_at_once(qtbot, context, dialogs, saved, tmp_path):
    with named_pipe(tmp_path / "pipe.db") as pipe:
        problem = refused_at_once(qtbot, context, dialogs, saved, "store_path", str(pipe))
    assert problem == f"{pipe} is a named pipe, not a signature store file."


@POSIX_ONLY
def test_a_link_to_a_named_pipe_is_refused_too(qtbot, context, dialogs, saved, tmp_path):
    with named_pipe(tmp_path / "pipe") as pipe:
        link = tmp_path / "link.db"
        link.symlink_to(pipe)
        problem = refused_at_once(qtbot, context, dialogs, saved, "store_path", str(link))
    assert "is a named pipe, not a signature store file" in problem


@POSIX_ONLY
def test_a_device_as_the_store_is_refused(qtbot, context, dialogs, saved):
    problem = refused_at_once(qtbot, context, dialogs, saved, "store_path", os.devnull)
    assert problem == f"{os.devnull} is a device, not a signature store file."


@POSIX_ONLY
def test_a_socket_as_the_store_is_refused(qtbot, context, dialogs, saved, tmp_path):
    path = tmp_path / "s.db"
    if len(str(path)) > 100:  # a socket's path must be short
        pytest.skip("the temporary folder's path is too long for a socket")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        problem = refused_at_once(qtbot, context, dialogs, saved, "store_path", str(path))
    assert problem == f"{path} is a socket, not a signature store file."
