"""Enrolment, verification, teller decisions, thresholds and re-embedding (fake verifier)."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

import numpy as np
import pytest

from model.errors import CancelledError, ImageError
from model.progress import NullProgress
from sigverify_gui.services import enrol, thresholds, verify
from sigverify_gui.services.accounts import AccountError
from sigverify_gui.services.captures import Capture
from sigverify_gui.services.errors import (
    ClosedAccountError,
    ConsistencyError,
    DecisionError,
    EnrolmentError,
    NoReferencesError,
    OverrideReasonRequired,
    QualityError,
    UnknownCustomerError,
    UnknownReferenceError,
)
from sigverify_gui.services.reembed import count_stale, reembed_stale
from sigverify_gui.store import audit, records
from tests.fakes import FakeVerifier, render_signatures, write_signatures

# Synthetic writers the fake verifier tells apart well.
ALICE, BOB, CAROL = 2, 3, 6


@pytest.fixture(scope="module")
def sigs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sigs")
    files = {w: write_signatures(folder, w, 6) for w in (ALICE, BOB, CAROL)}
    blank = folder / "blank.png"
    from model.imageio import encode_png

    blank.write_bytes(encode_png(np.full((300, 600), 235, np.uint8)))
    files["blank"] = blank
    return files


def _audit_kinds(store):
    return [r["kind"] for r in reversed(audit.list_rows(store.db))]


# --- enrolment -------------------------------------------------------------------------
def test_the_same_image_twice_is_refused_and_nothing_is_written(store, fake, sigs, tmp_path):
    copy = tmp_path / "copy-of-first.png"
    copy.write_bytes(sigs[ALICE][0].read_bytes())
    with pytest.raises(EnrolmentError, match="copy-of-first.png' .#3. is the same image as"):
        enrol.enrol_customer(store, fake, "1001", [*sigs[ALICE][:2], copy])
    assert records.list_customers(store.db) == [] and _audit_kinds(store) == []

    enrol.enrol_customer(store, fake, "1001", sigs[ALICE][:3])
    with pytest.raises(EnrolmentError, match="same image as an existing reference"):
        enrol.add_references(store, fake, "1001", [sigs[ALICE][3], copy])
    first = records.references_of(store.db, "1001")[0].id
    with pytest.raises(EnrolmentError, match="same image as an existing reference"):
        enrol.replace_reference(store, fake, first + 1, copy)
    assert records.get_customer(store.db, "1001").active_references == 3
    assert _audit_kinds(store) == ["enrolment"]
    # nor the image it replaces: a no-op the audit would record as a new signature
    with pytest.raises(EnrolmentError, match=f"very image of reference {first}, which it"):
        enrol.replace_reference(store, fake, first, copy)
    assert _audit_kinds(store) == ["enrolment"]


def test_the_same_scan_saved_another_way_is_the_same_image(store, fake, sigs, tmp_path):
    """Other bytes, the same pixels (a 16-bit PNG, a TIFF): the canvas tells them."""
    from PIL import Image

    from model.imageio import load_image

    gray = load_image(sigs[ALICE][0]).gray
    first = tmp_path / "first.png"  # a scanner's PNG: kept as its own bytes when stored
    Image.fromarray(gray).save(first, compress_level=9)
    deep = tmp_path / "first-16-bit.png"  # stored as sigverify encodes it
    Image.fromarray(gray.astype(np.uint16) * 257).save(deep)
    tiff = tmp_path / "first.tif"
    Image.fromarray(gray).save(tiff)
    with pytest.raises(EnrolmentError, match="first.tif' .#4. is the same image as"):
        enrol.enrol_customer(store, fake, "1001", [first, *sigs[ALICE][1:3], tiff])
    enrol.enrol_customer(store, fake, "1001", [first, *sigs[ALICE][1:3]])
    with pytest.raises(EnrolmentError, match="same image as an existing reference"):
        enrol.add_references(store, fake, "1001", [deep])
    first = records.references_of(store.db, "1001")[0].id
    with pytest.raises(EnrolmentError, match=f"very image of reference {first}, which it"):
        enrol.replace_reference(store, fake, first, tiff)
    assert _audit_kinds(store) == ["enrolment"]


def test_a_file_opened_in_the_app_is_the_same_stored_image_as_given_by_path(
    store, fake, sigs, tmp_path
):
    """The app reads a file into a capture that keeps its bytes; stored as those bytes,
    the "another customer's very image" check holds across the app and the CLI."""
    from PIL import Image

    from sigverify_gui.services.capture.files import read_capture

    card = tmp_path / "card.png"  # written as a scanner might: not as sigverify encodes
    Image.open(sigs[ALICE][0]).convert("L").save(card, compress_level=9)
    enrol.enrol_customer(store, fake, "1001", [read_capture(card), *sigs[ALICE][1:3]])
    assert records.reference_images(store.db, 1)[0] == card.read_bytes()
    with pytest.raises(ConsistencyError, match="same image as a reference of customer 1001"):
        enrol.enrol_customer(store, fake, "2002", [card, *sigs[BOB][:2]])


def test_another_customers_very_image_is_refused_unless_a_supervisor_forces_it(
    store, fake, sigs, tmp_path
):
    """The card of one customer picked up for another: the same scan under two numbers."""
    copy = tmp_path / "card-of-1001.png"
    copy.write_bytes(sigs[ALICE][1].read_bytes())
    alice = enrol.enrol_customer(store, fake, "1001", sigs[ALICE][:3])
    shared = "'card-of-1001.png' .#2. is the same image as a reference of customer 1001"
    with pytest.raises(ConsistencyError, match=shared):
        enrol.enrol_customer(store, fake, "2002", [sigs[BOB][0], copy, sigs[BOB][1]])
    assert [c.customer_id for c in records.list_customers(store.db)] == ["1001"]
    bob = enrol.enrol_customer(store, fake, "2002", sigs[BOB][:3])
    with pytest.raises(ConsistencyError, match="same image as a reference of customer 1001"):
        enrol.add_references(store, fake, "2002", [copy])
    with pytest.raises(ConsistencyError, match="same image as a reference of customer 1001"):
        enrol.replace_reference(store, fake, bob.reference_ids[0], copy)
    assert _audit_kinds(store) == ["enrolment", "enrolment"]
    # Alice's other signatures (not the same image) are hers to add; Bob's genuine too.
    enrol.add_references(store, fake, "1001", sigs[ALICE][3:4])

    forced = enrol.add_references(store, fake, "2002", [copy], force=True)
    assert any("customer 1001 (enrolled anyway by a supervisor)" in w for w in forced.warnings)
    detail = json.loads(audit.list_rows(store.db)[0]["detail"])
    assert detail["shared_with"] == [
        {"index": 0, "customer_id": "1001", "reference_id": alice.reference_ids[1]}
    ]


def test_full_width_customer_numbers_are_the_plain_ones(store, fake, sigs):
    enrol.enrol_customer(store, fake, "ｗ０００１", sigs[ALICE][:3])
    assert [c.customer_id for c in records.list_customers(store.db)] == ["w0001"]
    with pytest.raises(EnrolmentError, match="already enrolled"):
        enrol.enrol_customer(store, fake, "w0001", sigs[BOB][:3])
    result = verify.verify_signature(store, fake, "ｗ０００１", sigs[ALICE][4])
    assert result.customer_id == "w0001"
    enrol.add_references(store, fake, "ｗ0001", sigs[ALICE][3:4])


def test_enrol_stores_references_and_audits(store, fake, sigs):
    result = enrol.enrol_customer(
        store, fake, " 1001 ", sigs[ALICE][:5], name="Alice", operator="teller1"
    )
    assert result.customer_id == "1001"
    assert len(result.reference_ids) == 5 and result.warnings == ()
    assert [c.outlier for c in result.consistency] == [False] * 5
    assert all(c.score > fake.t_reject for c in result.consistency)
    customer = records.get_customer(store.db, "1001")
    assert customer.name == "Alice" and customer.active_references == 5
    refs = records.references_of(store.db, "1001")
    assert [r.source for r in refs] == [p.name for p in sigs[ALICE][:5]]
    assert all(r.model_id == fake.model_id for r in refs)
    assert refs[0].embedding.shape == (fake.embedding_dim,)
    assert refs[0].quality["ok"] is True
    image_png, canvas_png = records.reference_images(store.db, refs[0].id)
    assert image_png == sigs[ALICE][0].read_bytes()  # the original PNG, byte for byte
    assert canvas_png.startswith(b"\x89PNG")
    row = audit.list_rows(store.db)[0]
    assert row["kind"] == "enrolment" and row["operator"] == "teller1"
    assert json.loads(row["detail"])["reference_ids"] == list(result.reference_ids)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_few_references_enrol_with_a_warning(store, fake, sigs, count):
    result = enrol.enrol_customer(store, fake, "C1", sigs[BOB][:count])
    assert len(result.reference_ids) == count
    assert "5 to 9 are recommended" in result.warnings[0]


def test_enrol_accepts_arrays_and_captures(store, fake):
    grays = render_signatures(CAROL, 5)
    images = [grays[0], Capture(grays[1], dpi=300.0, source="scanner"), *grays[2:]]
    result = enrol.enrol_customer(store, fake, "C2", images)
    sources = [r.source for r in records.references_of(store.db, "C2")]
    assert sources == ["capture", "scanner"] + ["capture"] * 3 and result.warnings == ()


def test_an_outlier_blocks_enrolment_unless_forced(store, fake, sigs):
    images = [*sigs[ALICE][:3], sigs[BOB][0]]
    with pytest.raises(ConsistencyError) as info:
        enrol.enrol_customer(store, fake, "C3", images)
    assert [o.index for o in info.value.outliers] == [3]
    assert sigs[BOB][0].name in str(info.value) and "#4" in str(info.value)
    assert records.get_customer(store.db, "C3") is None
    assert _audit_kinds(store) == []
    result = enrol.enrol_customer(store, fake, "C3", images, force=True)
    assert result.forced and [c.outlier for c in result.consistency] == [False] * 3 + [True]
    assert records.get_customer(store.db, "C3").active_references == 4


def test_a_bad_capture_names_the_file_and_the_reasons(store, fake, sigs):
    with pytest.raises(EnrolmentError, match="blank.png") as info:
        enrol.enrol_customer(store, fake, "C4", [sigs[ALICE][0], sigs["blank"]])
    assert "ink" in str(info.value)
    assert records.get_customer(store.db, "C4") is None


@pytest.mark.parametrize("bad_id", ["", "   ", "x" * 65, "12\n34"])
def test_bad_customer_numbers_are_refused(store, fake, sigs, bad_id):
    with pytest.raises(EnrolmentError):
        enrol.enrol_customer(store, fake, bad_id, sigs[ALICE][:1])


def test_enrolling_twice_is_refused(store, fake, sigs):
    enrol.enrol_customer(store, fake, "C5", sigs[ALICE][:3])
    with pytest.raises(EnrolmentError, match="already enrolled"):
        enrol.enrol_customer(store, fake, "C5", sigs[ALICE][3:5])


def test_references_added_after_all_were_retired_say_they_were_matched_to_nothing(
    store, fake, sigs
):
    first = enrol.enrol_customer(store, fake, "C7", sigs[ALICE][:2])
    for reference_id in first.reference_ids:
        enrol.deactivate_reference(store, reference_id, reason="torn")
    added = enrol.add_references(store, fake, "C7", [sigs[BOB][0]])  # anyone's would do
    assert added.warnings[0] == (
        "Customer C7 had no active reference signature, so these were checked only "
        "against each other, as at a new enrolment."
    )
    again = enrol.add_references(store, fake, "C7", [sigs[BOB][1]])
    assert not any("had no active" in w for w in again.warnings)


def test_add_replace_and_deactivate_references(store, fake, sigs):
    first = enrol.enrol_customer(store, fake, "C6", sigs[ALICE][:4])
    added = enrol.add_references(store, fake, "C6", sigs[ALICE][4:5], operator="t")
    assert len(added.reference_ids) == 1 and added.warnings == ()
    with pytest.raises(ConsistencyError):  # Bob's signature against Alice's
        enrol.add_references(store, fake, "C6", [sigs[BOB][0]])
    old = first.reference_ids[0]
    replaced = enrol.replace_reference(store, fake, old, sigs[ALICE][5])
    retired = records.get_reference(store.db, old)
    assert not retired.active and retired.replaced_by == replaced.reference_ids[0]
    assert retired.deactivated_at is not None
    assert records.get_customer(store.db, "C6").active_references == 5
    warnings = enrol.deactivate_reference(store, replaced.reference_ids[0], reason="smudged")
    assert len(warnings) == 1 and "has 4 reference signatures; 5 to 9" in warnings[0]
    when = datetime.fromisoformat(retired.deactivated_at).astimezone().strftime("%Y-%m-%d %H:%M")
    already = (
        f"Reference {old} of customer C6 was already retired on {when} (replaced by "
        f"reference {replaced.reference_ids[0]})"
    )
    with pytest.raises(UnknownReferenceError, match=re.escape(f"{already}; nothing was changed.")):
        enrol.deactivate_reference(store, old, reason="smudged")
    with pytest.raises(UnknownReferenceError, match=re.escape(already)):
        enrol.replace_reference(store, fake, old, sigs[ALICE][5])
    with pytest.raises(UnknownReferenceError, match="There is no reference signature 999."):
        enrol.deactivate_reference(store, 999, reason="smudged")
    with pytest.raises(AccountError, match="Give a reason"):
        enrol.deactivate_reference(store, first.reference_ids[1], reason="  ")
    assert records.get_reference(store.db, first.reference_ids[1]).active
    with pytest.raises(UnknownCustomerError):
        enrol.add_references(store, fake, "nobody", sigs[ALICE][:1])
    assert _audit_kinds(store) == [
        "enrolment",
        "references_added",
        "reference_replaced",
        "reference_deactivated",
    ]


# --- verification ----------------------------------------------------------------------
@pytest.fixture
def enrolled(store, fake, sigs):
    enrol.enrol_customer(store, fake, "A", sigs[ALICE][:5], name="Alice")
    enrol.enrol_customer(store, fake, "B", sigs[BOB][:5], name="Bob")
    return store


def test_verify_accepts_the_customer_and_rejects_another(enrolled, fake, sigs):
    store = enrolled
    genuine = verify.verify_signature(store, fake, "A", sigs[ALICE][5], operator="t1")
    assert genuine.decision == "accept" and genuine.score >= fake.t_accept
    ref_ids = [r.id for r in records.references_of(store.db, "A")]
    assert genuine.closest_reference_id in ref_ids
    per_reference = dict(genuine.reference_scores)
    assert set(per_reference) == set(ref_ids)
    assert per_reference[genuine.closest_reference_id] == max(per_reference.values())
    assert all(0.0 <= s <= 1.0 for s in per_reference.values())
    other = verify.verify_signature(store, fake, "A", sigs[BOB][5])
    assert other.decision == "reject" and other.score < genuine.score
    d = genuine.to_dict()
    for key in ("customer_id", "score", "decision", "closest_reference_id", "model_id"):
        assert d[key] == getattr(genuine, key)
    assert d["thresholds"] == {
        "accept": 0.7,
        "reject": 0.3,
        "source": "model",
        "set_for_another": False,
    }
    row = audit.get_row(store.db, genuine.verification_id, with_image=True)
    assert row["kind"] == "verification" and row["operator"] == "t1"
    assert row["image_png"] == sigs[ALICE][5].read_bytes()
    assert row["score"] == genuine.score and row["system_decision"] == "accept"
    assert row["t_accept"] == 0.7 and row["closest_reference_id"] == genuine.closest_reference_id
    assert audit.verify_chain(store.db).ok


def _black_and_white(path, tmp_path):
    from model.imageio import encode_png, load_gray

    out = tmp_path / f"bw-{path.name}"
    out.write_bytes(encode_png(np.where(load_gray(path) < 128, 0, 255).astype(np.uint8)))
    return out


def test_a_capture_scanned_unlike_the_references_comes_with_a_caution(
    enrolled, fake, sigs, tmp_path
):
    store = enrolled  # references scanned in greyscale
    plain = verify.verify_signature(store, fake, "A", sigs[ALICE][5])
    assert plain.cautions == () and plain.to_dict()["cautions"] == []
    bilevel = _black_and_white(sigs[ALICE][5], tmp_path)
    result = verify.verify_signature(store, fake, "A", bilevel)
    assert result.cautions == ("questioned_bilevel",)
    (caution,) = result.to_dict()["cautions"]
    assert caution["code"] == "questioned_bilevel" and "black and white" in caution["message"]
    detail = json.loads(audit.get_row(store.db, result.verification_id)["detail"])
    assert detail["cautions"] == ["questioned_bilevel"]
    assert "cautions" not in json.loads(audit.get_row(store.db, plain.verification_id)["detail"])
    # the other way round: references in black and white, the questioned one in grey
    enrol.enrol_customer(store, fake, "C", [_black_and_white(p, tmp_path) for p in sigs[CAROL][:4]])
    assert verify.verify_signature(store, fake, "C", sigs[CAROL][5]).cautions == (
        "references_bilevel",
    )


def test_references_scanned_in_two_ways_are_warned_of(store, fake, sigs, tmp_path):
    mixed = "scanned in black and white and some in greyscale"
    plain = enrol.enrol_customer(store, fake, "A", sigs[ALICE][:4])
    assert not any(mixed in w for w in plain.warnings)
    # (forced: the fake verifier, unlike the model, takes a thresholded image for another)
    bilevel = _black_and_white(sigs[ALICE][4], tmp_path)
    added = enrol.add_references(store, fake, "A", [bilevel], force=True)
    assert any(mixed in w for w in added.warnings)
    bob = [*sigs[BOB][:3], _black_and_white(sigs[BOB][3], tmp_path)]
    both = enrol.enrol_customer(store, fake, "B", bob, force=True)
    assert any(mixed in w for w in both.warnings)


@pytest.mark.parametrize(
    ("questioned", "references", "expected"),
    [
        ("bilevel", ["grey", "grey"], ("questioned_bilevel",)),
        ("grey", ["bilevel"], ("references_bilevel",)),
        ("grey", ["grey", None], ()),
        ("bilevel", ["bilevel", "grey"], ()),  # the references differ: nothing to say
        ("bilevel", [None, None], ()),  # enrolled before captures were judged so
        ("", ["grey"], ()),
    ],
)
def test_cautions_only_when_every_reference_known_was_scanned_the_other_way(
    questioned, references, expected
):
    from sigverify_gui.services.cautions import capture_cautions

    reports = [{} if tones is None else {"ink_tones": tones} for tones in references]
    assert capture_cautions({"ink_tones": questioned}, reports) == expected


def test_branch_thresholds_override_the_models(enrolled, fake, sigs):
    store = enrolled
    score = verify.verify_signature(store, fake, "A", sigs[ALICE][5]).score
    thresholds.set_thresholds(store, fake, t_accept=min(1.0, score + 0.01), t_reject=0.1)
    result = verify.verify_signature(store, fake, "A", sigs[ALICE][5])
    assert result.decision == "refer" and result.thresholds.source == "settings"
    other_model = FakeVerifier(model_id="fake-other")
    assert thresholds.thresholds_in_force(store, other_model).source == "model"
    assert thresholds.thresholds_in_force(store, other_model).set_for_another
    with pytest.raises(Exception, match="must not be above the accept"):
        thresholds.set_thresholds(store, fake, t_accept=0.2, t_reject=0.5)
    thresholds.set_thresholds(store, fake, None, None)
    assert thresholds.thresholds_in_force(store, fake).source == "model"
    assert not thresholds.thresholds_in_force(store, fake).set_for_another


def test_branch_thresholds_lapse_when_the_model_is_recalibrated(enrolled, fake, sigs):
    # `sigverify calibrate` keeps the weights, hence the model id, but moves every score.
    thresholds.set_thresholds(enrolled, fake, t_accept=0.9, t_reject=0.2)
    recalibrated = FakeVerifier(calibration_id="cal-refitted")
    assert recalibrated.model_id == fake.model_id
    in_force = thresholds.thresholds_in_force(enrolled, recalibrated)
    assert (in_force.source, in_force.t_accept, in_force.set_for_another) == ("model", 0.7, True)
    result = verify.verify_signature(enrolled, recalibrated, "A", sigs[ALICE][5])
    assert result.thresholds.source == "model"
    assert thresholds.thresholds_in_force(enrolled, fake).source == "settings"


def test_thresholds_saved_before_calibration_ids_still_apply(enrolled, fake):
    legacy = {"model_id": fake.model_id, "t_accept": 0.9, "t_reject": 0.2}
    with enrolled.write() as db:  # as the first version wrote it, with its audit row
        records.set_setting(db, thresholds.SETTING_KEY, json.dumps(legacy))
        audit.append(
            db, "thresholds_changed", "it", model_id=fake.model_id, t_accept=0.9, t_reject=0.2
        )
    in_force = thresholds.thresholds_in_force(enrolled, fake)
    assert (in_force.source, in_force.t_accept, in_force.t_reject) == ("settings", 0.9, 0.2)
    # stamped with the calibration in force when first read, so a later one lapses them
    stamped = json.loads(records.get_setting(enrolled.db, thresholds.SETTING_KEY))
    assert stamped == legacy | {"calibration_id": fake.calibration_id}
    recalibrated = FakeVerifier(calibration_id="cal-refitted")
    assert thresholds.thresholds_in_force(enrolled, recalibrated).set_for_another


@pytest.mark.parametrize(
    ("customer", "image", "error"),
    [
        ("nobody", ALICE, UnknownCustomerError),
        ("EMPTY", ALICE, NoReferencesError),
        ("A", "blank", QualityError),
        ("A", "missing", ImageError),
    ],
)
def test_verify_failures_write_nothing_unless_asked(
    enrolled, fake, sigs, tmp_path, customer, image, error
):
    store = enrolled
    ref = enrol.enrol_customer(store, fake, "EMPTY", sigs[CAROL][:1]).reference_ids[0]
    enrol.deactivate_reference(store, ref, reason="unreadable")
    path = tmp_path / "missing.png" if image == "missing" else sigs[image]
    path = path[5] if isinstance(path, list) else path
    before = audit.list_rows(store.db)
    with pytest.raises(error):
        verify.verify_signature(store, fake, customer, path)
    assert audit.list_rows(store.db) == before
    with pytest.raises(error):
        verify.verify_signature(store, fake, customer, path, record_failure=True)
    row = audit.list_rows(store.db)[0]
    assert row["kind"] == "verification_failed" and row["customer_id"] == customer
    assert json.loads(row["detail"])["error"] == error.__name__
    assert row["has_image"] == (image not in ("missing",))
    assert audit.verify_chain(store.db).ok


def test_a_number_no_customer_can_have_is_recorded_cut_short(enrolled, fake, sigs):
    # A page of text pasted as the number had gone whole into the trail (kept for good)
    # and into the message.
    pasted = "9" * 100_000
    with pytest.raises(UnknownCustomerError) as refused:
        verify.verify_signature(enrolled, fake, pasted, sigs[ALICE][5], record_failure=True)
    assert len(str(refused.value)) < 200
    row = audit.list_rows(enrolled.db)[0]
    assert row["kind"] == "verification_failed" and row["customer_id"] == "9" * 64 + "…"
    assert len(row["detail"]) < 400


def test_teller_decisions(enrolled, fake, sigs):
    store = enrolled
    v1 = verify.verify_signature(store, fake, "A", sigs[ALICE][5])
    d1 = verify.record_teller_decision(store, v1.verification_id, "accept", operator="t1")
    row = audit.get_row(store.db, d1)
    assert row["kind"] == "teller_decision" and row["verification_id"] == v1.verification_id
    assert row["teller_decision"] == "accept" and row["system_decision"] == "accept"
    with pytest.raises(DecisionError, match="already"):
        verify.record_teller_decision(store, v1.verification_id, "accept")
    v2 = verify.verify_signature(store, fake, "A", sigs[BOB][5])
    with pytest.raises(OverrideReasonRequired):
        verify.record_teller_decision(store, v2.verification_id, "accept", reason="  ")
    d2 = verify.record_teller_decision(
        store, v2.verification_id, "accept", reason="customer known to the branch manager"
    )
    assert audit.get_row(store.db, d2)["override_reason"].startswith("customer known")
    with pytest.raises(DecisionError, match="one of"):
        verify.record_teller_decision(store, v2.verification_id, "maybe")
    with pytest.raises(DecisionError, match="no verification"):
        verify.record_teller_decision(store, d2, "accept")
    assert audit.verify_chain(store.db).ok


# --- model versions --------------------------------------------------------------------
def test_a_new_model_re_embeds_before_comparing(enrolled, sigs):
    store = enrolled
    new_model = FakeVerifier(model_id="fake-0002", seed=99)
    assert count_stale(store, new_model) == 10
    assert count_stale(store, new_model, "A") == 5
    result = verify.verify_signature(store, new_model, "A", sigs[ALICE][5])
    assert result.decision == "accept" and result.model_id == "fake-0002"
    refs = records.references_of(store.db, "A")
    assert {r.model_id for r in refs} == {"fake-0002"}
    expected = new_model.embed([sigs[ALICE][0]])[0]
    assert np.allclose(refs[0].embedding, expected, atol=1e-6)
    assert count_stale(store, new_model) == 5  # Bob's are done when first needed
    reembedded = [r for r in audit.list_rows(store.db) if r["kind"] == "references_reembedded"]
    assert len(reembedded) == 1
    row = reembedded[0]
    assert (row["customer_id"], row["model_id"]) == ("A", "fake-0002")
    assert json.loads(row["detail"]) == {
        "references": [r.id for r in refs],
        "from_models": {"fake-0001": 5},
    }

    seen = []

    class Recorder(NullProgress):
        def update(self, done, total, text=""):
            seen.append((done, total))
            super().update(done, total, text)

    assert reembed_stale(store, new_model, progress=Recorder(), operator="it-admin") == 5
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    last = audit.list_rows(store.db)[0]  # newest first
    assert (last["kind"], last["operator"], last["customer_id"]) == (
        "references_reembedded", "it-admin", None)  # fmt: skip
    assert audit.verify_chain(store.db).ok
    assert count_stale(store, new_model) == 0
    seen.clear()
    assert reembed_stale(store, new_model, progress=Recorder()) == 0
    assert seen == []  # nothing to do: no "0/0" progress line


def test_only_two_models_undoing_each_others_work_are_warned_of(enrolled, caplog):
    # An upgrade replaces the old model's embeddings: nothing to warn of. A workstation
    # still on the old model taking them back is: each pass costs tellers' comparisons.
    store, old, new = enrolled, FakeVerifier(), FakeVerifier(model_id="fake-0002", seed=99)
    caplog.set_level(logging.WARNING, logger="sigverify.services.reembed")
    assert reembed_stale(store, new) == 10
    assert caplog.records == []
    assert reembed_stale(store, old) == 10
    (warning,) = caplog.records
    assert "made by fake-0002, which had itself re-embedded references made by fake-0001" in (
        warning.getMessage()
    )
    newer = FakeVerifier(model_id="fake-0003", seed=7)
    caplog.clear()
    assert reembed_stale(store, newer) == 10  # fake-0001 never undid fake-0003's work
    assert caplog.records == []


def test_a_stale_reference_that_can_no_longer_be_read_can_be_replaced(enrolled, sigs):
    # After a model change, an unreadable reference stops verification with "replace
    # it"; replacing it had failed with the very same message, re-embedding it first.
    from model.imageio import encode_png

    store, new_model = enrolled, FakeVerifier(model_id="fake-0002", seed=99)
    broken = records.references_of(store.db, "A")[0].id
    with store.write() as db:
        blank = encode_png(np.full((200, 600), 250, np.uint8))
        db.execute("UPDATE reference_signatures SET image_png = ? WHERE id = ?", [blank, broken])
    with pytest.raises(EnrolmentError, match=f"Reference {broken} can no longer be read"):
        verify.verify_signature(store, new_model, "A", sigs[ALICE][5])
    replacement = render_signatures(ALICE, 1, 6)[0]  # a seventh of Alice's
    enrol.replace_reference(store, new_model, broken, replacement)
    result = verify.verify_signature(store, new_model, "A", sigs[ALICE][5])
    assert result.decision == "accept" and count_stale(store, new_model, "A") == 0


def test_logs_never_hold_images(enrolled, fake, sigs, caplog):
    caplog.set_level(logging.DEBUG)
    result = verify.verify_signature(enrolled, fake, "A", sigs[ALICE][5])
    verify.record_teller_decision(enrolled, result.verification_id, "accept")
    enrol.enrol_customer(enrolled, fake, "L1", sigs[CAROL][:3])
    with pytest.raises(QualityError):
        verify.verify_signature(enrolled, fake, "A", sigs["blank"], record_failure=True)
    assert caplog.records  # the services do log
    for record in caplog.records:
        text = record.getMessage()
        assert "PNG" not in text and "\\x" not in text and len(text) < 500


def test_a_customer_stored_before_numbers_were_normalised_stays_reachable(store, fake, sigs):
    # As an earlier version stored it: the full-width form, straight into the store.
    enrol.enrol_customer(store, fake, "w0001", sigs[ALICE][:3])
    with store.write() as db:
        db.execute("PRAGMA defer_foreign_keys = ON")
        for table in ("customers", "reference_signatures"):
            db.execute(f"UPDATE {table} SET customer_id = 'ｗ０００１'")
    result = verify.verify_signature(store, fake, "ｗ０００１", sigs[ALICE][4])
    assert result.customer_id == "ｗ０００１"
    enrol.add_references(store, fake, " ｗ０００１ ", sigs[ALICE][3:4])
    assert records.get_customer(store.db, "ｗ０００１").active_references == 4


def test_a_closed_account_is_not_verified_and_nothing_is_recorded(enrolled, fake, sigs):
    with enrolled.write() as db:
        records.set_customer_status(db, "A", "closed")
    before = len(audit.list_rows(enrolled.db))
    with pytest.raises(ClosedAccountError, match="account of customer A is closed"):
        verify.verify_signature(enrolled, fake, "A", sigs[ALICE][5])
    assert len(audit.list_rows(enrolled.db)) == before


def test_a_verification_cancelled_before_it_is_recorded_leaves_no_trace(enrolled, fake, sigs):
    # Cancelled while it compared (or waited for the store's lock): even with failures
    # recorded, a cancellation is the teller's choice, not a failed attempt.
    cancelled = NullProgress()
    cancelled.cancel()
    before = len(audit.list_rows(enrolled.db))
    with pytest.raises(CancelledError):
        verify.verify_signature(
            enrolled, fake, "A", sigs[ALICE][5], record_failure=True, progress=cancelled
        )
    assert len(audit.list_rows(enrolled.db)) == before


def test_a_closed_account_takes_no_new_references(enrolled, fake, sigs):
    with enrolled.write() as db:
        records.set_customer_status(db, "A", "closed")
    with pytest.raises(EnrolmentError, match="closed; reopen it first"):
        enrol.add_references(enrolled, fake, "A", sigs[ALICE][5:6])
    assert records.get_customer(enrolled.db, "A").active_references == 5


def test_a_closed_account_keeps_its_references_as_they_were(enrolled, fake, sigs):
    with enrolled.write() as db:
        records.set_customer_status(db, "A", "closed")
    first = records.references_of(enrolled.db, "A")[0].id
    with pytest.raises(EnrolmentError, match="closed; reopen it first"):
        enrol.replace_reference(enrolled, fake, first, sigs[ALICE][5])
    with pytest.raises(EnrolmentError, match="closed; reopen it first"):
        enrol.deactivate_reference(enrolled, first, reason="smudged")
    assert [r.id for r in records.references_of(enrolled.db, "A")][0] == first


def test_an_account_closed_while_comparing_gets_no_verification_or_references(enrolled, fake, sigs):
    # Another workstation closes the account between the checks and the write.
    def close_account():
        with enrolled.write() as db:
            records.set_customer_status(db, "A", "closed")

    fake.meanwhile = close_account
    before = len(audit.list_rows(enrolled.db))
    with pytest.raises(ClosedAccountError):
        verify.verify_signature(enrolled, fake, "A", sigs[ALICE][5])
    assert len(audit.list_rows(enrolled.db)) == before
    with enrolled.write() as db:
        records.set_customer_status(db, "A", "active")
    fake.meanwhile = close_account  # and again while references are added
    with pytest.raises(EnrolmentError, match="closed"):
        enrol.add_references(enrolled, fake, "A", sigs[ALICE][5:6])
    assert records.get_customer(enrolled.db, "A").active_references == 5


def test_a_cancelled_enrolment_writes_nothing(store, fake, sigs):
    from model.errors import CancelledError

    class CancelAtSaving:
        def update(self, done, total, text=""):
            if text == "Saving…":
                raise CancelledError("cancelled")

    with pytest.raises(CancelledError):
        enrol.enrol_customer(store, fake, "N1", sigs[CAROL][:3], progress=CancelAtSaving())
    assert records.get_customer(store.db, "N1") is None
    enrol.enrol_customer(store, fake, "N1", sigs[CAROL][:3])
    with pytest.raises(CancelledError):
        enrol.add_references(store, fake, "N1", sigs[CAROL][3:4], progress=CancelAtSaving())
    assert records.get_customer(store.db, "N1").active_references == 3
    assert [r["kind"] for r in audit.list_rows(store.db)] == ["enrolment"]
