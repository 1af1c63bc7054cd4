"""`sigverify customers`: the enrolled customers and how many references each has."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import add_db_option, open_store_from
from sigverify_gui.cli.output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser("customers", help="list the enrolled customers")
    add_db_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.store import records

    with open_store_from(args) as store:
        customers = records.list_customers(store.db)
    lines = [f"{len(customers)} customer(s)"]
    for c in customers:
        lines.append(
            f"  {c.customer_id:<20} {c.name:<30} {c.status:<7} {c.active_references} reference(s)"
        )
    emit(args, {"customers": [c.to_dict() for c in customers]}, "\n".join(lines))
    return 0
