"""What the teller should know with the score: captures that do not compare well.

A document examiner compares like with like. A black-and-white scan keeps a stroke's
outline and loses its grey levels, which carry the pen's pressure and the texture the
model reads to tell a skilled forgery (MODEL_CARD, "Limits"); a questioned signature
scanned one way and the references the other are compared on less than the model was
measured on. The score is still given, with the reason it deserves less trust and what
to do about it. (`model.quality` says how each capture was scanned; references
enrolled before it recorded that carry no such note and are left out of the comparison.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CAUTIONS = {
    "questioned_bilevel": (
        "The questioned signature was scanned in black and white, the references in "
        "greyscale: pen pressure cannot be compared, so trust the score less. Rescan "
        "the signature in greyscale if you can."
    ),
    "references_bilevel": (
        "The references were scanned in black and white, the questioned signature in "
        "greyscale: pen pressure cannot be compared, so trust the score less. New "
        "references scanned in greyscale would help."
    ),
}


def capture_cautions(
    questioned: dict[str, Any], references: Iterable[dict[str, Any]]
) -> tuple[str, ...]:
    """Caution codes (keys of CAUTIONS) for a questioned capture's quality report against
    its references' reports: only when every reference that says how it was scanned
    was scanned the other way."""
    tones = questioned.get("ink_tones")
    known = _known_tones(references)
    if not tones or len(known) != 1 or tones in known:
        return ()
    return ("questioned_bilevel",) if tones == "bilevel" else ("references_bilevel",)


def caution_messages(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(CAUTIONS[code] for code in codes)


def mixed_tones_warning(references: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """A warning for a customer whose references (their quality reports) were scanned
    some one way and some the other: pen pressure then compares with only some of them,
    and no questioned signature can match them all in kind."""
    if len(_known_tones(references)) < 2:
        return ()
    return (
        "Some of the customer's references were scanned in black and white and some in "
        "greyscale; pen pressure compares only between greyscale scans, so scan every "
        "reference in greyscale.",
    )


def _known_tones(reports: Iterable[dict[str, Any]]) -> set[str]:
    """How the captures of these quality reports were scanned, where they say."""
    return {q.get("ink_tones") for q in reports} - {None, ""}
