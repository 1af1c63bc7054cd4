"""`sigverify backup FILE`: a consistent copy of the store, safe while it is in use."""

from __future__ import annotations

from model.errors import SigverifyError
from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_operator_option,
    open_store_from,
    operator_of,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "backup",
        help="copy the signature store to a new file (safe while the app is running)",
    )
    p.add_argument("file", metavar="FILE", type=file_path, help="the new backup file")
    add_db_option(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.file.suffix.lower() == ".zip":  # it would be a store that import cannot read
        raise SigverifyError(
            f"'{args.file}' is named as an export; a backup is a signature store file, "
            "so name it .db (or use `sigverify export` for a .zip)."
        )
    from sigverify_gui.services.exchange import backup_store

    with open_store_from(args) as store:
        target, digest = backup_store(store, args.file, operator=operator_of(args))
    emit(
        args,
        {"backup": str(target), "sha256": digest},
        f"Backup written to {target} (SHA-256 {digest}).",
    )
    return 0
