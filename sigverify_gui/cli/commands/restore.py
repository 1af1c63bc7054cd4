"""`sigverify restore BACKUP.db`: put a backup back in the store's place."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_operator_option,
    open_store_from,
    operator_of,
    store_path_from,
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
            "head of the trail it replaced; keep the new head it prints. A store that "
            "no longer opens cannot be restored into: see --replace-damaged."
        ),
    )
    p.add_argument("backup", metavar="BACKUP.db", type=file_path, help="the backup file")
    p.add_argument(
        "--replace-damaged",
        action="store_true",
        help="for a store that no longer opens (damaged): move its files aside, kept, "
        "and put the checked backup in its place; close every copy of sigverify on "
        "that store first",
    )
    add_db_option(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.replace_damaged:
        from sigverify_gui.services.restore_damaged import replace_damaged_store

        path = store_path_from(args)
        summary = replace_damaged_store(path, args.backup, operator=operator_of(args))
        replaced = (
            f"The damaged store ({summary.damage}) was moved to "
            f"{summary.damaged_store_moved_to}, with its -wal and -shm if it had them; "
            "it is kept."
        )
    else:
        from sigverify_gui.services.restore import restore_store

        with _open_unless_damaged(args) as store:
            summary = restore_store(store, args.backup, operator=operator_of(args))
        path = store.path
        replaced = (
            f"Replaced trail's head: {summary.replaced_head or 'none (it was empty or broken)'}"
        )
    human = (
        f"Restored {path} from {summary.file} (SHA-256 {summary.sha256}); it holds "
        f"{summary.customers} customer(s).\n{replaced}\nNew head: {summary.head}\n"
        "Keep the new head outside this computer, for `audit verify --anchor`."
    )
    emit(args, summary.to_dict(), human)
    return 0


def _open_unless_damaged(args):
    """The store, or the way to replace it when it is damaged (one line, what IT does)."""
    from sigverify_gui.store.errors import StoreDamagedError

    try:
        return open_store_from(args)
    except StoreDamagedError as err:
        raise StoreDamagedError(
            f"The signature store {store_path_from(args)} does not open ({err.damage}), so "
            "no backup can be restored into it. To put the backup in its place, close "
            "every copy of sigverify on that store and run this again with "
            "--replace-damaged: the damaged files are moved aside and kept.",
            err.damage,
        ) from None
