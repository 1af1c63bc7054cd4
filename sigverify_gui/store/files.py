"""The store's file on disk: made private, read when read-only, checked before use.

`Store` (db.py) decides when; these say how, so that db.py stays about connections
and transactions.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from sigverify_gui.store.errors import StoreError, StoreNotFoundError

log = logging.getLogger("sigverify.store")


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
                f"The folder {path.parent} does not exist, so no store can be made there.",
                path,
            )
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(path.parent, 0o700)
        except OSError as err:
            raise StoreError(f"The folder {path.parent} could not be created: {err}.") from err
    create_private_file(path)


def create_private_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    except OSError as err:
        raise StoreError(f"The signature store {path} could not be created: {err}.") from err


def read_only_uri(path: Path) -> str:
    # A WAL store can only be read through its -shm index, which a read-only folder
    # cannot hold. With no -wal file beside it (the store was closed cleanly), every
    # committed change is in the file itself, so `immutable` lets SQLite read it
    # without -shm or locks. With a -wal file (in use elsewhere, or not closed
    # cleanly) its changes must be read through the existing -shm: plain mode=ro.
    # The URI's path is absolute with an empty authority: "/C:/x" on Windows, and
    # "//server/share/x" for a share (an authority would be refused).
    posix = path.absolute().as_posix()
    uri = "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")
    if path.with_name(path.name + "-wal").exists():
        return uri + "?mode=ro"
    return uri + "?mode=ro&immutable=1"


def writable(path: Path) -> bool:
    # SQLite writes the file and creates its -wal and -shm files beside it. os.access
    # also answers False on a read-only mount, even for root.
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


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


def check_integrity(db: Database, path: Path) -> None:
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as err:
        # Only these two mean the content is bad; anything else (cannot open, read-only,
        # I/O error) is about where the file is, and a backup would not help.
        primary_code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
        if primary_code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise StoreError(
                f"The file {path} is not a signature store or is damaged ({err}); "
                "restore it from a backup."
            ) from err
        raise StoreError(
            f"The signature store {path} could not be opened ({err}); check that this "
            "user can read the file and write it and its folder."
        ) from err
    problems = [r[0] for r in rows if r[0] != "ok"]
    if problems:
        raise StoreError(
            f"The signature store {path} is damaged ({problems[0]}); restore it from a backup."
        )
