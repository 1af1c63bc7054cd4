"""All active embeddings of one model as one in-memory matrix, for identification.

Searching 100,000 references must take milliseconds, so the embeddings are kept as a
contiguous float32 matrix with rows sorted by customer: one matrix-vector product
scores every reference, and `np.maximum.reduceat` over the customer boundaries gives
each customer's best. Reading 100,000 blobs from SQLite takes far longer than that, so
the matrix is cached on the `Store` and rebuilt only when the store's change counter
(raised by triggers on every change to references or customers, from any process)
or the model differs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from sigverify_gui.store.db import Store
from sigverify_gui.store.records import damaged_reference, unusable_embeddings
from sigverify_gui.store.schema import REFERENCES_TABLE

_CACHE_KEY = "embedding_matrix"


@dataclass(frozen=True)
class EmbeddingMatrix:
    model_id: str
    generation: int  # the store's change counter when this was read
    matrix: np.ndarray  # (N, D) float32, C-contiguous, rows grouped by customer
    reference_ids: np.ndarray  # (N,) int64, the reference id of each row
    customer_ids: tuple[str, ...]  # (C,) customers in row order
    starts: np.ndarray  # (C,) int64, the first row of each customer

    @property
    def n_references(self) -> int:
        return int(self.matrix.shape[0])

    def rows_of(self, index: int) -> slice:
        """The rows of the customer at position `index` in `customer_ids`."""
        start = int(self.starts[index])
        stop = int(self.starts[index + 1]) if index + 1 < len(self.starts) else self.n_references
        return slice(start, stop)

    @classmethod
    def from_arrays(
        cls,
        model_id: str,
        generation: int,
        matrix: np.ndarray,
        reference_ids: np.ndarray,
        row_customers: list[str],
    ) -> EmbeddingMatrix:
        """Build from rows already grouped by customer (equal ids adjacent)."""
        if len(row_customers) == 0:
            dim = matrix.shape[1] if matrix.ndim == 2 else 0
            return cls(
                model_id,
                generation,
                np.zeros((0, dim), np.float32),
                np.zeros(0, np.int64),
                (),
                np.zeros(0, np.int64),
            )
        labels = np.asarray(row_customers, dtype=object)
        boundary = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        starts = np.concatenate([[0], boundary]).astype(np.int64)
        return cls(
            model_id=model_id,
            generation=generation,
            matrix=np.ascontiguousarray(matrix, dtype=np.float32),
            reference_ids=np.asarray(reference_ids, dtype=np.int64),
            customer_ids=tuple(labels[starts].tolist()),
            starts=starts,
        )


def active_embedding_matrix(store: Store, model_id: str) -> EmbeddingMatrix:
    """The cached matrix of active references of active customers made by `model_id`.

    References of other models are left out: embeddings of different models are never
    compared (re-embed them first).
    """
    generation = store.generation()
    with store.cache_lock:
        cached = store.caches.get(_CACHE_KEY)
        if (
            isinstance(cached, EmbeddingMatrix)
            and cached.generation == generation
            and cached.model_id == model_id
        ):
            return cached
    # One snapshot, so that the counter recorded matches the rows read.
    with store.snapshot() as db:
        generation = store.generation()
        rows = db.execute(
            f"""SELECT r.customer_id, r.id, r.embedding
                FROM {REFERENCES_TABLE} r JOIN customers c ON c.customer_id = r.customer_id
                WHERE r.active = 1 AND c.status = 'active' AND r.model_id = ?
                ORDER BY r.customer_id, r.id""",
            [model_id],
        ).fetchall()
    if rows:
        lengths = [len(r[2]) for r in rows]
        usual = Counter(lengths).most_common(1)[0][0]
        if (odd := next((i for i, n in enumerate(lengths) if n != usual), None)) is not None:
            # one model, one length: rows would be cut across references (a reference
            # left stale, its capture unreadable, keeps its old length)
            cid, rid, _ = rows[odd]
            raise damaged_reference(rid, cid, "its embedding is not this model's length")
        blob = b"".join(r[2] for r in rows)
        matrix = np.frombuffer(blob, dtype="<f4").reshape(len(rows), -1)
        if (unusable := np.flatnonzero(unusable_embeddings(matrix))).size:
            cid, rid, _ = rows[int(unusable[0])]
            raise damaged_reference(rid, cid, "its embedding is no signature's")
    else:
        matrix = np.zeros((0, 0), np.float32)
    built = EmbeddingMatrix.from_arrays(
        model_id,
        generation,
        matrix,
        np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        [r[0] for r in rows],
    )
    with store.cache_lock:
        store.caches[_CACHE_KEY] = built
    return built
