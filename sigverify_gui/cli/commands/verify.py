"""`sigverify verify CUSTOMER_ID IMAGE`: compare a signature with a customer's references."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify a signature against a customer's references",
        description=(
            "Score a questioned signature against the customer's active references and "
            "decide accept / refer / reject by the thresholds in force; the attempt is "
            "recorded in the audit trail. With --page, the signature is first found on "
            "a whole cheque or form; when it cannot be found with confidence, nothing is "
            "verified or recorded (mark it with --box). An unreadable or blank page, or "
            "one without a signature, is recorded as a failed attempt with "
            "--record-failure, as an unusable IMAGE is."
        ),
    )
    p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
    p.add_argument(
        "image", metavar="IMAGE", type=file_path, nargs="?", help="the questioned signature"
    )
    p.add_argument(
        "--page",
        metavar="PAGE_IMAGE",
        type=file_path,
        help="a whole cheque or form instead of IMAGE: the signature is found on it first",
    )
    # The same names and meanings as `extract`'s options.
    p.add_argument(
        "--page-number",
        type=positive_int,
        metavar="N",
        help="with --page: the page of a PDF/TIFF, from 1 (1)",
    )
    p.add_argument(
        "--box",
        metavar="X,Y,W,H",
        help="with --page: the signature's box on the page (pixels), instead of searching",
    )
    p.add_argument(
        "--record-failure",
        action="store_true",
        help=(
            "record a failed attempt (unknown customer, unusable image or page) in the audit trail"
        ),
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.errors import SigverifyError
    from sigverify_gui.services.cautions import caution_messages
    from sigverify_gui.services.thresholds import shown_score
    from sigverify_gui.services.verify import verify_signature

    if (args.image is None) == (args.page is None):
        raise SigverifyError("Give either a signature IMAGE or a whole page with --page.")
    if args.page is None and (args.box is not None or args.page_number is not None):
        raise SigverifyError("--box and --page-number go with --page (a whole cheque or form).")
    # The page is read before the store opens: a page whose signature is not found
    # with confidence is refused without touching the audit trail; an unusable one
    # is recorded only with --record-failure (`_signature_on`).
    questioned, found, found_text = (
        (args.image, {}, "") if args.page is None else _signature_on(args)
    )
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
        f"{result.decision.upper()}: score "
        f"{shown_score(result.score, result.decision, t.t_accept, t.t_reject)} for customer "
        f"{result.customer_id} (accept at {t.t_accept:.3f} or above, reject below "
        f"{t.t_reject:.3f}; "
        f"{t.whose} thresholds).\n"
        f"Closest reference: {result.closest_reference_id}. "
        f"Recorded as verification {result.verification_id}."
    )
    for caution in caution_messages(result.cautions):
        human += f"\nCaution: {caution}"
    if t.set_for_another:  # a branch that set stricter ones must not go on unaware
        human += (
            "\nNote: the branch's own thresholds were set for another model or calibration "
            "and do not apply; set them again (`sigverify thresholds --set`)."
        )
    emit(args, result.to_dict() | found, human + found_text)
    return 0


def _signature_on(args):
    """The signature cut from the page given with --page (as `extract` cuts it), with
    what to report of where it was: (capture, JSON fields, text)."""
    from dataclasses import replace

    from model.errors import SigverifyError
    from model.zone import CONFIDENT
    from sigverify_gui.cli.commands.extract import page_fields, parse_box, turned_clause
    from sigverify_gui.services.captures import load_page, signature_on_page

    given = parse_box(args.box) if args.box else None  # a bad box before reading the page
    try:
        page = load_page(args.page, args.page_number or 1)
        capture, zone = signature_on_page(page, box=given)
    except SigverifyError as err:  # unreadable, blank, no signature on it
        if args.record_failure:
            _record_failed_page(args, err)
        raise
    capture = replace(capture, source=f"{page.capture.source} (signature zone)")
    where = f"page {page.number} of {page.count}" if page.count > 1 else "the page"
    data = page_fields(given, zone)
    if zone is None:
        data["zone_confidence"] = None
        return capture, data, f"\nSignature taken from the box x, y, w, h = {given} on {where}."
    if zone.confidence < CONFIDENT:
        raise SigverifyError(
            f"The signature on {where} could not be found with confidence "
            f"({zone.confidence:.2f}); mark it with --box X,Y,W,H or turn the page."
        )
    data["zone_confidence"] = round(zone.confidence, 3)
    text = f"\nSignature found on {where} at x, y, w, h = {tuple(zone.box)}"
    return capture, data, text + turned_clause(zone) + "."


def _record_failed_page(args, err) -> None:
    """--record-failure for a page no signature could be cut from: the row an unusable
    IMAGE gets (`verify_signature`), with the page when it could be read."""
    from sigverify_gui.services.verify import record_failed_verification

    with open_store_from(args) as store:
        verifier = verifier_from(args)
        record_failed_verification(
            store, verifier, args.customer_id, args.page, err, operator_of(args)
        )
