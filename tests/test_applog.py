"""The log file names customers, scores and decisions: it is its owner's alone."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest

from sigverify_gui import applog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def _close_the_log_afterwards():
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, applog._PrivateRotatingFileHandler):
            root.removeHandler(handler)
            handler.close()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_log_and_its_rotations_are_owner_only(monkeypatch):
    monkeypatch.setattr(applog, "MAX_BYTES", 300)
    old_umask = os.umask(0o022)  # what most desktops use: files 644 unless told
    try:
        path = applog.setup_logging()
        log = logging.getLogger("sigverify.test")
        for i in range(20):
            log.info("verified customer C-%04d: score 0.91, accept", i)
    finally:
        os.umask(old_umask)
    rotated = sorted(path.parent.glob(path.name + ".*"))
    assert len(rotated) == applog.BACKUPS  # it did rotate
    assert _mode(path.parent) == 0o700
    assert {_mode(p) for p in [path, *rotated]} == {0o600}


def test_a_log_an_older_version_left_readable_is_closed_up(tmp_path):
    folder = applog.log_file().parent
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)
    old = applog.log_file()
    old.write_text("2026-01-01 INFO sigverify: enrolled customer 42\n")
    os.chmod(old, 0o644)
    (folder / (old.name + ".1")).write_text("older\n")
    os.chmod(folder / (old.name + ".1"), 0o644)
    applog.setup_logging()
    assert _mode(folder) == 0o700
    assert _mode(old) == 0o600 and _mode(folder / (old.name + ".1")) == 0o600


def _log_folder_blocked(tmp_path, monkeypatch) -> None:
    """A file where the log's folder should be: no log can be opened (even as root)."""
    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))


def test_without_a_writable_log_folder_logging_says_so_and_goes_on(tmp_path, monkeypatch, capsys):
    # A locked-down profile must not stop the app or a command: every one of them
    # had ended in a traceback.
    _log_folder_blocked(tmp_path, monkeypatch)
    assert applog.setup_logging() is None
    warning = capsys.readouterr().err
    assert warning.startswith("warning: no log file could be written (")
    assert warning.count("\n") == 1
    assert str(tmp_path / "state") in applog.unavailable


def test_a_command_runs_without_a_log_and_a_bug_is_still_described(tmp_path, monkeypatch, capsys):
    from sigverify_gui import cli
    from tests.cli_errors import cli_with, run_cli
    from tests.fakes import write_signatures

    _log_folder_blocked(tmp_path, monkeypatch)
    (image,) = write_signatures(tmp_path, 21, 1)
    code, out, err = run_cli(cli_with(monkeypatch, "quality"), capsys, "quality", image)
    assert code == 0 and "Traceback" not in err and out
    # a bug, with no log to keep its details: the one line carries what IT needs
    monkeypatch.setattr("model.quality.check_quality", lambda *a, **k: {}["boom"])
    code, _, err = run_cli(cli_with(monkeypatch, "quality"), capsys, "quality", image)
    assert code == cli.INTERNAL_ERROR and "Traceback" not in err
    assert err.splitlines()[-1].startswith("error: unexpected internal error; KeyError: 'boom'")
