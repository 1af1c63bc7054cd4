"""Filtering the audit trail for the history screen, and exporting it to CSV. No Qt.

Rows come from `store.audit.list_rows` (newest first, without image bytes). Dates
are stored in UTC; a teller thinks in the branch's local dates, so the date filter
and the times shown are local.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sigverify_gui.services.exchange import imported_note
from sigverify_gui.services.thresholds import lapsed_note
from sigverify_gui.services.thresholds_replaced import replaced_note

CSV_COLUMNS = (
    "id",
    "time",
    "kind",
    "customer_id",
    "operator",
    "score",
    "system_decision",
    "teller_decision",
    "override_reason",
    "model_id",
    "t_accept",
    "t_reject",
    "verification_id",
    "closest_reference_id",
    "row_hash",
    "outcome",  # the History table's Decisions column, as it reads there (`outcome`)
)


@dataclass(frozen=True)
class HistoryFilter:
    customer: str = ""  # part of a customer number, any case; empty: everyone
    date_from: date | None = None  # local dates, inclusive
    date_to: date | None = None
    # "", "accept", "refer", "reject", "override", or "undecided": verifications with
    # no teller's decision recorded, the ones a supervisor follows up
    decision: str = ""

    def accepts(self, row: dict[str, Any], decided: frozenset[int] = frozenset()) -> bool:
        """Whether `row` is shown; `decided`: the verifications a teller decided."""
        if (
            self.customer
            and self.customer.casefold() not in (row.get("customer_id") or "").casefold()
        ):
            return False
        if self.date_from or self.date_to:
            day = row.get("local_day") or local_time(row["time"]).date()
            if self.date_from and day < self.date_from:
                return False
            if self.date_to and day > self.date_to:
                return False
        if self.decision == "undecided":
            return row.get("kind") == "verification" and row.get("id") not in decided
        if self.decision == "override":
            return bool(row.get("teller_decision")) and row.get("teller_decision") != row.get(
                "system_decision"
            )
        if self.decision:
            return self.decision in (row.get("system_decision"), row.get("teller_decision"))
        return True


def with_local_days(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its local date as `local_day`, read once (in the reading worker)
    rather than on every keystroke of a date filter."""
    for row in rows:
        row["local_day"] = local_time(row["time"]).date()
    return rows


def filter_rows(rows: Iterable[dict[str, Any]], flt: HistoryFilter) -> list[dict[str, Any]]:
    rows = list(rows)
    decided = frozenset()
    if flt.decision == "undecided":  # from every row read, whatever else is filtered
        decided = frozenset(
            r["verification_id"] for r in rows if r.get("kind") == "teller_decision"
        )
    return [row for row in rows if flt.accepts(row, decided)]


def local_time(stamp: str) -> datetime:
    """An audit time (ISO 8601, UTC) in this computer's time zone."""
    return datetime.fromisoformat(stamp).astimezone()


def display_time(stamp: str) -> str:
    return local_time(stamp).strftime("%Y-%m-%d %H:%M:%S")


# The audit's kinds as a teller reads them. The CSV export keeps the kinds as stored,
# which is what IT's scripts and the CLI's JSON match on.
EVENT_NAMES = {
    "enrolment": "Enrolment",
    "references_added": "References added",
    "reference_replaced": "Reference replaced",
    "reference_deactivated": "Reference retired",
    "references_reembedded": "References updated for a new model",
    "verification": "Verification",
    "verification_failed": "Verification failed",
    "teller_decision": "Teller's decision",
    "identification": "Identification",
    "thresholds_changed": "Thresholds changed",
    "account_closed": "Account closed",
    "account_reopened": "Account reopened",
    "import": "Import from another store",
    "export": "Export of the whole store",
    "backup": "Backup of the whole store",
    "restore": "Store restored from a backup",
}


def event_name(kind: str) -> str:
    """What the history table shows for an audit kind; a kind from a newer version
    still reads as words."""
    return EVENT_NAMES.get(kind) or kind.replace("_", " ").capitalize()


def outcome(row: dict[str, Any]) -> str:
    """One phrase for the table (and the CSV's `outcome`): what the system and the teller
    decided, what a change of thresholds changed, the reason given for a change (an
    auditor's question), and why a verification failed."""
    parts = []
    if row.get("system_decision"):
        parts.append(f"system: {row['system_decision']}")
    if row.get("teller_decision"):
        parts.append(f"teller: {row['teller_decision']}")
    detail = _detail(row)
    if row.get("kind") == "thresholds_changed":
        if replaced := replaced_note(detail):  # it says what was stored: no arrows besides
            parts.append(f"{_thresholds_change(row, {})}; {replaced}")
        else:
            parts.append(_thresholds_change(row, detail.get("was") or {}))
            parts[-1] += lapsed_note(detail.get("lapsed"))
    reason = row.get("override_reason") or detail.get("reason")
    if reason:
        parts.append(f"reason: {reason}")
    if row.get("kind") == "verification_failed" and isinstance(detail.get("message"), str):
        parts.append(f"failed: {detail['message']}")
    if imported := imported_note(row.get("origin")):
        parts.append(imported)
    return ", ".join(parts)


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    try:
        detail = json.loads(row.get("detail") or "{}")
    except (TypeError, ValueError):  # an imported row of an older kind: show what is there
        return {}
    return detail if isinstance(detail, dict) else {}


def _thresholds_change(row: dict[str, Any], was: dict[str, Any]) -> str:
    if row.get("t_accept") is None:
        return "back to the model's own"

    def moved(name: str, key: str) -> str:
        old = was.get(key)
        before = f"{old:.3f} → " if isinstance(old, int | float) else ""
        return f"{name} {before}{row[key]:.3f}"

    return f"{moved('accept', 't_accept')}, {moved('reject', 't_reject')}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A spreadsheet runs a cell starting with = + - @ as a formula; a name or a reason
    # typed by someone could then run something on the reader's computer.
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """Write `rows` (UTF-8 with BOM, for spreadsheets) to `path`; returns the count."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            row = row | {"outcome": outcome(row)}
            writer.writerow([_cell(row.get(col)) for col in CSV_COLUMNS])
            count += 1
    return count
