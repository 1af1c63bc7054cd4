"""Opening the store: read-only locations, permissions, missing stores, busy stores."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from sigverify_gui import paths
from sigverify_gui.store import audit, db, files, records, schema
from sigverify_gui.store.db import Store, open_store
from sigverify_gui.store.errors import StoreError, StoreNotFoundError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _store_with_customer(path) -> None:
    with Store(path) as store, store.write() as wdb:
        records.insert_customer(wdb, "A1", name="Ann")
        audit.append(wdb, "verification", "op", customer_id="A1", score=0.9)


def _beside(path, suffix):
    return path.with_name(path.name + suffix)


def _assert_readable_but_not_writable(path, tmp_path) -> None:
    with Store(path) as store:
        assert store.read_only
        assert [c.customer_id for c in records.list_customers(store.db)] == ["A1"]
        assert audit.verify_chain(store.db).ok
        store.backup(tmp_path / "copy.db")
        with pytest.raises(StoreError, match="read-only here") as info, store.write():
            pass
        assert "restore" not in str(info.value) and "damaged" not in str(info.value)


# --- 1. a good store on a read-only location ----------------------------------------
def test_a_store_that_cannot_be_written_is_opened_read_only(tmp_path, monkeypatch):
    # os.access is what tells a read-only mount (EROFS, even for root) and a read-only
    # file or folder apart; as root chmod restricts nothing, so pretend it answered no.
    path = tmp_path / "branch 1 #?%.db"  # a name that must be escaped in a URI
    _store_with_customer(path)
    before = path.read_bytes()
    monkeypatch.setattr(db, "writable", lambda p: False)
    _assert_readable_but_not_writable(path, tmp_path)
    assert path.read_bytes() == before


def test_where_no_index_file_can_be_made_the_store_is_read_as_it_stands(tmp_path, monkeypatch):
    # A read-only folder refuses SQLite's -shm file, so plain mode=ro cannot read a WAL
    # store there (simulated: as root no folder refuses anything); immutable can.
    path = tmp_path / "s.db"
    _store_with_customer(path)
    real_connect = sqlite3.connect
    tried = []

    def no_index_file(database, **options):
        uri = database
        tried.append(uri)
        if "immutable" not in uri:
            uri = f"file:{tmp_path}/no-such-folder/s.db?mode=ro"
        return real_connect(uri, **options)

    monkeypatch.setattr(files.sqlite3, "connect", no_index_file)
    conn = files.connect_read_only(path)
    assert conn.execute("SELECT customer_id FROM customers").fetchall() == [("A1",)]
    assert [("immutable" in uri) for uri in tried] == [False, True]


@pytest.mark.parametrize("why", ["busy", "rows in the log"])
def test_a_store_being_written_is_never_read_as_it_stands(tmp_path, monkeypatch, why):
    # Read without its write-ahead log, the trail would look cut short (a tampering
    # alarm for `audit verify --anchor`) and an export or backup would be old.
    path = tmp_path / "s.db"
    _store_with_customer(path)
    real_connect = sqlite3.connect
    failure = "database is locked" if why == "busy" else "unable to open database file"
    if why == "rows in the log":
        path.with_name("s.db-wal").write_bytes(b"\0" * 4096)

    def refused(database, **options):
        if "immutable" not in database:
            raise sqlite3.OperationalError(failure)
        return real_connect(database, **options)

    monkeypatch.setattr(files.sqlite3, "connect", refused)
    with pytest.raises(sqlite3.OperationalError, match="another program is writing it"):
        files.connect_read_only(path)


def test_a_read_only_store_in_use_elsewhere_shows_changes_still_in_its_wal(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    _store_with_customer(path)
    with Store(path) as writer:  # another program has it open: a -wal file exists
        writer.db.execute("PRAGMA wal_autocheckpoint=0")
        with writer.write() as wdb:
            records.insert_customer(wdb, "B2")
        monkeypatch.setattr(db, "writable", lambda p: False)
        with Store(path) as reader:
            ids = [c.customer_id for c in records.list_customers(reader.db)]
    assert ids == ["A1", "B2"]


@pytest.mark.skipif(IS_ROOT, reason="root ignores file modes; the test above covers root")
def test_a_store_in_a_read_only_folder_really_opens(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.db"
    _store_with_customer(path)
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    try:
        _assert_readable_but_not_writable(path, tmp_path)
    finally:
        os.chmod(folder, 0o755)


def test_a_read_only_store_that_needs_an_upgrade_says_so(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    _store_with_customer(path)
    monkeypatch.setattr(db.schema, "pending_steps", lambda d: ["a future step"])
    monkeypatch.setattr(db, "writable", lambda p: False)
    with pytest.raises(StoreError, match="read-only here .* cannot be upgraded"):
        Store(path)


# --- 2. permissions: only world access is taken away --------------------------------
@pytest.mark.parametrize(
    ("before", "after"),
    [(0o444, 0o440), (0o660, 0o660), (0o640, 0o640), (0o664, 0o660), (0o666, 0o660)],
)
def test_opening_never_adds_permissions_and_only_removes_world_access(tmp_path, before, after):
    path = tmp_path / "s.db"
    _store_with_customer(path)
    os.chmod(path, before)
    with Store(path) as store:
        records.list_customers(store.db)
    assert stat.S_IMODE(path.stat().st_mode) == after


def test_a_new_store_is_private(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- 3. a store that does not exist -------------------------------------------------
def test_a_missing_store_is_not_created_when_only_reading(tmp_path):
    path = tmp_path / "typo" / "sub" / "branch.db"
    with pytest.raises(StoreNotFoundError, match="No signature store at") as info:
        Store(path, create=False)
    assert info.value.path == path
    assert not (tmp_path / "typo").exists()
    with pytest.raises(StoreNotFoundError):
        open_store(tmp_path / "fresh.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_named_store_is_created_but_never_its_missing_folder(tmp_path):
    with pytest.raises(StoreNotFoundError, match="folder .* does not exist"):
        open_store(tmp_path / "typo" / "branch.db")
    assert not (tmp_path / "typo").exists()
    with open_store(tmp_path / "branch.db") as store:
        assert store.path.exists() and not store.read_only


def test_the_default_store_and_its_folder_are_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "fresh" / "sigverify")
    with open_store() as store:
        assert store.path == tmp_path / "fresh" / "sigverify" / "sigverify.db"
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    with open_store(create=False) as store:  # now it exists, reading commands open it
        assert records.list_customers(store.db) == []


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path, create=False)


def test_a_file_that_cannot_be_opened_is_not_called_damaged(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    _store_with_customer(path)
    err = sqlite3.OperationalError("unable to open database file")
    err.sqlite_errorcode = sqlite3.SQLITE_CANTOPEN

    class Refusing:
        def execute(self, sql):
            raise err

    with pytest.raises(StoreError, match="could not be opened") as info:
        files.check_integrity(Refusing(), path)
    assert "restore" not in str(info.value)


# --- 4. a store busy in another program ---------------------------------------------
def test_the_longest_wait_for_a_busy_store_is_about_ten_seconds():
    assert 9.0 <= db.longest_write_wait_s() <= 11.0


def test_a_busy_store_gives_up_after_the_longest_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setattr(db, "BEGIN_BACKOFF_S", 0.01)
    path = tmp_path / "s.db"
    _store_with_customer(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with Store(path) as store:
            assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 100
            start = time.monotonic()
            busy = pytest.raises(StoreError, match="busy in another program; try again")
            with busy, store.write():
                pass
            waited = time.monotonic() - start
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert 0.3 <= waited <= db.longest_write_wait_s() + 1.0


def test_a_store_another_program_holds_whole_is_called_busy_when_opened(tmp_path, monkeypatch):
    # A database tool in exclusive locking mode: opening had said "check that this user
    # can read the file", sending IT after file permissions.
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.1)
    path = tmp_path / "s.db"
    _store_with_customer(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="busy in another program; try again") as info:
            Store(path)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "can read the file" not in str(info.value)


def _another_programs_database(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (x)")  # even a table of the same name
    conn.commit()
    conn.close()
    os.chmod(path, 0o644)


def _newer_store(path) -> None:
    _store_with_customer(path)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('sigverify', 'v99_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()


def _old_empty_file(path: Path) -> None:
    """A failed copy of a store, made a while ago (a new empty file may be another
    program's new store, not made yet: `test_two_programs_making_one_new_store`)."""
    path.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_old_empty_file, "is empty, not a signature store"),
        (_another_programs_database, "database of another program"),
        (_newer_store, "newer version of sigverify"),
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_a_file_that_is_no_store_of_this_version_is_refused_and_left_as_it_was(
    tmp_path, make, words, create
):
    path = tmp_path / "store.db"
    make(path)
    before = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    with pytest.raises(StoreError, match=words):
        Store(path, create=create)
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == before
    assert not _beside(path, "-wal").exists()


def test_two_programs_making_one_new_store_both_open_it(tmp_path):
    """The second program finds the empty file the first has just created and waits for
    its tables, instead of calling it a failed copy to restore from a backup."""
    path = tmp_path / "new.db"
    path.write_bytes(b"")  # the first program has just created it
    made = tmp_path / "made.db"
    Store(made).close()

    def first_program_finishes() -> None:
        time.sleep(0.3)
        with sqlite3.connect(made) as source, sqlite3.connect(path) as target:
            source.backup(target)

    maker = threading.Thread(target=first_program_finishes)
    maker.start()
    try:
        with Store(path) as store:
            assert records.list_customers(store.db) == []
    finally:
        maker.join()


def test_a_new_empty_file_nobody_fills_is_refused_after_a_short_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "WAIT_FOR_MAKER_S", 0.2)
    path = tmp_path / "new.db"
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="is empty, not a signature store"):
        Store(path)


def test_a_store_that_cannot_be_created_says_why_in_words(tmp_path, monkeypatch):
    def refuse(path, *args):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files.os, "open", refuse)
    with pytest.raises(StoreError) as info:
        Store(tmp_path / "new.db")
    assert str(info.value) == (
        f"The signature store {tmp_path / 'new.db'} could not be created: Permission denied."
    )


# --- indexes for speed ---------------------------------------------------------------
def test_a_speed_index_is_made_on_opening_not_recorded_as_a_schema_step(tmp_path, monkeypatch):
    # As a step it would have made the store unreadable to the version before, and an
    # archived store (read-only) unopenable without an upgrade.
    path = tmp_path / "s.db"
    _store_with_customer(path)
    with Store(path) as store, store.write() as wdb:
        wdb.execute("DROP INDEX audit_log_by_kind")  # as a store of the version before
    monkeypatch.setattr(db, "writable", lambda p: False)
    with Store(path) as store:  # read-only: opens as it stands
        assert store.read_only and schema.missing_speed_indexes(store.db) == ["audit_log_by_kind"]
        assert audit.verify_chain(store.db).ok
    monkeypatch.undo()
    with Store(path) as store:
        assert schema.missing_speed_indexes(store.db) == []
        assert schema.applied_steps(store.db) == schema.STEPS
        assert not any("audit_log_by_kind" in step for step in schema.STEPS)


@pytest.mark.skipif(os.name != "posix", reason="named pipes and devices: POSIX")
def test_what_is_not_a_regular_file_is_refused_before_it_is_opened(tmp_path):
    # A named pipe's opening waits for a writer, for good: refused before SQLite opens it,
    # behind a link too (the store is what the link names).
    from tests.fakes import named_pipe

    with named_pipe(tmp_path / "pipe.db") as pipe:
        link = tmp_path / "link.db"
        link.symlink_to(pipe)
        for path, create in ((pipe, True), (link, False)):
            started = time.monotonic()
            with pytest.raises(StoreError, match="is a named pipe, not a signature store file"):
                Store(path, create=create)
            assert time.monotonic() - started < 1.0
    with pytest.raises(StoreError, match="is a device, not a signature store file"):
        Store(os.devnull)


def test_a_name_no_file_can_have_is_refused_in_words(tmp_path):
    with pytest.raises(StoreError, match="holds a character no file name can have"):
        Store(tmp_path / "a\x00b.db")
    with pytest.raises(StoreError, match="is too long for this system"):
        Store(tmp_path / ("a" * 300 + ".db"))
    assert list(tmp_path.iterdir()) == []
