"""Another workstation changing the store while this one computes: every service checks
again, under the write lock, what its decision rests on (two workstations are played
here by the fake verifier's `meanwhile`, the other one acting mid-comparison)."""

from __future__ import annotations

import pytest

from sigverify_gui.services import enrol, exchange, thresholds, verify
from sigverify_gui.services.errors import ConsistencyError, EnrolmentError, ReferencesChangedError
from sigverify_gui.services.reembed import reembed_stale
from sigverify_gui.store import audit, records
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
