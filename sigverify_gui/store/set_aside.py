"""A damaged store's files moved aside, kept, and a restored file put in their place.

The order is what makes a process that dies halfway harmless. The restored file is
complete and on the disk before anything moves (the caller's part). Then SQLite's side
files go first (`-wal`, `-shm`, `-journal`): a `-wal` or a hot `-journal` left beside the
restored file would be replayed or rolled back into it, mixing the damaged store's pages
into the restored one. Then the
store file is linked to its new name and the restored file renamed over the store's,
so that the store's name always leads to the damaged file or to the restored one;
where the disk has no hard links (FAT, some shares), two renames leave an instant in
which neither is there, both kept under their own names. A failure on the way (on
Windows, a file another program has open cannot be renamed) puts back what was moved.

Nothing is ever deleted: the damaged files stay beside the store, named with the time,
for whoever looks into the damage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from model.errors import os_reason
from sigverify_gui.disk_sync import sync_folder
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.files import SIDE_SUFFIXES, side_files

log = logging.getLogger("sigverify.store")

# SQLite's lock in the -shm file that every connection to a WAL store holds, shared,
# for as long as it is open ("DMS", byte 128 in os_unix.c).
_SHM_OPEN_LOCK_BYTE = 128


def aside_name(path: Path, when: datetime) -> Path:
    """`sigverify.damaged-20250611-142501.db` for `sigverify.db`; its side files keep
    SQLite's names (`…db-wal`), so the set still opens together. Refused when any of
    these names is taken (a run a second before, or one cut short)."""
    aside = path.with_name(f"{path.stem}.damaged-{when:%Y%m%d-%H%M%S}{path.suffix}")
    taken = ([aside] if os.path.lexists(aside) else []) + side_files(aside)
    if taken:
        raise StoreError(
            f"{taken[0]} already exists, so the damaged store was not moved there; "
            "move that file elsewhere, or run this again in a moment."
        )
    return aside


def open_elsewhere(path: Path) -> bool:
    """Whether another program on this computer has the WAL store at `path` open: its
    connection holds a shared lock in the -shm file, so a write lock there is refused.
    POSIX only, and blind to a copy on another computer using the store over a share
    and to one in rollback-journal mode that is not reading just now; on Windows an
    open file cannot be renamed, which `replace_keeping` meets instead."""
    if os.name != "posix":
        return False
    import fcntl

    try:
        fd = os.open(f"{path}-shm", os.O_RDWR)
    except FileNotFoundError:
        return False  # no WAL connection since the last one closed
    except OSError as err:
        log.warning("could not check whether %s is open elsewhere: %s", path, err)
        return False
    try:
        # This process holds no connection to it: closing `fd` would drop SQLite's own
        # locks otherwise (POSIX locks belong to the process, not the descriptor).
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_OPEN_LOCK_BYTE)
    except (BlockingIOError, PermissionError):
        return True
    except OSError as err:  # a file system without locks
        log.warning("could not check whether %s is open elsewhere: %s", path, err)
    finally:
        os.close(fd)  # releases the lock, if it was taken
    return False


def replace_keeping(path: Path, restored: Path, aside: Path) -> None:
    """Put the complete, synced file `restored` at `path`, and the files there at
    `aside` (see the module docstring for the order); all or nothing."""
    undo: list[Callable[[], None]] = []
    try:
        for suffix in SIDE_SUFFIXES:
            side = Path(f"{path}{suffix}")
            if os.path.lexists(side):
                _rename(side, Path(f"{aside}{suffix}"), undo)
        sync_folder(path.parent)  # the old -wal gone on the disk before the new file is there
        try:
            os.link(path, aside)
            undo.append(aside.unlink)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this disk
            _rename(path, aside, undo)
        os.replace(restored, path)
    except BaseException as err:
        put_back = _undo(undo)
        if not isinstance(err, OSError):
            raise
        if not put_back:
            raise StoreError(
                f"The damaged store {path} could not be replaced ({os_reason(err)}), and "
                f"what was moved could not all be put back: look for {aside.name} and its "
                "-wal and -shm beside it, and the log."
            ) from err
        raise StoreError(
            f"The damaged store {path} could not be replaced ({os_reason(err)}); it was "
            "left as it was. If another program still has it open, close every copy of "
            "sigverify on that store, then run this again."
        ) from err
    sync_folder(path.parent)


def _rename(source: Path, target: Path, undo: list[Callable[[], None]]) -> None:
    os.rename(source, target)
    undo.append(lambda: os.rename(target, source))


def _undo(steps: list[Callable[[], None]]) -> bool:
    """Take `steps` back, the last first; False when one could not be."""
    for step in reversed(steps):
        try:
            step()
        except OSError as err:
            log.error("could not undo a step of replacing a damaged store: %s", err)
            return False
    return True
