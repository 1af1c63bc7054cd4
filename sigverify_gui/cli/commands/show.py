"""`sigverify show CUSTOMER_ID`: one customer, their references and recent audit rows."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import add_db_option, open_store_from
from sigverify_gui.cli.output import add_json_flag, emit

RECENT_AUDIT_ROWS = 10


def register(subparsers) -> None:
    p = subparsers.add_parser("show", help="show one customer's references and recent activity")
    p.add_argument("customer_id", metavar="CUSTOMER_ID", help="the account number")
    add_db_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.customer_case import unknown_customer
    from sigverify_gui.services.enrol_checks import stored_customer_id
    from sigverify_gui.store import audit, records

    with open_store_from(args) as store:
        cid = stored_customer_id(store.db, args.customer_id)
        customer = records.get_customer(store.db, cid)
        if customer is None:
            raise unknown_customer(store.db, cid)
        refs = records.references_of(store.db, customer.customer_id, active_only=False)
        recent = audit.list_rows(store.db, customer.customer_id, limit=RECENT_AUDIT_ROWS)
    data = {
        **customer.to_dict(),
        "references": [r.to_dict() for r in refs],
        "recent_audit": recent,
    }
    lines = [
        f"Customer {customer.customer_id}  {customer.name}",
        f"  status {customer.status}, enrolled {customer.created}",
    ]
    if customer.notes:
        lines.append(f"  notes: {customer.notes}")
    lines.append(f"References ({customer.active_references} active):")
    for r in refs:
        state = "active" if r.active else f"retired {r.deactivated_at}"
        lines.append(f"  {r.id:>6}  {r.source:<30} {r.captured_at}  {r.model_id}  {state}")
    lines.append("Recent activity:")
    for row in recent:
        lines.append(f"  {row['id']:>6}  {row['time']}  {row['kind']:<22} {_outcome(row)}")
    emit(args, data, "\n".join(lines))
    return 0


def _outcome(row: dict) -> str:
    if row["kind"] == "teller_decision":
        return f"teller: {row['teller_decision']}"
    if row["system_decision"]:
        return f"{row['system_decision']} ({row['score']:.3f})"
    return ""
