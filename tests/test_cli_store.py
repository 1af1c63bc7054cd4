"""The store and verification commands, run in-process through `sigverify_gui.cli.main`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sigverify_gui.cli as cli
from model.errors import SigverifyError
from model.imageio import encode_png
from sigverify_gui.services import runtime
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from tests.cli_errors import assert_refused_option, assert_user_error, run_cli
from tests.fakes import FakeVerifier, write_signatures

STORE_COMMANDS = [
    "enroll",
    "enroll_folder",
    "verify",
    "identify",
    "customers",
    "show",
    "audit",
    "reembed",
    "backup",
    "export_zip",
    "import_zip",
]


@pytest.fixture(scope="module")
def sigs(tmp_path_factory) -> dict[int, list[Path]]:
    folder = tmp_path_factory.mktemp("cli-sigs")
    return {w: write_signatures(folder, w, 5) for w in (2, 3)}


@pytest.fixture
def loads(monkeypatch):
    """Only these commands (others may be unfinished), and the fake verifier."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", STORE_COMMANDS)
    calls = []
    model = {"id": "fake-0001"}

    def fake_loader(weights=None, device="auto"):
        calls.append((weights, device))
        return FakeVerifier(model_id=model["id"], seed=1234 if model["id"] == "fake-0001" else 9)

    monkeypatch.setattr(runtime, "load_verifier", fake_loader)
    return calls, model


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "store.db")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_enroll_verify_identify(capsys, loads, db, sigs):
    calls, _ = loads
    data = run_json(
        capsys, "enroll", "1001", *sigs[2][:4], "--name", "Alice", "--db", db,
        "--weights", "w.pt", "--device", "cpu",
    )  # fmt: skip
    assert data["customer_id"] == "1001" and len(data["reference_ids"]) == 4
    assert calls == [(Path("w.pt"), "cpu")]
    run_json(capsys, "enroll", "1002", *sigs[3][:4], "--db", db)

    result = run_json(capsys, "verify", "1001", sigs[2][4], "--db", db, "--operator", "t7")
    for key in (
        "customer_id", "score", "decision", "closest_reference_id", "model_id", "thresholds",
        "verification_id",
    ):  # fmt: skip
        assert key in result
    assert result["decision"] == "accept" and result["model_id"] == "fake-0001"
    assert result["thresholds"]["accept"] == 0.7
    assert result["closest_reference_id"] in data["reference_ids"]

    code, out, _ = run(capsys, "verify", "1001", sigs[3][4], "--db", db)
    assert code == 0 and out.startswith("REJECT: score") and "Caution" not in out
    bilevel = Path(db).parent / "black-and-white.png"
    Image.open(sigs[2][4]).convert("L").point(lambda v: 0 if v < 128 else 255).save(bilevel)
    code, out, _ = run(capsys, "verify", "1001", bilevel, "--db", db)
    assert code == 0 and "\nCaution: The questioned signature was scanned in black and white" in out

    ranked = run_json(capsys, "identify", sigs[3][4], "--top", "2", "--db", db)
    assert [c["customer_id"] for c in ranked["candidates"]] == ["1002", "1001"]

    rows = run_json(capsys, "audit", "--customer", "1001", "--db", db)["rows"]
    assert [r["kind"] for r in rows] == ["verification"] * 3 + ["enrolment"]
    assert rows[2]["operator"] == "t7"


def test_options_may_stand_between_the_arguments(capsys, loads, db, sigs):
    # argparse used an optional IMAGE up, empty, beside CUSTOMER_ID when an option
    # came between them: "unrecognized arguments: sig.png" for a valid command.
    run_json(capsys, "enroll", "1001", *sigs[2][:4], "--db", db)
    result = run_json(capsys, "verify", "1001", "--db", db, sigs[2][4])
    assert result["customer_id"] == "1001" and result["decision"] == "accept"
    assert run_json(capsys, "audit", "--db", db, "verify")["ok"] is True
    code, _, err = run(capsys, "verify", "1001", "--db", db, Path(db).parent / "none.png")
    assert_user_error(code, err, "none.png")
    code, _, err = run(capsys, "audit", "--db", db, "repair")
    assert_user_error(code, err, "invalid choice: 'repair'")
    code, _, err = run(capsys, "verify", "1001", "--db", db, sigs[2][4], "stray")
    assert_user_error(code, err, "unrecognized arguments: stray")


def test_audit_of_a_number_nobody_is_enrolled_under_says_so(capsys, loads, db, sigs):
    assert run(capsys, "enroll", "B1", *sigs[2][:3], "--db", db)[0] == 0
    code, out, _ = run(capsys, "audit", "--customer", "b1", "--db", db)
    assert code == 0
    assert out.splitlines()[:2] == [
        "0 audit row(s), newest first",
        "No customer with number b1 is enrolled. Did you mean B1?",
    ]
    code, out, _ = run(capsys, "audit", "--customer", "B1", "--db", db)
    assert out.startswith("1 audit row(s), newest first\n") and "enrolment" in out


def test_user_errors_exit_2_with_one_line(capsys, loads, db, sigs):
    Store(db).close()  # an empty store: what is missing is the customer
    code, out, err = run(capsys, "verify", "nobody", sigs[2][0], "--db", db)
    assert code == 2 and out == ""
    assert err.startswith("error: No customer with number nobody") and err.count("\n") == 1
    code, _, err = run(capsys, "enroll", "X", *sigs[2][:3], sigs[3][0], "--db", db)
    assert code == 2 and "do not match the others" in err and sigs[3][0].name in err
    assert "a supervisor may enrol them anyway. Use --force to do so." in err
    code, out, _ = run(capsys, "enroll", "X", *sigs[2][:3], sigs[3][0], "--db", db, "--force")
    assert code == 0 and "unlike the others (forced)" in out
    code, _, err = run(capsys, "show", "nobody", "--db", db)
    assert code == 2 and "nobody" in err
    code, _, err = run(capsys, "identify", sigs[2][0], "--top", "0", "--db", db)
    assert code == 2


def test_customers_and_show(capsys, loads, db, sigs):
    run_json(capsys, "enroll", "C1", *sigs[2][:2], "--name", "Ann", "--db", db)
    customers = run_json(capsys, "customers", "--db", db)["customers"]
    assert [(c["customer_id"], c["active_references"]) for c in customers] == [("C1", 2)]
    shown = run_json(capsys, "show", "C1", "--db", db)
    assert shown["name"] == "Ann" and len(shown["references"]) == 2
    assert shown["recent_audit"][0]["kind"] == "enrolment"
    code, out, _ = run(capsys, "show", "C1", "--db", db)
    assert code == 0 and "Customer C1  Ann" in out and "References (2 active)" in out
    code, out, _ = run(capsys, "customers", "--db", db)
    assert "1 customer(s)" in out and "C1" in out


def test_default_store_comes_from_the_environment(capsys, loads, tmp_path, monkeypatch, sigs):
    monkeypatch.setenv("SIGVERIFY_DB", str(tmp_path / "env.db"))
    run_json(capsys, "enroll", "E1", sigs[2][0])
    assert (tmp_path / "env.db").exists()
    assert run_json(capsys, "customers")["customers"][0]["customer_id"] == "E1"


def test_audit_verify_reports_tampering(capsys, loads, db, sigs, tmp_path):
    run_json(capsys, "enroll", "A1", *sigs[2][:3], "--db", db)
    run_json(capsys, "verify", "A1", sigs[2][3], "--db", db)
    code, out, _ = run(capsys, "audit", "verify", "--db", db)
    assert code == 0 and "intact (2 rows checked)" in out and "Head: 2:" in out
    head = json.loads(run(capsys, "audit", "verify", "--db", db, "--json")[1])["head"]
    assert run(capsys, "audit", "verify", "--db", db, "--anchor", head)[0] == 0
    code, _, err = run(capsys, "audit", "verify", "--db", db, "--anchor", "2:nothex")
    assert code == 2 and "not an audit anchor" in err
    code, _, err = run(capsys, "audit", "verify", "--db", db, "--anchor", "")  # empty $HEAD
    assert code == 2 and "not an audit anchor" in err
    for rid in ("0", "9" * 20):  # no such row can exist: a slip, not a tampering alarm
        code, _, err = run(capsys, "audit", "verify", "--db", db, "--anchor", f"{rid}:{'0' * 64}")
        assert code == 2 and "not an audit anchor" in err
    assert run(capsys, "audit", "--db", db, "--anchor", head)[0] == 2
    with Store(db) as store:
        store.db.execute("DROP TRIGGER audit_log_no_update")
        store.db.execute("UPDATE audit_log SET system_decision = 'reject' WHERE id = 2")
    code, out, _ = run(capsys, "audit", "verify", "--db", db)
    assert code == 1 and "BROKEN at row 2" in out
    # an export of it could never be imported: refused, and nothing is written
    code, _, err = run(capsys, "export", tmp_path / "x.zip", "--db", db)
    assert code == 2 and "audit trail is broken at row 2" in err
    assert "backup" in err and not (tmp_path / "x.zip").exists()
    report = json.loads(run(capsys, "audit", "verify", "--db", db, "--json")[1])
    assert report == {
        "ok": False,
        "rows_checked": 1,
        "broken_at": 2,
        "problem": "row 2 was changed after it was written",
        "head": None,
    }


def test_backup_export_import(capsys, loads, db, sigs, tmp_path):
    run_json(capsys, "enroll", "B1", *sigs[2][:3], "--db", db)
    backup = tmp_path / "backup.db"
    code, out, _ = run(capsys, "backup", backup, "--db", db)
    assert code == 0 and backup.exists()
    assert run(capsys, "backup", backup, "--db", db)[0] == 2  # never overwrites
    assert run_json(capsys, "customers", "--db", backup)["customers"][0]["customer_id"] == "B1"
    # a backup named as an export is refused; a backup given to import is called one
    code, _, err = run(capsys, "backup", tmp_path / "backup.zip", "--db", db)
    assert code == 2 and "a backup is a signature store file, so name it .db" in err
    assert not (tmp_path / "backup.zip").exists()
    renamed = tmp_path / "old-backup.zip"
    renamed.write_bytes(backup.read_bytes())
    code, _, err = run(capsys, "import", renamed, "--db", tmp_path / "fresh.db")
    assert code == 2 and "'old-backup.zip' is a signature store file" in err, err

    zip_path = tmp_path / "branch.zip"
    summary = run_json(capsys, "export", zip_path, "--db", db)
    assert summary["customers"] == 1 and summary["references"] == 3
    assert "replaced" not in summary  # an import's word: an export replaces nothing
    other = str(tmp_path / "other.db")
    assert run_json(capsys, "import", zip_path, "--db", other)["customers"] == 1
    code, _, err = run(capsys, "import", zip_path, "--db", other)
    assert code == 2 and "already enrolled" in err and err.endswith("Use --replace to do so.\n")
    assert run_json(capsys, "import", zip_path, "--replace", "--db", other)["replaced"] == ["B1"]
    # a branch customer holding B1's very scan: one person under two numbers
    third = str(tmp_path / "third.db")
    run_json(capsys, "enroll", "C9", sigs[2][0], "--db", third)
    code, _, err = run(capsys, "import", zip_path, "--db", third)
    assert code == 2 and "same image as a reference of customer C9" in err
    assert err.endswith("Use --force to do so.\n")
    assert run_json(capsys, "import", zip_path, "--force", "--db", third)["customers"] == 1
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    code, _, err = run(capsys, "import", bad, "--db", other)
    assert code == 2 and "not a readable sigverify export" in err
    code, _, err = run(capsys, "import", tmp_path, "--db", other)  # a folder, not the file
    assert code == 2 and "is a folder; give the export's .zip file" in err


def test_reembed_after_a_model_change(capsys, loads, db, sigs):
    _, model = loads
    run_json(capsys, "enroll", "R1", *sigs[2][:3], "--db", db)
    model["id"] = "fake-0002"
    data = run_json(capsys, "reembed", "--db", db)
    assert data == {"reembedded": 3, "model_id": "fake-0002", "unreadable": []}
    assert run_json(capsys, "reembed", "--db", db)["reembedded"] == 0
    shown = run_json(capsys, "show", "R1", "--db", db)
    assert {r["model_id"] for r in shown["references"]} == {"fake-0002"}


def test_an_unreadable_reference_stops_neither_reembed_nor_identify(capsys, loads, db, sigs):
    # After a model change, one reference whose capture can no longer be read had
    # stopped `reembed` and every identification, for every customer.

    _, model = loads
    run_json(capsys, "enroll", "R1", *sigs[2][:3], "--db", db)
    run_json(capsys, "enroll", "R2", *sigs[3][:3], "--db", db)
    with Store(db) as store:
        broken = records.references_of(store.db, "R1")[0].id
        blank = encode_png(np.full((200, 600), 250, np.uint8))
        with store.write() as conn:
            sql = "UPDATE reference_signatures SET image_png = ? WHERE id = ?"
            conn.execute(sql, [blank, broken])
    model["id"] = "fake-0002"
    ranked = run_json(capsys, "identify", sigs[3][4], "--db", db)
    assert ranked["candidates"][0]["customer_id"] == "R2"
    code, out, _ = run(capsys, "reembed", "--db", db)
    assert code == 1 and f"can no longer be read, so they were left as they were: {broken}." in out
    code, _, err = run(capsys, "verify", "R1", sigs[2][4], "--db", db)
    assert_user_error(code, err, f"Reference {broken} can no longer be read", "replace it")


def test_enroll_folder(capsys, loads, db, tmp_path):
    folder = tmp_path / "dataset"
    for writer, seed in (("w01", 2), ("w02", 3)):
        write_signatures(folder / writer / "genuine", seed, 3)
    (folder / "w03" / "genuine").mkdir(parents=True)
    (folder / "w03" / "genuine" / "broken.png").write_bytes(b"\x89PNG broken")
    code, out, err = run(capsys, "enroll-folder", folder, "--db", db, "--prefix", "DS-")
    assert code == 1  # one writer failed
    assert "Enrolled 2 writer(s)" in out and "DS-w03" in out and "broken.png" in out
    assert "enrolling" in err and "3/3" in err  # the progress bar
    again = json.loads(run(capsys, "enroll-folder", folder, "--db", db, "--prefix", "DS-",
                           "--json")[1])  # fmt: skip
    assert again["skipped"] == ["DS-w01", "DS-w02"] and again["enrolled"] == []
    assert again["overridable"] == []  # a broken file is no supervisor's call


@pytest.mark.parametrize(
    ("prefix", "words"),
    [("\x1b", "cannot be printed"), ("P" * 70, "is longer than 64 characters")],
)
def test_enroll_folder_refuses_a_prefix_no_number_may_start_with(
    capsys, loads, db, tmp_path, prefix, words
):
    # It had failed every writer, each with a line of its own, and exited 1.
    folder = tmp_path / "dataset"
    for writer, seed in (("w01", 2), ("w02", 3)):
        write_signatures(folder / writer / "genuine", seed, 3)
    code, out, err = run(capsys, "enroll-folder", folder, "--db", db, "--prefix", prefix)
    assert_user_error(code, err, "cannot start customer numbers", words)
    assert out == "" and not Path(db).exists()


def test_enroll_folder_says_which_refusals_force_lifts(capsys, loads, db, tmp_path):
    folder = tmp_path / "dataset"
    write_signatures(folder / "w01" / "genuine", 2, 3)
    write_signatures(folder / "w01" / "genuine", 3, 1)  # another writer's among them
    code, out, _ = run(capsys, "enroll-folder", folder, "--db", db)
    assert code == 1 and "do not match the others" in out
    assert "1 of them a supervisor may enrol anyway: run again with --force" in out
    forced = run_json(capsys, "enroll-folder", folder, "--db", db, "--force")
    assert forced["enrolled"] == ["w01"] and forced["overridable"] == []


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_every_store_command_takes_db_and_documents_itself(capsys, loads, command):
    name = {"enroll_folder": "enroll-folder", "export_zip": "export", "import_zip": "import"}
    assert cli.main([name.get(command, command), "--help"]) == 0
    out = capsys.readouterr().out
    assert "--db" in out


@pytest.mark.parametrize(
    ("name", "words"), [("out.txt", "must be a .zip file"), ("no/out.zip", "folder does not exist")]
)
def test_export_refuses_a_bad_target_in_plain_words(capsys, db, tmp_path, name, words):
    code, out, err = run(capsys, "export", tmp_path / name, "--db", db)
    assert code == 2 and words in err and "Errno" not in err


READING_COMMANDS = [
    ["customers"],
    ["show", "C1"],
    ["verify", "C1", "{img}"],
    ["identify", "{img}"],
    ["audit"],
    ["audit", "verify"],
    ["export", "{tmp}/out.zip"],
    ["backup", "{tmp}/copy.db"],
    ["reembed"],
]


@pytest.mark.parametrize("argv", READING_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("store", ["typo/sub/branch.db", "fresh.db"])
def test_reading_commands_refuse_a_missing_store_and_create_nothing(
    capsys, loads, tmp_path, sigs, argv, store
):
    calls, _ = loads
    work = tmp_path / "work"
    work.mkdir()
    argv = [a.format(img=sigs[2][0], tmp=tmp_path) for a in argv]
    code, out, err = run(capsys, *argv, "--db", work / store)
    assert code == 2 and out == ""
    assert err == (
        f"error: No signature store at {work / store}; check --db "
        "(enrol a customer or import an export to create one).\n"
    )
    assert list(work.iterdir()) == [] and calls == []  # nothing made, no model loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_a_missing_store_named_by_the_environment_is_blamed_on_it(
    capsys, loads, tmp_path, monkeypatch
):
    monkeypatch.setenv("SIGVERIFY_DB", str(tmp_path / "gone.db"))
    code, _, err = run(capsys, "customers")
    assert_user_error(code, err, "gone.db; check SIGVERIFY_DB (")


def test_commands_that_add_content_never_create_a_missing_folder(capsys, loads, tmp_path, sigs):
    zip_path = tmp_path / "branch.zip"
    run_json(capsys, "enroll", "C1", *sigs[2][:3], "--db", tmp_path / "s.db")
    run_json(capsys, "export", zip_path, "--db", tmp_path / "s.db")
    target = tmp_path / "typo" / "branch.db"
    for argv in (
        ["enroll", "C2", *sigs[3][:3]],
        ["enroll-folder", sigs[2][0].parent.parent],
        ["import", zip_path],
    ):
        code, _, err = run(capsys, *argv, "--db", target)
        assert code == 2 and err.count("\n") == 1, err
        assert f"The folder {target.parent} does not exist" in err and "check --db" in err
    assert not target.parent.exists()
    assert run_json(capsys, "import", zip_path, "--db", tmp_path / "new.db")["customers"] == 1
    # a file where the folder should be is called a file, not a missing folder
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    code, _, err = run(capsys, "enroll", "C2", *sigs[3][:3], "--db", a_file / "branch.db")
    assert code == 2 and f"The path {a_file} is a file, not a folder" in err, err
    code, _, err = run(capsys, "backup", a_file / "b.db", "--db", tmp_path / "s.db")
    assert code == 2 and err == f"error: The path {a_file} is a file, not a folder.\n", err
    code, _, err = run(capsys, "export", a_file / "b.zip", "--db", tmp_path / "s.db")
    assert code == 2 and f"'{a_file}' is a file, not a folder." in err, err


def test_a_refused_first_enrolment_or_import_leaves_no_store_behind(capsys, loads, tmp_path, sigs):
    blank = tmp_path / "blank.png"
    blank.write_bytes(b"not a picture")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 truncated")
    target = tmp_path / "new.db"
    for argv in (["enroll", "C1", *sigs[2][:2], blank], ["import", bad_zip]):
        code, _, err = run(capsys, *argv, "--db", target)
        assert code == 2 and err.count("\n") == 1, err
        assert not target.exists() and not list(tmp_path.glob("new.db-*"))
        code, _, err = run(capsys, "customers", "--db", target)
        assert code == 2 and "No signature store at" in err
    folder = tmp_path / "writers"
    for writer in ("w1", "w2"):  # every writer of the folder fails
        (folder / writer).mkdir(parents=True)
        for n in range(3):
            (folder / writer / f"{n}.png").write_bytes(b"not a picture")
    code, _, _ = run(capsys, "enroll-folder", folder, "--db", target)
    assert code != 0 and not target.exists()
    # A store that existed stays, even empty, when a command on it fails before writing.
    Store(target).close()
    code, _, _ = run(capsys, "enroll", "C2", *sigs[3][:2], blank, "--db", target)
    assert code == 2 and run_json(capsys, "customers", "--db", target)["customers"] == []


def test_the_default_store_is_created_on_first_enrolment(capsys, loads, tmp_path, sigs):
    from sigverify_gui import paths

    folder = tmp_path / "fresh-machine" / "sigverify"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "data_dir", lambda: folder)
        code, _, err = run(capsys, "customers")
        assert code == 2 and "No signature store at" in err and not folder.exists()
        run_json(capsys, "enroll", "D1", *sigs[2][:3])
        assert (folder / "sigverify.db").exists()
        assert run_json(capsys, "customers")["customers"][0]["customer_id"] == "D1"


def test_a_read_only_store_can_be_read_but_not_verified_against(
    capsys, loads, db, sigs, tmp_path, monkeypatch
):
    from sigverify_gui.store import db as store_db

    run_json(capsys, "enroll", "R1", *sigs[2][:3], "--db", db)
    monkeypatch.setattr(store_db, "writable", lambda p: False)
    assert run_json(capsys, "customers", "--db", db)["customers"][0]["customer_id"] == "R1"
    assert run_json(capsys, "show", "R1", "--db", db)["name"] == ""
    assert run_json(capsys, "audit", "verify", "--db", db)["ok"]
    assert run_json(capsys, "export", tmp_path / "r.zip", "--db", db)["customers"] == 1
    assert run(capsys, "backup", tmp_path / "r.db", "--db", db)[0] == 0
    for argv in (["verify", "R1", sigs[2][4]], ["identify", sigs[2][4]]):
        code, _, err = run(capsys, *argv, "--db", db)
        assert code == 2 and err.count("\n") == 1
        assert "is read-only here" in err and "nothing can be changed or recorded" in err
        assert "restore" not in err and "damaged" not in err


def test_a_busy_store_is_reported_within_the_shortened_wait(capsys, loads, db, sigs, monkeypatch):
    import sqlite3

    from sigverify_gui.store import db as store_db

    run_json(capsys, "enroll", "B1", *sigs[2][:3], "--db", db)
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.1)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(capsys, "verify", "B1", sigs[2][4], "--db", db)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2
    assert (
        err
        == f"error: The signature store {db} is busy in another program; try again in a moment.\n"
    )


@pytest.mark.parametrize("limit", ["-5", "0", "x"])
def test_audit_refuses_a_limit_below_one(capsys, loads, db, sigs, limit):
    run_json(capsys, "enroll", "C1", *sigs[2][:2], "--db", db)
    run_json(capsys, "verify", "C1", sigs[2][2], "--db", db)
    assert len(run_json(capsys, "audit", "--limit", "1", "--db", db)["rows"]) == 1
    code, out, err = run_cli(cli.main, capsys, "audit", "--limit", limit, "--db", db)
    assert_refused_option(code, err, "--limit", limit)  # -5 used to list every row
    assert out == ""


def test_audit_text_says_what_the_thresholds_became_and_were(capsys, loads, db):
    from sigverify_gui.services import thresholds

    with Store(db) as store:
        thresholds.set_thresholds(store, FakeVerifier(), 0.9, 0.5, operator="it")
        thresholds.set_thresholds(store, FakeVerifier(), None, None, operator="it")
    code, out, _ = run(capsys, "audit", "--db", db)
    assert code == 0
    reset, changed = [line for line in out.splitlines() if "thresholds_changed" in line]
    assert "accept >= 0.900, reject < 0.500" in changed
    assert "the model's own thresholds (were 0.900 / 0.500)" in reset


def test_audit_text_says_where_copies_went_and_why_a_verification_failed(
    capsys, loads, db, sigs, tmp_path
):
    # IT reads the listing for "who copied the store, to where": it had been blank
    # there, the file only in --json.
    run_json(capsys, "enroll", "C1", *sigs[2][:3], "--db", db)
    run(capsys, "backup", tmp_path / "copy.db", "--db", db, "--operator", "it-2")
    from sigverify_gui.services import verify

    with Store(db) as store, pytest.raises(SigverifyError):  # as the GUI records it
        blank = np.full((200, 500), 250, np.uint8)
        verify.verify_signature(store, FakeVerifier(), "C1", blank, record_failure=True)
    code, out, _ = run(capsys, "audit", "--db", db)
    assert code == 0
    lines = out.splitlines()
    backup = next(line for line in lines if " backup " in line)
    assert f"file: {tmp_path / 'copy.db'}" in backup and "it-2" in backup
    failed = next(line for line in lines if "verification_failed" in line)
    assert "message: " in failed and "ink" in failed


@pytest.mark.parametrize("narrowing", [["--customer", "C1"], ["--limit", "1"]])
def test_audit_verify_does_not_seem_to_check_part_of_the_trail(capsys, loads, db, sigs, narrowing):
    run_json(capsys, "enroll", "C1", *sigs[2][:2], "--db", db)
    code, out, err = run(capsys, "audit", "verify", *narrowing, "--db", db)
    assert code == 2 and out == "" and "checks the whole trail" in err


def test_verifying_a_customer_without_references_says_to_add_some(capsys, loads, db, sigs):
    run_json(capsys, "enroll", "C1", *sigs[2][:2], "--db", db)
    with Store(db) as store, store.write() as wdb:  # as an older store may hold it
        wdb.execute("UPDATE reference_signatures SET active = 0")
    code, _, err = run(capsys, "verify", "C1", sigs[2][2], "--db", db)
    assert code == 2 and "add references first" in err and "enrol" not in err


def test_import_tells_it_of_the_thresholds_the_file_came_with(capsys, loads, db, sigs, tmp_path):
    from sigverify_gui.services import thresholds

    run_json(capsys, "enroll", "B1", *sigs[2][:3], "--db", db)
    with Store(db) as store:
        thresholds.set_thresholds(store, FakeVerifier(), 0.95, 0.45)
    run_json(capsys, "export", tmp_path / "b.zip", "--db", db)
    code, out, err = run(capsys, "import", tmp_path / "b.zip", "--db", tmp_path / "new.db")
    assert code == 0 and "error" not in err  # stderr has the progress only
    imported, notice = out.strip().splitlines()
    assert imported.startswith("Imported 1 customer(s)")
    assert notice.endswith("set them with `sigverify thresholds --set 0.950 0.450`.")
    # The file's rows are that store's history: its thresholds change set nothing here.
    with Store(db) as store:
        (change,) = [r for r in audit.list_rows(store.db) if r["kind"] == "thresholds_changed"]
    listing = run(capsys, "audit", "--db", tmp_path / "new.db")[1].splitlines()
    (changed,) = [line for line in listing if "thresholds_changed" in line]
    (imported,) = [line for line in listing if " import " in line]
    assert changed.endswith(f"[imported: row {change['id']} of another store]")
    assert "[imported" not in imported  # this store's own row


@pytest.mark.skipif(os.name != "posix", reason="named pipes: POSIX")
def test_a_named_pipe_as_the_store_is_refused_at_once(capsys, loads, tmp_path):
    import time

    from tests.fakes import named_pipe

    with named_pipe(tmp_path / "pipe.db") as pipe:
        started = time.monotonic()
        code, _, err = run(capsys, "customers", "--db", pipe)
        assert time.monotonic() - started < 1.0
    assert_user_error(code, err, f"{pipe} is a named pipe, not a signature store file.")


@pytest.mark.skipif(os.name != "posix", reason="named pipes: POSIX")
@pytest.mark.parametrize(
    ("command", "what"), [("import", "an export file"), ("restore", "a backup file")]
)
def test_a_named_pipe_given_as_a_file_to_read_is_refused_at_once(
    capsys, loads, db, sigs, tmp_path, monkeypatch, command, what
):
    # import had waited for good for a writer; restore said there was no such file.
    import time

    from tests.fakes import named_pipe, store_contents

    monkeypatch.setattr(cli, "COMMAND_MODULES", [*STORE_COMMANDS, "restore"])

    assert run(capsys, "enroll", "1001", *sigs[2][:4], "--db", db)[0] == 0
    with Store(db) as store:
        before = store_contents(store)
    with named_pipe(tmp_path / "pipe.zip") as pipe:
        started = time.monotonic()
        code, _, err = run(capsys, command, pipe, "--db", db)
        assert time.monotonic() - started < 1.0
    assert_user_error(code, err, f"{pipe} is a named pipe, not {what}.")
    with Store(db) as store:
        assert store_contents(store) == before
