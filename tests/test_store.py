"""The SQLite store: opening safely, migrations, the audit chain, caches and backups."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import stat
import threading

import numpy as np
import pytest
from sqlite_utils import Database

from model.errors import CancelledError
from model.progress import NullProgress
from sigverify_gui.store import audit, records, schema
from sigverify_gui.store.db import BUSY_TIMEOUT_S, Store, discard_if_unused, open_store
from sigverify_gui.store.embeddings import active_embedding_matrix
from sigverify_gui.store.errors import StoreError
from tests.test_restore_damaged import _leave_a_wal
from tests.test_store_opening import _store_with_customer


def _add_customer(store: Store, cid: str, n_refs: int = 2, model_id: str = "m1") -> list[int]:
    rng = np.random.default_rng(abs(hash(cid)) % 2**32)
    with store.write() as db:
        records.insert_customer(db, cid, name=f"name {cid}")
        return [
            records.insert_reference(
                db,
                cid,
                image_png=b"\x89PNG image",
                canvas_png=b"\x89PNG canvas",
                embedding=rng.standard_normal(8).astype(np.float32),
                model_id=model_id,
                quality={"ok": True},
                source=f"{cid}-{i}.png",
            )
            for i in range(n_refs)
        ]


def test_new_store_is_private_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "data" / "store.db"
    with Store(path) as store:
        _add_customer(store, "A1")
        db = store.db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_S * 1000
        assert schema.applied_steps(store.db) == schema.STEPS
        for p in (path, path.with_name("store.db-wal")):
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        # foreign keys are enforced
        with pytest.raises(sqlite3.IntegrityError), store.write() as wdb:
            records.insert_reference(wdb, "nobody", b"", b"", np.zeros(8), "m1", {}, "x.png")


def test_existing_folder_keeps_its_permissions(tmp_path):
    os.chmod(tmp_path, 0o755)
    with Store(tmp_path / "s.db"):
        pass
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_default_path_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGVERIFY_DB", str(tmp_path / "env.db"))
    with open_store() as store:
        assert store.path == tmp_path / "env.db"
    assert (tmp_path / "env.db").exists()


def test_reopening_is_safe_and_keeps_data(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        _add_customer(store, "A1")
    with Store(path) as store:
        assert [c.customer_id for c in records.list_customers(store.db)] == ["A1"]
        assert schema.applied_steps(store.db) == schema.STEPS


def test_a_v1_database_is_upgraded_with_its_data_intact(tmp_path):
    path = tmp_path / "old.db"
    # A store as version 1 of the schema made it.
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    schema.migrations.apply(db, stop_before=schema.STEPS[1])
    assert "deactivated_at" not in db["reference_signatures"].columns_dict
    conn.execute("BEGIN IMMEDIATE")
    records.insert_customer(db, "OLD1", name="Old Customer")
    db["reference_signatures"].insert(
        {
            "customer_id": "OLD1",
            "image_png": b"img",
            "canvas_png": b"can",
            "embedding": records.embedding_to_blob(np.arange(4, dtype=np.float32)),
            "model_id": "m0",
            "quality_json": "{}",
            "source": "old.png",
            "captured_at": "2024-01-01T00:00:00+00:00",
            "active": 1,
        }
    )
    audit.append(db, "verification", "clerk", customer_id="OLD1", score=0.9, image_png=b"q")
    audit.append(db, "teller_decision", "clerk", customer_id="OLD1", verification_id=1)
    conn.execute("COMMIT")
    conn.close()

    with Store(path) as store:
        assert schema.applied_steps(store.db) == schema.STEPS
        ref = records.references_of(store.db, "OLD1")[0]
        assert ref.source == "old.png" and ref.deactivated_at is None
        (digest,) = store.db.execute(
            "SELECT image_sha256 FROM reference_signatures WHERE customer_id = 'OLD1'"
        ).fetchone()
        assert digest == hashlib.sha256(b"img").hexdigest()  # filled in for old references
        assert np.array_equal(ref.embedding, np.arange(4, dtype=np.float32))
        assert records.get_customer(store.db, "OLD1").name == "Old Customer"
        assert audit.verify_chain(store.db).ok  # old rows hash the same after the upgrade
        with store.write() as wdb:
            audit.append(wdb, "verification", "clerk", customer_id="OLD1", origin="test")
        assert audit.verify_chain(store.db).rows_checked == 3
        before = store.generation()
        with store.write() as wdb:
            records.insert_customer(wdb, "NEW1")
        assert store.generation() > before  # the v4 trigger, on an upgraded file too


def test_a_damaged_store_is_named_in_one_line(tmp_path, caplog):
    """SQLite's integrity check reports page by page, over many lines: those go to the
    log, and the message stays one line (the CLI prints it after "error: ")."""
    path = tmp_path / "s.db"
    with Store(path) as store:
        for i in range(60):
            _add_customer(store, f"C{i:03d}", n_refs=3)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page, rng = 4096, random.Random(3)  # this seed's scribbles are cell offsets in range
    for _ in range(3):
        at = rng.randrange(2, len(data) // page) * page + rng.randrange(8, page - 8)
        data[at : at + 4] = bytes(rng.randrange(256) for _ in range(4))
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        Store(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 250, message
    assert message.endswith("restore it from a backup.")
    assert "On tree page" in caplog.text  # the findings, for IT


def test_an_export_given_as_the_store_is_named_not_called_damaged(tmp_path):
    # `--db branch.zip`: "restore it from a backup" sent IT the wrong way
    import zipfile

    path = tmp_path / "branch.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", "{}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is an export .* with `sigverify import`") as info:
        Store(path)
    assert "backup" not in str(info.value) and path.read_bytes() == before


@pytest.mark.parametrize("damage", ["text", "corrupt_page"])
def test_damaged_file_is_refused_and_left_untouched(tmp_path, damage):
    path = tmp_path / "s.db"
    if damage == "text":
        path.write_text("this is not a database at all, just some text\n" * 100)
    else:
        with Store(path) as store:
            for i in range(40):
                _add_customer(store, f"C{i:03d}", n_refs=3)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(path.read_bytes())
        page = 4096
        data[3 * page : 3 * page + 64] = b"\xff" * 64  # scribble over a b-tree page header
        path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="restore it from a backup"):
        Store(path)
    assert path.read_bytes() == before
    assert not path.with_name("s.db-wal").exists() or damage != "text"


def _btree_page_not_in_wal(data: bytes, wal: bytes, page_size: int = 4096) -> int:
    """The index from 0 of the first b-tree page after the first that no frame of the
    -wal holds (a frame: a 24-byte header, its page number first, then the page)."""
    frames = range(32, len(wal), 24 + page_size)
    in_wal = {int.from_bytes(wal[at : at + 4], "big") - 1 for at in frames}
    btree_kinds = {2, 5, 10, 13}  # interior and leaf pages of indexes and tables
    return next(
        i
        for i in range(1, len(data) // page_size)
        if i not in in_wal and data[i * page_size] in btree_kinds
    )


@pytest.mark.parametrize("damage", ["text", "corrupt_page"])
def test_a_damaged_file_and_the_wal_beside_it_are_left_as_they_were_found(tmp_path, damage):
    # A workstation that crashed leaves its last rows in the -wal. The opening that
    # refused the damaged file had then, closing, written that -wal into it and
    # deleted it: the evidence IT restores around was changed by the refusal.
    path, crashed = tmp_path / "s.db", tmp_path / "crashed"
    with Store(path) as store:
        for i in range(40):
            _add_customer(store, f"C{i:03d}", n_refs=1)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.db.execute("PRAGMA wal_autocheckpoint=0")
        _add_customer(store, "LAST", n_refs=1)  # only in the -wal
        crashed.mkdir()
        for side in ("", "-wal", "-shm"):  # as the crash left them
            shutil.copyfile(f"{path}{side}", f"{crashed / 's.db'}{side}")
    path, wal = crashed / "s.db", crashed / "s.db-wal"
    data = bytearray(path.read_bytes())
    if damage == "text":
        data[:100] = b"this is not a database at all, just some text\n" * 2 + b"..."
    else:  # a b-tree page the -wal holds no newer copy of, or it would read as sound
        page = _btree_page_not_in_wal(data, wal.read_bytes())
        data[page * 4096 : page * 4096 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    before = (path.read_bytes(), wal.read_bytes())
    assert len(before[1]) > 0
    with pytest.raises(StoreError, match="restore it from a backup"):
        Store(path)
    assert (path.read_bytes(), wal.read_bytes()) == before


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("quality_json", "{broken"),
        ("embedding", b"\x00\x01\x02"),
        # zeros resemble nothing: centred on the references' own similarity, every
        # signature had scored higher against such a customer, a forgery accepted
        ("embedding", bytes(4 * 8)),
        ("embedding", np.full(8, np.nan, "<f4").tobytes()),
    ],
    ids=["quality", "cut", "zeros", "nan"],
)
def test_a_reference_record_damaged_inside_a_sound_file_is_named(tmp_path, column, value):
    # The integrity check reads SQLite's pages, not what a row says: such a row had
    # reached the teller as "unexpected internal error" from verify, show and export.
    with Store(tmp_path / "s.db") as store:
        first, _ = _add_customer(store, "C1")
        conn = sqlite3.connect(tmp_path / "s.db")
        with conn:
            sql = f"UPDATE reference_signatures SET {column} = ? WHERE id = ?"
            conn.execute(sql, [value, first])
        conn.close()
        with pytest.raises(StoreError, match=f"Reference {first} of customer C1 is damaged"):
            records.references_of(store.db, "C1")
        if column == "embedding" and len(value) == 4 * 8:  # the search's matrix too
            with pytest.raises(StoreError, match=f"Reference {first} of customer C1 is dam"):
                active_embedding_matrix(store, "m1")


def test_an_embedding_of_another_length_in_the_search_matrix_is_named(tmp_path):
    with Store(tmp_path / "s.db") as store:
        _add_customer(store, "C1", 3)
        odd, _ = _add_customer(store, "C2")
        with store.write() as db:
            db.execute("UPDATE reference_signatures SET embedding = ? WHERE id = ?",
                       [np.ones(6, "<f4").tobytes(), odd])  # fmt: skip
        with pytest.raises(StoreError, match=f"Reference {odd} of customer C2 is damaged"):
            active_embedding_matrix(store, "m1")


def test_a_customer_status_sigverify_never_writes_is_not_taken_for_open(tmp_path):
    with Store(tmp_path / "s.db") as store:
        _add_customer(store, "C1")
        with store.write() as db:
            db.execute("UPDATE customers SET status = 'weird' WHERE customer_id = 'C1'")
        with pytest.raises(StoreError, match="Customer C1's record is damaged"):
            records.get_customer(store.db, "C1")


def test_write_rolls_back_on_error(tmp_path):
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError), store.write() as db:
            records.insert_customer(db, "X")
            raise RuntimeError("boom")
        assert records.get_customer(store.db, "X") is None
        assert not store.db.conn.in_transaction


def test_environment_failures_inside_a_write_become_store_errors(tmp_path):
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(StoreError, match="could not save"), store.write() as db:
            records.insert_customer(db, "X")
            raise sqlite3.OperationalError("database or disk is full")
        assert records.get_customer(store.db, "X") is None


def test_audit_rows_cannot_be_updated_or_deleted(tmp_path):
    with Store(tmp_path / "s.db") as store:
        with store.write() as db:
            audit.append(db, "verification", "op", customer_id="A", score=0.5)
        for sql in ("UPDATE audit_log SET score = 1.0", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="never"), store.write() as db:
                db.execute(sql)
        assert audit.verify_chain(store.db).ok


def _tamper(store: Store, sql: str, params=()) -> None:
    db = store.db
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute(sql, params)


def _three_rows(store: Store) -> None:
    with store.write() as db:
        audit.append(db, "verification", "op", customer_id="A", score=0.91, image_png=b"one")
        audit.append(db, "teller_decision", "op", customer_id="A", verification_id=1)
        audit.append(db, "verification", "op", customer_id="B", score=0.12)


@pytest.mark.parametrize(
    ("sql", "broken_at", "intact_before"),
    [
        ("UPDATE audit_log SET score = 0.99 WHERE id = 1", 1, 0),
        ("UPDATE audit_log SET operator = 'mallory' WHERE id = 3", 3, 2),
        ("UPDATE audit_log SET image_png = x'00' WHERE id = 1", 1, 0),
        ("UPDATE audit_log SET image_png = NULL WHERE id = 1", 1, 0),  # evidence removed
        ("DELETE FROM audit_log WHERE id = 2", 3, 1),
    ],
)
def test_audit_chain_reports_the_first_tampered_row(tmp_path, sql, broken_at, intact_before):
    with Store(tmp_path / "s.db") as store:
        _three_rows(store)
        intact = audit.verify_chain(store.db)
        assert intact.ok and intact.rows_checked == 3
        _tamper(store, sql)
        report = audit.verify_chain(store.db)
        assert not report.ok
        assert report.broken_at == broken_at
        assert report.rows_checked == intact_before


def test_an_anchor_detects_rows_removed_from_the_end(tmp_path):
    with Store(tmp_path / "s.db") as store:
        _three_rows(store)
        head = audit.verify_chain(store.db).head
        assert head.startswith("3:")
        anchor = audit.parse_anchor(head)
        with store.write() as db:
            audit.append(db, "verification", "op", customer_id="C", score=0.5)
        assert audit.verify_chain(store.db, anchor).ok  # later rows are fine
        _tamper(store, "DELETE FROM audit_log WHERE id >= 3")
        assert audit.verify_chain(store.db).ok  # what the chain alone cannot see
        report = audit.verify_chain(store.db, anchor)
        assert not report.ok and report.broken_at == 3 and "gone" in report.problem
        assert report.head is None
        wrong = (2, anchor[1])
        assert "not the row" in audit.verify_chain(store.db, wrong).problem


class _CancelAt(NullProgress):
    """Records each report; cancels once `rows` rows are reported checked."""

    def __init__(self, rows: int | None = None) -> None:
        super().__init__()
        self.rows, self.reports = rows, []

    def update(self, done: int, total: int, text: str = "") -> None:
        self.reports.append((done, total))
        super().update(done, total, text)
        if self.rows is not None and done >= self.rows:
            self.cancel()  # as the teller's Cancel would, noticed at the next report


def test_the_chain_check_reports_rows_checked_and_can_be_cancelled(tmp_path, monkeypatch):
    monkeypatch.setattr(audit, "PROGRESS_EVERY", 2)
    with Store(tmp_path / "s.db") as store:
        for _ in range(2):
            _three_rows(store)
        progress = _CancelAt()
        assert audit.verify_chain(store.db, progress=progress).rows_checked == 6
        assert progress.reports == [(0, 6), (2, 6), (4, 6)]
        with pytest.raises(CancelledError):
            audit.verify_chain(store.db, progress=_CancelAt(rows=2))


@pytest.mark.parametrize("text", ["", "3", "x:" + "a" * 64, "3:" + "a" * 63, "3:" + "g" * 64])
def test_malformed_anchors_are_refused(text):
    with pytest.raises(StoreError, match="not an audit anchor"):
        audit.parse_anchor(text)


def test_audit_hash_is_stable_for_equal_values(tmp_path):
    # An int where a float column is expected must hash as SQLite will return it.
    with Store(tmp_path / "s.db") as store:
        with store.write() as db:
            audit.append(db, "verification", "op", score=1, t_accept=1, t_reject=0)
        assert audit.verify_chain(store.db).ok
        with store.write() as db:  # SQLite gives -0.0 back as 0.0
            audit.append(db, "verification", "op", score=-0.0, t_accept=0.9, t_reject=-0.0)
        assert audit.verify_chain(store.db).ok


def test_generation_counter_follows_reference_and_customer_changes(tmp_path):
    with Store(tmp_path / "s.db") as store:
        g0 = store.generation()
        ids = _add_customer(store, "A")
        g1 = store.generation()
        assert g1 > g0
        with store.write() as db:
            records.deactivate_reference(db, ids[0])
        g2 = store.generation()
        assert g2 > g1
        with store.write() as db:  # a customer without references (an import, say)
            records.insert_customer(db, "NEW")
        g3 = store.generation()
        assert g3 > g2
        with store.write() as db:  # the audit trail is not the customers
            audit.append(db, "verification", "clerk", customer_id="NEW", score=0.5)
        assert store.generation() == g3


def test_embedding_matrix_is_cached_and_invalidated_by_other_connections(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store, Store(path) as other:
        _add_customer(store, "B", n_refs=2)
        _add_customer(store, "A", n_refs=3)
        _add_customer(store, "Z", n_refs=1, model_id="other-model")
        m = active_embedding_matrix(store, "m1")
        assert m.customer_ids == ("A", "B")
        assert m.matrix.shape == (5, 8) and m.matrix.flags.c_contiguous
        assert m.matrix.dtype == np.float32
        assert list(m.starts) == [0, 3]
        assert m.rows_of(1) == slice(3, 5)
        assert active_embedding_matrix(store, "m1") is m  # cached
        _add_customer(other, "C", n_refs=2)  # another connection, as another process
        m2 = active_embedding_matrix(store, "m1")
        assert m2 is not m and m2.customer_ids == ("A", "B", "C")
        with other.write() as db:
            records.set_customer_status(db, "A", "closed")
        assert active_embedding_matrix(store, "m1").customer_ids == ("B", "C")
        assert active_embedding_matrix(store, "other-model").customer_ids == ("Z",)


def test_backup_while_another_connection_writes(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store, Store(path) as other:
        _add_customer(store, "A")
        with other.write() as db:  # an open write transaction elsewhere
            records.insert_customer(db, "UNCOMMITTED")
            target = store.backup(tmp_path / "backup.db")
        _add_customer(other, "B")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with Store(target) as copy:
        assert [c.customer_id for c in records.list_customers(copy.db)] == ["A"]
        assert schema.applied_steps(copy.db) == schema.STEPS
    with Store(path) as store, pytest.raises(StoreError, match="already exists"):
        store.backup(target)


def test_threads_get_their_own_connections(tmp_path):
    errors = []
    with Store(tmp_path / "s.db") as store:

        def work(n: int) -> None:
            try:
                for i in range(10):
                    _add_customer(store, f"T{n}-{i}", n_refs=1)
                    records.list_customers(store.db)
            except Exception as err:  # reported below
                errors.append(err)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(records.list_customers(store.db)) == 40


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files via /proc")
def test_a_finished_threads_connection_is_closed(tmp_path):
    with Store(tmp_path / "s.db") as store:
        records.list_customers(store.db)
        open_files = len(os.listdir("/proc/self/fd"))
        for _ in range(30):
            t = threading.Thread(target=lambda: records.list_customers(store.db))
            t.start()
            t.join()
        assert len(os.listdir("/proc/self/fd")) < open_files + 10  # 30 more if they stayed
        records.list_customers(store.db)  # this thread's own connection is untouched


def test_closed_store_refuses_use(tmp_path):
    store = Store(tmp_path / "s.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        _ = store.db


def test_settings_round_trip(tmp_path):
    with Store(tmp_path / "s.db") as store:
        assert records.get_setting(store.db, "k") is None
        with store.write() as db:
            records.set_setting(db, "k", "v1")
            records.set_setting(db, "k", "v2")
        assert records.get_setting(store.db, "k") == "v2"
        with store.write() as db:
            records.set_setting(db, "k", None)
        assert records.get_setting(store.db, "k") is None


def test_an_unused_new_store_is_deleted(tmp_path):
    path = tmp_path / "new.db"
    assert discard_if_unused(Store(path)) and not list(tmp_path.iterdir())


def test_a_new_store_holding_a_customer_is_kept(tmp_path):
    store = Store(tmp_path / "new.db")
    _add_customer(store, "C1")
    assert not discard_if_unused(store)
    # still in WAL mode: a reader is not locked out by another program's write
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    with Store(tmp_path / "new.db") as again:
        assert [c.customer_id for c in records.list_customers(again.db)] == ["C1"]


def test_a_new_store_another_program_has_open_is_kept(tmp_path):
    # Deleted under the other program, its later writes would go to a file nobody can
    # find: a teller told "enrolled" while the enrolment and its audit row are lost.
    path = tmp_path / "new.db"
    mine, theirs = Store(path), Store(path)
    assert not discard_if_unused(mine)
    _add_customer(theirs, "C1")
    theirs.close()
    with Store(path) as again:
        assert [c.customer_id for c in records.list_customers(again.db)] == ["C1"]


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_backup_is_not_written_under_a_name_with_side_files_left(tmp_path, suffix):
    """weekly.db deleted, the -wal a crashed program left beside it kept: a backup
    written as weekly.db would get that -wal replayed into it when first opened."""
    path, target = tmp_path / "s.db", tmp_path / "weekly.db"
    _store_with_customer(target)  # last week's store, in WAL mode
    _leave_a_wal(target)
    leftover = tmp_path / f"weekly.db{suffix}"
    if not leftover.exists():
        leftover.write_bytes(b"\x01" * 512)
    for other in (p for p in tmp_path.glob("weekly.db*") if p != leftover):
        other.unlink()
    found = leftover.read_bytes()
    with Store(path) as store:
        _add_customer(store, "A")
        with pytest.raises(StoreError) as info:
            store.backup(target)
    assert str(info.value).startswith(f"{leftover} is left under the backup's name {target}:")
    assert f"Move weekly.db{suffix} to another folder" in str(info.value)
    assert {p.name for p in tmp_path.glob("weekly.db*")} == {leftover.name}
    assert leftover.read_bytes() == found  # someone's file: kept as it was


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_side_file_left_while_a_backup_is_written_stops_it(tmp_path, monkeypatch, suffix):
    """The name is checked again once the copy is written, before it is renamed into
    place: another program may have left its side file there meanwhile."""
    target, leftover = tmp_path / "weekly.db", tmp_path / f"weekly.db{suffix}"

    class LeftMeanwhile:
        def __init__(self, conn):
            self.conn = conn

        def backup(self, dest):
            self.conn.backup(dest)
            leftover.write_bytes(b"\x01" * 512)  # another program, while the copy is written

        def __getattr__(self, name):
            return getattr(self.conn, name)

    with Store(tmp_path / "s.db") as store:
        _add_customer(store, "A")
        monkeypatch.setattr(store.db, "conn", LeftMeanwhile(store.db.conn))
        with pytest.raises(StoreError) as info:
            store.backup(target)
    assert str(info.value).startswith(f"{leftover} is left under the backup's name {target}:")
    assert f"Move weekly.db{suffix} to another folder" in str(info.value)
    # no backup, whole or partial, nor its journal: only the other program's file
    assert {p.name for p in tmp_path.glob("weekly.db*")} == {leftover.name}
    assert leftover.read_bytes() == b"\x01" * 512
