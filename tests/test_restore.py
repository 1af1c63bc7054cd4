"""`sigverify restore`: a checked backup put back through SQLite, audited, or nothing."""

from __future__ import annotations

import errno
import hashlib
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sigverify_gui.services import enrol, exchange, identify, restore, runtime
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, render_signatures, store_contents
from tests.test_store_opening import _another_programs_database, _newer_store


@pytest.fixture
def branch(tmp_path):
    """A store backed up after customer A, then given customer B."""
    with Store(tmp_path / "branch.db") as store:
        enrol.enrol_customer(store, FakeVerifier(), "A", render_signatures(2, 4))
        exchange.backup_store(store, tmp_path / "monday.db", operator="it")
        enrol.enrol_customer(store, FakeVerifier(), "B", render_signatures(3, 4))
        yield store


def test_a_backup_is_restored_for_every_workstation_and_audited(branch, tmp_path):
    store = branch
    elsewhere = sqlite3.connect(store.path)  # another workstation, open throughout
    fake = FakeVerifier()
    assert identify.identify_signature(store, fake, render_signatures(3, 1, 5)[0]).candidates
    replaced = audit.verify_chain(store.db).head
    summary = restore.restore_store(store, tmp_path / "monday.db", operator="it-2")
    assert [c.customer_id for c in records.list_customers(store.db)] == ["A"]
    assert elsewhere.execute("SELECT customer_id FROM customers").fetchall() == [("A",)]
    # the search's cached matrix still held B: it must not answer from it
    found = identify.identify_signature(store, fake, render_signatures(3, 1, 5)[0])
    assert {c.customer_id for c in found.candidates} <= {"A"}
    row = next(r for r in audit.list_rows(store.db) if r["kind"] == "restore")
    detail = json.loads(row["detail"])
    monday = hashlib.sha256((tmp_path / "monday.db").read_bytes()).hexdigest()
    assert (row["kind"], row["operator"]) == ("restore", "it-2")
    assert detail == {
        "file": str(tmp_path / "monday.db"),
        "sha256": monday,
        "customers": 1,
        "replaced_head": replaced,
    }
    assert summary.head == f"{row['id']}:{row['row_hash']}" and summary.sha256 == monday
    assert audit.verify_chain(store.db).ok
    assert store.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    elsewhere.close()


def _break_the_trail(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET operator = 'someone else' WHERE id = 1")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("backup", ["broken-trail", "missing", "itself"])
def test_a_backup_that_is_not_sound_changes_nothing(branch, tmp_path, backup):
    path = tmp_path / "bad.db"
    if backup == "broken-trail":
        path.write_bytes((tmp_path / "monday.db").read_bytes())
        _break_the_trail(path)
        message = "audit trail of the backup .* is broken at row 1"
    elif backup == "missing":
        message = "There is no backup file"
    else:
        path, message = branch.path, "is the signature store itself"
    before = store_contents(branch)
    with pytest.raises(StoreError, match=message):
        restore.restore_store(branch, path)
    assert store_contents(branch) == before
    assert not list(tmp_path.glob(".restore-*"))  # the private copy is gone


def _export(path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", "{}")


NO_BACKUPS = {
    "not-sqlite": (
        lambda p: p.write_bytes(b"minutes of the branch meeting\n" * 100),
        "is not a backup of a signature store or is damaged (file is not a database); "
        "choose another backup.",
    ),
    "empty": (lambda p: p.write_bytes(b""), "is empty, not a backup; choose another backup."),
    "another-program": (
        _another_programs_database,
        "is a database of another program, not a backup of a signature store; choose "
        "another backup.",
    ),
    "export": (_export, "is an export (a zip file), not a backup; bring its customers"),
    "newer": (_newer_store, "newer version of sigverify (it has schema step v99_from_the"),
    "folder": (Path.mkdir, "is a folder, not a backup file"),
}


@pytest.mark.parametrize("kind", NO_BACKUPS)
def test_a_file_that_is_no_backup_is_named_with_what_it_is(branch, tmp_path, kind):
    """The user's file is named, not the private copy, and the advice is to choose
    another backup (or to import an export), not to restore it from a backup."""
    make, words = NO_BACKUPS[kind]
    path = tmp_path / "bad.db"
    make(path)
    before = store_contents(branch)
    with pytest.raises(StoreError) as info:
        restore.restore_store(branch, path)
    message = str(info.value)
    assert str(path) in message and words in message, message
    assert ".restore-" not in message and "restore it from a backup" not in message
    assert store_contents(branch) == before
    assert not list(tmp_path.glob(".restore-*"))


def _refusal_leaving_all_as_found(branch, backup: Path) -> str:
    """The message with which restoring `backup` into `branch` is refused, checked to
    leave the store, the backup and every file beside it named after it as found."""

    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in backup.parent.glob(f"{backup.name}*")}

    found, before = files(), store_contents(branch)
    with pytest.raises(StoreError) as info:
        restore.restore_store(branch, backup)
    assert files() == found
    assert store_contents(branch) == before
    return str(info.value)


def test_a_store_with_rows_in_its_wal_is_no_backup(branch, tmp_path):
    """Only the file is copied: a store in use (or left by a program that stopped)
    with its newest rows in its -wal would restore an older state as if whole."""
    live = tmp_path / "live.db"
    with Store(live) as in_use:
        enrol.enrol_customer(in_use, FakeVerifier(), "L1", render_signatures(4, 4))
        in_use.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        enrol.enrol_customer(in_use, FakeVerifier(), "L2", render_signatures(5, 4))
        assert _refusal_leaving_all_as_found(branch, live) == (
            f"The newest rows of {live} wait in live.db-wal beside it, so it is a signature "
            "store in use or one left by a program that stopped, not a backup; make a "
            f"backup of it with `sigverify backup NEW.db --db {live}` and restore that."
        )
    # Closed, its rows are all in the file: an empty -wal and a -shm left beside it
    # hold none, and do not stop the restore.
    Path(f"{live}-wal").write_bytes(b"")
    Path(f"{live}-shm").write_bytes(b"\0" * 32768)
    assert restore.restore_store(branch, live).customers == 2


def _leave_a_hot_journal(path: Path) -> None:
    """A change cut short in a file in rollback-journal mode (as backups are), some of
    its pages written into the file already (more than the cache holds): a program
    killed part-way leaves its -journal beside the file, hot."""
    code = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA cache_size=10')\n"
        "conn.execute('BEGIN')\n"
        "conn.execute('UPDATE change_counter SET generation = generation + 1')\n"
        "conn.execute('CREATE TABLE filler(b)')\n"
        "conn.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 200) INSERT INTO filler SELECT randomblob(3000) FROM n')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def _caught_part_way(tmp_path) -> Path:
    caught = tmp_path / "caught.db"
    caught.write_bytes((tmp_path / "monday.db").read_bytes())
    _leave_a_hot_journal(caught)
    return caught


def test_a_file_caught_part_way_through_a_change_is_no_backup(branch, tmp_path):
    """A hot -journal beside the file: some pages of a change are in the file, others
    not, and only the journal undoes them. Opening the file would, and so change it."""
    caught = _caught_part_way(tmp_path)
    assert _refusal_leaving_all_as_found(branch, caught) == (
        f"The file {caught} was caught part-way through a change (caught.db-journal beside "
        "it holds what undoes it), so it may be inconsistent, not a backup; choose another "
        f'backup, or open it once with the sqlite3 program (`sqlite3 {caught} "PRAGMA '
        'quick_check"` undoes the change) and restore it then.'
    )
    assert not list(tmp_path.glob(".restore-*"))
    # What the message says to do: SQLite, opening it, undoes the change.
    conn = sqlite3.connect(caught)
    assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    conn.close()
    assert not Path(f"{caught}-journal").exists()
    # A -journal of a change that finished is not hot: empty (TRUNCATE mode) or with
    # its header zeroed (PERSIST), it does not stop the restore.
    for finished in (b"", b"\0" * 4096):
        Path(f"{caught}-journal").write_bytes(finished)
        assert restore.restore_store(branch, caught).customers == 1


def _is_the_private_copy(name) -> bool:
    return ".restore-" in str(name)


def _fail_on_the_private_copy(monkeypatch, failure: str) -> None:
    """The disk under restore's private copy fails: opening it, or reading it once open."""
    if failure == "stat":
        stat = Path.stat

        def failing_stat(path, *args, **kwargs):
            if _is_the_private_copy(path):
                raise OSError(errno.EIO, "Input/output error", str(path))
            return stat(path, *args, **kwargs)

        monkeypatch.setattr(Path, "stat", failing_stat)
    elif failure == "open":
        connect = sqlite3.connect

        def failing_connect(database, *args, **kwargs):
            if _is_the_private_copy(database):
                raise sqlite3.OperationalError("disk I/O error")
            return connect(database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", failing_connect)
    else:
        verify_chain = audit.verify_chain

        def failing_read(db, *args, **kwargs):
            if _is_the_private_copy(db.execute("PRAGMA database_list").fetchone()[2]):
                raise sqlite3.OperationalError("disk I/O error")
            return verify_chain(db, *args, **kwargs)

        monkeypatch.setattr(audit, "verify_chain", failing_read)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [("stat", "Input/output error"), ("open", "disk I/O error"), ("read", "disk I/O error")],
)
def test_a_private_copy_that_cannot_be_read_is_said_of_the_backup(
    branch, tmp_path, monkeypatch, failure, reason
):
    """The user never saw the private copy: its failure names their backup file."""
    before = store_contents(branch)
    _fail_on_the_private_copy(monkeypatch, failure)
    backup = tmp_path / "monday.db"
    with pytest.raises(StoreError) as info:
        restore.restore_store(branch, backup)
    assert str(info.value) == f"The backup {backup} could not be read: {reason}."
    monkeypatch.undo()
    assert store_contents(branch) == before
    assert not list(tmp_path.glob(".restore-*"))


def test_the_cli_restores_and_prints_the_heads(branch, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    main = cli_with(monkeypatch, "restore", "backup")
    db = str(branch.path)
    code, out, err = run_cli(main, capsys, "backup", tmp_path / "tuesday.db", "--db", db)
    assert code == 0, err
    tuesday = hashlib.sha256((tmp_path / "tuesday.db").read_bytes()).hexdigest()
    assert f"SHA-256 {tuesday}" in out  # what the restore will name
    code, out, err = run_cli(main, capsys, "restore", tmp_path / "monday.db", "--db", db)
    assert code == 0, err
    assert "holds 1 customer(s)" in out and "New head: 2:" in out
    code, out, err = run_cli(main, capsys, "restore", tmp_path / "tuesday.db", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["sha256"] == tuesday and json.loads(out)["customers"] == 2
    code, _, err = run_cli(main, capsys, "restore", tmp_path / "nothing.db", "--db", db)
    assert_user_error(code, err, "There is no backup file")


def test_the_cli_refuses_a_file_caught_part_way_through_a_change(
    branch, tmp_path, capsys, monkeypatch
):
    caught = _caught_part_way(tmp_path)
    before = store_contents(branch)
    main = cli_with(monkeypatch, "restore")
    code, _, err = run_cli(main, capsys, "restore", caught, "--db", branch.path)
    assert_user_error(
        code,
        err,
        f"The file {caught} was caught part-way through a change (caught.db-journal",
        f'choose another backup, or open it once with the sqlite3 program (`sqlite3 {caught} "',
    )
    assert store_contents(branch) == before
