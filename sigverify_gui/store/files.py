"""The store's file on disk: made private, read when read-only, checked before use.

`Store` (db.py) decides when; these say how, so that db.py stays about connections
and transactions.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from model.errors import os_reason
from sigverify_gui.store import schema
from sigverify_gui.store.errors import (
    ForeignDatabaseError,
    NewerStoreError,
    StoreDamagedError,
    StoreError,
    StoreNotFoundError,
)

log = logging.getLogger("sigverify.store")


def missing_folder(folder: Path) -> str | None:
    """Why nothing can be written in `folder`, as a sentence starting "The " without
    its full stop ("The folder X does not exist"), or None when it is a folder."""
    if folder.is_dir():
        return None
    if folder.exists():
        return f"The path {folder} is a file, not a folder"
    return f"The folder {folder} does not exist"


# What the store's file turns out to be when it is not a file, in a message's words.
NOT_A_FILE = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def existing_store_file(path: Path) -> bool:
    """Whether a file is at `path` (links followed: the store is what they name); False
    when nothing is, and a new store may be made there.

    Anything else is refused here, before SQLite opens it: a folder, and a named pipe,
    device or socket, whose opening waits for good (a pipe waits for a writer, and the
    app's "Opening the signature store…" window with it) or reads what is no store. So
    is a name no file can have, in words rather than Python's "embedded null byte".
    """
    try:
        found = path.stat()
    except ValueError as err:  # a null character: the system is not even asked
        raise StoreError(
            "The name of the signature store holds a character no file name can have."
        ) from err
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:  # too long a name, a folder this user may not enter
        if err.errno == errno.ENAMETOOLONG:
            raise StoreError(
                f"The name of the signature store {path} is too long for this system."
            ) from err
        raise StoreError(
            f"The signature store {path} cannot be reached: {os_reason(err)}."
        ) from err
    if stat.S_ISDIR(found.st_mode):
        raise StoreError(f"{path} is a folder, not a signature store file.")
    if not stat.S_ISREG(found.st_mode):
        raise StoreError(f"{path} is {_special_kind(found.st_mode)}, not a signature store file.")
    return True


def special_file(path: Path) -> str | None:
    """What `path` is when it is a named pipe, device or socket ("a named pipe"), else
    None (a file, a folder, nothing, or a name that cannot be looked at: whoever opens
    it says so). Reading such a thing waits for good or never ends."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _special_kind(mode)


def _special_kind(mode: int) -> str:
    return next((name for test, name in NOT_A_FILE if test(mode)), "no regular file")


def create_new_store(path: Path, *, create: bool, create_folder: bool) -> None:
    """An empty file for a new store, readable by the owner only; see `Store`'s flags.

    Only a folder created here is made owner-only: a user-chosen existing folder
    (`--db /some/shared/place.db`) keeps its permissions.
    """
    if not create:
        raise StoreNotFoundError(f"No signature store at {path}.", path)
    if not path.parent.is_dir():
        if not create_folder:
            raise StoreNotFoundError(
                f"{missing_folder(path.parent)}, so no store can be made there.", path
            )
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(path.parent, 0o700)
        except OSError as err:
            raise StoreError(
                f"The folder {path.parent} could not be created: {os_reason(err)}."
            ) from err
    create_private_file(path)


def remove_quietly(path: Path) -> None:
    """Delete a leftover (a partial copy) if it can be; a failure to clean up after a
    failure must not hide the first one behind an internal error."""
    try:
        path.unlink(missing_ok=True)
    except OSError as err:  # the folder turned read-only, the disk went away
        log.warning("could not remove %s: %s", path, err)


@contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """A new, empty, owner-only file beside `target` for the block to write; renamed
    over `target` when the block ends, removed when it fails or is interrupted.

    So a full disk, a crash or Ctrl-C never leaves a cut-off file under the name asked
    for (which looks like a result), nor a leftover beside it. Owner-only because what
    sigverify writes (backups, exports, pictures) holds customers' signatures.
    """
    partial = target.with_name(f"{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)  # left by a run cut short before
        make_private_file(partial)
        yield partial
        os.replace(partial, target)
    except BaseException:
        remove_quietly(partial)
        raise


ZIP_MAGIC = b"PK\x03\x04"
SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite's files beside a database, named after it: whatever it finds under these
# names it takes for the database's own (a -wal is replayed into it, a hot -journal
# rolled back into it), whichever program left them.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def side_files(path: Path) -> list[Path]:
    """The SQLite side files that exist beside (the name) `path`."""
    return [side for s in SIDE_SUFFIXES if os.path.lexists(side := Path(f"{path}{s}"))]


def pending_wal(path: Path) -> Path | None:
    """The -wal beside `path` when it holds writes (it is not empty): they may not be in
    the file yet, and any reader of the file alone misses them. None otherwise."""
    wal = Path(f"{path}-wal")
    try:
        return wal if wal.stat().st_size > 0 else None
    except OSError:  # none there
        return None


def hot_journal(path: Path) -> Path | None:
    """The -journal beside `path` when it is hot: a change cut short (the program
    writing it stopped, or a copy of the file was taken meanwhile), part of it perhaps
    in the file already, which SQLite rolls back the next time the file is opened.
    SQLite's own test: not empty and its header not zeroed; a finished change leaves an
    empty one (TRUNCATE mode) or one whose header is zeroed (PERSIST). (SQLite also
    passes over it while a program holds the file's write lock: the change is then under
    way, and a reader of the file alone misses it just the same.) None otherwise."""
    journal = Path(f"{path}-journal")
    try:
        with journal.open("rb") as f:
            return journal if f.read(1) not in (b"", b"\0") else None
    except OSError:  # none there
        return None


def sha256_of_file(path: Path) -> str:
    """Read in pieces: a store's file may hold gigabytes of scans."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def make_private_file(path: Path) -> None:
    """An empty file at `path` (or the one already there), readable by its owner only."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def create_private_file(path: Path) -> None:
    """`make_private_file` for a new store's file, refused in the store's words."""
    try:
        make_private_file(path)
    except OSError as err:
        raise StoreError(
            f"The signature store {path} could not be created: {os_reason(err)}."
        ) from err


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """The URI that opens the store read-only; see `connect_read_only` for `immutable`.

    The path is absolute with an empty authority: "/C:/x" on Windows, and
    "//server/share/x" for a share (an authority would be refused).
    """
    posix = path.absolute().as_posix()
    uri = "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")
    return uri + ("?mode=ro&immutable=1" if immutable else "?mode=ro")


def connect_read_only(path: Path, **options) -> sqlite3.Connection:
    """A read-only connection that still sees other programs' writes where it can.

    A WAL store is read through its -shm index, which SQLite must be able to create
    beside it. Plain mode=ro does that and sees a writer's commits; only where the
    folder refuses the -shm file (a read-only share or mount) is `immutable` used,
    which reads the file as it stands without -shm or locks, and is then right only
    while no other program writes the store, as on such a share. So never when the
    store is busy or its write-ahead log holds rows not yet in the file: read without
    them, a trail would look cut short (a false tampering alarm) and an export old.
    """
    conn = None
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, **options)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as err:
        if conn is not None:
            conn.close()
        if pending_wal(path) or "locked" in str(err) or "busy" in str(err):
            raise sqlite3.OperationalError(
                "another program is writing it and it cannot be read from here as it "
                f"stands ({err}); try again in a moment, or with write access"
            ) from err
        log.info("store %s read as immutable (%s)", path, err)
        return sqlite3.connect(read_only_uri(path, immutable=True), uri=True, **options)


def writable(path: Path) -> bool:
    """Whether this user can write the store and create files beside it, tried for real:
    os.access reads only the read-only attribute on Windows (not a share's ACLs, and a
    folder always passes), while a real open also fails on a read-only mount."""
    try:
        os.close(os.open(path, os.O_RDWR))
        with tempfile.TemporaryFile(dir=path.parent):
            pass  # SQLite creates its -wal and -shm files beside the store
    except OSError:
        return False
    return True


def remove_world_access(path: Path) -> None:
    # A file made by other means (copied, restored) may be readable by anyone. Only the
    # bits for "other" users are taken away: the owner and group bits are what IT set
    # (a read-only 444 store, a 660 store shared by the branch's group) and are kept.
    if os.name == "posix":
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o007:
                os.chmod(path, mode & ~0o007)
        except OSError as err:
            log.warning("could not restrict permissions of %s: %s", path, err)


# An empty store file this young may be a new store another program is making now
# (two programs started on a new store at once); how long to wait for its tables.
BEING_MADE_S = 60.0
WAIT_FOR_MAKER_S = 5.0


def _table_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]


def _made_meanwhile(db: Database, path: Path) -> bool:
    """Whether another program, having just created the empty file, gives it its tables
    within a few seconds (then this one opens the new store instead of calling it a
    failed copy)."""
    try:
        if time.time() - path.stat().st_mtime >= BEING_MADE_S:
            return False  # an old empty file: a failed copy, nobody is making it
    except OSError:
        return False
    deadline = time.monotonic() + WAIT_FOR_MAKER_S
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if _table_count(db):
            return True
    return False


def check_is_store(db: Database, path: Path, *, fresh: bool) -> None:
    """Refuse, before anything is written to it, a file that is no signature store: an
    empty one not made just now (a failed copy of the store must not become a new, empty
    store), another program's database (it would get sigverify's tables), or a store
    made by a newer version of sigverify (its schema is not this version's to change)."""
    if not _table_count(db):
        if fresh or _made_meanwhile(db, path):
            return
        raise StoreDamagedError(
            f"The file {path} is empty, not a signature store. If it should hold the "
            "branch's customers, restore it from a backup; for a new store, give a name "
            "that does not exist yet.",
            "the file is empty",
        )
    applied = schema.applied_steps(db)
    if not applied:
        raise ForeignDatabaseError(
            f"The file {path} is a database of another program, not a signature store."
        )
    newer = [name for name in applied if name not in schema.STEPS]
    if newer:
        raise NewerStoreError(
            f"The signature store {path} was made by a newer version of sigverify (it has "
            f"schema step {newer[-1]}); use that version or a later one.",
            newer[-1],
        )


def starts_with(path: Path, magic: bytes) -> bool:
    """Whether the file begins with a format's signature ("SQLite format 3", a zip's
    "PK"); False when it cannot be read."""
    try:
        with path.open("rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False


def same_file(a: Path, b: Path) -> bool:
    """Whether two names lead to one file (links and other spellings included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): compare where the names lead
        return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def check_integrity(db: Database, path: Path) -> None:
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as err:
        # Only these two mean the content is bad; anything else (cannot open, read-only,
        # I/O error) is about where the file is, and a backup would not help.
        primary_code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
        if primary_code == sqlite3.SQLITE_NOTADB and starts_with(path, ZIP_MAGIC):
            raise StoreError(
                f"The file {path} is an export (a zip file), not a signature store; bring "
                "it into a store with `sigverify import`."
            ) from err
        if primary_code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise StoreDamagedError(
                f"The file {path} is not a signature store or is damaged ({err}); "
                "restore it from a backup.",
                str(err),
            ) from err
        if primary_code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            # another program holds it whole (a database tool in exclusive mode)
            raise StoreError(
                f"The signature store {path} is busy in another program; try again in a "
                "moment, or close the program that has it open."
            ) from err
        raise StoreError(
            f"The signature store {path} could not be opened ({err}); check that this "
            "user can read the file and write it and its folder."
        ) from err
    problems = [r[0] for r in rows if r[0] != "ok"]
    if problems:
        # SQLite's findings run to many lines of page numbers: IT's, in the log.
        log.error("integrity check of %s:\n%s", path, "\n".join(problems))
        raise StoreDamagedError(
            f"The signature store {path} is damaged (its integrity check failed; the "
            "details are in the log); restore it from a backup.",
            "its integrity check failed",
        )
