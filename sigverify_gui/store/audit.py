"""The tamper-evident audit trail: append-only rows, each hashed with its predecessor.

A row's hash is SHA-256 over a canonical JSON of its fields (sorted keys, no spaces,
NULL fields left out, the questioned image represented by its SHA-256) including the
previous row's hash. Changing, inserting or deleting any row in the middle breaks the
chain at that row, which `verify_chain` reports. Leaving NULL fields out means a new
nullable column (a later migration) does not change the hashes of older rows.

Rows deleted from the end leave a shorter chain that is still whole; only something
kept outside the database can show it. `verify_chain` reports the chain's head ("ID:HASH");
IT records it elsewhere (a daily report, a ticket) and passes it back later as an
anchor: the anchored row must still be there, with the same hash.

Rows are only ever inserted (`append`), always inside the caller's write transaction:
BEGIN IMMEDIATE serialises writers, so reading the last hash and inserting the next
row cannot interleave with another process doing the same. Triggers refuse UPDATE and
DELETE on the table, so even a careless tool cannot edit a row without dropping them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from model.progress import NullProgress, Progress
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.schema import AUDIT_TABLE

GENESIS_HASH = "0" * 64
# Rows checked between progress reports: each report may be where a cancel stops the
# check, and a few hundred rows (images included) take milliseconds.
PROGRESS_EVERY = 200

# What a caller may set; id, time, image_sha256 and the hashes are filled in here.
WRITABLE_FIELDS = frozenset(
    {
        "kind",
        "operator",
        "customer_id",
        "image_png",
        "score",
        "system_decision",
        "teller_decision",
        "override_reason",
        "closest_reference_id",
        "model_id",
        "t_accept",
        "t_reject",
        "verification_id",
        "detail",
        "origin",
    }
)
_REAL_FIELDS = frozenset({"score", "t_accept", "t_reject"})
_INT_FIELDS = frozenset({"id", "closest_reference_id", "verification_id"})
_NOT_HASHED = frozenset({"row_hash", "image_png"})


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _normalise(fields: dict[str, Any]) -> dict[str, Any]:
    """Values as SQLite will give them back, so the hash computed now matches later."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            out[key] = None
        elif key in _REAL_FIELDS:
            # + 0.0 turns -0.0 into 0.0: SQLite gives a negative zero back as 0.0, so
            # a hash of "-0.0" would read as tampering ever after
            out[key] = float(value) + 0.0
        elif key in _INT_FIELDS:
            out[key] = int(value)
        elif key == "image_png":
            out[key] = bytes(value)
        else:
            out[key] = str(value)
    return out


def canonical_json(row: dict[str, Any]) -> bytes:
    hashed = {k: v for k, v in row.items() if k not in _NOT_HASHED and v is not None}
    return json.dumps(
        hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(row)).hexdigest()


def append(db: Database, kind: str, operator: str, *, at: str | None = None, **fields: Any) -> int:
    """Insert one audit row chained to the last one; returns its id.

    Must run inside the caller's write transaction (`Store.write()`). `at` keeps the
    original time of a row imported from another store; otherwise it is now.
    """
    if not db.conn.in_transaction:
        raise RuntimeError("audit.append must run inside a write transaction")
    unknown = set(fields) - WRITABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown audit fields: {sorted(unknown)}")
    last = db.execute(f"SELECT id, row_hash FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    row: dict[str, Any] = {
        "id": (last[0] + 1) if last else 1,
        "kind": kind,
        "time": at or now_utc(),
        "operator": operator,
        **fields,
    }
    if row.get("image_png") is not None:
        row["image_sha256"] = hashlib.sha256(row["image_png"]).hexdigest()
    row["prev_hash"] = last[1] if last else GENESIS_HASH
    row = _normalise(row)
    row["row_hash"] = row_hash(row)
    db[AUDIT_TABLE].insert(row)
    return int(row["id"])


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    broken_at: int | None = None  # id of the first row whose link or content is wrong
    problem: str = ""
    head: str | None = None  # "ID:HASH" of the newest row of an intact chain

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows_checked": self.rows_checked,
            "broken_at": self.broken_at,
            "problem": self.problem,
            "head": self.head,
        }


def parse_anchor(text: str) -> tuple[int, str]:
    """ "ID:HASH", as `verify_chain` reports a head, → (id, hash)."""
    rid, _, digest = text.strip().partition(":")
    digest = digest.lower()
    hexadecimal = len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    # rows are numbered from 1 and SQLite's are 64-bit: any other number is a typing slip,
    # which must not read as rows removed from the end (a tampering alarm)
    if not (rid.isdigit() and 1 <= int(rid) < 2**63 and hexadecimal):
        raise StoreError(
            f"{text!r} is not an audit anchor: give it as ID:HASH, as `audit verify` prints "
            "the head (a row number, a colon and 64 hexadecimal digits)."
        )
    return int(rid), digest


def _rows(db: Database) -> Iterator[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM {AUDIT_TABLE} ORDER BY id")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def _rows_reporting(db: Database, progress: Progress) -> Iterator[dict[str, Any]]:
    """`_rows`, telling `progress` how many were taken (checked) before each batch."""
    total = db.execute(f"SELECT COUNT(*) FROM {AUDIT_TABLE}").fetchone()[0]
    progress.update(0, total, f"0 of {total} rows checked")
    for taken, row in enumerate(_rows(db)):
        if taken and taken % PROGRESS_EVERY == 0:
            total = max(total, taken)  # rows appended since the count are checked too
            progress.update(taken, total, f"{taken} of {total} rows checked")
        yield row


def verify_chain(
    db: Database, anchor: tuple[int, str] | None = None, progress: Progress | None = None
) -> ChainReport:
    """Walk the whole trail; report the first row whose link, hash or image is wrong,
    and, given an anchor (id, hash) recorded earlier, whether that row is still there.

    `progress` hears of the rows checked; cancelling it raises `CancelledError`."""
    prev = GENESIS_HASH
    checked = 0
    anchor_seen = False
    last_id = None
    for row in _rows_reporting(db, progress or NullProgress()):
        rid = row["id"]
        if row["prev_hash"] != prev:
            return ChainReport(
                False,
                checked,
                rid,
                f"row {rid} does not follow the row before it "
                "(a row was removed, added or changed)",
            )
        if row_hash(row) != row["row_hash"]:
            return ChainReport(False, checked, rid, f"row {rid} was changed after it was written")
        # The image is outside the row hash (its digest is inside), so both its change
        # and its removal are checked here.
        image = row.get("image_png")
        if image is None and row.get("image_sha256"):
            return ChainReport(False, checked, rid, f"the image of row {rid} was removed")
        if image is not None and hashlib.sha256(image).hexdigest() != row["image_sha256"]:
            return ChainReport(False, checked, rid, f"the image of row {rid} was replaced")
        if anchor is not None and rid == anchor[0]:
            if row["row_hash"] != anchor[1]:
                return ChainReport(
                    False, checked, rid, f"row {rid} is not the row the anchor recorded"
                )
            anchor_seen = True
        prev, last_id = row["row_hash"], rid
        checked += 1
    if anchor is not None and not anchor_seen:
        return ChainReport(
            False,
            checked,
            anchor[0],
            f"row {anchor[0]}, which the anchor recorded, is gone "
            "(rows were removed from the end of the trail)",
        )
    return ChainReport(True, checked, head=f"{last_id}:{prev}" if last_id is not None else None)


def list_rows(
    db: Database,
    customer_id: str | None = None,
    kinds: tuple[str, ...] | None = None,
    limit: int | None = None,
    after_id: int | None = None,
) -> list[dict[str, Any]]:
    """Audit rows newest first, without image bytes (`has_image` says if there is one);
    with `after_id`, only the rows appended after that one (rows are never changed)."""
    cols = [c.name for c in db[AUDIT_TABLE].columns if c.name != "image_png"]
    where, params = [], []
    if customer_id is not None:
        where.append("customer_id = ?")
        params.append(customer_id)
    if kinds:
        where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
        params.extend(kinds)
    if after_id is not None:
        where.append("id > ?")
        params.append(int(after_id))
    sql = f"SELECT {', '.join(cols)}, image_png IS NOT NULL AS has_image FROM {AUDIT_TABLE}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["has_image"] = bool(row["has_image"])
        rows.append(row)
    return rows


def get_row(db: Database, audit_id: int, with_image: bool = False) -> dict[str, Any] | None:
    cursor = db.execute(f"SELECT * FROM {AUDIT_TABLE} WHERE id = ?", [audit_id])
    values = cursor.fetchone()
    if values is None:
        return None
    row = dict(zip([d[0] for d in cursor.description], values, strict=True))
    if not with_image:
        row["has_image"] = row.pop("image_png") is not None
    return row
