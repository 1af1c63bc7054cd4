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
import sys
from pathlib import Path

from model.errors import os_reason
from sigverify_gui.paths import log_file

_configured: Path | None = None
# Why no log file could be opened, when none could (`setup_logging`); "" otherwise.
unavailable: str = ""

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


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send the `sigverify`, `model` and root loggers to a rotating file; return its path.

    Returns None when the file cannot be opened (a locked-down profile, a read-only
    folder, a folder where the file should be): the app and every command still run,
    without a log, and say so once on stderr; `unavailable` keeps the reason for the
    messages that would have pointed at the file.
    """
    global _configured, unavailable
    path = log_file()
    if _configured == path:
        return path
    try:
        handler = _open_handler(path)
    except OSError as err:
        unavailable = f"{path}: {os_reason(err)}"
        if sys.stderr is not None:  # None in the windowed app on Windows
            print(f"warning: no log file could be written ({unavailable}).", file=sys.stderr)
        return None
    unavailable = ""
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    _configured = path
    return path


def _open_handler(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(path.parent, 0o700)
    for old in path.parent.glob(path.name + ".*"):  # rotated by an older version
        _owner_only(old, 0o600)
    return _PrivateRotatingFileHandler(
        # backslashreplace: a message quoting an undecodable file name is still logged
        path,
        maxBytes=MAX_BYTES,
        backupCount=BACKUPS,
        encoding="utf-8",
        errors="backslashreplace",
    )
