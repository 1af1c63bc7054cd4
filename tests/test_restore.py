"""`sigverify restore`: a checked backup put back through SQLite, audited, or nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
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


def test_a_store_with_rows_in_its_wal_is_no_backup(branch, tmp_path):
    """Only the file is copied: a store in use (or left by a program that stopped)
    with its newest rows in its -wal would restore an older state as if whole."""
    live = tmp_path / "live.db"
    with Store(live) as in_use:
        enrol.enrol_customer(in_use, FakeVerifier(), "L1", render_signatures(4, 4))
        in_use.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        enrol.enrol_customer(in_use, FakeVerifier(), "L2", render_signatures(5, 4))
        found = {p.name: p.read_bytes() for p in tmp_path.glob("live.db*")}
        before = store_contents(branch)
        with pytest.raises(StoreError) as info:
            restore.restore_store(branch, live)
        assert str(info.value) == (
            f"The newest rows of {live} wait in live.db-wal beside it, so it is a signature "
            "store in use or one left by a program that stopped, not a backup; make a "
            f"backup of it with `sigverify backup NEW.db --db {live}` and restore that."
        )
        assert {p.name: p.read_bytes() for p in tmp_path.glob("live.db*")} == found
        assert store_contents(branch) == before
    # Closed, its rows are all in the file: an empty -wal and a -shm left beside it
    # hold none, and do not stop the restore.
    Path(f"{live}-wal").write_bytes(b"")
    Path(f"{live}-shm").write_bytes(b"\0" * 32768)
    assert restore.restore_store(branch, live).customers == 2


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
