"""`sigverify scan -o OUT.png`: take one grey scan from a scanner and save it as PNG.

Without `--device` it uses the first scanner `sigverify devices` lists. Ctrl-C
cancels the scan cleanly (the scanner is told to stop) rather than killing it midway.
"""

from __future__ import annotations

import signal
import threading

from model.errors import SigverifyError
from sigverify_gui.cli.output import add_json_flag, check_png_target, emit, file_path, write_file


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan",
        help="scan a signature in grey and save it as PNG",
        description="Scan in grey from a scanner and write the image as a PNG file.",
    )
    p.add_argument("--device", metavar="ID", help="scanner id from 'sigverify devices'")
    p.add_argument("--dpi", type=int, default=300, help="resolution (default: 300)")
    p.add_argument(
        "--area",
        metavar="X,Y,W,H",
        help="part of the glass to scan, in millimetres from its top-left corner",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a further scanner setting by its SANE name (repeatable); not the resolution "
        "(--dpi), mode, depth or area, which the scan sets itself",
    )
    p.add_argument(
        "-o", "--out", required=True, type=file_path, metavar="OUT.png", help="PNG file to write"
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.imageio import encode_png
    from sigverify_gui.services.capture import ScanArea, ScanSettings, open_scanner

    check_png_target(args.out)  # before the scan, which can take a minute
    settings = ScanSettings(
        dpi=args.dpi,
        area=ScanArea.parse(args.area) if args.area else None,
        options=dict(_parse_option(o) for o in args.option),
    )
    source = open_scanner(args.device, settings)
    capture = _capture_with_ctrl_c(source)
    write_file(args.out, encode_png(capture.gray, dpi=capture.dpi))
    device = getattr(source, "device_id", args.device)  # the one chosen when none given
    height, width = capture.gray.shape
    data = {"out": str(args.out), "device": device, "dpi": capture.dpi, "shape": [height, width]}
    dpi_text = f"{capture.dpi:g} dpi" if capture.dpi else "unknown dpi"
    emit(args, data, f"wrote {args.out} ({width}x{height}, {dpi_text}) from {source.description}")
    return 0


def _capture_with_ctrl_c(source):
    """Scan with Ctrl-C setting a cancel event, which the source honours at a safe
    point (the scanner is told to stop), instead of raising in the middle of the scan."""
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return source.capture(cancel)
    previous = signal.signal(signal.SIGINT, lambda _sig, _frame: cancel.set())
    try:
        return source.capture(cancel)
    finally:
        signal.signal(signal.SIGINT, previous)


def _parse_option(text: str) -> tuple[str, str | int | float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise SigverifyError(f"'{text}' is not a scanner setting; write it as NAME=VALUE.")
    for kind in (int, float):
        try:
            return name.strip(), kind(value)
        except ValueError:
            continue
    return name.strip(), value
