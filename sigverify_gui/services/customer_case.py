"""Customer numbers that differ only in letter case, such as "AB123" and "ab123".

Numbers are stored and looked up exactly as enrolled: a store may already hold both
forms as two customers, and those stay reachable, each under its own number. But a
new number that differs from an enrolled one only in case is refused (a teller who
types the other case would open a second account for the same person), and a number
that is not enrolled gets "Did you mean AB123?" when its other-case form is.

"Letter case" is ASCII letter case: what the store's one-query lookup folds
(`records.customers_equal_ignoring_case`), and `fold_case` folds the same way.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from sigverify_gui.services.enrol_checks import (
    MAX_CUSTOMER_ID_LENGTH,
    customer_key,
    stored_customer_id,
)
from sigverify_gui.services.errors import EnrolmentError, UnknownCustomerError
from sigverify_gui.store import records

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_case(customer_id: str) -> str:
    """The number with ASCII letters in lower case, as SQLite's NOCASE compares it."""
    return customer_id.translate(_ASCII_LOWER)


def as_recorded(customer_id: str) -> str:
    """A number no customer can have (longer than any enrolled) cut to that length, for
    messages and the audit trail: a pasted page of text had gone into the trail, which
    keeps every row for good, and into a message of 100,000 characters."""
    if len(customer_id) <= MAX_CUSTOMER_ID_LENGTH:
        return customer_id
    return customer_id[:MAX_CUSTOMER_ID_LENGTH] + "…"


def case_variants(db, customer_id: str) -> list[str]:
    """Enrolled numbers that differ from `customer_id` only in letter case."""
    found = records.customers_equal_ignoring_case(db, [customer_id])
    return [cid for cid in found if cid != customer_id]


def unknown_customer(db, customer_id: str) -> UnknownCustomerError:
    """The error for a number that is not enrolled; it suggests the enrolled numbers
    that differ only in case, the likeliest typing slip."""
    if not customer_id.strip():  # else "No customer with number  is enrolled."
        return UnknownCustomerError("No customer number was given.")
    message = f"No customer with number {as_recorded(customer_id)} is enrolled."
    variants = case_variants(db, customer_id)
    if variants:
        message += f" Did you mean {' or '.join(variants)}?"
    return UnknownCustomerError(message)


def refuse_case_variant(db, customer_id: str) -> None:
    """Refuse to enrol `customer_id` when an enrolled number differs only in case."""
    variants = case_variants(db, customer_id)
    if variants:
        named = " or ".join(variants)
        raise EnrolmentError(
            f"Customer number {customer_id} differs only in letter case from the enrolled "
            f"customer {named}; use {named}, or choose a distinct number."
        )


def new_number_problem(db, typed: str) -> str:
    """Why `typed` cannot be enrolled as a new customer ("" when it can, as far as the
    number goes): for the enrolment form to say while the teller types, before any
    signature is checked. Enrolment itself refuses the same numbers."""
    cid = stored_customer_id(db, typed)
    if not cid:
        return ""
    if records.get_customer(db, cid) is not None:
        return (
            f"Customer {cid} is already enrolled: select them in the customer list to add "
            "references."
        )
    variants = case_variants(db, cid)
    if variants:
        return (
            f"{cid} differs only in letter case from the enrolled customer {' or '.join(variants)}."
        )
    return ""


def case_conflicts(db, incoming: Sequence[str]) -> list[tuple[str, str]]:
    """(new number, the number it collides with) for each of `incoming` that is not
    enrolled yet and differs only in case, or in character width ("Ｗ０００１" and
    "W0001", which enrolment stores as one), from an enrolled number or another of
    `incoming`. Two numbers both enrolled already (by an older version) are no
    conflict: they are existing customers, not new ones.

    For an import, whose numbers are taken as the file has them: one stored before
    numbers were NFKC-normalised comes back as it was, yet must not become the
    twin of a customer enrolled since under the normalised form."""
    keys = {customer_key(cid) for cid in incoming}
    enrolled = set(records.customers_equal_ignoring_case(db, [*incoming, *keys]))
    by_form: dict[str, list[str]] = {}
    for cid in sorted(enrolled | set(incoming)):
        by_form.setdefault(_form(cid), []).append(cid)
    conflicts = []
    for cid in incoming:
        others = [other for other in by_form[_form(cid)] if other != cid]
        if cid not in enrolled and others:
            conflicts.append((cid, others[0]))
    return conflicts


def _form(customer_id: str) -> str:
    """What two numbers share when they differ only in case or character width."""
    return fold_case(customer_key(customer_id))
