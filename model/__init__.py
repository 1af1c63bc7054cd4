"""sigverify's Qt-free core: imaging, data, network, training and the `Verifier`.

Nothing in this package imports Qt; a test enforces it. `Verifier` is imported
lazily so that the image tools (and `sigverify --help`) do not pay for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.verifier import Verifier

__all__ = ["Verifier"]


def __getattr__(name: str) -> Any:
    if name == "Verifier":
        from model.verifier import Verifier

        return Verifier
    raise AttributeError(f"module 'model' has no attribute {name!r}")
