"""Putting a backup back in the store's place, through SQLite.

Copying a backup over `sigverify.db` by hand goes wrong where nobody sees it: a
`sigverify.db-wal` left beside the store (an app that crashed, or is still running) is
replayed onto the copy, mixing rows from after the backup into it, and its audit trail
then reads as broken, or worse, does not. `restore_store` checks the backup on a private
copy first (a signature store, sound, its audit trail intact), then writes it into the
open store with SQLite's backup API: that takes the store's write lock, and every
workstation's connection reads the restored state from then on. The restore is the
restored trail's newest row, naming the file, its SHA-256 and the head of the trail it
replaced (an anchor taken before fails for good afterwards, so IT keeps the new head).

A store that no longer opens cannot be restored into: `restore_damaged` puts the
backup in its place instead, after the same checks (`checked_backup`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from model.errors import os_reason
from sigverify_gui.services.errors import is_store_failure
from sigverify_gui.store import audit
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import (
    ForeignDatabaseError,
    NewerStoreError,
    StoreDamagedError,
    StoreError,
)
from sigverify_gui.store.files import (
    ZIP_MAGIC,
    hot_journal,
    make_private_file,
    pending_wal,
    same_file,
    special_file,
    starts_with,
)

log = logging.getLogger("sigverify.services.restore")


@dataclass(frozen=True)
class RestoreSummary:
    file: str
    sha256: str  # of the backup file, as restored
    customers: int
    replaced_head: str | None  # the trail replaced; None when it was broken or empty
    head: str  # the restored trail's, after the restore's own row: keep it
    # A store that did not open, replaced whole (`restore_damaged`): what was wrong
    # with it, and where its files were moved.
    damage: str | None = None
    damaged_store_moved_to: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckedBackup:
    """The backup's private copy, open and found sound, and what the audit row says of
    the backup file."""

    store: Store
    path: Path
    file: str
    sha256: str
    customers: int


def restore_store(store: Store, backup: str | Path, *, operator: str = "") -> RestoreSummary:
    """Replace everything in `store` by the backup's content, or change nothing."""
    replaced = audit.verify_chain(store.db)
    generation = store.generation()
    with checked_backup(backup, store.path) as checked:
        try:
            checked.store.db.conn.backup(store.db.conn)
        except sqlite3.Error as err:
            raise StoreError(f"The backup {backup} could not be restored: {err}.") from err
    store.caches.clear()
    summary = restore_detail(checked, replaced.head if replaced.ok else None)
    # Every workstation's cached embeddings are keyed by the generation: it must not go
    # back to a value they cached under the content now replaced.
    head = record_restore(store, summary, after_generation=generation, operator=operator)
    log.info("store %s restored from %s (sha256 %s)", store.path, backup, checked.sha256)
    return RestoreSummary(**summary, head=head)


@contextmanager
def checked_backup(backup: str | Path, store_path: Path) -> Iterator[CheckedBackup]:
    """The backup copied into a private folder beside the store (the same disk, and no
    other user can read it) and opened there: a signature store, sound, its audit trail
    intact, none of its rows waiting in a -wal beside it and no change cut short in a
    -journal; refused otherwise, in words about the backup file, not the copy (a path
    the user never saw), even when the copy's own disk fails. The folder is removed
    afterwards."""
    backup = Path(backup).expanduser()
    if backup.is_dir():
        raise StoreError(
            f"{backup} is a folder, not a backup file; give the backup file in it (made "
            "by `sigverify backup`)."
        )
    special = special_file(backup)
    if special is not None:  # reading it would wait for good
        raise StoreError(f"{backup} is {special}, not a backup file.")
    if not backup.is_file():
        raise StoreError(f"There is no backup file {backup}.")
    if same_file(backup, store_path):
        raise StoreError(f"{backup} is the signature store itself, not a backup of it.")
    _refuse_what_is_no_backup(backup)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=store_path.parent) as folder:
        copy = Path(folder) / "backup.db"
        digest = _copy_and_hash(backup, copy)
        _refuse_pending_writes(backup)  # a program writing it while it was copied
        with _opened_as_backup(copy, backup) as source:  # a sound store
            trail, customers = _trail_and_customers(source, backup)
            if not trail.ok:
                raise StoreError(
                    f"The audit trail of the backup {backup} is broken at row "
                    f"{trail.broken_at} ({trail.problem}); it was changed after it was "
                    "made, so it was not restored."
                )
            yield CheckedBackup(source, copy, os.path.abspath(backup), digest, customers)


def restore_detail(checked: CheckedBackup, replaced_head: str | None) -> dict:
    """What the restore's audit row says: the backup file, its SHA-256, how many
    customers it brought, and the head of the trail it replaced."""
    return {
        "file": checked.file,
        "sha256": checked.sha256,
        "customers": checked.customers,
        "replaced_head": replaced_head,
    }


def record_restore(store: Store, detail: dict, *, after_generation: int, operator: str) -> str:
    """The restore's audit row, the restored trail's newest, and the generation moved
    past `after_generation`; returns the new head (the backup's trail was verified
    whole, so it is this row's)."""
    with store.write() as db:
        db.execute(
            "UPDATE change_counter SET generation = max(generation, ?) + 1 WHERE id = 1",
            [after_generation],
        )
        row_id = audit.append(db, "restore", operator, detail=json.dumps(detail, sort_keys=True))
        head = f"{row_id}:{audit.get_row(db, row_id)['row_hash']}"
    return head


def _copy_and_hash(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    try:
        make_private_file(target)
        with source.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
    except OSError as err:
        raise _unreadable(source, err) from err
    return digest.hexdigest()


def _unreadable(backup: Path, err: Exception) -> StoreError:
    """The backup, or its private copy, could not be read: said of the user's file, with
    the system's or SQLite's reason. A `StoreError` from opening the copy names the copy
    (a path the user never saw): its cause says why instead."""
    if isinstance(err, StoreError):
        err = err.__cause__ or err
    reason = os_reason(err) if isinstance(err, OSError) else err
    return StoreError(f"The backup {backup} could not be read: {reason}.")


def _refuse_what_is_no_backup(backup: Path) -> None:
    """Refuse, before it is copied, a file that shows it is no backup: an empty one
    (opening its copy would wait for whoever is making it), an export, or one whose
    newest rows are still in its -wal or that a change was cut short in
    (`_refuse_pending_writes`)."""
    try:
        empty = backup.stat().st_size == 0
    except OSError as err:
        raise _unreadable(backup, err) from err
    if empty:
        raise StoreError(f"The file {backup} is empty, not a backup; choose another backup.")
    if starts_with(backup, ZIP_MAGIC):
        raise StoreError(
            f"The file {backup} is an export (a zip file), not a backup; bring its "
            "customers into the store with `sigverify import`, or choose a backup."
        )
    _refuse_pending_writes(backup)


def _refuse_pending_writes(backup: Path) -> None:
    """Only the file is copied; writes waiting in its -wal would be left behind, and an
    older state restored as if it were the backup; a hot -journal says the file was
    caught part-way through a change, some pages of it written and others not, which
    only that journal undoes. (SQLite opening the file would fold in the one and roll
    back the other, but that changes the user's file: not done.) An empty -wal holds
    nothing to miss (a program that opened the file and stopped before writing leaves
    one), a -shm alone is only an index of a -wal, no rows, and a -journal that is not
    hot belongs to a change that finished: none is refused."""
    wal = pending_wal(backup)
    if wal is not None:
        raise StoreError(
            f"The newest rows of {backup} wait in {wal.name} beside it, so it is a "
            "signature store in use or one left by a program that stopped, not a backup; "
            f"make a backup of it with `sigverify backup NEW.db --db {backup}` and "
            "restore that."
        )
    journal = hot_journal(backup)
    if journal is not None:
        raise StoreError(
            f"The file {backup} was caught part-way through a change ({journal.name} "
            "beside it holds what undoes it), so it may be inconsistent, not a backup; "
            "choose another backup, or open it once with the sqlite3 program "
            f'(`sqlite3 {backup} "PRAGMA quick_check"` undoes the change) and restore it '
            "then."
        )


@contextmanager
def _opened_as_backup(copy: Path, backup: Path) -> Iterator[Store]:
    """The private copy opened as a store; refused in words about the user's backup
    file, not the copy, with what to do instead (not "restore it from a backup")."""
    try:
        source = Store(copy, create=False, create_folder=False)
    except StoreDamagedError as err:
        raise StoreError(
            f"The file {backup} is not a backup of a signature store or is damaged "
            f"({err.damage}); choose another backup."
        ) from err
    except ForeignDatabaseError as err:
        raise StoreError(
            f"The file {backup} is a database of another program, not a backup of a "
            "signature store; choose another backup."
        ) from err
    except NewerStoreError as err:
        raise StoreError(
            f"The backup {backup} was made by a newer version of sigverify (it has schema "
            f"step {err.step}); restore it with that version or a later one, or choose "
            "another backup."
        ) from err
    except (StoreError, OSError) as err:  # the copy's disk or folder failed, say
        raise _unreadable(backup, err) from err
    with source:
        yield source


def _trail_and_customers(source: Store, backup: Path) -> tuple[audit.ChainReport, int]:
    """The copy's audit trail, checked, and how many customers it holds; a failure to
    read the copy (its disk) is said of the backup file, not called the store's."""
    try:
        trail = audit.verify_chain(source.db)
        (customers,) = source.db.execute("SELECT count(*) FROM customers").fetchone()
    except sqlite3.Error as err:
        if not is_store_failure(err):  # a bug: its traceback to the log
            raise
        raise _unreadable(backup, err) from err
    return trail, customers
