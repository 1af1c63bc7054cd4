"""`sigverify add-references`, `retire-reference`, `replace-reference`: change an
enrolled customer's reference signatures, each change checked and audited by the
enrolment service."""

from __future__ import annotations

from sigverify_gui.cli.commands.enroll import with_checks
from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path, positive_int

FORCE_HELP = (
    "store it even when a signature looks unlike the customer's other references, or is "
    "another customer's image"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "add-references",
        help="add reference signatures to an enrolled customer",
        description=(
            "Check each signature's quality and that it looks like the customer's active "
            "references, then add them all (or none)."
        ),
    )
    p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
    p.add_argument("images", metavar="IMAGE", nargs="+", type=file_path, help="signature scans")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    _common(p, model=True)
    p.set_defaults(func=run_add)

    p = subparsers.add_parser(
        "retire-reference",
        help="retire (deactivate) one reference signature",
        description=(
            "Stop using a reference signature for verification; it stays stored for the "
            "record. REFERENCE_ID is the id `sigverify show --json` gives."
        ),
    )
    p.add_argument("reference_id", metavar="REFERENCE_ID", type=positive_int)
    p.add_argument("--reason", required=True, help="why, for the audit trail")
    _common(p, model=False)
    p.set_defaults(func=run_retire)

    p = subparsers.add_parser(
        "replace-reference",
        help="replace one reference signature with a new capture",
        description=(
            "Check the new signature like an added one, then retire the old reference and "
            "store the new one in a single step."
        ),
    )
    p.add_argument("reference_id", metavar="REFERENCE_ID", type=positive_int)
    p.add_argument("image", metavar="IMAGE", type=file_path, help="the new signature scan")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    _common(p, model=True)
    p.set_defaults(func=run_replace)


def _common(p, *, model: bool) -> None:
    add_db_option(p)
    if model:
        add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)


def run_add(args) -> int:
    from sigverify_gui.services.enrol import add_references

    with open_store_from(args) as store:
        verifier = verifier_from(args)
        result = add_references(
            store,
            verifier,
            args.customer_id,
            args.images,
            force=args.force,
            operator=operator_of(args),
        )
    ids = ", ".join(str(i) for i in result.reference_ids)
    emit(
        args,
        result.to_dict(),
        with_checks(
            f"Added {len(result.reference_ids)} reference signature(s) to customer "
            f"{result.customer_id} (ids {ids}).",
            result,
        ),
    )
    return 0


def run_retire(args) -> int:
    from sigverify_gui.services.enrol import deactivate_reference
    from sigverify_gui.store import records

    with open_store_from(args) as store:
        ref = records.get_reference(store.db, args.reference_id)
        warnings = deactivate_reference(
            store, args.reference_id, operator=operator_of(args), reason=args.reason
        )
    data = {
        "reference_id": args.reference_id,
        "customer_id": ref.customer_id if ref else None,
        "warnings": list(warnings),
    }
    lines = [f"Retired reference signature {args.reference_id} of customer {data['customer_id']}."]
    lines += [f"warning: {w}" for w in warnings]
    emit(args, data, "\n".join(lines))
    return 0


def run_replace(args) -> int:
    from sigverify_gui.services.enrol import replace_reference

    with open_store_from(args) as store:
        verifier = verifier_from(args)
        result = replace_reference(
            store,
            verifier,
            args.reference_id,
            args.image,
            force=args.force,
            operator=operator_of(args),
        )
    data = {"replaced": args.reference_id, **result.to_dict()}
    emit(
        args,
        data,
        with_checks(
            f"Replaced reference signature {args.reference_id} of customer "
            f"{result.customer_id} with {result.reference_ids[0]}.",
            result,
        ),
    )
    return 0
