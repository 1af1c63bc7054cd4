"""Making a file written and renamed into place last a power cut.

Writing to a temporary file and renaming it over the old one keeps a crash from leaving
half a file, but not a power cut: the system may put the rename on the disk before the
data, and then the name leads to an empty or cut-short file. Sync the file before the
rename, and on POSIX its folder after it (the new name is on the disk only then).

Standard library only: the capture package uses it, and its scanner child process
should not load the store's modules.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("sigverify.files")


def sync_to_disk(path: Path) -> None:
    """Wait until `path`'s content is on the disk, not only in the system's cache."""
    fd = os.open(path, os.O_RDWR)  # Windows flushes only a handle open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Make the renames in `folder` reach the disk. Windows cannot open a folder as a
    file (NTFS journals renames itself), so there nothing is done. A failure is only
    logged: the rename has happened, and a file system that cannot sync folders (some
    network shares) must not turn a finished change into an error."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        log.warning("could not sync the folder %s to the disk: %s", folder, err)
