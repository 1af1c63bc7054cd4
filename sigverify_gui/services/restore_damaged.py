"""Putting a backup in the place of a store that no longer opens.

`restore_store` writes into the open store; a damaged one (cut short, overwritten,
failing its integrity check, empty: `StoreDamagedError`) does not open, so IT asks for
this instead, explicitly (`sigverify restore --replace-damaged`). A store that opens is
refused: restoring into it keeps its file, and whoever has it open sees the change.
So is a file that fails to open for another reason (another program's database, a
newer version's store, a busy or unreadable one): moving it aside would not mend it.

The backup gets the same checks on the same private copy, which also gets the
restore's audit row (naming the damage and where the damaged files went), is taken out
of WAL mode so that it is one self-contained file, and is synced to the disk. Only
then are the damaged files moved aside and the copy renamed into the store's place
(`store.set_aside`): a process that dies at any point leaves the damaged store or the
restored one under the store's name, and the damaged files are kept. The copy is
renamed, not copied again: it is the very file SQLite checked, and stays owner-only.

Another copy of the app still holding the damaged store would go on writing into the
moved-aside files. One on this computer is seen (`open_elsewhere`), and on Windows an
open file cannot be moved; one on another computer over a share may not be, so the
message and the README tell IT to close every copy first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sigverify_gui.disk_sync import sync_to_disk
from sigverify_gui.services.errors import StoreOpensError
from sigverify_gui.services.restore import (
    RestoreSummary,
    checked_backup,
    record_restore,
    restore_detail,
)
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreDamagedError, StoreError
from sigverify_gui.store.set_aside import aside_name, open_elsewhere, replace_keeping

log = logging.getLogger("sigverify.services.restore")


def replace_damaged_store(
    path: str | Path, backup: str | Path, *, operator: str = ""
) -> RestoreSummary:
    """Put the backup at `path`, the damaged store's files moved aside, or change nothing."""
    path = Path(path).expanduser()
    damage = damage_of(path)
    if open_elsewhere(path):
        raise StoreError(
            f"Another program still has the damaged store {path} open; close every copy "
            "of sigverify on that store, then run this again."
        )
    aside = aside_name(path, datetime.now())
    with checked_backup(backup, path) as checked:
        detail = restore_detail(checked, None)  # the damaged trail cannot be read
        detail |= {"damage": damage, "damaged_store_moved_to": str(aside.absolute())}
        head = record_restore(checked.store, detail, after_generation=0, operator=operator)
        # One file, whole: the restore's row must not stay behind in a -wal.
        (mode,) = checked.store.db.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode != "delete":
            raise StoreError(
                f"The checked copy of {backup} could not be made one self-contained file "
                f"(SQLite kept journal mode {mode}); nothing was replaced."
            )
        checked.store.close()
        sync_to_disk(checked.path)
        replace_keeping(path, checked.path, aside)
    log.warning("damaged store %s (%s) moved to %s, replaced by %s", path, damage, aside, backup)
    return RestoreSummary(**detail, head=head)


def damage_of(path: Path) -> str:
    """What is wrong with the store at `path`, when it is damaged; refused when it opens
    or fails to open for another reason (that error, as it is)."""
    try:
        Store(path, create=False, create_folder=False).close()
    except StoreDamagedError as err:
        return err.damage
    raise StoreOpensError(
        f"The signature store {path} opens, so it was not replaced: restore the backup "
        "into it, which keeps its file and tells every workstation using it."
    )
