"""The store's one error type, kept here so the store depends on nothing above it.

`sigverify_gui.services.errors` re-exports it beside the services' own errors.
"""

from __future__ import annotations

from model.errors import SigverifyError


class StoreError(SigverifyError):
    """The signature store cannot be opened, is damaged, busy, or was refused a write."""
