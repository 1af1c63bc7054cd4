"""What every model file, checkpoint or portable, must satisfy before it is used."""

from __future__ import annotations

from model.errors import ModelError
from model.preprocess import PREPROCESS_VERSION


def require_usable(header: object, expected_format: int, file_name: str) -> str:
    """Refuse a model file of an unknown format, or one made for other preprocessing:
    its embeddings would be silently wrong. Returns its preprocessing version."""
    if not isinstance(header, dict) or header.get("format") != expected_format:
        raise ModelError(f"{file_name} is not a sigverify model file of a known format.")
    version = header.get("preprocess_version")
    if version != PREPROCESS_VERSION:
        raise ModelError(
            f"The model {file_name} was trained with image preprocessing {version!r}, but "
            f"this program uses {PREPROCESS_VERSION!r}; retrain it or use a matching model."
        )
    return version
