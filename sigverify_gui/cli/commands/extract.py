"""`sigverify extract PAGE -o SIGNATURE.png`: find the signature on a cheque or form."""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.cli.output import add_json_flag, emit


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
    p.add_argument("--margin", type=int, default=12, metavar="PX", help="paper kept around the ink")
    p.add_argument("--page-number", type=int, default=1, metavar="N", help="page of a PDF/TIFF")
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
    from model.zone import crop_box, find_signature

    if args.margin < 0:
        raise SigverifyError("--margin cannot be negative.")
    page = load_image(args.page, page=args.page_number - 1)
    if args.box:
        box, confidence = parse_box(args.box), None
    else:
        zone = find_signature(page.gray, dpi=page.dpi)
        box, confidence = zone.box, zone.confidence
    crop = crop_box(page.gray, box, margin=args.margin)
    try:
        args.out.write_bytes(encode_png(crop, dpi=page.dpi))
    except OSError as err:
        raise SigverifyError(f"Could not write {args.out}: {err.strerror or err}.") from err
    data = {"box": list(box), "confidence": confidence, "out": str(args.out)}
    found = "found" if confidence is not None else "cropped"
    emit(args, data, f"Signature {found} at x, y, w, h = {tuple(box)}; written to {args.out}.")
    return 0
