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
from sigverify_gui.store import audit
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.files import make_private_file, same_file

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
    intact; refused otherwise. The folder is removed afterwards."""
    backup = Path(backup).expanduser()
    if not backup.is_file():
        raise StoreError(f"There is no backup file {backup}.")
    if same_file(backup, store_path):
        raise StoreError(f"{backup} is the signature store itself, not a backup of it.")
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=store_path.parent) as folder:
        copy = Path(folder) / "backup.db"
        digest = _copy_and_hash(backup, copy)
        with Store(copy, create=False, create_folder=False) as source:  # a sound store
            trail = audit.verify_chain(source.db)
            if not trail.ok:
                raise StoreError(
                    f"The audit trail of the backup {backup} is broken at row "
                    f"{trail.broken_at} ({trail.problem}); it was changed after it was "
                    "made, so it was not restored."
                )
            (customers,) = source.db.execute("SELECT count(*) FROM customers").fetchone()
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
        raise StoreError(f"The backup {source} could not be read: {os_reason(err)}.") from err
    return digest.hexdigest()
