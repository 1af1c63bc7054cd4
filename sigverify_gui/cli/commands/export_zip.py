"""`sigverify export FILE.zip`: customers, references (with images) and audit to one file."""

from __future__ import annotations

from model.errors import SigverifyError
from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_operator_option,
    open_store_from,
    operator_of,
)
from sigverify_gui.cli.output import add_json_flag, check_target, emit, file_path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write every customer, reference and audit row to a zip file"
    )
    p.add_argument("file", metavar="FILE.zip", type=file_path, help="the new export file")
    add_db_option(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.exchange import export_zip

    if args.file.suffix.lower() != ".zip":
        raise SigverifyError(f"'{args.file}' must be a .zip file: an export is a zip archive.")
    check_target(args.file)  # a missing folder in plain words, before reading the store
    with open_store_from(args) as store:
        summary = export_zip(store, args.file, operator=operator_of(args))
    human = (
        f"Exported {summary.customers} customer(s), {summary.references} reference(s) and "
        f"{summary.audit_rows} audit row(s) to {args.file}."
    )
    emit(args, summary.to_dict(), human)
    return 0
