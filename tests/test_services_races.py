"""Another workstation changing the store while this one computes: every service checks
again, under the write lock, what its decision rests on (two workstations are played
here by the fake verifier's `meanwhile`, the other one acting mid-comparison)."""

from __future__ import annotations

import pytest

from sigverify_gui.services import enrol, exchange, exchange_embed, thresholds, verify
from sigverify_gui.services.errors import (
    AlreadyEnrolledError,
    ConsistencyError,
    EnrolmentError,
    ReferencesChangedError,
)
from sigverify_gui.services.reembed import reembed_stale
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from tests.fakes import FakeVerifier, render_signatures


@pytest.fixture
def alice(store, fake):
    enrol.enrol_customer(store, fake, "A", render_signatures(2, 4), name="Alice")
    return store


def _kinds(store) -> list[str]:
    return [r["kind"] for r in reversed(audit.list_rows(store.db))]


def test_references_replaced_during_a_verification_stop_it(alice, fake):
    store, other = alice, FakeVerifier()
    first = records.references_of(store.db, "A")[0].id
    # They were an impostor's: a supervisor replaces one while this teller compares.
    fake.meanwhile = lambda: enrol.replace_reference(
        store, other, first, render_signatures(2, 1, 6)[0], force=True
    )
    with pytest.raises(ReferencesChangedError, match="verify it again"):
        verify.verify_signature(store, fake, "A", render_signatures(2, 1, 5)[0])
    assert "verification" not in _kinds(store)  # no result reached on what was replaced
    again = verify.verify_signature(store, fake, "A", render_signatures(2, 1, 5)[0])
    assert again.closest_reference_id != first


def test_thresholds_tightened_during_a_verification_decide_it(alice, fake):
    store = alice
    fake.at_score = True  # after this workstation read the thresholds, as it once did
    fake.meanwhile = lambda: thresholds.set_thresholds(store, FakeVerifier(), 0.999, 0.99)
    result = verify.verify_signature(store, fake, "A", render_signatures(2, 1, 5)[0])
    row = audit.get_row(store.db, result.verification_id)
    assert (row["t_accept"], row["t_reject"]) == (0.999, 0.99)
    assert result.decision != "accept" and result.thresholds.t_accept == 0.999


def test_one_scan_enrolled_meanwhile_under_another_customer_needs_force(store, fake):
    scans = render_signatures(3, 3)
    fake.meanwhile = lambda: enrol.enrol_customer(store, FakeVerifier(), "Y-200", scans)
    with pytest.raises(ConsistencyError, match="Y-200"):
        enrol.enrol_customer(store, fake, "X-100", scans)
    assert records.get_customer(store.db, "X-100") is None


def test_one_scan_added_twice_at_once_is_added_once(alice, fake):
    extra = render_signatures(2, 1, 7)
    fake.meanwhile = lambda: enrol.add_references(alice, FakeVerifier(), "A", extra)
    with pytest.raises(EnrolmentError, match="same image"):
        enrol.add_references(alice, fake, "A", extra)
    assert records.get_customer(alice.db, "A").active_references == 5


def test_re_embedding_skips_references_deleted_meanwhile(alice, tmp_path):
    store = alice
    enrol.enrol_customer(store, FakeVerifier(), "B", render_signatures(3, 3))
    exchange.export_zip(store, tmp_path / "b.zip")
    upgraded = FakeVerifier(model_id="fake-0002", seed=99)
    # Another workstation restores the export (deleting and re-making A and B) while
    # this one re-embeds for a new model.
    upgraded.meanwhile = lambda: exchange.import_zip(
        store, tmp_path / "b.zip", FakeVerifier(), replace=True
    )
    count = reembed_stale(store, upgraded)
    assert count == 0  # every id it had listed was gone, or no longer stale by then
    rows = [r for r in audit.list_rows(store.db) if r["kind"] == "references_reembedded"]
    assert rows == []  # nothing claimed for references it did not update
    assert reembed_stale(store, upgraded) == 7  # the restored ones, on the next call


# --- an import embeds before it takes the write lock -----------------------------------
@pytest.fixture
def bob_export(tmp_path):
    with Store(tmp_path / "other-branch.db") as source:
        enrol.enrol_customer(source, FakeVerifier(), "B", render_signatures(3, 3), name="Bob")
        exchange.export_zip(source, tmp_path / "bob.zip")
    return tmp_path / "bob.zip"


def test_tellers_verify_while_an_import_embeds(alice, bob_export):
    # Embedding takes milliseconds a reference: under the write lock, a branch's import
    # of thousands kept every teller waiting past the busy timeout.
    store, importer, verified = alice, FakeVerifier(), []
    with Store(store.path) as teller:
        importer.meanwhile = lambda: verified.append(
            verify.verify_signature(teller, FakeVerifier(), "A", render_signatures(2, 1, 5)[0])
        )
        exchange.import_zip(store, bob_export, importer)
    assert len(verified) == 1
    kinds = _kinds(store)
    assert kinds.index("verification") < kinds.index("import")
    assert records.get_customer(store.db, "B").active_references == 3


def test_a_customer_enrolled_while_an_import_embeds_is_not_overwritten(store, bob_export):
    importer, theirs = FakeVerifier(), render_signatures(5, 3)
    with Store(store.path) as other:
        importer.meanwhile = lambda: enrol.enrol_customer(other, FakeVerifier(), "B", theirs)
        with pytest.raises(AlreadyEnrolledError, match="already enrolled"):
            exchange.import_zip(store, bob_export, importer)
    assert "import" not in _kinds(store)
    assert records.get_customer(store.db, "B").name == ""  # the enrolment's, not Bob's
    assert records.get_customer(store.db, "B").active_references == len(theirs)


def test_an_import_bound_to_fail_says_so_before_embedding(alice, bob_export):
    enrol.enrol_customer(alice, FakeVerifier(), "B", render_signatures(5, 3))
    importer = FakeVerifier()
    with pytest.raises(AlreadyEnrolledError):
        exchange.import_zip(alice, bob_export, importer)
    assert importer.calls["embed_canvases"] == 0


def test_references_beyond_memory_are_imported_the_same(tmp_path, bob_export, monkeypatch):
    def imported(name: str) -> list[tuple]:
        with Store(tmp_path / name) as target:
            exchange.import_zip(target, bob_export, FakeVerifier())
            return target.db.execute(
                "SELECT image_png, canvas_png, embedding, model_id "
                "FROM reference_signatures ORDER BY id"
            ).fetchall()

    in_memory = imported("a.db")
    monkeypatch.setattr(exchange_embed, "SPOOL_IN_MEMORY", 1)  # every reference on disk
    assert imported("b.db") == in_memory and len(in_memory) == 3
