"""The one place the services get a real verifier from (tests replace this function)."""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.services.verifier_protocol import VerifierLike


def load_verifier(weights: Path | None = None, device: str = "auto") -> VerifierLike:
    """Load `model.Verifier` (torch is imported here, only when a command needs it)."""
    from model import Verifier

    return Verifier.load(weights, device=device)
