"""Opening the signature store safely, and one connection per thread.

Threading: a `Store` may be shared by every thread of the app (the GUI calls the
services from worker threads). Each thread gets its own SQLite connection, opened on
first use with the same settings; connections are never shared between threads, so
no lock is needed around queries, and SQLite's own locking (WAL, busy timeout)
coordinates threads and processes alike. A thread's connection closes once nothing
refers to it any more: a thread pool's worker gets a fresh Python thread state for
every task, so a connection kept until the store closes would pile up, one per
verification, all day (file handles and page cache). `close()` closes the rest.

Writes go through `write()`: BEGIN IMMEDIATE takes the write lock up front, so two
writers never deadlock half-way through a transaction (with a deferred BEGIN, both
could read and then both fail to upgrade); a busy lock is waited for (busy timeout)
and the BEGIN retried a few times before the user is told the store is busy.

Opening checks integrity first (`PRAGMA quick_check`, on a read-only connection) and
writes nothing, not even the WAL switch, a migration or a checkpoint of the -wal beside
it, when the file is damaged or is not a database. A store
that does not exist is created only when the caller asks (`create`), and its folder
only when that folder is sigverify's own (`create_folder`), so a mistyped path is
reported instead of becoming an empty store.

A store this user cannot write (a read-only share or mount, write-protected media, a
file IT made read-only) is opened read-only: IT can still list, show, export, back up
and check the audit trail of an archived store, which is what they expect of a file
they can read. Anything that must be recorded (verify, identify, enrol) is refused
with a message naming the cause, never "damaged": a bank does not verify without an
audit record, and telling IT to restore a good store from a backup would be wrong.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from model.errors import os_reason
from sigverify_gui.store import schema
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.files import (
    check_integrity,
    check_is_store,
    connect_read_only,
    create_new_store,
    existing_store_file,
    missing_folder,
    read_only_uri,
    remove_quietly,
    remove_world_access,
    side_files,
    writable,
    written_whole,
)

log = logging.getLogger("sigverify.store")

# How long a write waits for another program's lock before the teller is told that the
# store is busy: about 10 s in all (`longest_write_wait_s()`), which a teller with a
# customer at the counter tolerates. sigverify's own write transactions last well under
# a second, so a lock held longer is something else (a backup tool, a stuck program)
# that more waiting would not fix; "try again in a moment" is then the better answer.
BUSY_TIMEOUT_S = 2.4
BEGIN_ATTEMPTS = 4
BEGIN_BACKOFF_S = 0.05
# Test-only: seconds to sleep inside a write transaction at `pause_point()`, so that a
# test can kill the process mid-transaction. Unset in normal use.
TEST_PAUSE_ENV = "SIGVERIFY_TEST_WRITE_PAUSE"


class Store:
    """The branch's signature store at `path`; see the module docstring for threading."""

    def __init__(
        self, path: str | Path, *, create: bool = True, create_folder: bool = True
    ) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._databases: weakref.WeakSet[Database] = weakref.WeakSet()  # open ones
        self._lock = threading.Lock()
        self._closed = False
        # Caches owned by other store modules (e.g. the embedding matrix), keyed by name.
        self.caches: dict[str, object] = {}
        self.cache_lock = threading.Lock()
        fresh = not existing_store_file(self.path)
        if fresh:
            create_new_store(self.path, create=create, create_folder=create_folder)
        self.read_only = not writable(self.path)
        try:
            if fresh or self.read_only:
                check_integrity(self.db, self.path)
            else:
                self._check_integrity_untouched()
            db = self.db
            check_is_store(db, self.path, fresh=fresh)
            remove_world_access(self.path)
            if self.read_only:
                log.warning("store %s opened read-only: %s", self.path, self._read_only_cause())
                if schema.pending_steps(db):
                    raise StoreError(
                        self._read_only_message("it cannot be upgraded for this version")
                    )
                return
            db.execute("PRAGMA journal_mode=WAL")
            if schema.pending_steps(db):
                with self.write() as wdb:
                    schema.migrations.apply(wdb)
            missing = schema.missing_speed_indexes(db)
            if missing:
                with self.write() as wdb:
                    schema.add_speed_indexes(wdb, missing)
        except sqlite3.Error as err:
            self.close()
            if "locked" in str(err) or "busy" in str(err):  # another program making it
                raise _busy(self.path) from err
            raise StoreError(
                f"The signature store {self.path} could not be prepared: {err}."
            ) from err
        except BaseException:
            self.close()
            raise

    def _check_integrity_untouched(self) -> None:
        """`check_integrity` on a read-only connection of its own. The last read-write
        connection to close checkpoints the -wal into the file and deletes it, even
        after a failed check: a damaged store, or a good file beside a -wal that is not
        its own, was changed by the very opening that refused it, and what IT found and
        would restore around was gone."""
        conn = sqlite3.connect(read_only_uri(self.path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            check_integrity(Database(conn), self.path)
        finally:
            conn.close()

    # --- connections -----------------------------------------------------------------
    @property
    def db(self) -> Database:
        """This thread's connection, wrapped in a sqlite-utils `Database`."""
        if self._closed:
            raise StoreError("The signature store has been closed.")
        db = getattr(self._local, "db", None)
        if db is None:
            conn = self._connect()
            db = Database(conn)
            weakref.finalize(db, conn.close)  # see the module docstring
            with self._lock:
                self._databases.add(db)
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: no implicit transactions; every write goes through
            # `write()`, which opens and ends its own. check_same_thread=False only so
            # that `close()` may close other threads' connections at shutdown.
            options = {
                "timeout": BUSY_TIMEOUT_S,
                "isolation_level": None,
                "check_same_thread": False,
            }
            if self.read_only:
                conn = connect_read_only(self.path, **options)
            else:
                conn = sqlite3.connect(str(self.path), **options)
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as err:
            raise StoreError(
                f"The signature store {self.path} could not be opened: {err}."
            ) from err
        return conn

    def _read_only_cause(self) -> str:
        if not os.access(self.path.parent, os.W_OK):
            return f"its folder {self.path.parent} cannot be written"
        return "the file cannot be written"

    def _read_only_message(self, consequence: str) -> str:
        return (
            f"The signature store {self.path} is read-only here "
            f"({self._read_only_cause()}), so {consequence}. Ask IT to make the file "
            "and its folder writable for this user, or to use a writable copy."
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in list(self._databases):
                db.conn.close()
            self._databases.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Database]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.

        Nested calls (a service calling another inside its transaction) join the outer
        transaction through sqlite-utils' savepoints.
        """
        if self.read_only:
            raise StoreError(self._read_only_message("nothing can be changed or recorded in it"))
        db = self.db
        if db.conn.in_transaction:
            with db.atomic():
                yield db
            return
        _begin_immediate(db.conn, self.path)
        try:
            yield db
        except sqlite3.OperationalError as err:
            # The environment's fault (disk full, I/O error, file gone), not a bug:
            # tell the user in one sentence. Constraint and trigger errors stay bugs.
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise StoreError(f"The signature store could not save the change: {err}.") from err
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        try:
            db.conn.execute("COMMIT")
        except sqlite3.Error as err:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise StoreError(f"The signature store could not save the change: {err}.") from err

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """Several reads that must agree with each other (one deferred read transaction).

        In WAL mode this holds no lock against writers; they simply are not seen.
        """
        db = self.db
        if db.conn.in_transaction:
            yield db
            return
        db.conn.execute("BEGIN")
        try:
            yield db
        finally:
            if db.conn.in_transaction:
                db.conn.execute("COMMIT")

    # --- housekeeping ----------------------------------------------------------------
    def generation(self) -> int:
        """A number that changes whenever references or customers change (any process)."""
        row = self.db.execute("SELECT generation FROM change_counter WHERE id = 1").fetchone()
        return int(row[0])

    def backup(self, target: str | Path) -> Path:
        """Copy the whole store to `target` with SQLite's online backup API.

        Safe while other connections (this process's or others') read and write: the
        copy is one consistent snapshot. Written to a temporary file beside `target`
        and renamed into place, so a failed backup never leaves a half-written file.
        Refused when SQLite side files are left under `target`'s name (`_refuse_side_files`).
        """
        target = Path(target).expanduser()
        if target.exists():
            raise StoreError(f"{target} already exists; choose a new file name for the backup.")
        if not target.parent.is_dir():
            raise StoreError(f"{missing_folder(target.parent)}.")
        _refuse_side_files(target)
        try:
            with written_whole(target) as partial:
                # SQLite keeps a rollback journal beside the copy while it writes it; a
                # failed backup (a full disk) left that one behind.
                journal = partial.with_name(partial.name + "-journal")
                dest = sqlite3.connect(str(partial))
                try:
                    self.db.conn.backup(dest)
                    dest.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dest.close()
                    remove_quietly(journal)
                _refuse_side_files(target)  # left there while it was written
        except (sqlite3.Error, OSError) as err:
            reason = os_reason(err) if isinstance(err, OSError) else err
            raise StoreError(f"The backup to {target} failed: {reason}.") from err
        log.info("backup written to %s", target)
        return target


def _refuse_side_files(target: Path) -> None:
    """A -wal, -shm or -journal under the backup's name (left by a program that
    stopped, beside a file since deleted) would be taken for the backup's own the first
    time it is opened: a -wal replayed into it, a journal rolled back into it, and the
    backup destroyed. Someone else's file: it is moved away by the user, not deleted."""
    if found := side_files(target):
        raise StoreError(
            f"{found[0]} is left under the backup's name {target}: SQLite would take it "
            "for the backup's own the first time the backup is opened, and a -wal or "
            "-journal would be written into it, destroying it. Move "
            f"{found[0].name} to another folder (it may belong to another store), or "
            "choose another name for the backup."
        )


def open_store(path: str | Path | None = None, *, create: bool = True) -> Store:
    """The store at `path`, or the user's default (`paths.default_db_path()`).

    `create=False` refuses a store that does not exist (for commands that only read).
    A new store's folder is created only when it is sigverify's own data folder (a
    fresh machine); a folder someone named must exist, so that a typo is reported.
    """
    from sigverify_gui.paths import data_dir, default_db_path

    path = Path(default_db_path() if path is None else path).expanduser()
    return Store(path, create=create, create_folder=path.parent == data_dir())


def discard_if_unused(store: Store) -> bool:
    """Close `store` and delete its files when it holds no customer and no audit row
    and no other program has it open.

    For a store a command has just made and then failed to fill (a refused first
    enrolment): an empty file left behind would answer the next command with "0
    customers" instead of "no such store". Returns whether the files were deleted.
    """
    store.close()
    if not store.path.is_file():  # gone already: connecting would make it anew
        return False
    try:
        conn = sqlite3.connect(str(store.path), timeout=0, isolation_level=None)
    except sqlite3.Error as err:
        log.warning("could not tell whether %s is still empty: %s", store.path, err)
        return False
    try:
        if not _holds_nothing(conn):  # the usual case: filled, and left in WAL mode
            return False
        # Leaving WAL mode needs the only connection to the file, so this fails while
        # another program has the store open: deleted under it, that program would go
        # on writing into a file nobody can find (a teller told "enrolled", the
        # enrolment and its audit row lost). The next opening goes back to WAL.
        (mode,) = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode != "delete":  # still WAL: another program has it open after all
            return False
        conn.execute("BEGIN EXCLUSIVE")
        if not _holds_nothing(conn):  # written to and closed in the meantime
            return False
        if os.name == "nt":
            # Windows deletes no file that is open anywhere, ours included; a program
            # that opened it since makes the deletion below fail, which keeps it.
            conn.close()
        # Elsewhere deleted under our lock: a program that opened the file meanwhile
        # gets an error at its first write (SQLite refuses to write a deleted file
        # outside WAL mode) rather than success in a file that is gone.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{store.path}{suffix}").unlink(missing_ok=True)
        return True
    except sqlite3.Error as err:  # "locked": another program has it open
        log.info("the new store %s is kept: %s", store.path, err)
        return False
    except OSError as err:  # e.g. Windows, another program has it open: it stays
        log.warning("could not delete the unused store %s: %s", store.path, err)
        return False
    finally:
        conn.close()


def _holds_nothing(conn: sqlite3.Connection) -> bool:
    tables = ("customers", schema.AUDIT_TABLE)
    return not any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in tables)


def longest_write_wait_s() -> float:
    """How long a write may wait for another program's lock before giving up."""
    backoff = sum(BEGIN_BACKOFF_S * n for n in range(1, BEGIN_ATTEMPTS))
    return BEGIN_ATTEMPTS * BUSY_TIMEOUT_S + backoff


def pause_point() -> None:
    """Test hook inside write transactions; does nothing unless TEST_PAUSE_ENV is set."""
    seconds = os.environ.get(TEST_PAUSE_ENV)
    if seconds:
        sys.stderr.write("sigverify-test-pause\n")
        sys.stderr.flush()
        time.sleep(float(seconds))


def _begin_immediate(conn: sqlite3.Connection, path: Path) -> None:
    # The busy timeout already waits up to BUSY_TIMEOUT_S for the lock; SQLite can
    # still return SQLITE_BUSY at once in some WAL situations (e.g. a checkpoint or
    # recovery in progress), so retry a few times with a short backoff.
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise StoreError(f"The signature store {path} refused a write: {err}.") from err
            log.warning("store busy at BEGIN (attempt %d): %s", attempt, err)
            if attempt < BEGIN_ATTEMPTS:
                time.sleep(BEGIN_BACKOFF_S * attempt)
    raise _busy(path)


def _busy(path: Path) -> StoreError:
    return StoreError(
        f"The signature store {path} is busy in another program; try again in a moment."
    )
