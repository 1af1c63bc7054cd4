"""Opening the signature store safely, and one connection per thread.

Threading: a `Store` may be shared by every thread of the app (the GUI calls the
services from worker threads). Each thread gets its own SQLite connection, opened on
first use with the same settings; connections are never shared between threads, so
no lock is needed around queries, and SQLite's own locking (WAL, busy timeout)
coordinates threads and processes alike. `close()` closes them all.

Writes go through `write()`: BEGIN IMMEDIATE takes the write lock up front, so two
writers never deadlock half-way through a transaction (with a deferred BEGIN, both
could read and then both fail to upgrade); a busy lock is waited for (busy timeout)
and the BEGIN retried a few times before the user is told the store is busy.

Opening checks integrity first (`PRAGMA quick_check`) and writes nothing, not even
the WAL switch or a migration, when the file is damaged or is not a database.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from sigverify_gui.store import schema
from sigverify_gui.store.errors import StoreError

log = logging.getLogger("sigverify.store")

BUSY_TIMEOUT_S = 10.0
BEGIN_ATTEMPTS = 4
# Test-only: seconds to sleep inside a write transaction at `pause_point()`, so that a
# test can kill the process mid-transaction. Unset in normal use.
TEST_PAUSE_ENV = "SIGVERIFY_TEST_WRITE_PAUSE"


class Store:
    """The branch's signature store at `path`; see the module docstring for threading."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        # Caches owned by other store modules (e.g. the embedding matrix), keyed by name.
        self.caches: dict[str, object] = {}
        self.cache_lock = threading.Lock()
        _create_private_file(self.path)
        try:
            db = self.db
            _check_integrity(db, self.path)
            _tighten_permissions(self.path)
            db.execute("PRAGMA journal_mode=WAL")
            if schema.pending_steps(db):
                with self.write() as wdb:
                    schema.migrations.apply(wdb)
        except sqlite3.Error as err:
            self.close()
            raise StoreError(
                f"The signature store {self.path} could not be prepared: {err}."
            ) from err
        except BaseException:
            self.close()
            raise

    # --- connections -----------------------------------------------------------------
    @property
    def db(self) -> Database:
        """This thread's connection, wrapped in a sqlite-utils `Database`."""
        if self._closed:
            raise StoreError("The signature store has been closed.")
        db = getattr(self._local, "db", None)
        if db is None:
            db = Database(self._connect())
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: no implicit transactions; every write goes through
            # `write()`, which opens and ends its own. check_same_thread=False only so
            # that `close()` may close other threads' connections at shutdown.
            conn = sqlite3.connect(
                str(self.path),
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as err:
            raise StoreError(
                f"The signature store {self.path} could not be opened: {err}."
            ) from err
        with self._lock:
            self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()

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

    def applied_migrations(self) -> list[str]:
        return schema.applied_steps(self.db)

    def backup(self, target: str | Path) -> Path:
        """Copy the whole store to `target` with SQLite's online backup API.

        Safe while other connections (this process's or others') read and write: the
        copy is one consistent snapshot. Written to a temporary file beside `target`
        and renamed into place, so a failed backup never leaves a half-written file.
        """
        target = Path(target).expanduser()
        if target.exists():
            raise StoreError(f"{target} already exists; choose a new file name for the backup.")
        if not target.parent.is_dir():
            raise StoreError(f"The folder {target.parent} does not exist.")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        _create_private_file(partial)
        try:
            dest = sqlite3.connect(str(partial))
            try:
                self.db.conn.backup(dest)
                dest.execute("PRAGMA journal_mode=DELETE")
            finally:
                dest.close()
            os.replace(partial, target)
        except (sqlite3.Error, OSError) as err:
            partial.unlink(missing_ok=True)
            raise StoreError(f"The backup to {target} failed: {err}.") from err
        log.info("backup written to %s", target)
        return target


def open_store(path: str | Path | None = None) -> Store:
    """The store at `path`, or the user's default (`paths.default_db_path()`)."""
    if path is None:
        from sigverify_gui.paths import default_db_path

        path = default_db_path()
    return Store(path)


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
    for attempt in range(BEGIN_ATTEMPTS):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise StoreError(f"The signature store {path} refused a write: {err}.") from err
            log.warning("store busy at BEGIN (attempt %d): %s", attempt + 1, err)
            time.sleep(0.05 * (attempt + 1))
    raise StoreError(
        f"The signature store {path} is busy in another program; try again in a moment."
    )


def _create_private_file(path: Path) -> None:
    """Create the file (and its own folder, if missing) readable by the owner only.

    Only folders created here are made owner-only: a user-chosen existing folder
    (`--db /some/shared/place.db`) keeps its permissions.
    """
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(path.parent, 0o700)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
    except OSError as err:
        raise StoreError(f"The signature store {path} could not be created: {err}.") from err


def _tighten_permissions(path: Path) -> None:
    # A file made by other means (copied, restored) may be readable by others.
    if os.name == "posix":
        try:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
        except OSError as err:
            log.warning("could not restrict permissions of %s: %s", path, err)


def _check_integrity(db: Database, path: Path) -> None:
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as err:
        raise StoreError(
            f"The file {path} is not a signature store or is damaged ({err}); "
            "restore it from a backup."
        ) from err
    problems = [r[0] for r in rows if r[0] != "ok"]
    if problems:
        raise StoreError(
            f"The signature store {path} is damaged ({problems[0]}); restore it from a backup."
        )
