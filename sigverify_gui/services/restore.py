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

A store that no longer opens cannot be restored into; the README says how to put a
backup in its place by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
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

    def to_dict(self) -> dict:
        return asdict(self)


def restore_store(store: Store, backup: str | Path, *, operator: str = "") -> RestoreSummary:
    """Replace everything in `store` by the backup's content, or change nothing."""
    backup = Path(backup).expanduser()
    if not backup.is_file():
        raise StoreError(f"There is no backup file {backup}.")
    if same_file(backup, store.path):
        raise StoreError(f"{backup} is the signature store itself, not a backup of it.")
    replaced = audit.verify_chain(store.db)
    generation = store.generation()
    # A private folder beside the store: the same disk, and no other user can read it.
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=store.path.parent) as folder:
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
            try:
                source.db.conn.backup(store.db.conn)
            except sqlite3.Error as err:
                raise StoreError(f"The backup {backup} could not be restored: {err}.") from err
    store.caches.clear()
    summary = {
        "file": os.path.abspath(backup),
        "sha256": digest,
        "customers": customers,
        "replaced_head": replaced.head if replaced.ok else None,
    }
    with store.write() as db:
        # Every workstation's cached embeddings are keyed by this counter: it must not
        # go back to a value they cached under the content now replaced.
        db.execute(
            "UPDATE change_counter SET generation = max(generation, ?) + 1 WHERE id = 1",
            [generation],
        )
        row_id = audit.append(db, "restore", operator, detail=json.dumps(summary, sort_keys=True))
        # the backup's trail was verified whole; the head is this row's
        head = f"{row_id}:{audit.get_row(db, row_id)['row_hash']}"
    log.info("store %s restored from %s (sha256 %s)", store.path, backup, digest)
    return RestoreSummary(**summary, head=head)


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
