"""Locating the `resources/` folder (shipped weights, model card, icons, styles)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """Beside the packages in a source tree, or inside a PyInstaller build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
