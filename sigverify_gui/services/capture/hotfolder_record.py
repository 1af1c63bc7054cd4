"""Which hot-folder files were already taken, so that none is taken twice.

A file is known by name, size and modification time together: a scanner that restarts
its counter and saves a new `scan0001.pdf` is a new file, while the same file seen
again after a restart of the app is not. The record lives in memory and, when the
caller gives a state folder, in a small JSON file there, so that it survives restarts.

Several watchers of one folder (the GUI's enrolment and verification panels, a second
copy of the app) share that file. Looking is cheap and unlocked (a stat; the file is
read again only when it changed), but every change is one locked step: read the file
again, check, add, write. An OS lock on a `.lock` file beside the record keeps other
processes out of that step and a lock per record file the other threads of this one,
so two watchers never both take one file and never drop each other's entries.

It is kept *beside* the hot folder, never inside it: the hot folder is often a share
the scanner writes to and other software reads, where an unexpected file is a nuisance
and may not even be writable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from model.errors import CaptureError
from sigverify_gui.disk_sync import sync_folder

log = logging.getLogger("sigverify.capture.hotfolder")

_FORMAT_VERSION = 1
# Windows refuses to replace a file while another handle has it open (a watcher reading
# it without the lock); such a reader is done within milliseconds.
_REPLACE_ATTEMPTS = 20
_REPLACE_PAUSE_S = 0.05
# Whoever holds the lock only reads and writes a small JSON file: milliseconds. Far
# longer means a copy of the app stuck on a dead disk, and the teller should hear so.
_LOCK_TIMEOUT_S = 10.0
_LOCK_PAUSE_S = 0.01


class FileKey(NamedTuple):
    name: str
    size: int
    mtime_ns: int


def state_file_for(folder: Path, state_dir: Path) -> Path:
    """The record's file for `folder`: one per hot folder, so several can share a dir."""
    # fsencode: a folder name that is no UTF-8 (bytes the system handed over as they
    # were) had raised here, and the hot folder could not be watched at all
    digest = hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()[:16]
    return state_dir / f"hotfolder-{digest}.json"


class ProcessedRecord:
    """A set of `FileKey`s, saved to `path` (when given) after every change."""

    def __init__(self, folder: Path, path: Path | None) -> None:
        self.folder = folder
        self.path = path
        self._keys: set[FileKey] = set()
        self._file_seen: tuple[int, int, int] | None = None  # the file as last read/written
        self.reload()

    def __contains__(self, key: FileKey) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def reload(self) -> None:
        """Add what other watchers saved since we last looked (a stat when nothing did)."""
        if self.path is None:
            return
        seen = _identity(self.path)
        if seen is None or seen == self._file_seen:
            return
        saved = self._read(self.path)
        if saved is None:  # not readable just now: not marked seen, so read next time
            return
        self._keys |= saved
        self._file_seen = seen

    def claim(self, key: FileKey, present_names: set[str]) -> bool:
        """Record `key` as taken unless another watcher already has: True when the
        caller may hand the file out. The check and the save are one locked step."""
        with self._locked():
            in_step = self._catch_up(present_names)
            if key in self._keys:
                return False
            self._keys.add(key)
            if in_step:
                self._save()
            return True

    def add(self, keys: Iterable[FileKey], present_names: set[str]) -> None:
        """Remember `keys` and forget files no longer in the folder (so the record stays
        as small as the folder), then save."""
        with self._locked():
            in_step = self._catch_up(present_names)
            self._keys.update(keys)
            if in_step:
                self._save()

    def _locked(self) -> contextlib.AbstractContextManager:
        if self.path is None:  # in memory: one watcher's own, used from one thread
            return contextlib.nullcontext()
        return record_lock(self.path)

    def _catch_up(self, present_names: set[str]) -> bool:
        """With the lock held: add what is saved, drop files gone from the folder. False
        when the saved record cannot be read just now (then it must not be overwritten)."""
        saved = set() if self.path is None else self._read(self.path)
        # `present_names` is this watcher's listing, which may predate files another
        # watcher took since: only entries known before that listing may be dropped.
        known = {k for k in self._keys if k.name in present_names}
        self._keys = known | ((saved or set()) - self._keys)
        return saved is not None

    def _read(self, path: Path) -> set[FileKey] | None:
        """The keys saved in `path`; None when it cannot be read just now."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        except OSError as err:
            log.info("hot-folder record %s not readable just now: %s", path, err)
            return None
        try:
            data = json.loads(text)
            if data.get("version") != _FORMAT_VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            return {FileKey(str(n), int(s), int(m)) for n, s, m in data["files"]}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            # Losing the record means files still in the folder may be offered again;
            # refusing to watch the folder would stop the branch from scanning at all.
            log.warning("hot-folder record %s unreadable (%s); starting afresh", path, err)
            return set()

    def _save(self) -> None:
        if self.path is None:
            return
        path = self.path
        data = {
            "version": _FORMAT_VERSION,
            "folder": str(self.folder),
            "files": sorted([list(k) for k in self._keys]),
        }
        try:
            # Write, sync, then rename: a crash mid-write leaves the old record, not half
            # a one, and a power cut cannot put the new name on data not yet on disk.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hotfolder-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, indent=1)
                    f.flush()
                    os.fsync(f.fileno())
                _replace(tmp, path)
                sync_folder(path.parent)
                self._file_seen = _identity(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            # The in-memory record still prevents double captures for this session.
            log.warning("could not save hot-folder record %s: %s", path, err)


def _replace(tmp: str, path: Path) -> None:
    for attempt in range(_REPLACE_ATTEMPTS):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if attempt == _REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(_REPLACE_PAUSE_S)


def _identity(path: Path) -> tuple[int, int, int] | None:
    # Every save replaces the file, so a new inode (or time or size) means new content.
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --- the lock --------------------------------------------------------------------------
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def record_lock(record: Path) -> Iterator[None]:
    """Hold the record at `record` against the other threads of this process (a
    `threading.Lock` per file) and against other processes (an OS lock on a `.lock`
    file beside it, which stays there: removing it would race with the next locker)."""
    with _thread_lock(record):
        fd = _open_locked(record.with_suffix(".lock"))
        try:
            yield
        finally:
            if fd is not None:
                with contextlib.suppress(OSError):
                    _unlock_file(fd)
                os.close(fd)  # releases the OS lock in any case


def _open_locked(lock_path: Path) -> int | None:
    """The lock file, opened and locked; None when it cannot be (an unwritable state
    folder, a file system without locks): then, as when the record cannot be saved,
    only this process's watchers are kept apart."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        log.warning("could not open hot-folder lock %s: %s", lock_path, err)
        return None
    try:
        _lock_file(fd, lock_path)
    except OSError as err:
        os.close(fd)
        log.warning("could not lock %s: %s", lock_path, err)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _thread_lock(record: Path) -> threading.Lock:
    name = os.path.normcase(os.path.abspath(record))
    with _thread_locks_guard:
        return _thread_locks.setdefault(name, threading.Lock())


def _lock_file(fd: int, lock_path: Path) -> None:
    """Wait for the OS lock on `fd`, polling, so that a lock held for too long ends in
    a clear error rather than a worker that never returns."""
    deadline = time.monotonic() + _LOCK_TIMEOUT_S
    while not _try_lock_file(fd):
        if time.monotonic() >= deadline:
            raise CaptureError(
                f"The record of hot-folder scans already taken ({lock_path}) is kept "
                "locked by another copy of the app; close it or try again."
            )
        time.sleep(_LOCK_PAUSE_S)


if sys.platform == "win32":
    import msvcrt

    def _try_lock_file(fd: int) -> bool:
        # Windows locks a byte range from the current position; byte 0 can be locked
        # even in an empty file. LK_NBLCK fails at once (LK_LOCK retries for 10 s).
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:  # held by another process or handle
            return False
        return True

    def _unlock_file(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock_file(fd: int) -> bool:
        # flock, not fcntl's record locks: those are per process, so two threads (or
        # two records opened in one process) would not exclude each other.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held by another process
            return False
        return True

    def _unlock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
