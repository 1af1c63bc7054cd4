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
from sigverify_gui.services.enrol_groups import reference_groups, strays
from sigverify_gui.services.errors import ConsistencyError, EnrolmentError, QualityError
from sigverify_gui.services.verifier_protocol import VerifierLike

# Fewer than five cost accuracy and stop more genuine enrolments: on the writers the
# shipped model was not trained on, three references instead of five raised skilled EER
# by 1.1-1.5 points, and twice as many sets of genuine signatures were stopped as
# having an outlier (MODEL_CARD, "Thresholds").
RECOMMENDED_REFERENCES = (5, 9)
MAX_CUSTOMER_ID_LENGTH = 64


@dataclass(frozen=True)
class ConsistencyScore:
    index: int  # position among the new captures, from 0
    source: str
    score: float  # the verifier's score of this capture against all the others
    outlier: bool  # scored below the reject threshold, or `apart`
    apart: bool = False  # in a group of its own that matches none of the rest (enrol_groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "source": self.source,
            "score": self.score,
            "outlier": self.outlier,
            "apart": self.apart,
        }


def customer_key(customer_id: str) -> str:
    """A customer number as typed, in the form it is stored and looked up under.

    Trimmed, and NFKC-normalised: a number typed with full-width characters (an East
    Asian input method gives "ｗ０００１") is the same customer as "w0001", not a
    look-alike second one.
    """
    return unicodedata.normalize("NFKC", str(customer_id)).strip()


def stored_customer_id(db, customer_id: str) -> str:
    """The number a typed customer number is stored under (its `customer_key`).

    A customer enrolled before numbers were NFKC-normalised may be stored under the
    raw form, so that is tried when the normalised one is not enrolled: such a
    customer stays reachable. Returns the key when neither is enrolled.
    """
    from sigverify_gui.store import records

    key = customer_key(customer_id)
    raw = str(customer_id).strip()
    if raw != key and records.get_customer(db, key) is None and records.get_customer(db, raw):
        return raw
    return key


def normalise_customer_id(customer_id: str) -> str:
    """The account number as stored (`customer_key`); refused when empty, too long or
    unprintable."""
    cid = customer_key(customer_id)
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
    images: Sequence[ImageInput],
    progress: Progress | None = None,
    doing: str = "enrol{file}",
) -> list[PreparedCapture]:
    """Check and preprocess every capture; the first bad one raises, saying what was
    being done ("Cannot enrol 'a.png': ...": `doing` with {file} in it, where the
    file's name goes unless the reason names it already)."""
    progress = progress or NullProgress()
    prepared = []
    for i, image in enumerate(images):
        progress.update(i, len(images), describe(image))
        try:
            prepared.append(prepare(image))
        except (QualityError, ImageError) as err:
            name = describe(image)
            file = f" '{name}'" if name not in str(err) else ""  # said once is enough
            wrapped = EnrolmentError(f"Cannot {doing.format(file=file)}: {err}")
            wrapped.cli_way = err.cli_way  # the command line's way out still holds
            wrapped.cli_ways = err.cli_ways
            raise wrapped from err
    progress.update(len(images), len(images), "")
    return prepared


def refuse_repeated_images(
    prepared: Sequence[PreparedCapture], existing_digests: Sequence[str] = ()
) -> None:
    """Refuse a capture that is the very image of another new or existing reference.

    The same file chosen twice adds no evidence of how the customer signs, yet it
    would pass the consistency check with a perfect score and narrow the customer's
    apparent variation. Compared by the SHA-256 of the capture as stored, so a copy of
    the file under another name is caught too, and of its canvas, so a copy saved
    another way is as well (`records.active_image_digests` gives both of existing ones).
    """
    seen = {digest: "an existing reference" for digest in existing_digests}
    for i, capture in enumerate(prepared):
        digests = (capture.image_sha256, capture.canvas_sha256)
        earlier = next((seen[d] for d in digests if d in seen), None)
        if earlier:
            raise EnrolmentError(
                f"'{capture.source}' (#{i + 1}) is the same image as {earlier}; "
                "each reference must be a separate signature."
            )
        seen.update(dict.fromkeys(digests, f"'{capture.source}' (#{i + 1})"))


def check_consistency(
    verifier: VerifierLike,
    embeddings: np.ndarray,
    sources: Sequence[str],
    t_reject: float,
    existing: np.ndarray | None = None,
) -> tuple[ConsistencyScore, ...]:
    """Score each new embedding against all the others (new and existing), and mark
    those that fall in a group apart from the customer's main one (`enrol_groups`).

    With a single capture and no existing references there is nothing to compare,
    and the result is empty.
    """
    n = len(embeddings)
    others = existing if existing is not None else np.zeros((0, embeddings.shape[1]), np.float32)
    if n == 0 or n + len(others) < 2:
        return ()
    everyone = np.concatenate([embeddings, others], axis=0)
    apart = strays(reference_groups(verifier, everyone), n)
    results = []
    for i in range(n):
        score = float(verifier.score(np.delete(everyone, i, axis=0), embeddings[i]))
        results.append(
            ConsistencyScore(i, sources[i], score, score < t_reject or i in apart, i in apart)
        )
    return tuple(results)


ENROL_REMEDY = "Replace them, or a supervisor may enrol them anyway"
ADD_REMEDY = "Replace them, or a supervisor may add them anyway"
REPLACE_REMEDY = "Scan it again, or a supervisor may make it the replacement anyway"


def raise_if_outliers(
    consistency: tuple[ConsistencyScore, ...], t_reject: float, remedy: str = ENROL_REMEDY
) -> None:
    outliers = tuple(c for c in consistency if c.outlier)
    if not outliers:
        return
    low = [f"'{c.source}' (#{c.index + 1}) scored {c.score:.2f}" for c in outliers if not c.apart]
    apart = [f"'{c.source}' (#{c.index + 1})" for c in outliers if c.apart]
    problems = []
    if low:
        problems.append(f"do not match the others (below {t_reject:.2f}): {'; '.join(low)}")
    if apart:
        problems.append(
            "form a group that matches none of the rest, as if two people had signed: "
            + ", ".join(apart)
        )
    why = " (for a customer who really signs in two ways)" if apart else ""
    raise ConsistencyError(
        f"Some signatures {'; and some '.join(problems)}. {remedy}{why}.",
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
