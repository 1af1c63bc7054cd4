"""`sigverify import FILE.zip`: add an export's customers, references and audit rows."""

from __future__ import annotations

from model.progress import TerminalProgress
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
        "import",
        help="import a zip file written by 'sigverify export' (all or nothing)",
        description=(
            "Import customers, references and audit rows from an export. Nothing is "
            "changed if the file is damaged, holds customers already enrolled "
            "(unless --replace), holds a new customer number that differs only in "
            "letter case from another customer's, or holds the very image of another "
            "customer's reference (unless --force). The file's embeddings are not "
            "trusted: each reference is embedded again from its image with the model "
            "(a few milliseconds each, while the store waits), and an embedding that "
            "its image does not give means the file was altered."
        ),
    )
    p.add_argument("file", metavar="FILE.zip", type=file_path, help="the export file")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace customers that are already enrolled, with their references",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="import references that are the very image of another customer's (one "
        "person holding both customer numbers)",
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.exchange import import_zip

    with open_store_from(args, creates=True) as store:  # first: a wrong --db fails fast
        summary = import_zip(
            store,
            args.file,
            verifier_from(args),
            replace=args.replace,
            force=args.force,
            operator=operator_of(args),
            progress=TerminalProgress("importing"),
        )
    human = (
        f"Imported {summary.customers} customer(s), {summary.references} reference(s) and "
        f"{summary.audit_rows} audit row(s)"
        + (f"; replaced {len(summary.replaced)} existing customer(s)" if summary.replaced else "")
        + "."
        + "".join(f"\n{notice}" for notice in summary.notices)
    )
    emit(args, summary.to_dict(), human)
    return 0
