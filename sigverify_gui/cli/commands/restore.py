"""`sigverify restore BACKUP.db`: put a backup back in the store's place."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_operator_option,
    open_store_from,
    operator_of,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "restore",
        help="replace the store's content with a backup's (checked first; audited)",
        description=(
            "Replace everything in the store with the content of BACKUP.db, made by "
            "'sigverify backup'. The backup is checked first: a signature store, sound, "
            "its audit trail intact; otherwise nothing changes. Safe while the app runs "
            "elsewhere: every workstation sees the restored store from then on. The "
            "restore is recorded in the restored trail with the backup's SHA-256 and the "
            "head of the trail it replaced; keep the new head it prints."
        ),
    )
    p.add_argument("backup", metavar="BACKUP.db", type=file_path, help="the backup file")
    add_db_option(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.restore import restore_store

    with open_store_from(args) as store:
        summary = restore_store(store, args.backup, operator=operator_of(args))
    human = (
        f"Restored {store.path} from {summary.file} (SHA-256 {summary.sha256}); it holds "
        f"{summary.customers} customer(s).\nReplaced trail's head: "
        f"{summary.replaced_head or 'none (it was empty or broken)'}\nNew head: "
        f"{summary.head}\nKeep the new head outside this computer, for "
        "`audit verify --anchor`."
    )
    emit(args, summary.to_dict(), human)
    return 0
