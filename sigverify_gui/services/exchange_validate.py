"""The records of an export, checked field by field before anything is imported.

Consistent manifest hashes prove only that the file was not changed after it was
written, not that sigverify wrote it: a tool with a bug, or someone who recomputes
the hashes, can put in records that import would store and that later break other
commands (an embedding of the wrong length fails every identification, NaN fails
the audit trail's JSON, a time that is not ISO 8601 crashes the history screen).

So each kind of record has one function here that checks every field later code
relies on: its presence and JSON type, times as the store writes them, numbers that
are finite and in range, known audit kinds and decisions, customer numbers that
enrolment would accept, embeddings that decode, images that decode. Each raises
`DamagedExport` naming the record; the reader turns it into the one-line message.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import numpy as np

from model.errors import ImageError
from model.imageio import MAX_FILE_BYTES, load_image
from sigverify_gui.services.enrol_checks import normalise_customer_id
from sigverify_gui.services.errors import EnrolmentError
from sigverify_gui.services.typed_text import MAX_NAME_LENGTH, MAX_NOTES_LENGTH
from sigverify_gui.services.verifier_protocol import DECISIONS
from sigverify_gui.store.records import CUSTOMER_STATUSES, unusable_embeddings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Every kind of audit row this version writes. A kind outside it is not ours; a test
# fails when a service starts writing a kind that is missing here.
AUDIT_KINDS = frozenset(
    {
        "enrolment",
        "references_added",
        "reference_replaced",
        "reference_deactivated",
        "references_reembedded",
        "verification",
        "verification_failed",
        "teller_decision",
        "identification",
        "thresholds_changed",
        "import",
        "export",
        "backup",
        "restore",
        "account_closed",
        "account_reopened",
    }
)
# Years at the very ends of datetime's range overflow when shown in local time, and
# no branch recorded anything before 1970: such a time is damage, not history.
_PLAUSIBLE_YEARS = (1970, 9998)
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_EXPORT_ID = re.compile(r"[0-9a-f]{32}")
RECORD_MEMBERS = ("customers.json", "references.json", "audit.json")
_SHOWN_CHARS = 40


class DamagedExport(ValueError):
    """A record of an export that cannot be imported safely; the message names it."""


def shown(value: Any) -> str:
    """A value from the file, fit for a one-line message: quoted, escaped, short. JSON's
    null, true and false as the file writes them, not as Python does (None, True)."""
    text = json.dumps(value) if value is None or type(value) is bool else repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def records_of(value: Any, member: str) -> list[dict[str, Any]]:
    """The records of customers.json, references.json or audit.json."""
    if type(value) is not list or any(type(item) is not dict for item in value):
        raise DamagedExport(f"{member} is not a list of records")
    return value


def record_name(kind: str, record: dict[str, Any], key: str, index: int) -> str:
    """How a message names a record: by its id when that is usable, else by position."""
    value = record.get(key)
    if type(value) is int:
        return f"{kind} {value}"
    if type(value) is str:
        return f"{kind} {shown(value)}"
    return f"{kind} number {index + 1} in the file"


# --- fields ----------------------------------------------------------------------------
def _field(record: dict[str, Any], key: str, what: str, types: tuple[type, ...]) -> Any:
    """A required field of one of the JSON `types` (exact types: a bool is no int)."""
    if record.get(key) is None:
        raise DamagedExport(f"{what} has no {key} field")
    return _typed(record, key, what, types)


def _optional(record: dict[str, Any], key: str, what: str, types: tuple[type, ...]) -> Any:
    """A field that may be missing or null (a nullable column)."""
    if record.get(key) is None:
        return None
    return _typed(record, key, what, types)


def _typed(record: dict[str, Any], key: str, what: str, types: tuple[type, ...]) -> Any:
    value = record[key]
    if type(value) not in types:
        raise DamagedExport(
            f"the {key} field of {what} has the wrong type ({type(value).__name__})"
        )
    if type(value) is str and not _encodable(value):  # JSON can escape a lone surrogate
        raise DamagedExport(f"the {key} field of {what} is not valid text")
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_time(text: str | None, key: str, what: str) -> None:
    """ISO 8601 with a time zone, as `audit.now_utc` writes every time the store holds."""
    if text is None:
        return
    try:
        stamp = datetime.fromisoformat(text)
        ok = stamp.tzinfo is not None and _PLAUSIBLE_YEARS[0] <= stamp.year <= _PLAUSIBLE_YEARS[1]
        stamp.astimezone(UTC)
    except (ValueError, OverflowError):
        ok = False
    if not ok:
        raise DamagedExport(f"the {key} field of {what} is not a date and time ({shown(text)})")


def _check_probability(value: float | None, key: str, what: str) -> None:
    """Scores and thresholds are calibrated probabilities: finite, in [0, 1]."""
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise DamagedExport(f"the {key} field of {what} is outside 0 to 1 ({shown(value)})")


def _check_digest(value: str | None, key: str, what: str) -> None:
    if value is not None and not _HEX_DIGEST.fullmatch(value):
        raise DamagedExport(f"the {key} field of {what} is not a SHA-256 ({shown(value)})")


# --- the manifest ----------------------------------------------------------------------
def check_manifest(manifest: dict[str, Any]) -> None:
    """The manifest's fields that the reader and the import use (format checked before)."""
    files = manifest.get("files")
    if type(files) is not dict:
        raise DamagedExport("the manifest lists no files")
    for member, digest in files.items():
        if type(digest) is not str or not _HEX_DIGEST.fullmatch(digest):
            raise DamagedExport(f"the manifest has no SHA-256 for {shown(member)}")
    for member in RECORD_MEMBERS:  # unlisted, they would be read unchecked
        if member not in files:
            raise DamagedExport(f"the manifest does not list {member}")
    # Each imported audit row names this id in its origin, from which a later import
    # knows the row again (`exchange._first_written`): it must be an export's own
    # uuid4().hex, or the row would be appended a second time.
    export_id = manifest.get("export_id")
    if type(export_id) is not str or not _EXPORT_ID.fullmatch(export_id):
        raise DamagedExport(f"the manifest has an invalid export_id ({shown(export_id)})")


# --- customers -------------------------------------------------------------------------
def check_customer(cust: dict[str, Any], index: int) -> str:
    """Check one customer record; returns its customer number."""
    what = record_name("customer", cust, "customer_id", index)
    cid = _field(cust, "customer_id", what, (str,))
    try:
        normalise_customer_id(cid)  # the very rule enrolment applies
    except EnrolmentError as err:
        reason = str(err).rstrip(".")
        raise DamagedExport(
            f"{what} has a number enrolment would refuse: {reason[:1].lower()}{reason[1:]}"
        ) from err
    # Lookups trim what is typed, so a padded number would never be found. (One stored
    # before NFKC normalisation still is: `enrol_checks.stored_customer_id`.)
    if cid != cid.strip():
        raise DamagedExport(f"{what} is not written as enrolment stores it ({shown(cid)})")
    for key, limit in (("name", MAX_NAME_LENGTH), ("notes", MAX_NOTES_LENGTH)):
        # stored under the typed-text rule (`exchange`), and within enrolment's lengths
        text = _field(cust, key, what, (str,))
        if len(text) > limit:
            raise DamagedExport(
                f"the {key} field of {what} is longer than enrolment allows "
                f"({len(text)} characters; at most {limit})"
            )
    status = _field(cust, "status", what, (str,))
    if status not in CUSTOMER_STATUSES:
        raise DamagedExport(f"{what} has an unknown status ({shown(status)})")
    _check_time(_field(cust, "created", what, (str,)), "created", what)
    return cid


# --- references ------------------------------------------------------------------------
def check_reference(ref: dict[str, Any], index: int, customer_ids: set[str]) -> np.ndarray:
    """Check one reference record (images aside: `check_png`); returns its embedding."""
    what = record_name("reference", ref, "id", index)
    _field(ref, "id", what, (int,))
    cid = _field(ref, "customer_id", what, (str,))
    if cid not in customer_ids:
        raise DamagedExport(f"{what} belongs to no customer in the file")
    for key in ("image", "canvas", "source"):
        _field(ref, key, what, (str,))
    if not _field(ref, "model_id", what, (str,)):  # embeddings are matched by it
        raise DamagedExport(f"{what} has an empty model_id")
    _check_quality(_field(ref, "quality", what, (dict,)), what)
    _check_time(_field(ref, "captured_at", what, (str,)), "captured_at", what)
    _field(ref, "active", what, (bool,))
    _check_time(_optional(ref, "deactivated_at", what, (str,)), "deactivated_at", what)
    _optional(ref, "replaced_by", what, (int,))
    return embedding_of(ref, what)


def _check_quality(quality: dict[str, Any], what: str) -> None:
    """The capture's quality report: stored as JSON and printed by `show --json`, so
    JSON without NaN; its dpi scales the reference on the verification screen."""
    try:
        json.dumps(quality, allow_nan=False)
    except ValueError as err:
        raise DamagedExport(f"{what} has a quality with values that are not finite") from err
    dpi = quality.get("dpi")
    if dpi is not None and not (type(dpi) in (int, float) and math.isfinite(dpi) and dpi > 0):
        raise DamagedExport(f"{what} has a quality with an invalid dpi ({shown(dpi)})")


def embedding_of(ref: dict[str, Any], what: str) -> np.ndarray:
    """A reference's embedding: base64 of little-endian float32, non-empty, finite.

    Whether its length fits the model's is for the caller, which sees all of them.
    """
    text = _field(ref, "embedding", what, (str,))
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise DamagedExport(f"{what} has an embedding that is not base64") from err
    if not raw or len(raw) % 4:
        raise DamagedExport(f"{what} has an empty or cut-off embedding ({len(raw)} bytes)")
    embedding = np.frombuffer(raw, dtype="<f4")
    if not np.isfinite(embedding).all():
        raise DamagedExport(f"{what} has an embedding with values that are not finite numbers")
    if unusable_embeddings(embedding[None])[0]:  # the store's own bar
        raise DamagedExport(f"{what} has an embedding of zeros, which no signature gives")
    return embedding


def check_png_header(zf: zipfile.ZipFile, member: str) -> None:
    """An image no larger than sigverify stores, that starts as a PNG. (A larger one
    would be read whole into memory, and SQLite refuses a blob over 1 GB.)"""
    if zf.getinfo(member).file_size > MAX_FILE_BYTES:  # before reading it into memory
        raise DamagedExport(f"{member} is larger than any image sigverify stores")
    with zf.open(member) as f:
        if f.read(len(PNG_MAGIC)) != PNG_MAGIC:
            raise DamagedExport(f"{member} is not a PNG image")


def check_png(zf: zipfile.ZipFile, member: str, signature_of: str = "") -> None:
    """Decode an image as the app will when it shows it: a PNG header is not enough.
    With `signature_of` (the reference it is the capture of), the image must also hold
    a signature: blank or tiny, it is none that enrolment would ever have taken."""
    check_png_header(zf, member)
    data = zf.read(member)
    try:
        loaded = load_image(data, name=member)
    except ImageError as err:
        reason = str(err).rstrip(".")  # it names the member already
        raise DamagedExport(
            f"an image cannot be decoded: {reason[:1].lower()}{reason[1:]}"
        ) from err
    if signature_of:
        from model.quality import check_quality

        problems = check_quality(loaded.gray, loaded.dpi).problems
        unusable = {"image_too_small", "blank", "too_small"} & set(problems)
        if unusable:
            raise DamagedExport(
                f"{signature_of}'s image ({member}) holds no usable signature "
                f"({', '.join(sorted(unusable)).replace('_', ' ')})"
            )


# --- audit rows ------------------------------------------------------------------------
def check_audit_row(row: dict[str, Any], index: int) -> None:
    """Check every field of one audit row that the store, the CLI or the GUI reads."""
    what = record_name("audit row", row, "id", index)
    if _field(row, "id", what, (int,)) < 1:
        raise DamagedExport(f"{what} has an id below 1")
    kind = _field(row, "kind", what, (str,))
    if kind not in AUDIT_KINDS:
        raise DamagedExport(f"{what} has an unknown kind ({shown(kind)})")
    _check_time(_field(row, "time", what, (str,)), "time", what)
    _field(row, "operator", what, (str,))  # may be empty, never null
    for key in ("prev_hash", "row_hash"):
        _check_digest(_field(row, key, what, (str,)), key, what)
    for key in ("customer_id", "override_reason", "model_id", "detail", "origin", "image"):
        _optional(row, key, what, (str,))
    for key in ("closest_reference_id", "verification_id"):
        _optional(row, key, what, (int,))
    for key in ("score", "t_accept", "t_reject"):
        _check_probability(_optional(row, key, what, (int, float)), key, what)
    for key in ("system_decision", "teller_decision"):
        decision = _optional(row, key, what, (str,))
        if decision is not None and decision not in DECISIONS:
            raise DamagedExport(
                f"the {key} field of {what} holds an unknown decision ({shown(decision)})"
            )
    if row.get("system_decision") is not None and row.get("score") is None:
        raise DamagedExport(f"{what} has a decision without a score")
    digest = _optional(row, "image_sha256", what, (str,))
    if row.get("image") is not None and digest is None:
        raise DamagedExport(f"{what} has an image without its SHA-256")
    _check_digest(digest, "image_sha256", what)
