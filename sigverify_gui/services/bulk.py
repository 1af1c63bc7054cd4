"""Enrolling a whole data set folder: every writer becomes a customer.

Used to load a test branch, or a migration from another system that exported its
signatures as folders. Each writer is one ordinary enrolment (its own transaction),
so one bad writer does not stop the others, and re-running skips those already in.
Damaged thresholds are no one writer's failure: they stop the whole run, before the
first writer is read when they were damaged before it started; damaged part-way,
`BulkEnrolmentStopped` carries the report of the writers enrolled before the stop.
Cancelling stops before the next writer; `BulkEnrolmentCancelled` carries the report of
what was done until then, so the caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.datasets import Dataset
from model.errors import CancelledError, SigverifyError
from model.progress import NullProgress, Progress
from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.services.enrol_checks import normalise_customer_id, stored_customer_id
from sigverify_gui.services.errors import EnrolmentError
from sigverify_gui.services.thresholds import thresholds_in_force
from sigverify_gui.services.thresholds_record import ThresholdsDamagedError
from sigverify_gui.services.typed_text import escaped
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import records
from sigverify_gui.store.db import Store


@dataclass
class BulkEnrolmentReport:
    enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already enrolled
    failed: list[tuple[str, str]] = field(default_factory=list)  # (customer id, message)
    # the failed writers a supervisor may enrol anyway (force lifts their refusal)
    overridable: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False  # stopped part-way: the lists say what was done before
    stopped_at: str | None = None  # the writer damaged thresholds refused: not enrolled

    def to_dict(self) -> dict[str, Any]:
        return {
            "enrolled": self.enrolled,
            "skipped": self.skipped,
            "failed": [{"customer_id": c, "message": m} for c, m in self.failed],
            "overridable": self.overridable,
            "warnings": [{"customer_id": c, "message": m} for c, m in self.warnings],
            "stopped_at": self.stopped_at,
        }


class BulkEnrolmentCancelled(CancelledError):
    """Cancelled part-way; `report` says which writers were enrolled before."""

    def __init__(self, report: BulkEnrolmentReport) -> None:
        super().__init__(
            f"The folder enrolment was cancelled after {len(report.enrolled)} customer(s)."
        )
        self.report = report


class BulkEnrolmentStopped(ThresholdsDamagedError):
    """Thresholds damaged part-way (by another program) stopped the run at the writer
    they refused; `report` says which writers were enrolled before. The message is the
    damage's own, so front ends show it as any damaged thresholds."""

    def __init__(self, damage: ThresholdsDamagedError, report: BulkEnrolmentReport) -> None:
        super().__init__(str(damage))
        self.report = report


def _require_usable_prefix(prefix: str) -> None:
    """A prefix that no customer number may start with, refused before anyone is
    enrolled: an unprintable or overlong one had failed every writer, each with a line
    of its own. (A writer whose own name is refused still fails alone.)"""
    if not prefix:
        return
    try:
        normalise_customer_id(f"{prefix}1")  # as with the shortest writer's name
    except EnrolmentError as err:
        reason = str(err).rstrip(".").removeprefix("The customer number ")
        raise EnrolmentError(
            f"The prefix {escaped(prefix)} cannot start customer numbers: such a number "
            f"{reason}; choose another prefix."
        ) from err


def enrol_dataset(
    store: Store,
    verifier: VerifierLike,
    dataset: Dataset,
    *,
    prefix: str = "",
    force: bool = False,
    operator: str = "",
    progress: Progress | None = None,
) -> BulkEnrolmentReport:
    progress = progress or NullProgress()
    _require_usable_prefix(prefix)
    # Each writer's enrolment checks them only after reading and embedding its images,
    # so damaged thresholds failed every writer in turn, with the same message each.
    thresholds_in_force(store, verifier)
    report = BulkEnrolmentReport()
    total = len(dataset.writers)
    try:
        for done, samples in enumerate(dataset.writers):
            # As enrolment will store it (NFKC, trimmed), so a re-run finds it again.
            customer_id = stored_customer_id(store.db, f"{prefix}{samples.writer}")
            # (a folder's name, not yet checked: shown escaped) where a cancel stops the run
            progress.update(done, total, escaped(customer_id))
            if records.get_customer(store.db, customer_id) is not None:
                report.skipped.append(customer_id)
                continue
            try:
                result = enrol_customer(
                    store,
                    verifier,
                    customer_id,
                    list(samples.genuine),
                    name=f"writer {samples.writer}",
                    force=force,
                    operator=operator,
                )
            except ThresholdsDamagedError as err:
                # not one writer's failure (damaged meanwhile, by another program): the
                # whole run stops, and the writers enrolled before it must still be told
                report.stopped_at = customer_id
                raise BulkEnrolmentStopped(err, report) from err
            except CancelledError:
                raise
            except SigverifyError as err:
                report.failed.append((customer_id, str(err)))
                if err.overridden_by == "force":
                    report.overridable.append(customer_id)
                continue
            report.enrolled.append(customer_id)
            report.warnings += [(customer_id, w) for w in result.warnings]
        progress.update(total, total, "")
    except CancelledError as err:
        report.cancelled = True
        raise BulkEnrolmentCancelled(report) from err
    return report
