"""Where sigverify keeps its files: the user's data, state and log directories only."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "sigverify"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """Small files the app keeps between runs that are neither customer data nor logs:
    which hot-folder scans were already taken (`~/.local/state/sigverify` on Linux)."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / "sigverify.log"


DB_ENV = "SIGVERIFY_DB"  # names the store in place of the default one


def default_db_path() -> Path:
    """The store a user gets unless `--db`, SIGVERIFY_DB or the GUI settings say otherwise."""
    env = os.environ.get(DB_ENV)
    return Path(env) if env else data_dir() / "sigverify.db"
