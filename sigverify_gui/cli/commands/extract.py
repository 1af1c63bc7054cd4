"""`sigverify extract PAGE -o SIGNATURE.png`: find the signature on a cheque or form."""

from __future__ import annotations

from sigverify_gui.cli.output import (
    add_json_flag,
    check_png_target,
    emit,
    file_path,
    positive_int,
    whole_number,
    write_file,
)


def margin_pixels(text: str) -> int:
    """An argparse type: a margin within the one the service takes (its limit is
    looked up here, when parsing, so that `--help` does not load numpy)."""
    from sigverify_gui.services.captures import MAX_MARGIN

    return whole_number(0, MAX_MARGIN)(text)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "extract",
        help="find the handwritten signature on a whole cheque or form and save it",
        description=(
            "Find the signature zone on a scanned page (or take the box given with --box), "
            "cut it out with paper around it, turned upright when the page was fed "
            "sideways or upside down, and write it as PNG: the same pixels that "
            "verify --page and the GUI's cheque dialog use."
        ),
    )
    p.add_argument("page", metavar="PAGE", type=file_path, help="the scanned page")
    p.add_argument("-o", "--out", required=True, type=file_path, metavar="SIGNATURE.png")
    p.add_argument("--box", metavar="X,Y,W,H", help="crop this box instead of searching")
    p.add_argument(
        "--margin",
        type=margin_pixels,
        metavar="PX",
        help=(
            "pixels of paper put around the signature (default: 8%% of its longer side, "
            "at least 12, as verify --page and the GUI use)"
        ),
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


def page_fields(given_box, zone) -> dict:
    """Where the signature was on the page, as `extract` and `verify --page` both report
    it: its `box` on the file as stored, and the clockwise `quarter_turns` that stood
    it upright (0 for a box given with --box: it is taken as it stands)."""
    box = zone.box if zone is not None else given_box
    return {"box": list(box), "quarter_turns": zone.quarter_turns if zone is not None else 0}


def turned_clause(zone) -> str:
    """The clause "; the page was turned … to read it" when the search turned the page
    (both commands' words, `turn_in_words`), else ""."""
    from model.zone_orientation import turn_in_words

    if zone is None or not zone.quarter_turns:
        return ""
    return f"; the page was {turn_in_words(zone.quarter_turns)} to read it"


def run(args) -> int:
    from model.imageio import encode_png
    from model.quality import check_quality
    from model.zone import CONFIDENT
    from sigverify_gui.services.captures import load_page, signature_on_page

    check_png_target(args.out, reads=[args.page])
    given = parse_box(args.box) if args.box else None  # a bad box before reading the page
    page = load_page(args.page, args.page_number)
    # The cut every path uses (verify --page, the GUI): the same page, the same pixels.
    signature, zone = signature_on_page(page, box=given, margin=args.margin)
    write_file(args.out, encode_png(signature.gray, dpi=page.capture.dpi))
    data = page_fields(given, zone)
    data["confidence"] = zone.confidence if zone is not None else None
    data["out"] = str(args.out)
    # The cut is written as asked; whether it would pass as a signature is said beside
    # it (a page of noise, or print, can give a confident zone that verify refuses).
    quality = check_quality(signature.gray, page.capture.dpi)
    data["usable"] = quality.ok
    data["quality_problems"] = list(quality.problems)
    found = "found" if zone is not None else "cropped"
    human = (
        f"Signature {found} at x, y, w, h = {tuple(data['box'])}{turned_clause(zone)}; "
        f"written to {args.out}."
    )
    if not quality.ok:
        human += "\nNot usable as it stands (verify would refuse it): " + " ".join(quality.messages)
    # Unsure of its box, the search may have cut out a logo or a printed line: said, as
    # `verify --page` refuses it and the app's cheque dialog asks for a look.
    data["confident"] = zone is None or zone.confidence >= CONFIDENT
    if not data["confident"]:
        human += (
            f"\nUnsure: the search is only {zone.confidence:.0%} confident of this box "
            f"(verify --page needs {CONFIDENT:.0%}); look at the cut, or give --box."
        )
    emit(args, data, human)
    return 0
