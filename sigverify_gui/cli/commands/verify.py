"""`sigverify verify CUSTOMER_ID IMAGE`: compare a signature with a customer's references."""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify a signature against a customer's references",
        description=(
            "Score a questioned signature against the customer's active references and "
            "decide accept / refer / reject by the thresholds in force; the attempt is "
            "recorded in the audit trail."
        ),
    )
    p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
    p.add_argument("image", metavar="IMAGE", type=Path, nargs="?", help="the questioned signature")
    p.add_argument(
        "--page",
        metavar="PAGE_IMAGE",
        type=Path,
        help="a whole cheque or form instead of IMAGE: the signature is found on it first",
    )
    p.add_argument(
        "--record-failure",
        action="store_true",
        help="record a failed attempt (unknown customer, unusable image) in the audit trail",
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.errors import SigverifyError
    from sigverify_gui.services.verify import verify_signature

    if (args.image is None) == (args.page is None):
        raise SigverifyError("Give either a signature IMAGE or a whole page with --page.")
    questioned, zone = (args.image, None) if args.page is None else _signature_on(args.page)
    with open_store_from(args) as store:  # first: a wrong --db fails before the model loads
        verifier = verifier_from(args)
        result = verify_signature(
            store,
            verifier,
            args.customer_id,
            questioned,
            operator=operator_of(args),
            record_failure=args.record_failure,
        )
    t = result.thresholds
    human = (
        f"{result.decision.upper()}: score {result.score:.3f} for customer {result.customer_id} "
        f"(accept at {t.t_accept:.2f} or above, reject below {t.t_reject:.2f}; "
        f"thresholds from the {t.source}).\n"
        f"Closest reference: {result.closest_reference_id}. "
        f"Recorded as verification {result.verification_id}."
    )
    data = result.to_dict()
    if zone is not None:
        data |= {"box": list(zone.box), "zone_confidence": round(zone.confidence, 3)}
        human += f"\nSignature found on the page at x, y, w, h = {tuple(zone.box)}."
    emit(args, data, human)
    return 0


def _signature_on(page_path: Path):
    """Find the signature on a whole page; returns (the isolated signature, the zone)."""
    from dataclasses import replace

    from model.imageio import load_image
    from sigverify_gui.services.captures import signature_from_page

    page = load_image(page_path)
    capture, zone = signature_from_page(page.gray, dpi=page.dpi)
    return replace(capture, source=f"{page_path.name} (signature zone)"), zone
