"""The store's error types, kept here so the store depends on nothing above it.

`sigverify_gui.services.errors` re-exports `StoreError` beside the services' own errors.
"""

from __future__ import annotations

from pathlib import Path

from model.errors import SigverifyError


class StoreError(SigverifyError):
    """The signature store cannot be opened, is damaged, busy, read-only, or was refused
    a write."""


class StoreNotFoundError(StoreError):
    """No store at `path`, and none may be created there (not asked for, or its folder
    is missing): the caller can add how to name the right one (e.g. `--db`)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class StoreDamagedError(StoreError):
    """The store's file is damaged (cut short, overwritten, failing its integrity check,
    or empty): it does not open, and only a backup put in its place mends it. `damage`
    says what is wrong in a few words ("file is not a database"), for a message or the
    audit row of that restore."""

    def __init__(self, message: str, damage: str) -> None:
        super().__init__(message)
        self.damage = damage


class ForeignDatabaseError(StoreError):
    """The file is an SQLite database of another program, not a signature store."""


class NewerStoreError(StoreError):
    """The store was made by a newer version of sigverify: `step` is the newest schema
    step it has, which this version does not know."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step
