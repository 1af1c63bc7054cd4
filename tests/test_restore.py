"""`sigverify restore`: a checked backup put back through SQLite, audited, or nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from sigverify_gui.services import enrol, exchange, identify, restore, runtime
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, render_signatures, store_contents


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


@pytest.mark.parametrize("backup", ["broken-trail", "not-a-store", "missing", "itself"])
def test_a_backup_that_is_not_sound_changes_nothing(branch, tmp_path, backup):
    path = tmp_path / "bad.db"
    if backup == "broken-trail":
        path.write_bytes((tmp_path / "monday.db").read_bytes())
        _break_the_trail(path)
        message = "audit trail of the backup .* is broken at row 1"
    elif backup == "not-a-store":
        path.write_bytes(b"minutes of the branch meeting\n" * 100)
        message = "not a signature store"
    elif backup == "missing":
        message = "There is no backup file"
    else:
        path, message = branch.path, "is the signature store itself"
    before = store_contents(branch)
    with pytest.raises(StoreError, match=message):
        restore.restore_store(branch, path)
    assert store_contents(branch) == before
    assert not list(tmp_path.glob(".restore-*"))  # the private copy is gone


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
