"""`sigverify thresholds`: show, set and reset a store's thresholds from the command line,
audited like the GUI's Settings, and refused in one line when they make no sense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigverify_gui.services import runtime
from sigverify_gui.store import audit
from sigverify_gui.store.db import Store
from tests.cli_errors import assert_refused_option, assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, edit_thresholds_setting, store_contents, write_signatures


@pytest.fixture
def main(monkeypatch):
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    return cli_with(monkeypatch, "enroll", "enroll_folder", "verify", "thresholds", "audit")


@pytest.fixture
def db(tmp_path, main, capsys) -> Path:
    path = tmp_path / "store.db"
    refs = write_signatures(tmp_path / "refs", 2, 5)
    code, _, err = run_cli(main, capsys, "enroll", "1001", *refs[:4], "--db", path)
    assert code == 0, err
    return path


def _show(main, capsys, db) -> dict:
    code, out, err = run_cli(main, capsys, "thresholds", "--db", db, "--json")
    assert code == 0, err
    return json.loads(out)


def _audit(db) -> list[dict]:
    with Store(db) as store:
        return store_contents(store)["audit_log"]


def test_set_show_and_reset_are_audited_and_used_by_verify(main, capsys, db, tmp_path):
    fake = FakeVerifier()
    shown = _show(main, capsys, db)
    assert shown == {"accept": fake.t_accept, "reject": fake.t_reject, "source": "model",
                     "model_id": fake.model_id, "calibration_id": fake.calibration_id,
                     "set_for_another": False}  # fmt: skip

    code, out, _ = run_cli(main, capsys, "thresholds", "--set", "0.95", "0.1", "--db", db,
                           "--operator", "it-admin")  # fmt: skip
    assert code == 0 and "accept at 0.950 or above, reject below 0.100" in out
    assert "the branch's own" in out
    row = _audit(db)[-1]
    assert (row["kind"], row["operator"], row["t_accept"], row["t_reject"]) == (
        "thresholds_changed", "it-admin", 0.95, 0.1)  # fmt: skip
    assert json.loads(row["detail"]) == {
        "was": {"t_accept": fake.t_accept, "t_reject": fake.t_reject},
        "calibration_id": fake.calibration_id,
    }
    assert _show(main, capsys, db)["source"] == "settings"
    query = write_signatures(tmp_path / "refs", 2, 1, first=5)[0]
    code, out, _ = run_cli(main, capsys, "verify", "1001", query, "--db", db, "--json")
    assert json.loads(out)["thresholds"]["accept"] == 0.95
    code, out, _ = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert "reject below 0.100; the branch's own thresholds)" in out  # as `thresholds` says

    code, out, _ = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
    assert code == 0 and "the model's own" in out
    assert _show(main, capsys, db)["source"] == "model"
    assert [r["kind"] for r in _audit(db)][-2:] == ["verification", "thresholds_changed"]


def test_setting_what_is_stored_leaves_no_audit_row(main, capsys, db):
    rows = len(_audit(db))
    code, out, _ = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
    assert code == 0 and "the model's own" in out
    assert len(_audit(db)) == rows  # the store never had its own: nothing changed
    for expected in (rows + 1, rows + 1):  # the second --set repeats the first
        code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.9", "0.2", "--db", db)
        assert code == 0, err
        assert len(_audit(db)) == expected


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["--set", "1.5", "0.2"], "--set", "1.5"),
        (["--set", "0.9", "nan"], "--set", "nan"),
        # values starting with a minus sign reach the check, not "expected 2 arguments"
        (["--set", "0.9", "-inf"], "--set", "-inf"),
        (["--set", "0.9", "-1e-3"], "--set", "-1e-3"),
    ],
)
def test_a_threshold_outside_0_1_is_one_line(main, capsys, db, argv, option, value):
    before = _audit(db)
    code, _, err = run_cli(main, capsys, "thresholds", *argv, "--db", db)
    assert_refused_option(code, err, option, value)
    assert _audit(db) == before


@pytest.mark.parametrize(
    ("accept", "reject", "words"),
    [
        ("0.7", "0.8", "reject threshold (0.800) must not be above the accept threshold (0.700)"),
        ("0", "0", "more likely forged than genuine; choose 0.50 or more"),
        ("0.499", "0.2", "below 0.50 would accept"),
    ],
)
def test_unusable_thresholds_are_refused_and_nothing_changes(
    main, capsys, db, accept, reject, words
):
    before = _audit(db)
    code, _, err = run_cli(main, capsys, "thresholds", "--set", accept, reject, "--db", db)
    assert_user_error(code, err, words)
    assert _audit(db) == before and _show(main, capsys, db)["source"] == "model"


def test_a_missing_store_is_not_created(main, capsys, tmp_path):
    missing = tmp_path / "typo.db"
    code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.9", "0.2", "--db", missing)
    assert_user_error(code, err, "No signature store")
    assert not missing.exists()


def test_thresholds_set_before_a_recalibration_are_shown_as_not_applied(
    main, capsys, db, monkeypatch
):
    code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.95", "0.1", "--db", db)
    assert code == 0, err
    recalibrated = FakeVerifier(calibration_id="cal-refitted")
    monkeypatch.setattr(runtime, "load_verifier", lambda weights=None, device="auto": recalibrated)
    code, out, _ = run_cli(main, capsys, "thresholds", "--db", db)
    assert code == 0
    assert f"accept at {recalibrated.t_accept:.3f}" in out
    assert "the branch's own were set for another model or calibration" in out
    shown = _show(main, capsys, db)
    assert (shown["source"], shown["set_for_another"]) == ("model", True)
    # and each verification says so: a branch that set stricter ones must not go on
    # unaware (after an upgrade, the only other place that said it was Settings)
    query = write_signatures(db.parent / "refs", 2, 1, first=5)[0]
    code, out, _ = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert code == 0 and "\nNote: the branch's own thresholds were set for another model" in out
    code, out, _ = run_cli(main, capsys, "verify", "1001", query, "--db", db, "--json")
    assert json.loads(out)["thresholds"]["set_for_another"] is True
    # Reset now: tellers decided by the model's own, but the trail must also say what
    # the reset removed, or an auditor reads "were 0.700 / 0.300" and nothing else.
    code, _, err = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
    assert code == 0, err
    row = _audit(db)[-1]
    detail = json.loads(row["detail"])
    assert detail["was"] == {"t_accept": recalibrated.t_accept, "t_reject": recalibrated.t_reject}
    assert (detail["lapsed"]["t_accept"], detail["lapsed"]["t_reject"]) == (0.95, 0.1)
    assert detail["lapsed"]["calibration_id"] == FakeVerifier().calibration_id
    from sigverify_gui.cli.commands.audit import _outcome  # as `sigverify audit` lists it
    from sigverify_gui.ui.history_query import outcome  # as the History screen does

    lapsed = "the branch's own 0.950 / 0.100, set for another model or calibration, had lapsed"
    assert _outcome(row) == f"the model's own thresholds (were 0.700 / 0.300; {lapsed})"
    assert outcome(row) == f"back to the model's own; {lapsed}"


def test_an_accept_below_the_models_own_needs_force(main, capsys, db):
    """As the GUI asks twice: such a threshold accepts, without a look, signatures the
    model would refer, on every workstation using the store."""
    before = _audit(db)
    code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.6", "0.2", "--db", db)
    assert_user_error(code, err, "Accepting at 0.600, below the model's 0.700")
    assert err.rstrip().endswith("Use --force to do so.")
    assert _audit(db) == before and _show(main, capsys, db)["source"] == "model"

    code, out, err = run_cli(
        main, capsys, "thresholds", "--set", "0.6", "0.2", "--force", "--db", db
    )
    assert code == 0, err
    assert "accept at 0.600 or above" in out
    assert _audit(db)[-1]["t_accept"] == 0.6


def test_a_negative_zero_threshold_is_zero_and_keeps_the_audit_trail_whole(main, capsys, db):
    code, out, err = run_cli(main, capsys, "thresholds", "--set", "0.95", "-0", "--db", db)
    assert code == 0, err
    assert "reject below 0.000" in out and "-0.000" not in out
    with Store(db) as store:
        assert audit.verify_chain(store.db).ok


@pytest.mark.parametrize(
    ("stored", "why", "found"),
    [
        ("{not json", "its text is not JSON", '"{not json" was stored, not thresholds'),
        ('{"model_id": "fake-0001", "t_accept": 0.0, "t_reject": 0.0}', "an accept threshold",
         "accept 0.000 / reject 0.000 were stored"),
        ('{"model_id": "fake-0001", "t_accept": "high", "t_reject": 0.1}', "not numbers",
         '"{"model_id": "fake-0001", "t_accept": "high", "t_reject": 0.1}" was stored'),
        ("[1, 2]", "it names no model", '"[1, 2]" was stored, not thresholds'),
        ("\x1b]0;x\x07", "its text is not JSON", '"\\x1b]0;x\\x07" was stored'),
    ],
    ids=["not-json", "accept-zero", "text", "list", "control-characters"],
)  # fmt: skip
def test_a_thresholds_setting_edited_outside_sigverify_stops_verification(
    main, capsys, db, stored, why, found
):
    # Accepting at 0.0, every forgery passes; read as it stood, it was applied.
    with Store(db) as store:
        edit_thresholds_setting(store, stored)
    query = write_signatures(db.parent / "refs", 2, 1, first=5)[0]
    code, _, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert_user_error(code, err, "The branch's thresholds are damaged in the signature store")
    assert why in err and "sigverify thresholds --set` or `--reset" in err
    code, _, err = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
    assert code == 0, err
    detail = json.loads(_audit(db)[-1]["detail"])
    assert detail["replaced_damaged_setting"] is True
    assert _show(main, capsys, db)["source"] == "model"
    # the trail says what the reset overwrote, what could be read of it (never raw)
    code, out, _ = run_cli(main, capsys, "audit", "--limit", "1", "--db", db)
    assert (
        f"the model's own thresholds (replaced thresholds changed outside sigverify: {found}" in out
    )
    assert "yet the audit trail records no change that set them)" in out and "\x1b" not in out


def _setting(t_accept: float, t_reject: float) -> str:
    fake = FakeVerifier()
    return json.dumps({"model_id": fake.model_id, "calibration_id": fake.calibration_id,
                       "t_accept": t_accept, "t_reject": t_reject})  # fmt: skip


@pytest.mark.parametrize(
    ("branch_set", "edited", "why"),
    [
        (
            (0.95, 0.5),
            _setting(0.6, 0.2),
            "accept 0.600 / reject 0.200 are stored, yet audit row 2, their last change, set "
            "accept 0.950 / reject 0.500 for model fake-0001",
        ),
        (
            (0.95, 0.5),
            None,
            "none are stored, yet audit row 2, their last change, set accept 0.950 / reject 0.500",
        ),
        (
            None,
            _setting(0.6, 0.2),
            "accept 0.600 / reject 0.200 are stored, yet the audit trail records no change",
        ),
        (
            "reset",
            _setting(0.6, 0.2),
            "are stored, yet audit row 3, their last change, put back the model's own",
        ),
        (
            (0.95, 0.5),
            json.dumps({"model_id": "fake-0001", "t_accept": 0.95, "t_reject": 0.5}),
            "are stored, yet audit row 2",  # its calibration taken off, to be stamped anew
        ),
    ],
    ids=["lowered", "deleted", "added", "after-a-reset", "calibration-removed"],
)
def test_thresholds_that_are_not_what_the_audit_trail_last_set_stop_verification(
    main, capsys, db, branch_set, edited, why
):
    # Readable and plausible, the edit would have decided every verification unseen: a
    # lowered accept threshold accepts forgeries, deleting a stricter one does too.
    if branch_set:
        code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.95", "0.5", "--db", db)
        assert code == 0, err
    if branch_set == "reset":
        code, _, err = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
        assert code == 0, err
    with Store(db) as store:
        edit_thresholds_setting(store, edited)
    before = _audit(db)
    query = write_signatures(db.parent / "refs", 2, 1, first=5)[0]
    code, _, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert_user_error(code, err, "The branch's thresholds are damaged in the signature store")
    assert why in err and "changed outside sigverify" in err
    assert "\n" not in err.strip()  # one line
    assert _audit(db) == before  # refused before scoring: no verification row either
    code, _, err = run_cli(main, capsys, "thresholds", "--db", db)
    assert_user_error(code, err, why)

    # IT mends it by setting them again, even to the values the edit wrote
    code, out, err = run_cli(main, capsys, "thresholds", "--set", "0.6", "0.2", "--force",
                             "--db", db)  # fmt: skip
    assert code == 0, err
    assert json.loads(_audit(db)[-1]["detail"])["replaced_damaged_setting"] is True
    # in the words IT was refused with, of what was overwritten
    code, out, _ = run_cli(main, capsys, "audit", "--limit", "1", "--db", db)
    replaced = why.replace("are stored", "were stored")
    assert "(replaced thresholds changed outside sigverify: " in out and replaced in out
    code, out, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert code == 0, err


def test_another_stores_threshold_changes_brought_in_by_an_import_do_not_count(main, capsys, db):
    # An import appends the other store's trail; its changes never set this store's.
    with Store(db) as store, store.write() as wdb:
        origin = "export:abc:row:7:" + "0" * 64
        audit.append(wdb, "thresholds_changed", "it", model_id=FakeVerifier().model_id,
                     t_accept=0.99, t_reject=0.6, origin=origin)  # fmt: skip
    assert _show(main, capsys, db)["source"] == "model"
    query = write_signatures(db.parent / "refs", 2, 1, first=5)[0]
    code, _, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert code == 0, err


def test_a_hand_made_thresholds_row_is_damage_that_setting_them_again_mends(main, capsys, db):
    # Audit rows are never deleted, so one that neither sets nor resets must not lock
    # the store for good: it reads as damage, and a new change supersedes it.
    with Store(db) as store, store.write() as wdb:
        audit.append(wdb, "thresholds_changed", "someone", model_id="fake-0001", t_accept=0.9)
    query = write_signatures(db.parent / "refs", 2, 1, first=5)[0]
    code, _, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert_user_error(code, err, "audit row 2, their last change, is not one sigverify writes")
    code, _, err = run_cli(main, capsys, "thresholds", "--reset", "--db", db)
    assert code == 0, err
    code, out, _ = run_cli(main, capsys, "audit", "--limit", "1", "--db", db)
    assert "yet audit row 2, their last change, is not one sigverify writes)" in out
    code, _, err = run_cli(main, capsys, "verify", "1001", query, "--db", db)
    assert code == 0, err


def test_the_change_that_mends_damage_records_what_it_overwrote(main, capsys, db):
    # It had recorded the model's own as what the thresholds "were": neither what the
    # edit had stored nor what the trail had set, so IT could not tell what was lost.
    fake = FakeVerifier()
    code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.95", "0.5", "--db", db)
    assert code == 0, err
    with Store(db) as store:
        edit_thresholds_setting(store, _setting(0.6, 0.2))
    code, _, err = run_cli(main, capsys, "thresholds", "--set", "0.95", "0.5", "--db", db)
    assert code == 0, err
    detail = json.loads(_audit(db)[-1]["detail"])
    assert detail["was"] == {"t_accept": 0.6, "t_reject": 0.2}
    assert detail["found"] == json.loads(_setting(0.6, 0.2))
    assert detail["last_set"] == {
        "audit_row": 2,
        "model_id": fake.model_id,
        "t_accept": 0.95,
        "t_reject": 0.5,
        "calibration_id": fake.calibration_id,
    }
    code, out, _ = run_cli(main, capsys, "audit", "--limit", "1", "--db", db)
    assert (
        "accept >= 0.950, reject < 0.500 (replaced thresholds changed outside sigverify: "
        "accept 0.600 / reject 0.200 were stored, yet audit row 2, their last change, set "
        "accept 0.950 / reject 0.500 for model fake-0001)\n"
    ) in out


def test_older_rows_of_a_mended_setting_are_listed_as_they_were(main, capsys, db):
    older = {"was": {"t_accept": 0.7, "t_reject": 0.3}, "replaced_damaged_setting": True}
    unreadable = {"replaced_damaged_setting": True, "found": 5, "last_set": "row 2"}
    with Store(db) as store, store.write() as wdb:
        for detail in (older, unreadable):
            audit.append(wdb, "thresholds_changed", "it", model_id="fake-0001", t_accept=0.95,
                         t_reject=0.5, detail=json.dumps(detail))  # fmt: skip
    code, out, _ = run_cli(main, capsys, "audit", "--limit", "2", "--db", db)
    new, old = out.splitlines()[1:]
    # as the version before wrote it: the model's own as "were", no more
    assert code == 0 and old.endswith(" accept >= 0.950, reject < 0.500 (were 0.700 / 0.300)")
    # another version's: the flag is said, what cannot be read is not
    assert new.endswith(" (replaced thresholds changed outside sigverify)")


def _dataset(folder: Path) -> Path:
    for writer, seed in (("w01", 2), ("w02", 3), ("w03", 4)):
        write_signatures(folder / writer / "genuine", seed, 3)
    return folder


def _loaded(monkeypatch) -> FakeVerifier:
    """The one verifier the commands load, to count what it embedded."""
    verifier = FakeVerifier()
    monkeypatch.setattr(runtime, "load_verifier", lambda weights=None, device="auto": verifier)
    return verifier


def test_enroll_folder_refuses_damaged_thresholds_once_before_any_writer(
    main, capsys, db, monkeypatch
):
    # Each writer was read and embedded, then refused with the same message, in turn.
    folder = _dataset(db.parent / "dataset")
    verifier = _loaded(monkeypatch)
    with Store(db) as store:
        edit_thresholds_setting(store, _setting(0.6, 0.2))
        before = store_contents(store)
    code, out, err = run_cli(main, capsys, "enroll-folder", folder, "--db", db)
    assert_user_error(code, err, "The branch's thresholds are damaged", "changed outside sigverify")
    assert out == ""
    assert verifier.calls == {"embed": 0, "embed_canvases": 0, "score": 0}
    with Store(db) as store:
        assert store_contents(store) == before


def test_thresholds_damaged_during_enroll_folder_stop_it_at_the_writer_they_refuse(
    main, capsys, db, monkeypatch
):
    # Another program edits the setting while the first writer is embedded: every
    # later writer would be refused the same way, so the run stops there.
    folder = _dataset(db.parent / "dataset")
    verifier = _loaded(monkeypatch)

    def edit_elsewhere():
        with Store(db) as store:
            edit_thresholds_setting(store, _setting(0.6, 0.2))

    verifier.meanwhile = edit_elsewhere
    code, _, err = run_cli(main, capsys, "enroll-folder", folder, "--db", db)
    assert code == 2 and err.count("The branch's thresholds are damaged") == 1, err
    assert verifier.calls["embed_canvases"] == 1
    with Store(db) as store:
        assert [c["customer_id"] for c in store_contents(store)["customers"]] == ["1001"]


@pytest.mark.parametrize("as_json", [False, True])
def test_enroll_folder_stopped_by_damaged_thresholds_reports_what_it_did_before(
    main, capsys, db, monkeypatch, as_json
):
    # It had printed the error alone: whoever ran it could not tell that w02 was in.
    # w01's images are 1001's own (refused, read but not embedded), w02 is enrolled,
    # and the setting is damaged while w03 is embedded.
    folder = _dataset(db.parent / "dataset")
    verifier = _loaded(monkeypatch)

    def edit_elsewhere():
        with Store(db) as store:
            edit_thresholds_setting(store, _setting(0.6, 0.2))

    def during_the_first_embedding():  # arm the damage for the next one: w03's
        verifier.meanwhile = edit_elsewhere

    verifier.meanwhile = during_the_first_embedding
    json_flag = ["--json"] if as_json else []
    code, out, err = run_cli(main, capsys, "enroll-folder", folder, "--db", db, *json_flag)
    assert code == 2 and err.count("error:") == 1
    assert err.splitlines()[-1].startswith("error: The branch's thresholds are damaged")
    if as_json:
        report = json.loads(out)
        assert (report["enrolled"], report["stopped_at"]) == (["w02"], "w03")
        assert [f["customer_id"] for f in report["failed"]] == ["w01"]
    else:
        assert out.startswith(
            f"Enrolled 1 writer(s) from {folder} (generic) before the run stopped at w03 "
            "(it and the writers after it are not enrolled); 0 already enrolled; 1 failed.\n"
            "  w01: 'w2-g0.png' (#1) is the same image as a reference of customer 1001"
        ), out
    with Store(db) as store:
        assert [c["customer_id"] for c in store_contents(store)["customers"]] == ["1001", "w02"]
