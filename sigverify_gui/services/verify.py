"""Verification: is this questioned signature the customer's? And the teller's answer.

questioned image -> quality -> preprocess -> embed -> match score against the
customer's active references -> decision by the thresholds in force -> closest
reference -> one audit row. The teller's own decision is a second audit row linked
to the first (audit rows are never updated); overriding the system needs a reason.

Nothing is written when the request fails, except, when the caller asks for it
(`record_failure=True`), one audit row recording the failed attempt.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.errors import SigverifyError
from model.progress import NullProgress, Progress
from sigverify_gui.services.captures import ImageInput, PreparedCapture, load_input, prepare
from sigverify_gui.services.cautions import capture_cautions, caution_messages
from sigverify_gui.services.customer_case import as_recorded, unknown_customer
from sigverify_gui.services.enrol_checks import stored_customer_id
from sigverify_gui.services.errors import (
    ClosedAccountError,
    DecisionError,
    NoReferencesError,
    OverrideReasonRequired,
    ReferencesChangedError,
)
from sigverify_gui.services.reembed import reembed_stale
from sigverify_gui.services.thresholds import Thresholds, thresholds_in_force
from sigverify_gui.services.typed_text import MAX_REASON_LENGTH, one_line
from sigverify_gui.services.verifier_protocol import DECISIONS, VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store

log = logging.getLogger("sigverify.services.verify")


@dataclass(frozen=True)
class VerificationResult:
    verification_id: int  # the audit row; pass it to `record_teller_decision`
    customer_id: str
    score: float  # calibrated match score in [0, 1]
    decision: str  # the system's: "accept" | "refer" | "reject"
    closest_reference_id: int  # the reference most like the questioned signature
    model_id: str
    thresholds: Thresholds
    # (reference id, the match score from that reference alone) of every active
    # reference, the closest first
    reference_scores: tuple[tuple[int, float], ...] = ()
    quality: dict = field(default_factory=dict)
    # codes of `cautions.CAUTIONS`: why this score deserves less trust than usual
    cautions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "score": self.score,
            "decision": self.decision,
            "closest_reference_id": self.closest_reference_id,
            "model_id": self.model_id,
            "thresholds": self.thresholds.to_dict(),
            "verification_id": self.verification_id,
            "reference_scores": [
                {"reference_id": rid, "score": s} for rid, s in self.reference_scores
            ],
            "cautions": [
                {"code": code, "message": message}
                for code, message in zip(
                    self.cautions, caution_messages(self.cautions), strict=True
                )
            ],
        }


def unverifiable(customer: records.Customer) -> str | None:
    """Why an enrolled customer's signatures cannot be verified: "closed" (the account),
    "no_references", or None when they can. The one rule; the service refuses with it,
    and the screens use it to switch Verify off, each in its own words."""
    if customer.status == "closed":
        return "closed"
    if customer.active_references == 0:
        return "no_references"
    return None


def require_verifiable(store: Store, customer_id: str) -> records.Customer:
    """The customer, when enrolled, open, and with at least one active reference."""
    customer = records.get_customer(store.db, customer_id)
    if customer is None:
        raise unknown_customer(store.db, customer_id)
    why = unverifiable(customer)
    if why == "closed":
        # A signature on a closed account's cheque must not come out "accept": the
        # teller needs the account's state, not a match score.
        raise ClosedAccountError(
            f"The account of customer {customer_id} is closed; its signatures are not "
            "verified. Refer the cheque to a supervisor."
        )
    if why == "no_references":
        raise _no_references(customer_id)
    return customer


def _no_references(customer_id: str) -> NoReferencesError:
    # "Enrol" would send the teller to enrolment, which refuses an enrolled customer.
    return NoReferencesError(
        f"Customer {customer_id} has no active reference signature; add references first."
    )


def active_references(
    store: Store, verifier: VerifierLike, customer_id: str, operator: str = ""
) -> tuple[list[records.Reference], np.ndarray]:
    """(references, (R, D) embeddings) of the customer's active references, all made
    by the loaded model (stale ones are re-embedded first)."""
    require_verifiable(store, customer_id)
    if records.stale_reference_ids(
        store.db, verifier.model_id, customer_id, verifier.embedding_dim
    ):
        reembed_stale(store, verifier, customer_id=customer_id, operator=operator)
    refs = records.references_of(store.db, customer_id)
    refs = [r for r in refs if r.model_id == verifier.model_id]
    if not refs:  # retired meanwhile
        raise _no_references(customer_id)
    return refs, np.stack([r.embedding for r in refs]).astype(np.float32)


def verify_signature(
    store: Store,
    verifier: VerifierLike,
    customer_id: str,
    image: ImageInput,
    *,
    operator: str = "",
    record_failure: bool = False,
    progress: Progress | None = None,
) -> VerificationResult:
    """Compare a questioned signature with the customer's references and audit it.

    A cancellation (`progress`) is honoured up to the moment the verification is
    recorded, the write lock in hand: a teller who cancels, having picked the wrong
    customer, leaves no verification of that customer in the trail."""
    progress = progress if progress is not None else NullProgress()
    cid = stored_customer_id(store.db, customer_id)
    prepared: PreparedCapture | None = None
    try:
        # Cheap checks first, then the image, and only then anything that may write
        # (re-embedding after a model change): a bad request changes nothing.
        require_verifiable(store, cid)
        prepared = prepare(image)
        references, refs = active_references(store, verifier, cid, operator)
        query = verifier.embed_canvases([prepared.canvas])[0]
    except SigverifyError as err:
        if record_failure:
            record_failed_verification(store, verifier, cid, image, err, operator)
        raise
    ref_ids = [r.id for r in references]
    cautions = capture_cautions(prepared.quality, (r.quality for r in references))
    score = float(verifier.score(refs, query))
    per_reference = verifier.reference_scores(refs, query)
    order = np.argsort(-per_reference, kind="stable")
    closest = ref_ids[int(order[0])]
    with store.write() as db:
        # The lock may have been waited for (a busy store on a share): cancelled meanwhile,
        # this rolls back before anything is written.
        progress.update(0, 0, "Recording the verification…")
        # Again under the write lock, what another workstation may have changed while
        # this one compared: an account closed, references retired or replaced (they
        # were an impostor's), thresholds tightened. The trail must never show an
        # "accept" after any of those, reached on what they replaced.
        require_verifiable(store, cid)
        now_active = [
            r.id for r in records.references_of(db, cid) if r.model_id == verifier.model_id
        ]
        if sorted(now_active) != sorted(ref_ids):
            raise ReferencesChangedError(
                f"The references of customer {cid} were changed on another workstation "
                "while this signature was compared; verify it again."
            )
        thresholds = thresholds_in_force(store, verifier)
        decision = verifier.decide(score, thresholds.t_accept, thresholds.t_reject)
        verification_id = audit.append(
            db,
            "verification",
            operator,
            customer_id=cid,
            image_png=prepared.image_png,
            score=score,
            system_decision=decision,
            closest_reference_id=closest,
            model_id=verifier.model_id,
            t_accept=thresholds.t_accept,
            t_reject=thresholds.t_reject,
            detail=json.dumps(
                {"source": prepared.source, "references": len(ref_ids)}
                | ({"cautions": list(cautions)} if cautions else {})
            ),
        )
    log.info("verification %d for %s: %s (%.3f)", verification_id, cid, decision, score)
    return VerificationResult(
        verification_id=verification_id,
        customer_id=cid,
        score=score,
        decision=decision,
        closest_reference_id=closest,
        model_id=verifier.model_id,
        thresholds=thresholds,
        reference_scores=tuple((ref_ids[int(i)], float(per_reference[int(i)])) for i in order),
        quality=prepared.quality,
        cautions=cautions,
    )


def record_failed_verification(
    store: Store,
    verifier: VerifierLike,
    customer_id: str,
    image: ImageInput,
    err: SigverifyError,
    operator: str = "",
) -> None:
    """One audit row for a failed attempt, with the image when it could be read: what
    `verify_signature(record_failure=True)` records, also for an attempt that failed
    before it (a page on which no signature could be cut, `verify --page`)."""
    customer_id = stored_customer_id(store.db, customer_id)
    image_png = None
    # Unreadable: the row records the failure without the image.
    with contextlib.suppress(SigverifyError, ValueError):
        image_png = load_input(image).png
    with store.write() as db:
        audit.append(
            db,
            "verification_failed",
            operator,
            customer_id=as_recorded(customer_id) or None,
            image_png=image_png,
            model_id=verifier.model_id,
            detail=json.dumps({"error": type(err).__name__, "message": str(err)}),
        )


def record_teller_decision(
    store: Store,
    verification_id: int,
    decision: str,
    reason: str = "",
    operator: str = "",
) -> int:
    """Record the teller's decision on a verification; returns the new audit row's id.

    A decision that differs from the system's needs a reason. One decision per
    verification: the trail must say unambiguously what the teller decided.
    """
    if decision not in DECISIONS:
        raise DecisionError(f"The decision must be one of {', '.join(DECISIONS)}.")
    reason = one_line(reason, "reason", MAX_REASON_LENGTH)
    with store.write() as db:
        row = audit.get_row(db, verification_id)
        if row is None or row["kind"] != "verification":
            raise DecisionError(f"There is no verification number {verification_id}.")
        if decision != row["system_decision"] and not reason:
            raise OverrideReasonRequired(
                f"The system decided '{row['system_decision']}'; give a reason for "
                f"deciding '{decision}' instead."
            )
        already = db.execute(
            "SELECT id FROM audit_log WHERE kind = 'teller_decision' AND verification_id = ?",
            [verification_id],
        ).fetchone()
        if already:
            raise DecisionError(
                f"A decision was already recorded for verification {verification_id}."
            )
        return audit.append(
            db,
            "teller_decision",
            operator,
            customer_id=row["customer_id"],
            verification_id=verification_id,
            system_decision=row["system_decision"],
            teller_decision=decision,
            override_reason=reason or None,
            score=row["score"],
            model_id=row["model_id"],
        )
