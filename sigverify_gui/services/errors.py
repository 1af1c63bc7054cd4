"""The services' errors: each message is one sentence a teller can act on.

All are `model.errors.SigverifyError`s, so the CLI and the GUI show them the same way
as the core's image and model errors (which the services let through unchanged).
"""

from __future__ import annotations

import sqlite3

from model.errors import SigverifyError
from sigverify_gui.store.errors import StoreError

__all__ = [
    "ClosedAccountError",
    "ConsistencyError",
    "DecisionError",
    "EnrolmentError",
    "ExchangeError",
    "NoReferencesError",
    "OverrideReasonRequired",
    "QualityError",
    "ClutteredCaptureError",
    "ReferencesChangedError",
    "StoreError",
    "StoreOpensError",
    "TextError",
    "ThresholdBelowModelError",
    "UnknownCustomerError",
    "UnknownReferenceError",
]


class UnknownCustomerError(SigverifyError):
    """No customer with this account number is enrolled."""


class UnknownReferenceError(SigverifyError):
    """No reference signature with this id exists (or it belongs to someone else)."""


class ClosedAccountError(SigverifyError):
    """The customer's account is closed: their signature is not verified any more."""


class NoReferencesError(SigverifyError):
    """The customer has no active reference signature to compare against."""


class ReferencesChangedError(SigverifyError):
    """The customer's references changed on another workstation during a comparison."""


class EnrolmentError(SigverifyError):
    """A capture or the request itself cannot be enrolled (see the message)."""


class ConsistencyError(EnrolmentError):
    """Some references do not look like the others, or another customer holds the same
    image; `outliers` says which. A supervisor may enrol them anyway (force)."""

    overridden_by = "force"

    def __init__(self, message: str, outliers: tuple = ()) -> None:
        super().__init__(message)
        self.outliers = outliers


class QualityError(SigverifyError):
    """A questioned image is not good enough to be compared; `problems` has the codes."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ClutteredCaptureError(QualityError):
    """A capture holding more than a signature (print, other writing): often a whole
    cheque or form, on which the signature can be found instead."""

    cli_way = (
        "For a whole cheque or form, cut the signature out with "
        "`sigverify extract PAGE -o SIG.png` and give SIG.png instead."
    )
    cli_ways = {  # noqa: RUF012 (read only)
        "verify": "For a whole cheque or form, give it with --page to find the signature on it.",
    }


class DecisionError(SigverifyError):
    """A teller decision that cannot be recorded (unknown verification, bad value)."""


class OverrideReasonRequired(DecisionError):
    """The teller's decision differs from the system's and no reason was given."""


class ExchangeError(SigverifyError):
    """An export file cannot be written or imported."""


class AlreadyEnrolledError(ExchangeError):
    """An import holds customers this store has; importing with replace overwrites them."""

    overridden_by = "replace"


class StoreOpensError(StoreError):
    """A store was to be replaced as damaged, but it opens: a backup is restored into it
    instead, the usual way."""

    cli_way = "Run `sigverify restore` without --replace-damaged."


class TextError(SigverifyError):
    """Typed text (a name, a reason, notes) that cannot be stored as it is."""


class ThresholdBelowModelError(SigverifyError):
    """An accept threshold below the model's own: it accepts, unseen, signatures the
    model would refer. A supervisor may set it anyway (force)."""

    overridden_by = "force"


# What SQLite says when the file or its drive failed, not the program: damaged, not a
# database, gone, unreadable, full, read-only, held by another program.
_STORE_FAULTS = (
    "malformed", "not a database", "disk", "i/o", "unable to open", "readonly", "full",
    "locked", "busy",
)  # fmt: skip


def is_store_failure(err: BaseException) -> bool:
    """Whether a SQLite error is the store file's fault (`failed_store_access` says it in
    one sentence) rather than a bug (a constraint, a closed connection, bad SQL), which
    must reach the log with its traceback as an internal error."""
    if type(err) is sqlite3.DatabaseError:  # "file is not a database", "... malformed"
        return True
    if isinstance(err, sqlite3.OperationalError):
        return any(fault in str(err).lower() for fault in _STORE_FAULTS)
    return False


def failed_store_access(err: Exception) -> str:
    """A SQLite error no service turned into words (the file damaged, or its drive gone,
    after it was opened) as one sentence; the CLI and the GUI both say it this way."""
    return f"The signature store could not be read or written ({err})."


def refused_file_operation(err: OSError) -> str:
    """An `OSError` no service turned into words (a folder the user may not enter, a
    drive gone) as one sentence; the CLI and the GUI both say it this way."""
    where = f" ({err.filename})" if err.filename else ""
    reason = err.strerror or type(err).__name__
    return f"The computer refused a file operation{where}: {reason}."
