"""`sigverify devices`: the scanners this computer can use, with the ids `scan` takes."""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "devices",
        help="list the scanners this computer can use",
        description=(
            "List the scanners of every scanner system on this computer (SANE on Linux, "
            "TWAIN and WIA on Windows) with the id to give 'sigverify scan --device'."
        ),
    )
    p.add_argument(
        "--local-only",
        action="store_true",
        help="skip network scanners (their discovery takes a few seconds)",
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.capture import available_backends, list_devices

    devices = list_devices(local_only=args.local_only)
    lines = [f"{d.id}\t{d.name}" + (f" ({d.type})" if d.type else "") for d in devices]
    if not devices:
        lines.append("No scanner found.")
        lines += [
            f"{status.name}: {status.reason}"
            for status in available_backends()
            if not status.available
        ]
    emit(args, [d.to_dict() for d in devices], "\n".join(lines))
    return 0
