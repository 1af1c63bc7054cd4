"""`sigverify enroll CUSTOMER_ID IMAGE...`: enrol a new customer's reference signatures."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "enroll",
        help="enrol a customer with reference signatures",
        description=(
            "Check each signature's quality, check that they look alike, and store them "
            "as the customer's references (5 to 9 are recommended)."
        ),
    )
    p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
    p.add_argument("images", metavar="IMAGE", nargs="+", type=file_path, help="signature scans")
    p.add_argument("--name", default="", help="the customer's name")
    p.add_argument("--notes", default="", help="free text kept with the customer")
    p.add_argument(
        "--force",
        action="store_true",
        help="enrol even when a signature looks unlike the others, or is another customer's image",
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.enrol import enrol_customer

    verifier = verifier_from(args)
    with open_store_from(args, creates=True) as store:
        result = enrol_customer(
            store,
            verifier,
            args.customer_id,
            args.images,
            name=args.name,
            notes=args.notes,
            force=args.force,
            operator=operator_of(args),
        )
    emit(args, result.to_dict(), human_summary(result))
    return 0


def human_summary(result) -> str:
    ids = ", ".join(str(i) for i in result.reference_ids)
    return with_checks(
        f"Enrolled customer {result.customer_id} with {len(result.reference_ids)} "
        f"reference signature(s) (ids {ids}).",
        result,
    )


def with_checks(first: str, result) -> str:
    """`first`, then each new reference's consistency score and the warnings of an
    `EnrolmentResult` (enrolling, adding or replacing references)."""
    lines = [first]
    for c in result.consistency:
        flag = "  <- unlike the others (forced)" if c.outlier else ""
        lines.append(f"  {c.source}: {c.score:.2f} against the others{flag}")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
