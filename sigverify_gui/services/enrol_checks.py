"""The checks every enrolment makes before it writes anything.

Each capture must pass the quality check; the set must be consistent: each new
reference is scored by the verifier against all the others (new and existing), and
one that scores below the reject threshold, i.e. one the system would itself reject
as not this customer's (a mis-scan, another person's signature, a wrong file), is an
outlier, which blocks enrolment unless the teller forces it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.errors import ImageError
from model.progress import NullProgress, Progress
from sigverify_gui.services.captures import ImageInput, PreparedCapture, describe, prepare
from sigverify_gui.services.errors import ConsistencyError, EnrolmentError, QualityError
from sigverify_gui.services.verifier_protocol import VerifierLike

RECOMMENDED_REFERENCES = (3, 9)
MAX_CUSTOMER_ID_LENGTH = 64


@dataclass(frozen=True)
class ConsistencyScore:
    index: int  # position among the new captures, from 0
    source: str
    score: float  # the verifier's score of this capture against all the others
    outlier: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "source": self.source,
            "score": self.score,
            "outlier": self.outlier,
        }


def normalise_customer_id(customer_id: str) -> str:
    """The account number as stored: trimmed; refused when empty, too long or unprintable."""
    cid = str(customer_id).strip()
    if not cid:
        raise EnrolmentError("The customer number is empty.")
    if len(cid) > MAX_CUSTOMER_ID_LENGTH:
        raise EnrolmentError(
            f"The customer number is longer than {MAX_CUSTOMER_ID_LENGTH} characters."
        )
    if any(unicodedata.category(ch).startswith("C") for ch in cid):
        raise EnrolmentError("The customer number contains characters that cannot be printed.")
    return cid


def prepare_all(
    images: Sequence[ImageInput], progress: Progress | None = None
) -> list[PreparedCapture]:
    """Check and preprocess every capture; the first bad one raises, naming the file."""
    progress = progress or NullProgress()
    prepared = []
    for i, image in enumerate(images):
        progress.update(i, len(images), describe(image))
        try:
            prepared.append(prepare(image))
        except QualityError as err:
            raise EnrolmentError(f"Cannot enrol {err}") from err
        except ImageError as err:
            raise EnrolmentError(f"Cannot enrol '{describe(image)}': {err}") from err
    progress.update(len(images), len(images), "")
    return prepared


def check_consistency(
    verifier: VerifierLike,
    embeddings: np.ndarray,
    sources: Sequence[str],
    t_reject: float,
    existing: np.ndarray | None = None,
) -> tuple[ConsistencyScore, ...]:
    """Score each new embedding against all the others (new and existing).

    With a single capture and no existing references there is nothing to compare,
    and the result is empty.
    """
    n = len(embeddings)
    others = existing if existing is not None else np.zeros((0, embeddings.shape[1]), np.float32)
    results = []
    for i in range(n):
        pool = np.concatenate([np.delete(embeddings, i, axis=0), others], axis=0)
        if len(pool) == 0:
            return ()
        score = float(verifier.score(pool, embeddings[i]))
        results.append(ConsistencyScore(i, sources[i], score, score < t_reject))
    return tuple(results)


def raise_if_outliers(consistency: tuple[ConsistencyScore, ...], t_reject: float) -> None:
    outliers = tuple(c for c in consistency if c.outlier)
    if not outliers:
        return
    named = "; ".join(f"'{c.source}' (#{c.index + 1}) scored {c.score:.2f}" for c in outliers)
    raise ConsistencyError(
        f"Some signatures do not match the others (below {t_reject:.2f}): {named}. "
        "Replace them, or enrol anyway with force.",
        outliers=outliers,
    )


def count_warning(total: int) -> tuple[str, ...]:
    low, high = RECOMMENDED_REFERENCES
    if low <= total <= high:
        return ()
    return (
        f"The customer has {total} reference signature{'s' if total != 1 else ''}; "
        f"{low} to {high} are recommended for reliable verification.",
    )
