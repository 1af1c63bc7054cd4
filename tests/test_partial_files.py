"""A failed or interrupted write leaves no half-made file under the name asked for, nor
a leftover beside it, and says why in words; a failure while cleaning up does not
turn the first failure into an internal error."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import zipfile
from pathlib import Path

import pytest

from model.errors import SigverifyError
from sigverify_gui.cli.output import write_file
from sigverify_gui.services import enrol, exchange
from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from tests.fakes import FakeVerifier, render_signatures

NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def _disk_fills_after(monkeypatch, nbytes: int) -> None:
    """Path.write_bytes writes `nbytes`, then the disk is full."""
    real = Path.write_bytes

    def write_bytes(self, data):
        real(self, data[:nbytes])
        raise NO_SPACE

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_a_picture_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "sig.png"
    out.write_bytes(b"the earlier, good picture")
    _disk_fills_after(monkeypatch, 10)
    with pytest.raises(SigverifyError, match=r"Could not write .*: No space left on device\.$"):
        write_file(out, b"x" * 1000)
    assert out.read_bytes() == b"the earlier, good picture"
    assert [p.name for p in tmp_path.iterdir()] == ["sig.png"]  # no leftover


def test_an_interrupted_picture_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(self, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file(tmp_path / "sig.png", b"x")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "branch.db") as store:
        enrol.enrol_customer(store, FakeVerifier(), "A", render_signatures(2, 3))
        yield store


def test_an_export_on_a_full_disk_is_refused_in_words(store, tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise NO_SPACE

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    monkeypatch.setattr(zipfile.ZipFile, "close", full)  # closing fails as well
    with pytest.raises(ExchangeError) as refused:
        exchange.export_zip(store, tmp_path / "out.zip")
    assert str(refused.value).endswith("could not be written: No space left on device.")
    assert "Errno" not in str(refused.value) and ".partial" not in str(refused.value)
    assert not list(tmp_path.glob("out.zip*"))


def test_a_backup_that_cannot_clean_up_still_says_why(store, tmp_path, monkeypatch):
    real_unlink = Path.unlink

    def read_only(self, missing_ok=False):
        if self.name.endswith(".partial"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(StoreError, match=r"The backup to .* failed: Read-only file system\.$"):
        store.backup(tmp_path / "copy.db")


def test_an_interrupted_backup_leaves_no_partial_copy(store, tmp_path, monkeypatch):
    class Interrupted:
        def __init__(self, conn):
            self.conn = conn

        def backup(self, dest):
            raise KeyboardInterrupt

        def __getattr__(self, name):
            return getattr(self.conn, name)

    monkeypatch.setattr(store.db, "conn", Interrupted(store.db.conn))
    with pytest.raises(KeyboardInterrupt):
        store.backup(tmp_path / "copy.db")
    assert not list(tmp_path.glob("copy.db*"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_backups_exports_and_pictures_are_their_owners_alone(store, tmp_path):
    # Each holds customers' signatures; the process's umask would let others read them.
    store.backup(tmp_path / "copy.db")
    exchange.export_zip(store, tmp_path / "out.zip")
    write_file(tmp_path / "sig.png", b"picture")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert {modes[n] for n in ("copy.db", "out.zip", "sig.png")} == {0o600}


def test_a_backup_on_a_full_disk_leaves_no_journal_beside_the_target(store, tmp_path, monkeypatch):
    class DiskFull:
        def __init__(self, conn):
            self.conn = conn

        def backup(self, dest):
            # what SQLite leaves when the disk fills mid-copy: its journal, unremoved
            copy = dest.execute("PRAGMA database_list").fetchone()[2]
            Path(copy + "-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7")
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name):
            return getattr(self.conn, name)

    monkeypatch.setattr(store.db, "conn", DiskFull(store.db.conn))
    with pytest.raises(StoreError, match=r"failed: database or disk is full\.$"):
        store.backup(tmp_path / "copy.db")
    assert not list(tmp_path.glob("copy.db*"))
