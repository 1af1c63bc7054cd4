"""Logging to one file in the user's log directory, shared by the CLI and the GUI.

Messages only: images and embeddings are never logged. The messages still name
customers, scores and decisions, so the file and its folder are the user's alone
(as the store is), rotated files included.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from pathlib import Path

from sigverify_gui.paths import log_file

_configured: Path | None = None

MAX_BYTES = 2_000_000
BACKUPS = 3


def _owner_only(path, mode: int) -> None:
    # Not ours to change (a folder IT set up): logging must still start.
    with contextlib.suppress(OSError):
        os.chmod(path, mode)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file it opens, new or rotated, is readable by its owner only."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _owner_only(self.baseFilename, 0o600)  # a file an older version made with 644
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the `sigverify`, `model` and root loggers to a rotating file; return its path."""
    global _configured
    path = log_file()
    if _configured == path:
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(path.parent, 0o700)
    for old in path.parent.glob(path.name + ".*"):  # rotated by an older version
        _owner_only(old, 0o600)
    handler = _PrivateRotatingFileHandler(
        # backslashreplace: a message quoting an undecodable file name is still logged
        path,
        maxBytes=MAX_BYTES,
        backupCount=BACKUPS,
        encoding="utf-8",
        errors="backslashreplace",
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    _configured = path
    return path
