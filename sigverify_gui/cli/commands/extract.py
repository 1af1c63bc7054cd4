"""`sigverify extract PAGE -o SIGNATURE.png`: find the signature on a cheque or form."""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.cli.output import (
    add_json_flag,
    check_png_target,
    emit,
    non_negative_int,
    positive_int,
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "extract",
        help="find the handwritten signature on a whole cheque or form and save it",
        description=(
            "Find the signature zone on a scanned page (or crop the box given with --box) "
            "and write the crop as PNG."
        ),
    )
    p.add_argument("page", metavar="PAGE", type=Path, help="the scanned page")
    p.add_argument("-o", "--out", required=True, type=Path, metavar="SIGNATURE.png")
    p.add_argument("--box", metavar="X,Y,W,H", help="crop this box instead of searching")
    p.add_argument(
        "--margin",
        type=non_negative_int,
        default=12,
        metavar="PX",
        help="paper kept around the ink",
    )
    p.add_argument(
        "--page-number", type=positive_int, default=1, metavar="N", help="page of a PDF/TIFF"
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def parse_box(text: str) -> tuple[int, int, int, int]:
    from model.errors import SigverifyError

    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError as err:
        raise SigverifyError(f"--box must be four whole numbers X,Y,W,H, not {text!r}.") from err
    return x, y, w, h


def run(args) -> int:
    from model.errors import SigverifyError
    from model.imageio import encode_png, load_image
    from model.zone import crop_box, find_signature, upright_crop

    check_png_target(args.out)
    given = parse_box(args.box) if args.box else None  # a bad box before reading the page
    page = load_image(args.page, page=args.page_number - 1)
    if given is not None:
        box, confidence, turns = given, None, 0
        crop = crop_box(page.gray, box, margin=args.margin)
    else:
        zone = find_signature(page.gray, dpi=page.dpi)
        box, confidence, turns = zone.box, zone.confidence, zone.quarter_turns
        crop = upright_crop(page.gray, zone, margin=args.margin)  # a page fed sideways
    try:
        args.out.write_bytes(encode_png(crop, dpi=page.dpi))
    except OSError as err:
        raise SigverifyError(f"Could not write {args.out}: {err.strerror or err}.") from err
    data = {"box": list(box), "confidence": confidence, "quarter_turns": turns}
    data["out"] = str(args.out)
    found = "found" if confidence is not None else "cropped"
    turned = f", turned {90 * turns}° clockwise to stand upright" if turns else ""
    emit(
        args,
        data,
        f"Signature {found} at x, y, w, h = {tuple(box)}{turned}; written to {args.out}.",
    )
    return 0
