"""What a change of the thresholds replaced when the stored setting was damaged.

The damaged setting was written without sigverify, so without a trace: the audit row of
the change that replaces it is the only record of it. It keeps what was found stored
(the values where they can be read, else the start of the text) and what the trail's
last change had set, so that IT can tell what was overwritten; `sigverify audit` and
History say it in words.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sigverify_gui.services.thresholds_record import (
    LastChange,
    recorded_text,
    setting_and_any_last_change,
    stored_text,
)
from sigverify_gui.services.typed_text import escaped
from sigverify_gui.store.db import Store

FLAG = "replaced_damaged_setting"
# Enough of an unreadable setting to tell what it was; the rest could be anything long.
_TEXT_KEPT = 80


def what_was_replaced(store: Store) -> dict[str, Any]:
    """For the audit row's detail: the flag; `found`, the stored setting (None: none;
    {"unreadable": the start of its text}); `last_set`, the trail's last change (None:
    the trail has none); and `was`, the stored values where they can be read."""
    raw, last = setting_and_any_last_change(store)
    found = _found(raw)
    replaced: dict[str, Any] = {
        FLAG: True,
        "found": found,
        "last_set": last.to_detail() if last else None,
    }
    if found and "unreadable" not in found:
        replaced["was"] = {"t_accept": found["t_accept"], "t_reject": found["t_reject"]}
    return replaced


def _found(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        saved = json.loads(raw)
    except (ValueError, RecursionError):
        saved = None
    if isinstance(saved, dict):
        t_accept, t_reject = _number(saved.get("t_accept")), _number(saved.get("t_reject"))
        if t_accept is not None and t_reject is not None:
            found: dict[str, Any] = {"t_accept": t_accept, "t_reject": t_reject}
            for key in ("model_id", "calibration_id"):
                if isinstance(saved.get(key), str):
                    found[key] = _start_of(saved[key])
            return found
    return {"unreadable": _start_of(raw)}


def _number(value: Any) -> float | None:
    if type(value) not in (int, float):  # not True, nor "0.9"
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _start_of(text: str) -> str:
    return text if len(text) <= _TEXT_KEPT else text[:_TEXT_KEPT] + "…"


def replaced_note(detail: dict[str, Any]) -> str:
    """How an audit row's detail says that its change replaced a damaged setting, and
    what was found; "" for any other change, and for one recorded before what was found
    was (its `was`, the model's own, reads as it always did)."""
    if not detail.get(FLAG) or "found" not in detail:
        return ""
    note = "replaced thresholds changed outside sigverify"
    try:
        last = detail["last_set"]
        recorded = recorded_text(LastChange.from_detail(last) if last is not None else None)
        return f"{note}: {_found_text(detail['found'])}, yet {recorded}"
    except (KeyError, TypeError, ValueError, AttributeError):  # another version's row
        return note


def _found_text(found: dict[str, Any] | None) -> str:
    if found is not None and "unreadable" in found:
        return f'"{escaped(str(found["unreadable"]))}" was stored, not thresholds'
    return stored_text(found, "were")
