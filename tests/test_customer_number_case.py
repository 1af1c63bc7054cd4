"""Customer numbers that differ only in letter case ("AB123" and "ab123"): a new one is
refused by every path that creates customers, an unknown one gets "Did you mean ...?",
and a store that already holds both (written by an older version) keeps both working."""

from __future__ import annotations

import pytest

from model.datasets import Dataset, WriterSamples
from sigverify_gui.services import accounts, enrol, exchange, runtime, verify
from sigverify_gui.services.bulk import enrol_dataset
from sigverify_gui.services.captures import prepare
from sigverify_gui.services.customer_case import case_conflicts, fold_case
from sigverify_gui.services.errors import EnrolmentError, ExchangeError, UnknownCustomerError
from sigverify_gui.store import records
from sigverify_gui.store.db import Store
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, render_signatures, store_contents, write_signatures

ALICE, BOB = 2, 3  # synthetic writers the fake verifier tells apart


def enrol_as_older_version(store: Store, fake: FakeVerifier, cid: str, writer: int) -> None:
    """Write a customer straight into the store, with no case check, as versions
    before the rule did."""
    prepared = [prepare(gray) for gray in render_signatures(writer, 4)]
    embeddings = fake.embed_canvases([p.canvas for p in prepared])
    with store.write() as db:
        records.insert_customer(db, cid)
        for p, embedding in zip(prepared, embeddings, strict=True):
            records.insert_reference(
                db, cid, p.image_png, p.canvas_png, embedding, fake.model_id, p.quality, p.source
            )


def test_fold_case_matches_the_store_lookup(store):
    with store.write() as db:
        for cid in ("AB123", "Éa1"):
            records.insert_customer(db, cid)
    assert fold_case("AB123") == "ab123" and fold_case("Éa1") == "Éa1"
    assert records.customers_equal_ignoring_case(store.db, ["aB123", "ÉA1", "x"]) == [
        "AB123",
        "Éa1",
    ]
    # NOCASE folds ASCII only: a non-ASCII letter in the other case is another number.
    assert records.customers_equal_ignoring_case(store.db, ["éa1"]) == []


# --- new numbers are refused -----------------------------------------------------------
def test_enrol_refuses_a_number_differing_only_in_case(store, fake):
    enrol.enrol_customer(store, fake, "AB123", render_signatures(ALICE, 4))
    before = store_contents(store)
    with pytest.raises(EnrolmentError) as caught:
        enrol.enrol_customer(store, fake, " ab123 ", render_signatures(BOB, 4))
    assert str(caught.value) == (
        "Customer number ab123 differs only in letter case from the enrolled customer "
        "AB123; use AB123, or choose a distinct number."
    )
    assert store_contents(store) == before
    assert fake.calls["embed_canvases"] == 1  # refused before embedding anything


def test_bulk_enrolment_refuses_the_second_of_two_case_variants(store, fake, tmp_path):
    writers = tuple(
        WriterSamples(name, tuple(write_signatures(tmp_path / name, seed, 3)), ())
        for name, seed in (("AB123", ALICE), ("ab123", BOB))
    )
    report = enrol_dataset(store, fake, Dataset(tmp_path, "generic", writers))
    assert report.enrolled == ["AB123"]
    assert [cid for cid, _ in report.failed] == ["ab123"]
    assert "differs only in letter case from the enrolled customer AB123" in report.failed[0][1]
    assert [c.customer_id for c in records.list_customers(store.db)] == ["AB123"]


def test_a_rerun_skips_writers_whose_folder_names_are_normalised(store, fake, tmp_path):
    # A full-width folder name is enrolled under its NFKC form, "W1".
    writers = (WriterSamples("Ｗ１", tuple(write_signatures(tmp_path / "w", ALICE, 3)), ()),)
    dataset = Dataset(tmp_path, "generic", writers)
    assert enrol_dataset(store, fake, dataset).enrolled == ["W1"]
    again = enrol_dataset(store, fake, dataset)
    assert (again.skipped, again.failed) == (["W1"], [])


def _export(tmp_path, name: str, *customers: tuple[str, int]):
    """An export holding these (number, writer) customers, enrolled as a version before
    the rule could (so a file may hold two numbers that differ only in case)."""
    fake = FakeVerifier()
    with Store(tmp_path / f"{name}.db") as source:
        for cid, writer in customers:
            enrol_as_older_version(source, fake, cid, writer)
        exchange.export_zip(source, tmp_path / f"{name}.zip")
    return tmp_path / f"{name}.zip"


@pytest.mark.parametrize("replace", [False, True])
def test_import_refuses_a_case_variant_of_an_enrolled_customer(store, fake, tmp_path, replace):
    enrol.enrol_customer(store, fake, "AB123", render_signatures(ALICE, 4))
    path = _export(tmp_path, "other-branch", ("ab123", BOB), ("C9", ALICE))
    before = store_contents(store)
    with pytest.raises(ExchangeError) as caught:
        exchange.import_zip(store, path, FakeVerifier(), replace=replace)
    message = str(caught.value)
    assert "1 customer(s) in the file differ only in letter case" in message
    assert "ab123 vs AB123" in message and "\n" not in message
    assert store_contents(store) == before


def test_import_refuses_two_new_numbers_differing_only_in_case(store, tmp_path):
    path = _export(tmp_path, "old-branch", ("AB123", ALICE), ("ab123", BOB))
    with pytest.raises(ExchangeError, match=r"2 customer\(s\) .* \(AB123 vs ab123, ab123 vs AB"):
        exchange.import_zip(store, path, FakeVerifier())
    assert records.list_customers(store.db) == []


@pytest.mark.parametrize("replace", [False, True])
def test_import_refuses_a_full_width_twin_of_an_enrolled_customer(store, fake, tmp_path, replace):
    # An older version stored numbers as typed; the file brings "Ｗ０００１", which
    # enrolment stores as W0001: imported as it stands it would be a second account.
    enrol.enrol_customer(store, fake, "W0001", render_signatures(ALICE, 4))
    path = _export(tmp_path, "old-branch", ("Ｗ０００１", BOB))
    before = store_contents(store)
    with pytest.raises(ExchangeError, match=r"or character width .*Ｗ０００１ vs W0001"):
        exchange.import_zip(store, path, FakeVerifier(), replace=replace)
    assert store_contents(store) == before


def test_import_refuses_a_number_and_its_full_width_form_together(store, tmp_path):
    path = _export(tmp_path, "old-branch", ("W0002", ALICE), ("ｗ０００２", BOB))
    with pytest.raises(ExchangeError, match=r"2 customer\(s\)"):
        exchange.import_zip(store, path, FakeVerifier())
    assert records.list_customers(store.db) == []


def test_case_conflicts_spare_pairs_that_are_both_enrolled(store, fake):
    for cid in ("AB123", "ab123"):
        enrol_as_older_version(store, fake, cid, ALICE)
    assert case_conflicts(store.db, ["AB123", "ab123"]) == []  # both existing: no new one
    assert case_conflicts(store.db, ["Ab123"]) == [("Ab123", "AB123")]


# --- "Did you mean ...?" ---------------------------------------------------------------
def test_an_unknown_number_suggests_its_other_case(store, fake):
    enrol.enrol_customer(store, fake, "AB123", render_signatures(ALICE, 4))
    hint = "No customer with number ab123 is enrolled. Did you mean AB123?"
    image = render_signatures(ALICE, 1, 5)[0]
    for attempt in (
        lambda: verify.verify_signature(store, fake, "ab123", image),
        lambda: enrol.add_references(store, fake, "ab123", [image]),
        lambda: accounts.close_account(store, "ab123", reason="moved away"),
        lambda: accounts.reopen_account(store, "ab123", reason="came back"),
    ):
        with pytest.raises(UnknownCustomerError) as caught:
            attempt()
        assert str(caught.value) == hint
    with pytest.raises(UnknownCustomerError) as caught:
        verify.verify_signature(store, fake, "XY999", image)
    assert str(caught.value) == "No customer with number XY999 is enrolled."


# --- stores that already hold both ------------------------------------------------------
def test_a_store_holding_both_cases_reaches_each_exactly(store, fake, tmp_path):
    enrol_as_older_version(store, fake, "AB123", ALICE)
    enrol_as_older_version(store, fake, "ab123", BOB)
    upper = verify.verify_signature(store, fake, "AB123", render_signatures(ALICE, 1, 5)[0])
    lower = verify.verify_signature(store, fake, "ab123", render_signatures(BOB, 1, 5)[0])
    assert (upper.customer_id, upper.decision) == ("AB123", "accept")
    assert (lower.customer_id, lower.decision) == ("ab123", "accept")
    added = enrol.add_references(store, fake, "ab123", render_signatures(BOB, 1, 6))
    assert added.customer_id == "ab123"
    assert [len(records.references_of(store.db, c)) for c in ("AB123", "ab123")] == [4, 5]
    accounts.close_account(store, "ab123", reason="moved away")
    assert [records.get_customer(store.db, c).status for c in ("AB123", "ab123")] == [
        "active",
        "closed",
    ]
    # Re-importing its own export (with replace) is no new customer either.
    exchange.export_zip(store, tmp_path / "self.zip")
    summary = exchange.import_zip(store, tmp_path / "self.zip", FakeVerifier(), replace=True)
    assert sorted(summary.replaced) == ["AB123", "ab123"]


# --- the CLI ---------------------------------------------------------------------------
def test_cli_refuses_in_one_line_and_suggests(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    main = cli_with(monkeypatch, "enroll", "verify")
    db = tmp_path / "store.db"
    alice, bob = write_signatures(tmp_path, ALICE, 4), write_signatures(tmp_path, BOB, 4)
    code, _, err = run_cli(main, capsys, "enroll", "AB123", *alice[:3], "--db", db)
    assert code == 0, err
    code, out, err = run_cli(main, capsys, "enroll", "ab123", *bob, "--db", db)
    assert_user_error(code, err, "ab123 differs only in letter case", "use AB123")
    assert out == ""
    code, _, err = run_cli(main, capsys, "verify", "ab123", alice[3], "--db", db)
    assert_user_error(code, err, "No customer with number ab123", "Did you mean AB123?")
