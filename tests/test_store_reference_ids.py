"""Reference ids are never handed out twice: audit rows name references by id."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
from sqlite_utils import Database

from sigverify_gui.store import audit, records, schema
from sigverify_gui.store.db import Store


def _insert_reference(db, customer_id: str) -> int:
    return records.insert_reference(
        db,
        customer_id,
        image_png=f"img {customer_id}".encode(),
        canvas_png=b"canvas",
        embedding=np.ones(4, dtype=np.float32),
        model_id="m1",
        quality={},
        source="x.png",
    )


def _customer_with_references(db, customer_id: str, n: int) -> list[int]:
    records.insert_customer(db, customer_id)
    return [_insert_reference(db, customer_id) for _ in range(n)]


def test_a_deleted_customers_reference_ids_are_not_reused(tmp_path):
    with Store(tmp_path / "s.db") as store:
        with store.write() as db:
            _customer_with_references(db, "A", 2)
            gone = _customer_with_references(db, "B", 2)  # the highest ids
            audit.append(db, "verification", "op", customer_id="B", closest_reference_id=gone[1])
        with store.write() as db:
            records.delete_customer(db, "B")  # as `import --replace` does
            new = _customer_with_references(db, "C", 1)
        assert new[0] > max(gone)


def _v4_store_with_deleted_references(path) -> int:
    """A store as v4 made it, whose highest reference ids were deleted; returns the
    highest id that only an audit row's detail still names."""
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    schema.migrations.apply(db, stop_before="v5_reference_ids_never_reused")
    conn.execute("BEGIN IMMEDIATE")
    kept = _customer_with_references(db, "KEEP", 2)
    closest = _customer_with_references(db, "GONE1", 1)
    retired = _customer_with_references(db, "GONE2", 2)
    audit.append(db, "verification", "op", customer_id="GONE1", closest_reference_id=closest[0])
    detail = json.dumps({"reference_ids": retired, "forced": False})
    audit.append(db, "enrolment", "op", customer_id="GONE2", detail=detail)
    for customer in ("GONE1", "GONE2"):
        records.delete_customer(db, customer)
    records.deactivate_reference(db, kept[0], replaced_by=kept[1])
    conn.execute("COMMIT")
    conn.close()
    assert max(retired) > max(closest) > max(kept)
    return max(retired)


def test_upgrading_keeps_every_reference_and_skips_ids_that_audit_rows_name(tmp_path):
    path = tmp_path / "v4.db"
    named = _v4_store_with_deleted_references(path)
    with Store(path) as store:
        assert schema.applied_steps(store.db) == schema.STEPS
        kept = records.references_of(store.db, "KEEP", active_only=False)
        assert [r.active for r in kept] == [False, True]
        assert kept[0].replaced_by == kept[1].id
        assert np.array_equal(kept[1].embedding, np.ones(4, dtype=np.float32))
        assert audit.verify_chain(store.db).ok
        before = store.generation()
        with store.write() as db:
            new = _insert_reference(db, "KEEP")
        assert new == named + 1
        assert store.generation() > before  # the change counter's triggers were rebuilt
        # the indexes were rebuilt too
        indexes = {i.name for i in store.db["reference_signatures"].indexes}
        assert {"reference_signatures_by_customer", "reference_signatures_by_image"} <= indexes


def test_an_empty_store_upgrades(tmp_path):
    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrations.apply(Database(conn), stop_before="v5_reference_ids_never_reused")
    conn.close()
    with Store(path) as store, store.write() as db:
        assert _customer_with_references(db, "A", 1) == [1]
