"""A new reference that is the very image of another customer's reference.

One scan enrolled under two customer numbers is either a mistake at the counter (the
wrong card picked up) or a way to let one person pass as another, so it is refused
unless a supervisor confirms it (force): the same person may hold a personal and a
business number. The store keeps each reference's SHA-256, indexed, so the look-up
reads no image. Closed accounts count too: their references are still theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sigverify_gui.services.captures import PreparedCapture
from sigverify_gui.services.errors import ConsistencyError
from sigverify_gui.store.db import Store
from sigverify_gui.store.schema import REFERENCES_TABLE


@dataclass(frozen=True)
class SharedImage:
    index: int  # the new capture's position
    source: str
    customer_id: str  # the other customer holding the same image
    reference_id: int

    def to_dict(self) -> dict[str, int | str]:  # what the audit keeps (no file name)
        return {
            "index": self.index,
            "customer_id": self.customer_id,
            "reference_id": self.reference_id,
        }

    def describe(self) -> str:
        return (
            f"'{self.source}' (#{self.index + 1}) is the same image as a reference of "
            f"customer {self.customer_id}"
        )


def shared_images(
    store: Store, customer_id: str, prepared: Sequence[PreparedCapture]
) -> tuple[SharedImage, ...]:
    """The new captures that are byte for byte an active reference of another customer."""
    positions: dict[str, list[int]] = {}
    for i, capture in enumerate(prepared):
        positions.setdefault(capture.image_sha256, []).append(i)
    if not positions:
        return ()
    marks = ", ".join("?" * len(positions))
    rows = store.db.execute(
        f"""SELECT image_sha256, customer_id, id FROM {REFERENCES_TABLE}
            WHERE active = 1 AND customer_id != ? AND image_sha256 IN ({marks})
            ORDER BY customer_id, id""",
        [customer_id, *positions],
    ).fetchall()
    found = [
        SharedImage(i, prepared[i].source, other, int(reference_id))
        for digest, other, reference_id in rows
        for i in positions[digest]
    ]
    return tuple(sorted(found, key=lambda s: (s.index, s.customer_id, s.reference_id)))


def check_shared_images(
    store: Store, customer_id: str, prepared: Sequence[PreparedCapture], force: bool
) -> tuple[SharedImage, ...]:
    """Refuse images another customer already holds, unless forced; what was found."""
    found = shared_images(store, customer_id, prepared)
    if found and not force:
        raise ConsistencyError(
            "; ".join(s.describe() for s in found)
            + ". Each customer's references must be their own signatures; a supervisor "
            "may enrol anyway when one person holds both customer numbers."
        )
    return found


def shared_warnings(found: Sequence[SharedImage]) -> tuple[str, ...]:
    return tuple(f"{s.describe()} (enrolled anyway by a supervisor)." for s in found)
