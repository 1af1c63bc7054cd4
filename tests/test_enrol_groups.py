"""A reference set made of two people's signatures is refused (enrol_groups)."""

from __future__ import annotations

import numpy as np
import pytest

from model.resources import resources_dir
from sigverify_gui.services import enrol
from sigverify_gui.services.enrol_groups import LINK_SCORE, reference_groups, strays
from sigverify_gui.services.errors import ConsistencyError
from sigverify_gui.store import audit, records
from tests.fakes import FakeVerifier, render_signatures

ALICE, BOB = 2, 3


class DotVerifier:
    """Scores a query by its best dot product with the references: links by hand."""

    def scores(self, refs, queries):
        return (np.atleast_2d(queries) @ np.atleast_2d(refs).T).max(axis=1)


def _unit(*directions: int, dim: int = 4) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)[list(directions)]


def test_links_make_groups_and_the_existing_references_name_the_main_one():
    # 0-1 linked directly, 1-2 linked, 3 alone: {0, 1, 2} and {3}
    e = np.array([[1, 0, 0, 0], [0.7, 0.7, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], np.float32)
    assert reference_groups(DotVerifier(), e).tolist() == [0, 0, 0, 1]
    two = _unit(0, 0, 0, 1, 1, 1)
    assert reference_groups(DotVerifier(), two).tolist() == [0, 0, 0, 1, 1, 1]
    assert strays(np.array([0, 0, 0, 1, 1, 1]), n_new=6) == {3, 4, 5}  # a tie: the first
    # three new of one kind, two existing references of the other: the new ones stray
    assert strays(np.array([0, 0, 0, 1, 1]), n_new=3) == {0, 1, 2}
    assert strays(np.array([0, 0, 1, 1, 1]), n_new=3) == {0, 1}
    assert strays(np.array([0, 0, 0, 1]), n_new=4) == set()  # an outlier, not a group
    weak = np.array([[1, 0], [LINK_SCORE / 2, 1]], np.float32)
    assert reference_groups(DotVerifier(), weak).tolist() == [0, 1]


def test_three_and_three_of_two_writers_are_refused_unless_forced(store):
    fake = FakeVerifier()
    mixed = render_signatures(ALICE, 3) + render_signatures(BOB, 3)
    with pytest.raises(ConsistencyError, match="as if two people had signed") as info:
        enrol.enrol_customer(store, fake, "M1", mixed)
    assert [(o.index, o.apart) for o in info.value.outliers] == [(3, True), (4, True), (5, True)]
    assert records.list_customers(store.db) == [] and audit.list_rows(store.db) == []

    result = enrol.enrol_customer(store, fake, "M1", mixed, force=True)
    assert [c.apart for c in result.consistency] == [False] * 3 + [True] * 3
    assert '"apart": true' in audit.list_rows(store.db)[0]["detail"]


def test_added_references_of_another_writer_stand_apart(store):
    fake = FakeVerifier()
    enrol.enrol_customer(store, fake, "A1", render_signatures(ALICE, 3))
    with pytest.raises(ConsistencyError, match="as if two people had signed") as info:
        enrol.add_references(store, fake, "A1", render_signatures(BOB, 3))
    assert {o.index for o in info.value.outliers} == {0, 1, 2}
    result = enrol.add_references(store, fake, "A1", render_signatures(ALICE, 2, first=3))
    assert not any(c.outlier for c in result.consistency)


@pytest.mark.slow
@pytest.mark.skipif(
    not (resources_dir() / "sigverify-v1.pt").is_file(), reason="no bundled weights"
)
def test_the_shipped_model_refuses_two_writers_and_keeps_one(store):
    from model import Verifier

    real = Verifier.load(device="cpu")
    with pytest.raises(ConsistencyError, match="as if two people had signed"):
        enrol.enrol_customer(
            store, real, "M1", render_signatures(ALICE, 3) + render_signatures(BOB, 3)
        )
    result = enrol.enrol_customer(store, real, "A1", render_signatures(ALICE, 6))
    assert not any(c.apart for c in result.consistency)
