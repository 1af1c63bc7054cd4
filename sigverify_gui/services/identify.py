"""Identification: which enrolled customers' signatures look most like this one?

Every active reference is compared at once: one matrix-vector product of the cached
embedding matrix (rows grouped by customer) with the query gives the network's cosine
similarities (`shape_similarities`: a model's stroke texture, which tells a writer's
own hand from a careful copy rather than one writer from another, is left to the exact
score), `np.maximum.reduceat` over the customer boundaries each customer's best, and a
partial sort the shortlist. Only the shortlisted customers get the verifier's exact,
calibrated score (which may weigh several references), and are ranked by it; their
closest reference is the one verification would show beside the signature (the best
`reference_scores`, texture included). The
shortlist is several times larger than the number of answers asked for, because the
exact score can reorder customers whose best similarities are close.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from model.progress import Progress
from sigverify_gui.services.captures import ImageInput, prepare
from sigverify_gui.services.errors import NoReferencesError
from sigverify_gui.services.reembed import reembed_stale
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.embeddings import EmbeddingMatrix, active_embedding_matrix

log = logging.getLogger("sigverify.services.identify")

DEFAULT_TOP_K = 5
SHORTLIST_FACTOR = 4
MIN_SHORTLIST = 32

ScoreFn = Callable[[np.ndarray, np.ndarray], float]  # (refs (R, D), query (D,)) -> score
# (refs (R, D), query (D,)) -> (R,): cosine similarities (`shape_similarities`) for
# the shortlist, per-reference scores (`reference_scores`) for the closest reference
SimilarityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Candidate:
    rank: int  # 1 = most likely
    customer_id: str
    score: float  # the verifier's calibrated score against this customer's references
    similarity: float  # the best cosine similarity among their references
    closest_reference_id: int
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "customer_id": self.customer_id,
            "name": self.name,
            "score": self.score,
            "similarity": self.similarity,
            "closest_reference_id": self.closest_reference_id,
        }


@dataclass(frozen=True)
class IdentificationResult:
    identification_id: int  # the audit row
    model_id: str
    candidates: tuple[Candidate, ...]  # best first
    customers_searched: int
    references_searched: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "identification_id": self.identification_id,
            "model_id": self.model_id,
            "customers_searched": self.customers_searched,
            "references_searched": self.references_searched,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def rank_customers(
    index: EmbeddingMatrix,
    query: np.ndarray,
    score_fn: ScoreFn,
    similarity_fn: SimilarityFn,
    reference_fn: SimilarityFn,
    top_k: int = DEFAULT_TOP_K,
    shortlist_size: int | None = None,
) -> list[Candidate]:
    """The `top_k` customers of `index` most like `query`, best first (names left empty)."""
    n_customers = len(index.customer_ids)
    if n_customers == 0 or top_k < 1:
        return []
    query = np.ascontiguousarray(query, dtype=np.float32)
    similarities = similarity_fn(index.matrix, query)
    best = np.maximum.reduceat(similarities, index.starts)
    size = shortlist_size or max(MIN_SHORTLIST, SHORTLIST_FACTOR * top_k)
    size = min(size, n_customers)
    if size < n_customers:
        shortlisted = np.argpartition(-best, size - 1)[:size]
    else:
        shortlisted = np.arange(n_customers)
    scored = []
    for c in shortlisted:
        rows = index.rows_of(int(c))
        score = float(score_fn(index.matrix[rows], query))
        closest_row = rows.start + int(np.argmax(reference_fn(index.matrix[rows], query)))
        scored.append((score, float(best[c]), int(c), int(index.reference_ids[closest_row])))
    scored.sort(key=lambda s: (-s[0], -s[1], index.customer_ids[s[2]]))
    return [
        Candidate(rank, index.customer_ids[c], score, sim, ref_id)
        for rank, (score, sim, c, ref_id) in enumerate(scored[:top_k], start=1)
    ]


def identify_signature(
    store: Store,
    verifier: VerifierLike,
    image: ImageInput,
    *,
    top_k: int = DEFAULT_TOP_K,
    operator: str = "",
    progress: Progress | None = None,
) -> IdentificationResult:
    """Rank all enrolled, active customers for a questioned signature; audited."""
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    prepared = prepare(image)
    # Every reference must be in the loaded model's space before any comparison.
    # One customer's unreadable reference must not stop identification for everyone;
    # left stale, it is not searched (that customer's verification says to replace it).
    reembed_stale(store, verifier, progress=progress, operator=operator, unreadable=[])
    index = active_embedding_matrix(store, verifier.model_id)
    if index.n_references == 0:
        raise NoReferencesError(
            "No customer with an open account has active references, so there is no one "
            "to compare with."
        )
    query = verifier.embed_canvases([prepared.canvas])[0]
    ranked = rank_customers(
        index, query, verifier.score, verifier.shape_similarities, verifier.reference_scores, top_k
    )
    candidates = tuple(
        replace(c, name=getattr(records.get_customer(store.db, c.customer_id), "name", ""))
        for c in ranked
    )
    with store.write() as db:
        identification_id = audit.append(
            db,
            "identification",
            operator,
            image_png=prepared.image_png,
            model_id=verifier.model_id,
            detail=json.dumps(
                {
                    "source": prepared.source,
                    "top_k": top_k,
                    "candidates": [
                        {"customer_id": c.customer_id, "score": c.score} for c in candidates
                    ],
                }
            ),
        )
    log.info("identification %d over %d customers", identification_id, len(index.customer_ids))
    return IdentificationResult(
        identification_id,
        verifier.model_id,
        candidates,
        len(index.customer_ids),
        index.n_references,
    )
