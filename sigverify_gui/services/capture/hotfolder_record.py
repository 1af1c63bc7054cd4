"""Which hot-folder files were already taken, so that none is taken twice.

A file is known by name, size and modification time together: a scanner that restarts
its counter and saves a new `scan0001.pdf` is a new file, while the same file seen
again after a restart of the app is not. The record lives in memory and, when the
caller gives a state folder, in a small JSON file there, so that it survives restarts.
Several watchers of one folder (the GUI's enrolment and verification panels, a second
copy of the app) share that file: each reads it again whenever it changed, so a file
one of them took is not offered by another.

It is kept *beside* the hot folder, never inside it: the hot folder is often a share
the scanner writes to and other software reads, where an unexpected file is a nuisance
and may not even be writable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("sigverify.capture.hotfolder")

_FORMAT_VERSION = 1


class FileKey(NamedTuple):
    name: str
    size: int
    mtime_ns: int


def state_file_for(folder: Path, state_dir: Path) -> Path:
    """The record's file for `folder`: one per hot folder, so several can share a dir."""
    digest = hashlib.sha256(str(folder.resolve()).encode("utf-8")).hexdigest()[:16]
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
        self._keys |= self._load(self.path)
        self._file_seen = seen

    def add(self, keys: Iterable[FileKey], present_names: set[str]) -> None:
        """Remember `keys` and forget files no longer in the folder (so the record stays
        as small as the folder), then save."""
        self.reload()  # saving must not drop what another watcher took meanwhile
        self._keys = {k for k in self._keys if k.name in present_names}
        self._keys.update(keys)
        self._save()

    def _load(self, path: Path) -> set[FileKey]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != _FORMAT_VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            return {FileKey(str(n), int(s), int(m)) for n, s, m in data["files"]}
        except FileNotFoundError:
            return set()
        except (OSError, ValueError, KeyError, TypeError) as err:
            # Losing the record means files still in the folder may be offered again;
            # refusing to watch the folder would stop the branch from scanning at all.
            log.warning("hot-folder record %s unreadable (%s); starting afresh", path, err)
            return set()

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "version": _FORMAT_VERSION,
            "folder": str(self.folder),
            "files": sorted([list(k) for k in self._keys]),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a crash mid-write leaves the old record, not half a one.
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".hotfolder-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, indent=1)
                os.replace(tmp, self.path)
                self._file_seen = _identity(self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            # The in-memory record still prevents double captures for this session.
            log.warning("could not save hot-folder record %s: %s", self.path, err)


def _identity(path: Path) -> tuple[int, int, int] | None:
    # Every save replaces the file, so a new inode (or time or size) means new content.
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
