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
