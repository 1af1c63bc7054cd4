"""Identification: ranking every enrolled customer for one questioned signature."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from sigverify_gui.services import enrol, identify
from sigverify_gui.services.errors import NoReferencesError
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.embeddings import EmbeddingMatrix
from tests.fakes import FakeVerifier, render_signatures

WRITERS = (2, 3, 9, 11)


def _unit(rng, n, d):
    m = rng.standard_normal((n, d)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _top2_score(refs, query):
    sims = refs @ query
    return float(np.sort(sims)[-min(2, len(sims)) :].mean())


def _index(rng, n_refs, n_customers, dim):
    matrix = _unit(rng, n_refs, dim)
    owners = np.sort(rng.integers(0, n_customers, n_refs))
    return EmbeddingMatrix.from_arrays(
        "m", 0, matrix, np.arange(100, 100 + n_refs), [f"C{o:05d}" for o in owners]
    )


def _cosine(refs, query):
    return refs @ query


def test_rank_customers_matches_brute_force():
    rng = np.random.default_rng(5)
    index = _index(rng, 600, 150, 16)
    query = _unit(rng, 1, 16)[0]
    ranked = identify.rank_customers(
        index, query, _top2_score, _cosine, _cosine, top_k=7, shortlist_size=150
    )
    brute = []
    for i, cid in enumerate(index.customer_ids):
        rows = index.rows_of(i)
        sims = index.matrix[rows] @ query
        closest = int(index.reference_ids[rows][np.argmax(sims)])
        brute.append((_top2_score(index.matrix[rows], query), cid, float(sims.max()), closest))
    brute.sort(key=lambda b: (-b[0], b[1]))
    assert [c.customer_id for c in ranked] == [b[1] for b in brute[:7]]
    assert [c.rank for c in ranked] == list(range(1, 8))
    for cand, (score, _, sim, closest) in zip(ranked, brute, strict=False):
        assert cand.score == pytest.approx(score)
        assert cand.similarity == pytest.approx(sim)
        assert cand.closest_reference_id == closest


def test_the_shortlist_keeps_the_customer_with_the_best_reference():
    rng = np.random.default_rng(6)
    index = _index(rng, 5000, 1000, 32)
    target_row = 2345
    query = index.matrix[target_row] + 0.05 * rng.standard_normal(32).astype(np.float32)
    ranked = identify.rank_customers(
        index, query / np.linalg.norm(query), _top2_score, _cosine, _cosine, top_k=3
    )
    owner = next(
        i
        for i in range(len(index.starts))
        if target_row in range(index.rows_of(i).start, index.rows_of(i).stop)
    )
    assert index.customer_ids[owner] in [c.customer_id for c in ranked]


def test_empty_index_ranks_nobody():
    empty = EmbeddingMatrix.from_arrays("m", 0, np.zeros((0, 8), np.float32), np.zeros(0), [])
    query = np.ones(8, np.float32)
    assert identify.rank_customers(empty, query, _top2_score, _cosine, _cosine) == []


def test_searching_100k_references_is_fast():
    # The product asks for <= 50 ms on this machine; the bound here is looser because
    # the test machine is shared, but still catches a search that loops in Python.
    rng = np.random.default_rng(7)
    index = _index(rng, 100_000, 20_000, 128)
    query = _unit(rng, 1, 128)[0]
    identify.rank_customers(index, query, _top2_score, _cosine, _cosine, top_k=5)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        identify.rank_customers(index, query, _top2_score, _cosine, _cosine, top_k=5)
        times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.15


def test_identify_finds_the_writer_and_audits(tmp_path):
    fake = FakeVerifier()
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(NoReferencesError):
            identify.identify_signature(store, fake, render_signatures(2, 1)[0])
        for w in WRITERS:
            enrol.enrol_customer(store, fake, f"W{w}", render_signatures(w, 3), name=f"n{w}")
        questioned = render_signatures(3, 1, first=5)[0]
        result = identify.identify_signature(store, fake, questioned, top_k=3, operator="t")
        assert [c.rank for c in result.candidates] == [1, 2, 3]
        best = result.candidates[0]
        assert best.customer_id == "W3" and best.name == "n3"
        assert best.score > result.candidates[1].score
        assert best.closest_reference_id in [r.id for r in records.references_of(store.db, "W3")]
        assert result.customers_searched == 4 and result.references_searched == 12
        row = audit.get_row(store.db, result.identification_id)
        assert row["kind"] == "identification" and row["has_image"]
        assert json.loads(row["detail"])["candidates"][0]["customer_id"] == "W3"
        # closed customers are not searched
        with store.write() as db:
            records.set_customer_status(db, "W3", "closed")
        again = identify.identify_signature(store, fake, questioned, top_k=3)
        assert "W3" not in [c.customer_id for c in again.candidates]


def test_identify_re_embeds_other_models_references_first(tmp_path):
    with Store(tmp_path / "s.db") as store:
        for w in WRITERS[:2]:
            enrol.enrol_customer(store, FakeVerifier(), f"W{w}", render_signatures(w, 3))
        new_model = FakeVerifier(model_id="fake-0002", seed=7)
        result = identify.identify_signature(store, new_model, render_signatures(2, 1, 5)[0])
        assert result.references_searched == 6 and result.candidates[0].customer_id == "W2"
        refs = records.references_of(store.db, "W3")
        assert {r.model_id for r in refs} == {"fake-0002"}


def test_the_closest_reference_is_the_one_verification_would_show():
    # the shortlist searches on cosines; the closest reference is chosen by the
    # per-reference score (texture included in a real model), as verification does
    rng = np.random.default_rng(8)
    index = _index(rng, 40, 10, 8)
    query = _unit(rng, 1, 8)[0]

    def farthest_first(refs, q):
        return -(refs @ q)

    ranked = identify.rank_customers(index, query, _top2_score, _cosine, farthest_first, top_k=3)
    for cand in ranked:
        c = index.customer_ids.index(cand.customer_id)
        rows = index.rows_of(c)
        sims = index.matrix[rows] @ query
        assert cand.closest_reference_id == int(index.reference_ids[rows][np.argmin(sims)])
        assert cand.similarity == pytest.approx(sims.max())
