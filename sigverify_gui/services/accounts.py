"""Closing and reopening a customer's account, each with its audit row.

A closed account keeps its customer and references for the record, but its
signatures are no longer verified (`services.verify` refuses them). The status
change and its audit row are written in one transaction: a failure leaves neither.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from model.errors import SigverifyError
from sigverify_gui.services.customer_case import unknown_customer
from sigverify_gui.services.enrol_checks import stored_customer_id
from sigverify_gui.services.typed_text import MAX_REASON_LENGTH, one_line
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store

__all__ = [
    "ACCOUNT_CLOSED",
    "ACCOUNT_REOPENED",
    "AccountError",
    "AccountStatusChange",
    "close_account",
    "reopen_account",
]

log = logging.getLogger("sigverify.services.accounts")

# Audit kinds of the two changes (the reason and the previous status are in `detail`).
ACCOUNT_CLOSED = "account_closed"
ACCOUNT_REOPENED = "account_reopened"


class AccountError(SigverifyError):
    """The account cannot change status as asked (already closed, no reason...)."""


@dataclass(frozen=True)
class AccountStatusChange:
    customer_id: str
    status: str  # the new status
    previous: str
    audit_id: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "status": self.status,
            "previous": self.previous,
            "audit_id": self.audit_id,
        }


def close_account(
    store: Store, customer_id: str, *, reason: str, operator: str = ""
) -> AccountStatusChange:
    """Close an active account; its signatures are then no longer verified."""
    return _set_status(store, customer_id, "closed", ACCOUNT_CLOSED, reason, operator)


def reopen_account(
    store: Store, customer_id: str, *, reason: str, operator: str = ""
) -> AccountStatusChange:
    """Reopen a closed account, with its references as they were."""
    return _set_status(store, customer_id, "active", ACCOUNT_REOPENED, reason, operator)


def required_reason(reason: str | None, to_do: str) -> str:
    """The reason for a change, on one line; refused when blank, since it is what the
    audit trail keeps of why (`to_do`: "close an account", "retire a reference")."""
    reason = one_line(reason, "reason", MAX_REASON_LENGTH)
    if not reason:
        raise AccountError(f"Give a reason to {to_do}; it goes into the audit trail.")
    return reason


def _set_status(
    store: Store, customer_id: str, status: str, kind: str, reason: str, operator: str
) -> AccountStatusChange:
    reason = required_reason(
        reason, "close an account" if status == "closed" else "reopen an account"
    )
    with store.write() as db:
        cid = stored_customer_id(db, customer_id)
        customer = records.get_customer(db, cid)
        if customer is None:
            raise unknown_customer(db, cid)
        if customer.status == status:
            state = "closed" if status == "closed" else "open"
            raise AccountError(f"The account of customer {cid} is already {state}.")
        records.set_customer_status(db, cid, status)
        audit_id = audit.append(
            db,
            kind,
            operator,
            customer_id=cid,
            detail=json.dumps(
                {"previous": customer.status, "reason": reason, "status": status},
                sort_keys=True,
            ),
        )
    log.info("account %s: %s -> %s", cid, customer.status, status)
    return AccountStatusChange(cid, status, customer.status, audit_id)
