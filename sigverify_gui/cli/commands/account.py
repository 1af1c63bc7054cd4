"""`sigverify close-account` and `reopen-account`: a customer's account status, audited."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_operator_option,
    open_store_from,
    operator_of,
)
from sigverify_gui.cli.output import add_json_flag, emit


def register(subparsers) -> None:
    for name, func, help_text, description in (
        (
            "close-account",
            run_close,
            "close a customer's account (its signatures are no longer verified)",
            "Mark the account closed; the customer and the references stay stored for "
            "the record, but verifying a signature of theirs is refused.",
        ),
        (
            "reopen-account",
            run_reopen,
            "reopen a closed account",
            "Mark a closed account active again, with its references as they were.",
        ),
    ):
        p = subparsers.add_parser(name, help=help_text, description=description)
        p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
        p.add_argument("--reason", required=True, help="why, for the audit trail")
        add_db_option(p)
        add_operator_option(p)
        add_json_flag(p)
        p.set_defaults(func=func)


def run_close(args) -> int:
    from sigverify_gui.services.accounts import close_account

    return _run(args, close_account, "Closed")


def run_reopen(args) -> int:
    from sigverify_gui.services.accounts import reopen_account

    return _run(args, reopen_account, "Reopened")


def _run(args, change, done: str) -> int:
    with open_store_from(args) as store:
        result = change(store, args.customer_id, reason=args.reason, operator=operator_of(args))
    emit(args, result.to_dict(), f"{done} the account of customer {result.customer_id}.")
    return 0
