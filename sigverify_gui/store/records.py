"""Reading and writing customers, references and settings: plain rows, no decisions.

Every function takes the calling thread's `Database` (`store.db`, or the one a
`store.write()` block yields); writers must run inside `store.write()`. Embeddings are
stored as little-endian float32 bytes beside the id of the model that made them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlite_utils import Database

from sigverify_gui.store.audit import now_utc
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.schema import REFERENCES_TABLE

CUSTOMER_STATUSES = ("active", "closed")


def embedding_to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def blob_to_embedding(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


# Every model's embedding of a signature has length (unit vectors, histograms). One of
# zeros resembles nothing: it pulls down the similarity among the customer's references,
# on which the score is centred, so that every questioned signature scores higher, and a
# forgery was accepted. (An export's embeddings are held to the same bar.)
MIN_EMBEDDING_NORM = 1e-3


def unusable_embeddings(matrix: np.ndarray) -> np.ndarray:
    """Rows of an (N, D) matrix that no model makes: not finite, or (nearly) zeros."""
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(matrix.astype(np.float64), axis=1)
    return ~np.isfinite(norms) | (norms < MIN_EMBEDDING_NORM)


def damaged_reference(reference_id: int, customer_id: str, what: str) -> StoreError:
    return StoreError(
        f"Reference {reference_id} of customer {customer_id} is damaged in the signature "
        f"store ({what}); ask IT to restore the store from a backup."
    )


# --- customers -------------------------------------------------------------------------
@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    status: str
    created: str
    notes: str
    active_references: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "status": self.status,
            "created": self.created,
            "notes": self.notes,
            "active_references": self.active_references,
        }


_CUSTOMER_SELECT = f"""
    SELECT c.customer_id, c.name, c.status, c.created, c.notes,
           (SELECT COUNT(*) FROM {REFERENCES_TABLE} r
             WHERE r.customer_id = c.customer_id AND r.active = 1)
    FROM customers c
"""


def get_customer(db: Database, customer_id: str) -> Customer | None:
    row = db.execute(_CUSTOMER_SELECT + " WHERE c.customer_id = ?", [customer_id]).fetchone()
    if row is None:
        return None
    if row[2] not in CUSTOMER_STATUSES:  # only an edit outside sigverify writes another
        # Every check of an account reads "closed" or not: an unknown word must not
        # pass as open.
        raise StoreError(
            f"Customer {customer_id}'s record is damaged in the signature store (its "
            "status cannot be read); ask IT to restore the store from a backup."
        )
    return Customer(*row)


def customers_equal_ignoring_case(db: Database, customer_ids: Iterable[str]) -> list[str]:
    """The stored numbers equal to any of `customer_ids` but for letter case (exact
    matches included), sorted.

    One query for any number of ids, scanning the customers' key index once: about
    10 ms for 100,000 customers. SQLite's NOCASE folds ASCII letters only ("É1" and
    "é1" stay apart); that suffices because numbers are NFKC-normalised (full-width
    letters become ASCII) and, in practice, ASCII. Folding more would take a folded
    column (a migration) or a Python function called on every row.
    """
    rows = db.execute(
        "SELECT customer_id FROM customers "
        "WHERE customer_id COLLATE NOCASE IN (SELECT value FROM json_each(?)) "
        "ORDER BY customer_id",
        [json.dumps(list(customer_ids))],
    )
    return [row[0] for row in rows]


def list_customers(db: Database) -> list[Customer]:
    return [Customer(*row) for row in db.execute(_CUSTOMER_SELECT + " ORDER BY c.customer_id")]


def insert_customer(
    db: Database, customer_id: str, name: str = "", notes: str = "", created: str | None = None
) -> None:
    db["customers"].insert(
        {
            "customer_id": customer_id,
            "name": name,
            "status": "active",
            "created": created or now_utc(),
            "notes": notes,
        }
    )


def set_customer_status(db: Database, customer_id: str, status: str) -> None:
    if status not in CUSTOMER_STATUSES:
        raise ValueError(f"status must be one of {CUSTOMER_STATUSES}")
    db.execute("UPDATE customers SET status = ? WHERE customer_id = ?", [status, customer_id])


def delete_customer(db: Database, customer_id: str) -> None:
    """Remove a customer and all their references (import --replace). Audit rows stay."""
    db.execute(f"DELETE FROM {REFERENCES_TABLE} WHERE customer_id = ?", [customer_id])
    db.execute("DELETE FROM customers WHERE customer_id = ?", [customer_id])


# --- references ------------------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    id: int
    customer_id: str
    embedding: np.ndarray = field(repr=False)
    model_id: str
    quality: dict[str, Any] = field(repr=False)
    source: str
    captured_at: str
    active: bool
    deactivated_at: str | None = None
    replaced_by: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_id": self.id,
            "customer_id": self.customer_id,
            "model_id": self.model_id,
            "source": self.source,
            "captured_at": self.captured_at,
            "active": self.active,
            "deactivated_at": self.deactivated_at,
            "replaced_by": self.replaced_by,
            "quality": self.quality,
        }


_REFERENCE_COLUMNS = (
    "id, customer_id, embedding, model_id, quality_json, source, captured_at, active, "
    "deactivated_at, replaced_by"
)


def _reference(row: tuple) -> Reference:
    rid, cid, blob, model_id, quality_json, source, captured_at, active, deact, repl = row
    try:  # SQLite's integrity check reads pages, not what a row's values say
        quality, embedding = json.loads(quality_json), blob_to_embedding(blob)
    except (TypeError, ValueError, RecursionError) as err:
        raise damaged_reference(rid, cid, "its record cannot be read") from err
    if embedding.size and unusable_embeddings(embedding[None])[0]:
        raise damaged_reference(rid, cid, "its embedding is no signature's")
    return Reference(
        id=rid,
        customer_id=cid,
        embedding=embedding,
        model_id=model_id,
        quality=quality,
        source=source,
        captured_at=captured_at,
        active=bool(active),
        deactivated_at=deact,
        replaced_by=repl,
    )


def insert_reference(
    db: Database,
    customer_id: str,
    image_png: bytes,
    canvas_png: bytes,
    embedding: np.ndarray,
    model_id: str,
    quality: dict[str, Any],
    source: str,
    captured_at: str | None = None,
) -> int:
    return int(
        db[REFERENCES_TABLE]
        .insert(
            {
                "customer_id": customer_id,
                "image_png": image_png,
                "image_sha256": hashlib.sha256(image_png).hexdigest(),
                "canvas_png": canvas_png,
                "embedding": embedding_to_blob(embedding),
                "model_id": model_id,
                "quality_json": json.dumps(quality, sort_keys=True),
                "source": source,
                "captured_at": captured_at or now_utc(),
                "active": 1,
            }
        )
        .last_pk
    )


def get_reference(db: Database, reference_id: int) -> Reference | None:
    row = db.execute(
        f"SELECT {_REFERENCE_COLUMNS} FROM {REFERENCES_TABLE} WHERE id = ?", [reference_id]
    ).fetchone()
    return _reference(row) if row else None


def references_of(db: Database, customer_id: str, active_only: bool = True) -> list[Reference]:
    sql = f"SELECT {_REFERENCE_COLUMNS} FROM {REFERENCES_TABLE} WHERE customer_id = ?"
    if active_only:
        sql += " AND active = 1"
    return [_reference(r) for r in db.execute(sql + " ORDER BY id", [customer_id])]


def active_image_digests(db: Database, customer_id: str, exclude: int | None = None) -> list[str]:
    """What tells each active reference's image (all but `exclude`): the SHA-256 of its
    capture, from the index, and of its canvas. The canvas's catches the same scan
    saved another way (a 16-bit PNG, a TIFF of the same pixels), whose bytes differ."""
    rows = db.execute(
        f"SELECT image_sha256, canvas_png FROM {REFERENCES_TABLE} "
        "WHERE customer_id = ? AND active = 1 AND id IS NOT ?",
        [customer_id, exclude],
    )
    return [digest for row in rows for digest in _digests(*row)]


def image_digests(db: Database, reference_id: int) -> tuple[str, str]:
    """What tells one reference's image, as `active_image_digests` does: (capture, canvas)."""
    row = db.execute(
        f"SELECT image_sha256, canvas_png FROM {REFERENCES_TABLE} WHERE id = ?", [reference_id]
    ).fetchone()
    if row is None:
        raise KeyError(reference_id)
    return _digests(*row)


def _digests(image_sha256: str, canvas_png: bytes) -> tuple[str, str]:
    return image_sha256, hashlib.sha256(canvas_png).hexdigest()


def reference_images(db: Database, reference_id: int) -> tuple[bytes, bytes]:
    """(capture PNG, canvas PNG) of one reference."""
    row = db.execute(
        f"SELECT image_png, canvas_png FROM {REFERENCES_TABLE} WHERE id = ?", [reference_id]
    ).fetchone()
    if row is None:
        raise KeyError(reference_id)
    return bytes(row[0]), bytes(row[1])


def deactivate_reference(db: Database, reference_id: int, replaced_by: int | None = None) -> None:
    db.execute(
        f"UPDATE {REFERENCES_TABLE} SET active = 0, deactivated_at = ?, replaced_by = ? "
        "WHERE id = ?",
        [now_utc(), replaced_by, reference_id],
    )


def stale_reference_ids(
    db: Database, model_id: str, customer_id: str | None = None, embedding_dim: int = 0
) -> list[int]:
    """Active references embedded by another model than `model_id`, or (given its
    `embedding_dim`) whose embedding is not that model's length: one imported from a
    damaged export under the right model's name is re-embedded, not compared."""
    sql = f"SELECT id FROM {REFERENCES_TABLE} WHERE active = 1 AND "
    sql += "(model_id != ? OR (? > 0 AND length(embedding) != 4 * ?))"
    params: list[Any] = [model_id, embedding_dim, embedding_dim]
    if customer_id is not None:
        sql += " AND customer_id = ?"
        params.append(customer_id)
    return [r[0] for r in db.execute(sql + " ORDER BY id", params)]


def embedding_models(db: Database, reference_ids: list[int]) -> dict[int, str]:
    """Reference id -> the model id its stored embedding was made by."""
    rows = db.execute(
        f"SELECT id, model_id FROM {REFERENCES_TABLE} WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(reference_ids)],
    )
    return {int(r[0]): r[1] for r in rows}


def update_embedding(
    db: Database, reference_id: int, canvas_png: bytes, embedding: np.ndarray, model_id: str
) -> None:
    db.execute(
        f"UPDATE {REFERENCES_TABLE} SET canvas_png = ?, embedding = ?, model_id = ? WHERE id = ?",
        [canvas_png, embedding_to_blob(embedding), model_id, reference_id],
    )


# --- settings --------------------------------------------------------------------------
def get_setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_setting(db: Database, key: str, value: str | None) -> None:
    """Set a value, or remove it with None."""
    if value is None:
        db.execute("DELETE FROM settings WHERE key = ?", [key])
    else:
        db["settings"].upsert({"key": key, "value": value}, pk="key")
