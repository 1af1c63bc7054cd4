"""Export to a zip and import from it: complete, atomic, and refusing damaged files."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest

from sigverify_gui.services import enrol, exchange, thresholds, verify
from sigverify_gui.services.errors import ConsistencyError, ExchangeError
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from tests.fakes import FakeVerifier, render_signatures, store_contents


def fill_branch_store(store: Store, fake: FakeVerifier) -> None:
    """Two customers (Alice 'A', Bob 'B'), a replaced reference and a verification with
    the teller's decision: the records every export carries."""
    a = enrol.enrol_customer(store, fake, "A", render_signatures(2, 4), name="Alice")
    enrol.enrol_customer(store, fake, "B", render_signatures(3, 3), name="Bob")
    enrol.replace_reference(store, fake, a.reference_ids[0], render_signatures(2, 1, 4)[0])
    v = verify.verify_signature(store, fake, "A", render_signatures(2, 1, 5)[0])
    verify.record_teller_decision(store, v.verification_id, "accept", operator="t")


@pytest.fixture(scope="module")
def export_file(tmp_path_factory):
    """A store with two customers, a retired reference and some audit rows, exported."""
    folder = tmp_path_factory.mktemp("export")
    fake = FakeVerifier()
    with Store(folder / "source.db") as store:
        fill_branch_store(store, fake)
        source = store_contents(store)  # what the file holds: not its own export's row
        summary = exchange.export_zip(store, folder / "branch.zip", operator="it-1")
    return folder / "branch.zip", summary, source


def test_export_holds_everything(export_file):
    path, summary, source = export_file
    assert (summary.customers, summary.references) == (2, 8)
    assert summary.audit_rows == len(source["audit_log"])
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert manifest["format"] == "sigverify-export" and manifest["format_version"] == 2
    assert set(manifest["files"]) | {"manifest.json"} == names
    assert path.stat().st_mode & 0o077 == 0


def test_whoever_copies_the_whole_store_is_in_its_audit_trail(tmp_path):
    # Every customer's signatures leave the store in an export or a backup: an auditor
    # asks who took them, and where.
    with Store(tmp_path / "branch.db") as store:
        fill_branch_store(store, FakeVerifier())
        summary = exchange.export_zip(store, tmp_path / "out.zip", operator="it-1")
        exchange.backup_store(store, tmp_path / "copy.db", operator="it-2")
        backup, export = audit.list_rows(store.db)[:2]  # newest first
        assert audit.verify_chain(store.db).ok
    assert (export["kind"], export["operator"], backup["kind"], backup["operator"]) == (
        "export",
        "it-1",
        "backup",
        "it-2",
    )
    detail = json.loads(export["detail"])
    assert detail["file"] == str(tmp_path / "out.zip") and detail["customers"] == 2
    assert detail["export_id"] == summary.export_id
    copied = hashlib.sha256((tmp_path / "copy.db").read_bytes()).hexdigest()
    assert json.loads(backup["detail"]) == {"file": str(tmp_path / "copy.db"), "sha256": copied}


def test_a_copy_given_by_a_relative_name_is_recorded_by_its_whole_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Store(tmp_path / "branch.db") as store:
        fill_branch_store(store, FakeVerifier())
        exchange.backup_store(store, "copy.db")
        assert json.loads(audit.list_rows(store.db)[0]["detail"])["file"] == str(
            tmp_path / "copy.db"
        )


def test_a_copy_that_cannot_be_recorded_is_not_kept(tmp_path, monkeypatch):
    # A busy store after the file was written: an unrecorded copy of every customer's
    # signatures must not stay behind (and a retry would have found it "already exists").
    from sigverify_gui.store.errors import StoreError

    with Store(tmp_path / "branch.db") as store:
        fill_branch_store(store, FakeVerifier())
        rows = len(audit.list_rows(store.db))

        def busy():
            raise StoreError("The signature store is busy in another program; try again.")

        monkeypatch.setattr(store, "write", busy)
        with pytest.raises(StoreError, match="was not kept, since it could not be recorded"):
            exchange.export_zip(store, tmp_path / "out.zip")
        with pytest.raises(StoreError, match="backup to .* was not kept"):
            exchange.backup_store(store, tmp_path / "copy.db")
        monkeypatch.undo()
        assert len(audit.list_rows(store.db)) == rows
    assert not (tmp_path / "out.zip").exists() and not (tmp_path / "copy.db").exists()


def test_import_into_an_empty_store(export_file, tmp_path):
    path, summary, source = export_file
    with Store(tmp_path / "target.db") as store:
        result = exchange.import_zip(store, path, FakeVerifier(), operator="it")
        assert (result.customers, result.references) == (2, 8)
        assert result.audit_rows == summary.audit_rows
        copied = store_contents(store)
        for table in ("customers",):
            assert copied[table] == source[table]
        strip = ("id", "replaced_by", "embedding")
        assert [{k: v for k, v in r.items() if k not in strip} for r in copied["refs"]] == [
            {k: v for k, v in r.items() if k not in strip} for r in source["refs"]
        ]
        # Made here again from the images (`exchange_embed`), the same up to rounding.
        for mine, theirs in zip(copied["refs"], source["refs"], strict=True):
            assert np.allclose(
                np.frombuffer(mine["embedding"], "<f4"),
                np.frombuffer(theirs["embedding"], "<f4"),
                atol=1e-6,
            )
        retired = [
            r for r in records.references_of(store.db, "A", active_only=False) if not r.active
        ]
        assert len(retired) == 1 and retired[0].replaced_by is not None
        assert audit.verify_chain(store.db).ok
        rows = list(reversed(audit.list_rows(store.db)))
        assert [r["kind"] for r in rows[:-1]] == [r["kind"] for r in source["audit_log"]]
        assert rows[-1]["kind"] == "import"
        assert all(r["origin"].startswith("export:") for r in rows[:-1])
        decision = next(r for r in rows if r["kind"] == "teller_decision")
        assert audit.get_row(store.db, decision["verification_id"])["kind"] == "verification"
        # The imported store verifies against the imported references.
        check = verify.verify_signature(store, FakeVerifier(), "A", render_signatures(2, 1, 5)[0])
        assert check.decision == "accept"


def test_existing_customers_need_replace(export_file, tmp_path):
    path, summary, _ = export_file
    with Store(tmp_path / "target.db") as store:
        exchange.import_zip(store, path, FakeVerifier())
        before = store_contents(store)
        with pytest.raises(ExchangeError, match="already enrolled"):
            exchange.import_zip(store, path, FakeVerifier())
        assert store_contents(store) == before
        result = exchange.import_zip(store, path, FakeVerifier(), replace=True)
        assert sorted(result.replaced) == ["A", "B"]
        assert result.audit_rows == 0  # that export's audit rows are already here
        assert len(records.references_of(store.db, "A", active_only=False)) == 5
        assert audit.verify_chain(store.db).ok


def test_another_customers_very_image_needs_force(export_file, tmp_path):
    """As enrolment refuses it: one scan under two customer numbers, here the branch's
    customer C holding one of the file's customer A's signatures."""
    path, *_ = export_file
    fake = FakeVerifier()
    with Store(tmp_path / "target.db") as store:
        enrol.enrol_customer(store, fake, "C", render_signatures(2, 4)[1:2])
        before = store_contents(store)
        with pytest.raises(ConsistencyError, match="customer A's reference .* customer C"):
            exchange.import_zip(store, path, FakeVerifier(), operator="it")
        assert store_contents(store) == before
        exchange.import_zip(store, path, FakeVerifier(), force=True, operator="it")
        detail = json.loads(audit.list_rows(store.db)[0]["detail"])
        shared = detail["shared_with"]
        assert [(s["customer_id"], s["other_customer_id"]) for s in shared] == [("A", "C")]
        assert records.get_reference(store.db, shared[0]["reference_id"]).customer_id == "A"


def test_restoring_an_export_into_its_own_store_keeps_one_history(tmp_path):
    fake = FakeVerifier()
    with Store(tmp_path / "branch.db") as store:
        fill_branch_store(store, fake)
        exchange.export_zip(store, tmp_path / "branch.zip")
        history = audit.list_rows(store.db)
        result = exchange.import_zip(store, tmp_path / "branch.zip", FakeVerifier(), replace=True)
        assert result.audit_rows == 0 and sorted(result.replaced) == ["A", "B"]
        rows = audit.list_rows(store.db)
        assert [r["kind"] for r in rows] == ["import", *(r["kind"] for r in history)]
        assert audit.verify_chain(store.db).ok


def test_two_exports_of_one_store_bring_its_history_once(tmp_path):
    """An export, more work, a second export: importing both (the second with replace)
    appends only the rows the first did not bring, also when the first came through
    another store; the verification's decision still points at its verification."""
    fake = FakeVerifier()
    with Store(tmp_path / "branch.db") as branch:
        fill_branch_store(branch, fake)
        exchange.export_zip(branch, tmp_path / "first.zip")
        v = verify.verify_signature(branch, fake, "B", render_signatures(3, 1, 4)[0])
        verify.record_teller_decision(branch, v.verification_id, "accept", operator="t")
        exchange.export_zip(branch, tmp_path / "second.zip")
        history = [r["kind"] for r in reversed(audit.list_rows(branch.db))]
    with Store(tmp_path / "hub.db") as hub:  # the first export passes through a hub
        exchange.import_zip(hub, tmp_path / "first.zip", FakeVerifier())
        exchange.export_zip(hub, tmp_path / "hub.zip")
    with Store(tmp_path / "target.db") as store:
        first = exchange.import_zip(store, tmp_path / "hub.zip", FakeVerifier())
        second = exchange.import_zip(store, tmp_path / "second.zip", FakeVerifier(), replace=True)
        # the first export's own row, the new verification and its decision
        assert second.audit_rows == 3
        again = exchange.import_zip(store, tmp_path / "first.zip", FakeVerifier(), replace=True)
        assert again.audit_rows == 0
        rows = list(reversed(audit.list_rows(store.db)))
        kept = [r["kind"] for r in rows if r["kind"] != "import"]
        # all of the branch's history but the second export's row, which no file holds
        assert [*kept, "export"] == [k for k in history if k != "import"]
        assert first.audit_rows == len(kept) - 3 + 1  # the hub's own import row too
        decisions = [r for r in rows if r["kind"] == "teller_decision"]
        assert all(
            audit.get_row(store.db, d["verification_id"])["kind"] == "verification"
            for d in decisions
        )
        assert audit.verify_chain(store.db).ok


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("garbage", "not a readable sigverify export"),
        ("truncated", "not a readable sigverify export"),
        ("no_manifest", "no valid manifest"),
        ("other_format", "format 99"),
        ("altered_image", "damaged"),
        ("missing_member", "damaged"),
        ("missing_file", "no file"),
    ],
)
def test_a_bad_file_changes_nothing(export_file, tmp_path, damage, message):
    path, _, _ = export_file
    bad = tmp_path / "bad.zip"
    if damage == "garbage":
        bad.write_bytes(b"PK\x03\x04 certainly not a zip" * 10)
    elif damage == "truncated":
        bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "no_manifest":
        _rewrite(path, bad, lambda n, d: None if n == "manifest.json" else d)
    elif damage == "other_format":

        def bump(name, data):
            if name != "manifest.json":
                return data
            manifest = json.loads(data)
            manifest["format_version"] = 99
            return json.dumps(manifest).encode()

        _rewrite(path, bad, bump)
    elif damage == "altered_image":
        _rewrite(path, bad, lambda n, d: d[:-10] + b"0" * 10 if n.endswith("ref-1.png") else d)
    elif damage == "missing_member":
        _rewrite(path, bad, lambda n, d: None if n == "audit.json" else d)
    else:
        bad = tmp_path / "does-not-exist.zip"
    with Store(tmp_path / "target.db") as store:
        enrol.enrol_customer(store, FakeVerifier(), "Z", render_signatures(9, 3))
        before = store_contents(store)
        with pytest.raises(ExchangeError, match=message):
            exchange.import_zip(store, bad, FakeVerifier())
        assert store_contents(store) == before


def test_export_refuses_to_overwrite(export_file, tmp_path):
    path, _, _ = export_file
    with Store(tmp_path / "s.db") as store, pytest.raises(ExchangeError, match="exists"):
        exchange.export_zip(store, path)


# --- the thresholds of the store a file came from --------------------------------------
@pytest.fixture
def strict_branch_export(tmp_path):
    """A branch that set stricter thresholds than the model's, exported."""
    with Store(tmp_path / "strict.db") as source:
        enrol.enrol_customer(source, FakeVerifier(), "A", render_signatures(2, 3))
        thresholds.set_thresholds(source, FakeVerifier(), 0.95, 0.45)
        exchange.export_zip(source, tmp_path / "strict.zip")
    return tmp_path / "strict.zip"


def test_an_import_says_when_the_files_store_decided_by_other_thresholds(
    strict_branch_export, tmp_path
):
    # A branch moved to a new computer by export and import: its stricter thresholds
    # stay behind, and scores it referred would be accepted here without a word.
    with Store(tmp_path / "new.db") as target:
        summary = exchange.import_zip(target, strict_branch_export, FakeVerifier())
        in_force = thresholds.thresholds_in_force(target, FakeVerifier())
        (row,) = [r for r in audit.list_rows(target.db) if r["kind"] == "import"]
    (notice,) = summary.notices
    assert "accept 0.950 / reject 0.450" in notice and "the model's own" in notice
    assert "`sigverify thresholds --set 0.950 0.450`" in notice
    assert in_force.source == "model"  # an import never sets this branch's policy
    assert json.loads(row["detail"])["notices"] == [notice]  # the trail shows IT was told


def test_an_import_says_nothing_of_thresholds_that_hold_here_or_not_for_this_model(
    strict_branch_export, tmp_path
):
    with Store(tmp_path / "same.db") as same:
        thresholds.set_thresholds(same, FakeVerifier(), 0.95, 0.45)
        assert exchange.import_zip(same, strict_branch_export, FakeVerifier()).notices == ()
    with Store(tmp_path / "other-model.db") as other:
        upgraded = FakeVerifier(model_id="fake-0002")
        assert exchange.import_zip(other, strict_branch_export, upgraded).notices == ()
    with Store(tmp_path / "reset.db") as source:  # put back to the model's own there
        enrol.enrol_customer(source, FakeVerifier(), "B", render_signatures(3, 3))
        thresholds.set_thresholds(source, FakeVerifier(), 0.95, 0.45)
        thresholds.set_thresholds(source, FakeVerifier(), None, None)
        exchange.export_zip(source, tmp_path / "reset.zip")
    with Store(tmp_path / "fresh.db") as fresh:
        assert exchange.import_zip(fresh, tmp_path / "reset.zip", FakeVerifier()).notices == ()
