"""Logging to one file in the user's log directory, shared by the CLI and the GUI.

Messages only: images and embeddings are never logged.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from sigverify_gui.paths import log_file

_configured: Path | None = None


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the `sigverify`, `model` and root loggers to a rotating file; return its path."""
    global _configured
    path = log_file()
    if _configured == path:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    _configured = path
    return path
