"""Enrolment: a customer's reference signatures in, checked one by one and as a set.

Also adding, replacing and retiring references later. Every capture is checked and
embedded before the store is touched (`enrol_checks`: quality, then consistency of
the set); the rows are then written in one transaction, so a failure or a killed
process leaves nothing half-enrolled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.progress import Progress
from sigverify_gui.services.accounts import required_reason
from sigverify_gui.services.captures import ImageInput, PreparedCapture
from sigverify_gui.services.cautions import mixed_tones_warning
from sigverify_gui.services.customer_case import refuse_case_variant, unknown_customer
from sigverify_gui.services.enrol_checks import (
    ADD_REMEDY,
    RECOMMENDED_REFERENCES,
    REPLACE_REMEDY,
    ConsistencyScore,
    check_consistency,
    count_warning,
    normalise_customer_id,
    prepare_all,
    raise_if_outliers,
    refuse_repeated_images,
    stored_customer_id,
)
from sigverify_gui.services.enrol_shared import check_shared_images, shared_warnings
from sigverify_gui.services.errors import EnrolmentError, UnknownReferenceError
from sigverify_gui.services.reembed import reembed_stale
from sigverify_gui.services.thresholds import thresholds_in_force
from sigverify_gui.services.typed_text import (
    MAX_NAME_LENGTH,
    MAX_NOTES_LENGTH,
    one_line,
    several_lines,
)
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store, pause_point

__all__ = [
    "RECOMMENDED_REFERENCES",
    "ConsistencyScore",
    "EnrolmentResult",
    "add_references",
    "deactivate_reference",
    "enrol_customer",
    "normalise_customer_id",
    "replace_reference",
]

log = logging.getLogger("sigverify.services.enrol")


@dataclass(frozen=True)
class EnrolmentResult:
    customer_id: str
    reference_ids: tuple[int, ...]  # the new references, in capture order
    consistency: tuple[ConsistencyScore, ...]
    warnings: tuple[str, ...]
    forced: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "reference_ids": list(self.reference_ids),
            "consistency": [c.to_dict() for c in self.consistency],
            "warnings": list(self.warnings),
            "forced": self.forced,
        }


def _insert_references(
    db, customer_id: str, prepared: list[PreparedCapture], embeddings: np.ndarray, model_id: str
) -> list[int]:
    ids = []
    for capture, embedding in zip(prepared, embeddings, strict=True):
        ids.append(
            records.insert_reference(
                db,
                customer_id,
                image_png=capture.image_png,
                canvas_png=capture.canvas_png,
                embedding=embedding,
                model_id=model_id,
                quality=capture.quality,
                source=capture.source,
            )
        )
        pause_point()
    return ids


def _shared_detail(shared) -> dict[str, Any]:
    """For the audit: which new captures another customer holds too (forced only)."""
    if not shared:
        return {}
    return {"shared_with": [s.to_dict() for s in shared]}


def _detail(result_ids: list[int], consistency, forced: bool, **extra: Any) -> str:
    return json.dumps(
        {
            "reference_ids": result_ids,
            "consistency": [c.to_dict() for c in consistency],
            "forced": forced,
            **extra,
        },
        sort_keys=True,
    )


def enrol_customer(
    store: Store,
    verifier: VerifierLike,
    customer_id: str,
    images: Sequence[ImageInput],
    *,
    name: str = "",
    notes: str = "",
    force: bool = False,
    operator: str = "",
    progress: Progress | None = None,
) -> EnrolmentResult:
    """Enrol a new customer with one or more reference signatures, atomically."""
    cid = normalise_customer_id(customer_id)
    name = one_line(name, "customer's name", MAX_NAME_LENGTH)
    notes = several_lines(notes, "notes", MAX_NOTES_LENGTH)
    if not images:
        raise EnrolmentError("Give at least one signature to enrol.")
    if records.get_customer(store.db, cid) is not None:
        raise EnrolmentError(
            f"Customer {cid} is already enrolled; add or replace their references instead."
        )
    refuse_case_variant(store.db, cid)  # before the slow part, then again when writing
    prepared = prepare_all(images, progress)
    refuse_repeated_images(prepared)
    shared = check_shared_images(store, cid, prepared, force)
    embeddings = verifier.embed_canvases([p.canvas for p in prepared])
    thresholds = thresholds_in_force(store, verifier)
    consistency = check_consistency(
        verifier, embeddings, [p.source for p in prepared], thresholds.t_reject
    )
    if not force:
        raise_if_outliers(consistency, thresholds.t_reject)
    saving(progress)
    with store.write() as db:
        if records.get_customer(db, cid) is not None:  # enrolled meanwhile elsewhere
            raise EnrolmentError(f"Customer {cid} is already enrolled.")
        refuse_case_variant(db, cid)
        shared = _image_checks_again(db, store, cid, prepared, force)
        records.insert_customer(db, cid, name=name, notes=notes)
        ids = _insert_references(db, cid, prepared, embeddings, verifier.model_id)
        audit.append(
            db,
            "enrolment",
            operator,
            customer_id=cid,
            model_id=verifier.model_id,
            t_accept=thresholds.t_accept,
            t_reject=thresholds.t_reject,
            detail=_detail(ids, consistency, force, name=name, **_shared_detail(shared)),
        )
    log.info("enrolled customer %s with %d references", cid, len(ids))
    return EnrolmentResult(cid, tuple(ids), consistency, _warnings(store, cid, shared), force)


def saving(progress: Progress | None) -> None:
    """Say so before writing: the last point where a cancel stops the enrolment (a
    progress that was cancelled raises `CancelledError` here), with nothing written."""
    if progress is not None:
        progress.update(1, 1, "Saving…")


def _existing_embeddings(
    store: Store, verifier: VerifierLike, cid: str, operator: str, exclude: int | None = None
) -> np.ndarray:
    reembed_stale(store, verifier, customer_id=cid, operator=operator, exclude=exclude)
    refs = [r for r in records.references_of(store.db, cid) if r.id != exclude]
    refs = [r for r in refs if r.model_id == verifier.model_id]
    if not refs:
        return np.zeros((0, verifier.embedding_dim), np.float32)
    return np.stack([r.embedding for r in refs])


def _warnings(store: Store, cid: str, shared) -> tuple[str, ...]:
    """What to tell about the customer's references as a change left them: images also
    another customer's, too few or too many, scanned in two ways."""
    active = records.references_of(store.db, cid)
    return (
        shared_warnings(shared)
        + count_warning(len(active))
        + mixed_tones_warning(r.quality for r in active)
    )


def _require_customer(store: Store, customer_id: str) -> str:
    """The stored number of an enrolled customer whose account is open."""
    cid = stored_customer_id(store.db, customer_id)
    customer = records.get_customer(store.db, cid)
    if customer is None:
        raise unknown_customer(store.db, cid)
    if customer.status == "closed":  # its references are what a closed account keeps
        raise EnrolmentError(f"The account of customer {cid} is closed; reopen it first.")
    return cid


def add_references(
    store: Store,
    verifier: VerifierLike,
    customer_id: str,
    images: Sequence[ImageInput],
    *,
    force: bool = False,
    operator: str = "",
    progress: Progress | None = None,
) -> EnrolmentResult:
    """Add references to an enrolled customer; checked against their active ones."""
    cid = _require_customer(store, customer_id)
    if not images:
        raise EnrolmentError("Give at least one signature to add.")
    prepared = prepare_all(images, progress, doing="add{file}")
    refuse_repeated_images(prepared, records.active_image_digests(store.db, cid))
    shared = check_shared_images(store, cid, prepared, force)
    embeddings = verifier.embed_canvases([p.canvas for p in prepared])
    existing = _existing_embeddings(store, verifier, cid, operator)
    thresholds = thresholds_in_force(store, verifier)
    consistency = check_consistency(
        verifier, embeddings, [p.source for p in prepared], thresholds.t_reject, existing
    )
    if not force:
        raise_if_outliers(consistency, thresholds.t_reject, ADD_REMEDY)
    saving(progress)
    with store.write() as db:
        _require_customer(store, cid)  # again: closed by another workstation meanwhile?
        shared = _image_checks_again(db, store, cid, prepared, force)
        ids = _insert_references(db, cid, prepared, embeddings, verifier.model_id)
        audit.append(
            db,
            "references_added",
            operator,
            customer_id=cid,
            model_id=verifier.model_id,
            detail=_detail(ids, consistency, force, **_shared_detail(shared)),
        )
    warnings = _warnings(store, cid, shared)
    if not len(existing):
        # all retired: nothing to match the new ones against, which the teller may
        # take for a check against the customer's history
        warnings = (
            f"Customer {cid} had no active reference signature, so these were checked "
            "only against each other, as at a new enrolment.",
            *warnings,
        )
    return EnrolmentResult(cid, tuple(ids), consistency, warnings, force)


def _image_checks_again(
    db, store: Store, cid: str, prepared, force: bool, exclude: int | None = None
) -> tuple:
    """The image checks once more, under the write lock: another workstation may have
    enrolled the same scan meanwhile, as this customer's reference (a duplicate) or as
    another customer's (one person passing as two, which needs a supervisor's force).
    Both are indexed look-ups. Returns the shared images found, as `check_shared_images`."""
    refuse_repeated_images(prepared, records.active_image_digests(db, cid, exclude=exclude))
    return check_shared_images(store, cid, prepared, force)


def replace_reference(
    store: Store,
    verifier: VerifierLike,
    reference_id: int,
    image: ImageInput,
    *,
    force: bool = False,
    operator: str = "",
) -> EnrolmentResult:
    """Retire one active reference and add its replacement, in one transaction."""
    old = active_reference(store.db, reference_id, "replace one of the customer's active ones")
    _require_customer(store, old.customer_id)  # a closed account keeps its references
    prepared = prepare_all([image], doing="make{file} the replacement")
    new_digests = {prepared[0].image_sha256, prepared[0].canvas_sha256}
    if new_digests & set(records.image_digests(store.db, old.id)):
        # a no-op that the audit would record as a new signature taken
        raise EnrolmentError(
            f"'{prepared[0].source}' is the very image of reference {old.id}, which it "
            "would replace; take a new signature."
        )
    refuse_repeated_images(
        prepared, records.active_image_digests(store.db, old.customer_id, exclude=old.id)
    )
    shared = check_shared_images(store, old.customer_id, prepared, force)
    embeddings = verifier.embed_canvases([prepared[0].canvas])
    existing = _existing_embeddings(store, verifier, old.customer_id, operator, exclude=old.id)
    thresholds = thresholds_in_force(store, verifier)
    consistency = check_consistency(
        verifier, embeddings, [prepared[0].source], thresholds.t_reject, existing
    )
    if not force:
        raise_if_outliers(consistency, thresholds.t_reject, REPLACE_REMEDY)
    with store.write() as db:
        current = records.get_reference(db, reference_id)
        if current is None or not current.active:
            raise UnknownReferenceError(f"Reference {reference_id} was retired meanwhile.")
        _require_customer(store, old.customer_id)
        shared = _image_checks_again(db, store, old.customer_id, prepared, force, old.id)
        ids = _insert_references(db, old.customer_id, prepared, embeddings, verifier.model_id)
        records.deactivate_reference(db, reference_id, replaced_by=ids[0])
        audit.append(
            db,
            "reference_replaced",
            operator,
            customer_id=old.customer_id,
            model_id=verifier.model_id,
            detail=_detail(
                ids, consistency, force, replaced=reference_id, **_shared_detail(shared)
            ),
        )
    warnings = _warnings(store, old.customer_id, shared)
    return EnrolmentResult(old.customer_id, tuple(ids), consistency, warnings, force)


def active_reference(db, reference_id: int, then: str) -> records.Reference:
    """The reference, when there is one and it is in use; an already retired one is
    refused saying so, and when (`then`: what the teller may do instead)."""
    ref = records.get_reference(db, reference_id)
    if ref is None:
        raise UnknownReferenceError(f"There is no reference signature {reference_id}.")
    if not ref.active:
        when = f" on {_local_time(ref.deactivated_at)}" if ref.deactivated_at else ""
        by = f" (replaced by reference {ref.replaced_by})" if ref.replaced_by else ""
        raise UnknownReferenceError(
            f"Reference {reference_id} of customer {ref.customer_id} was already retired"
            f"{when}{by}; {then}."
        )
    return ref


def _local_time(stamp: str) -> str:
    """An audit time (ISO 8601, UTC) as this computer's local date and time."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:  # not written by sigverify: as it stands
        return stamp


def deactivate_reference(
    store: Store, reference_id: int, *, operator: str = "", reason: str = ""
) -> tuple[str, ...]:
    """Retire one reference (it stays stored for the record); returns warnings.
    The reason is required: it is what the audit trail keeps of why."""
    reason = required_reason(reason, "retire a reference")
    with store.write() as db:
        ref = active_reference(db, reference_id, "nothing was changed")
        _require_customer(store, ref.customer_id)  # as adding and replacing do
        records.deactivate_reference(db, reference_id)
        audit.append(
            db,
            "reference_deactivated",
            operator,
            customer_id=ref.customer_id,
            detail=json.dumps({"reference_id": reference_id, "reason": reason}),
        )
        remaining = len(records.references_of(db, ref.customer_id))
    if remaining == 0:
        return (
            f"Customer {ref.customer_id} has no active reference signature left and "
            "cannot be verified until new ones are enrolled.",
        )
    return count_warning(remaining)
