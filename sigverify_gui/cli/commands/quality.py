"""`sigverify quality IMAGE`: is this scan good enough to verify, and if not, why.

It reports and never refuses: the exit status is 0 whether the capture passes or
not (2 only when the file cannot be read), so scripts read the verdict from `ok`.
"""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, emit, file_path, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "quality",
        help="check a scanned signature before using it",
        description=(
            "Check that an image holds one clear, whole signature at a usable size and "
            "resolution, and say how to rescan when it does not."
        ),
    )
    p.add_argument("image", metavar="IMAGE", type=file_path, help="image or PDF file")
    p.add_argument(
        "--page", type=positive_int, default=1, metavar="N", help="page of a PDF or TIFF (from 1)"
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.imageio import load_image
    from model.quality import check_quality

    loaded = load_image(args.image, page=args.page - 1)
    report = check_quality(loaded.gray, loaded.dpi)
    data = report.to_dict() | {"file": str(args.image), "page": args.page}
    data["pages"] = loaded.page_count
    human = "OK" if report.ok else "\n".join(report.messages)
    if loaded.page_count > 1:  # --page chose one; say which, and that there are others
        human = f"Page {args.page} of {loaded.page_count}: {human}"
    if report.ink_tones == "bilevel":
        human += "\nScanned in black and white: greyscale keeps the pen's pressure."
    emit(args, data, human)
    return 0
