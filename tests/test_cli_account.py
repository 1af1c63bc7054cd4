"""`sigverify add-references`, `retire-reference`, `replace-reference`, `close-account`
and `reopen-account`, run in-process: exit codes, one-line errors, the audit rows they
write, and a store left unchanged when they refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigverify_gui.services import runtime
from sigverify_gui.store import records
from sigverify_gui.store.db import Store
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, store_contents, write_signatures

COMMANDS = ("enroll", "references", "account", "verify")


@pytest.fixture(scope="module")
def sigs(tmp_path_factory) -> dict[int, list[Path]]:
    folder = tmp_path_factory.mktemp("cli-account-sigs")
    return {w: write_signatures(folder, w, 7) for w in (2, 3)}


@pytest.fixture
def main(monkeypatch):
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier(seed=1234)
    )
    return cli_with(monkeypatch, *COMMANDS)


@pytest.fixture
def db(tmp_path, main, capsys, sigs) -> Path:
    """A store with customer 1001 enrolled with four of writer 2's signatures."""
    path = tmp_path / "store.db"
    code, _, err = run_cli(main, capsys, "enroll", "1001", *sigs[2][:4], "--db", path)
    assert code == 0, err
    return path


def contents(path: Path) -> dict:
    with Store(path) as store:
        return store_contents(store)


def audit_kinds(path: Path) -> list[str]:
    return [row["kind"] for row in contents(path)["audit_log"]]


def last_audit(path: Path) -> dict:
    return contents(path)["audit_log"][-1]


def active_ids(path: Path, cid: str = "1001") -> list[int]:
    with Store(path) as store:
        return [r.id for r in records.references_of(store.db, cid)]


def run_json(main, capsys, *argv):
    code, out, err = run_cli(main, capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_add_references_is_audited(main, capsys, db, sigs):
    before = active_ids(db)
    data = run_json(
        main, capsys, "add-references", "1001", *sigs[2][4:6], "--db", db, "--operator", "t7"
    )
    assert data["customer_id"] == "1001" and len(data["reference_ids"]) == 2
    assert active_ids(db) == before + data["reference_ids"]
    row = last_audit(db)
    assert row["kind"] == "references_added" and row["operator"] == "t7"
    assert json.loads(row["detail"])["reference_ids"] == data["reference_ids"]


def test_add_references_human_output(main, capsys, db, sigs):
    code, out, err = run_cli(main, capsys, "add-references", "1001", sigs[2][4], "--db", db)
    assert code == 0, err
    assert out.startswith("Added 1 reference signature(s) to customer 1001")


def test_add_references_refusals_leave_the_store_unchanged(main, capsys, db, sigs, tmp_path):
    before = contents(db)
    code, out, err = run_cli(main, capsys, "add-references", "9999", sigs[2][4], "--db", db)
    assert_user_error(code, err, "9999")
    # the same image as an active reference: refused as a repeat
    code, out, err = run_cli(main, capsys, "add-references", "1001", sigs[2][0], "--db", db)
    assert_user_error(code, err)
    code, out, err = run_cli(
        main, capsys, "add-references", "1001", tmp_path / "missing.png", "--db", db
    )
    assert_user_error(code, err)
    assert out == ""
    assert contents(db) == before


def test_store_commands_never_make_a_store(main, capsys, sigs, tmp_path):
    missing = tmp_path / "nowhere.db"
    for argv in (
        ("add-references", "1001", sigs[2][4]),
        ("retire-reference", "1", "--reason", "x"),
        ("replace-reference", "1", sigs[2][4]),
        ("close-account", "1001", "--reason", "x"),
        ("reopen-account", "1001", "--reason", "x"),
    ):
        code, _, err = run_cli(main, capsys, *argv, "--db", missing)
        assert_user_error(code, err, "--db")
    assert not missing.exists()


def test_retire_reference(main, capsys, db):
    first, *rest = active_ids(db)
    data = run_json(
        main, capsys, "retire-reference", first, "--reason", " torn  scan ", "--db", db,
        "--operator", "sup1",
    )  # fmt: skip
    assert data == {"reference_id": first, "customer_id": "1001", "warnings": data["warnings"]}
    assert active_ids(db) == rest
    row = last_audit(db)
    assert row["kind"] == "reference_deactivated" and row["operator"] == "sup1"
    assert json.loads(row["detail"]) == {"reference_id": first, "reason": "torn scan"}


def test_retire_reference_refusals(main, capsys, db):
    first = active_ids(db)[0]
    before = contents(db)
    code, _, err = run_cli(main, capsys, "retire-reference", 999, "--reason", "x", "--db", db)
    assert_user_error(code, err, "999")
    code, _, err = run_cli(main, capsys, "retire-reference", first, "--reason", "  ", "--db", db)
    assert_user_error(code, err, "reason")
    code, _, err = run_cli(main, capsys, "retire-reference", first, "--db", db)
    assert_user_error(code, err, "--reason")
    code, _, err = run_cli(main, capsys, "retire-reference", "abc", "--reason", "x", "--db", db)
    assert_user_error(code, err, "'abc'")
    assert contents(db) == before
    # retired once: a second time is refused
    assert run_cli(main, capsys, "retire-reference", first, "--reason", "x", "--db", db)[0] == 0
    code, _, err = run_cli(main, capsys, "retire-reference", first, "--reason", "x", "--db", db)
    assert_user_error(code, err, str(first))


def test_replace_reference(main, capsys, db, sigs):
    old, *rest = active_ids(db)
    data = run_json(main, capsys, "replace-reference", old, sigs[2][5], "--db", db)
    assert data["replaced"] == old and len(data["reference_ids"]) == 1
    assert active_ids(db) == rest + data["reference_ids"]
    row = last_audit(db)
    assert row["kind"] == "reference_replaced"
    assert json.loads(row["detail"])["replaced"] == old


def test_replace_reference_refusals_leave_the_store_unchanged(main, capsys, db, sigs):
    old = active_ids(db)[0]
    before = contents(db)
    code, out, err = run_cli(main, capsys, "replace-reference", 999, sigs[2][5], "--db", db)
    assert_user_error(code, err, "999")
    # the image of another active reference
    code, out, err = run_cli(main, capsys, "replace-reference", old, sigs[2][1], "--db", db)
    assert_user_error(code, err)
    # the very image it replaces: the audit would record a new signature never taken
    code, out, err = run_cli(main, capsys, "replace-reference", old, sigs[2][0], "--db", db)
    assert_user_error(code, err, f"the very image of reference {old}", "take a new signature")
    assert contents(db) == before


def test_close_and_reopen_account(main, capsys, db, sigs):
    data = run_json(
        main, capsys, "close-account", "1001", "--reason", "customer left", "--db", db,
        "--operator", "sup1",
    )  # fmt: skip
    assert data["status"] == "closed" and data["previous"] == "active"
    row = last_audit(db)
    assert row["kind"] == "account_closed" and row["operator"] == "sup1"
    assert row["customer_id"] == "1001" and row["id"] == data["audit_id"]
    assert json.loads(row["detail"])["reason"] == "customer left"
    with Store(db) as store:
        assert records.get_customer(store.db, "1001").status == "closed"
    # a closed account's signatures are no longer verified
    code, _, err = run_cli(main, capsys, "verify", "1001", sigs[2][5], "--db", db)
    assert_user_error(code, err, "closed")

    code, out, err = run_cli(main, capsys, "reopen-account", "1001", "--reason", "back", "--db", db)
    assert code == 0, err
    assert out == "Reopened the account of customer 1001.\n"
    assert audit_kinds(db)[-1] == "account_reopened"
    with Store(db) as store:
        assert records.get_customer(store.db, "1001").status == "active"


def test_close_account_refusals_leave_the_store_unchanged(main, capsys, db):
    before = contents(db)
    code, _, err = run_cli(main, capsys, "close-account", "9999", "--reason", "x", "--db", db)
    assert_user_error(code, err, "9999")
    code, _, err = run_cli(main, capsys, "close-account", "1001", "--reason", " ", "--db", db)
    assert_user_error(code, err, "reason")
    code, _, err = run_cli(main, capsys, "close-account", "1001", "--db", db)
    assert_user_error(code, err, "--reason")
    code, _, err = run_cli(main, capsys, "reopen-account", "1001", "--reason", "x", "--db", db)
    assert_user_error(code, err, "already open")
    assert contents(db) == before
    assert run_cli(main, capsys, "close-account", "1001", "--reason", "x", "--db", db)[0] == 0
    after_close = contents(db)
    code, _, err = run_cli(main, capsys, "close-account", "1001", "--reason", "x", "--db", db)
    assert_user_error(code, err, "already closed")
    assert contents(db) == after_close


def test_unlike_signature_needs_force(main, capsys, db, sigs):
    old = active_ids(db)[0]
    before = contents(db)
    code, _, err = run_cli(main, capsys, "replace-reference", old, sigs[3][0], "--db", db)
    assert_user_error(code, err, "Scan it again, or a supervisor may make it the replacement")
    code, _, err = run_cli(main, capsys, "add-references", "1001", sigs[3][0], "--db", db)
    assert_user_error(code, err, "a supervisor may add them anyway. Use --force to do so.")
    assert contents(db) == before
    data = run_json(main, capsys, "replace-reference", old, sigs[3][0], "--force", "--db", db)
    assert data["forced"] is True and any(c["outlier"] for c in data["consistency"])


def test_an_unreadable_file_is_refused_in_the_words_of_what_was_being_done(
    main, capsys, db, sigs, tmp_path
):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.png"
    cut.write_bytes(sigs[2][5].read_bytes()[:300])
    before = contents(db)
    code, _, err = run_cli(main, capsys, "add-references", "1001", sigs[2][4], empty, "--db", db)
    assert_user_error(code, err, "Cannot add: ", "'empty.png' is empty")
    assert err.count("empty.png") == 1  # named once, by the reason
    old = active_ids(db)[0]
    code, _, err = run_cli(main, capsys, "replace-reference", old, cut, "--db", db)
    assert_user_error(code, err, "Cannot make")
    assert "the replacement: " in err and "enrol" not in err
    assert err.count("cut.png") == 1
    assert contents(db) == before
