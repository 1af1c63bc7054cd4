"""`sigverify audit`: list the audit trail; `sigverify audit verify`: check its hash chain."""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import add_db_option, open_store_from
from sigverify_gui.cli.output import add_json_flag, emit, positive_int

BROKEN_CHAIN = 1


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="list the audit trail, or check it has not been altered ('audit verify')",
        description=(
            "Without an action: list audit rows, newest first. With 'verify': check every "
            "row's hash chain and report the first broken link (exit status 1 if any)."
        ),
    )
    p.add_argument("action", nargs="?", choices=("verify",), help="check the hash chain")
    p.add_argument("--customer", default=None, metavar="C", help="only this customer's rows")
    # SQLite reads a negative LIMIT as no limit at all: refused here, not passed on
    p.add_argument("--limit", type=positive_int, default=None, metavar="N", help="at most N rows")
    p.add_argument(
        "--anchor",
        default=None,
        metavar="ID:HASH",
        help="with 'verify': a head printed by an earlier 'audit verify'; the check then "
        "also fails if rows were removed from the end since",
    )
    add_db_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.errors import SigverifyError
    from sigverify_gui.services.customer_case import unknown_customer
    from sigverify_gui.services.enrol_checks import stored_customer_id
    from sigverify_gui.store import audit, records

    if args.anchor is not None and args.action != "verify":
        raise SigverifyError("--anchor goes with `sigverify audit verify`.")
    if args.customer is not None and not args.customer.strip():
        # an empty `--customer "$ID"` would list everyone's rows as if they were one's
        raise SigverifyError("No customer number was given to --customer.")
    if args.action == "verify" and (args.customer or args.limit):
        # The chain is checked whole or not at all; "7 rows checked" for one customer
        # would read as if only theirs were.
        raise SigverifyError(
            "`sigverify audit verify` checks the whole trail; --customer and --limit go "
            "with the listing (`sigverify audit`)."
        )
    with open_store_from(args) as store:
        if args.action == "verify":
            # "" too is parsed (and refused): an empty `--anchor "$HEAD"` must not pass
            anchor = audit.parse_anchor(args.anchor) if args.anchor is not None else None
            report = audit.verify_chain(store.db, anchor)
            if report.ok:
                human = f"The audit trail is intact ({report.rows_checked} rows checked)."
                if report.head:
                    human += (
                        f"\nHead: {report.head}\nKeep it outside this computer; "
                        "`audit verify --anchor` with it later also detects rows removed "
                        "from the end."
                    )
            else:
                human = (
                    f"The audit trail is BROKEN at row {report.broken_at}: {report.problem} "
                    f"({report.rows_checked} rows before it are intact)."
                )
            emit(args, report.to_dict(), human)
            return 0 if report.ok else BROKEN_CHAIN
        customer = stored_customer_id(store.db, args.customer) if args.customer else None
        rows = audit.list_rows(store.db, customer_id=customer, limit=args.limit)
        # No rows for a number nobody is enrolled under is most likely a typing slip
        # ("b1" for "B1"): say so rather than let "0 rows" read as "no history".
        not_enrolled = customer and not rows and records.get_customer(store.db, customer) is None
        hint = str(unknown_customer(store.db, customer)) if not_enrolled else ""
    lines = [f"{len(rows)} audit row(s), newest first"] + ([hint] if hint else [])
    for r in rows:
        lines.append(
            f"  {r['id']:>6}  {r['time']}  {r['kind']:<22} {r['customer_id'] or '-':<16} "
            f"{r['operator']:<12} {_outcome(r)}{_imported(r)}"
        )
    emit(args, {"rows": rows}, "\n".join(lines))
    return 0


def _imported(row: dict) -> str:
    """Rows an import brought are another store's history: a thresholds change there
    set nothing here, and a verification was decided there."""
    from sigverify_gui.services.exchange import imported_note

    note = imported_note(row.get("origin"))
    return f" [{note}]" if note else ""


def _outcome(row: dict) -> str:
    if row["kind"] == "thresholds_changed":
        return _thresholds_change(row)
    parts = []
    if row["score"] is not None:
        parts.append(f"score {row['score']:.3f}")
    if row["system_decision"]:
        parts.append(f"system {row['system_decision']}")
    if row["teller_decision"]:
        parts.append(f"teller {row['teller_decision']}")
    if row["override_reason"]:
        parts.append(f"reason: {row['override_reason']}")
    return ", ".join(parts) or _detail_text(_detail(row))


# What a row without a score or decision says about itself: the file of a backup,
# export or import and its counts, why a verification failed. Lists (re-embedded
# reference numbers) and nested records stay in --json.
_DETAIL_WIDTH = 160


def _detail(row: dict) -> dict:
    """A row's detail as written; {} for none, or one this version cannot read (an
    imported row of another version)."""
    import json

    try:
        detail = json.loads(row["detail"] or "{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _detail_text(values: dict) -> str:
    if "message" in values:  # a failure: its message says it all
        values = {"message": values["message"]}
    shown = ", ".join(
        f"{key}: {value}"
        for key, value in values.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    )
    return shown if len(shown) <= _DETAIL_WIDTH else shown[: _DETAIL_WIDTH - 1] + "…"


def _thresholds_change(row: dict) -> str:
    """What the thresholds became, and (rows written since it is recorded) what they
    were, or the damaged setting they replaced."""
    from sigverify_gui.services.thresholds import lapsed_note
    from sigverify_gui.services.thresholds_replaced import replaced_note

    if row["t_accept"] is None:
        now = "the model's own thresholds"
    else:
        now = f"accept >= {row['t_accept']:.3f}, reject < {row['t_reject']:.3f}"
    detail = _detail(row)
    if replaced := replaced_note(detail):  # it says what was stored: no "were" besides
        return f"{now} ({replaced})"
    was = detail.get("was")
    if isinstance(was, dict) and {"t_accept", "t_reject"} <= was.keys():
        # three decimals, as the thresholds are shown and set everywhere else
        now += f" (were {was['t_accept']:.3f} / {was['t_reject']:.3f}"
        now += f"{lapsed_note(detail.get('lapsed'))})"
    return now
