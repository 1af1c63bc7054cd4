"""The branch's thresholds setting held against the audit trail's record of it.

Every change of the thresholds made through sigverify, since its first version, writes
the setting and a `thresholds_changed` audit row in one transaction. So the setting must
be what the store's own last such row set: one written in the store file with an SQLite
tool (an accept threshold lowered, the branch's stricter ones deleted) would otherwise
decide verifications without a trace. Rows an import brought from another store (they
carry an `origin`) never set this store's thresholds and are not read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.schema import AUDIT_TABLE

SETTING_KEY = "thresholds"


class ThresholdsDamagedError(StoreError):
    """The stored thresholds cannot be trusted; verifications stop until IT sets them."""


def damaged(reason: str) -> ThresholdsDamagedError:
    return ThresholdsDamagedError(
        f"The branch's thresholds are damaged in the signature store "
        f"({reason[:1].lower()}{reason[1:]}); IT can "
        "set them again with `sigverify thresholds --set` or `--reset`."
    )


@dataclass(frozen=True)
class LastChange:
    """The store's own last `thresholds_changed` row: what it set (None: a reset)."""

    row_id: int
    model_id: str | None
    t_accept: float | None
    t_reject: float | None
    calibration_id: str | None  # recorded in the row's detail by later versions


# The setting and the last change, in one statement so that another workstation's
# change cannot fall between the two reads.
_SETTING_AND_LAST_CHANGE = f"""
    SELECT setting.value, change.id, change.model_id, change.t_accept, change.t_reject,
        change.detail
    FROM (SELECT 1)
    LEFT JOIN settings AS setting ON setting.key = ?
    LEFT JOIN (
        SELECT id, model_id, t_accept, t_reject, detail FROM {AUDIT_TABLE}
        WHERE kind = 'thresholds_changed' AND origin IS NULL ORDER BY id DESC LIMIT 1
    ) AS change
"""


def setting_and_last_change(store: Store) -> tuple[str | None, LastChange | None]:
    """The raw setting (None: none) and the last change (None: the trail has none)."""
    raw, row_id, model_id, t_accept, t_reject, detail = store.db.execute(
        _SETTING_AND_LAST_CHANGE, [SETTING_KEY]
    ).fetchone()
    if row_id is None:
        return raw, None
    # A hand-made row is an audit row too: one that neither sets both thresholds nor
    # puts back the model's own reads as damage, which IT mends by setting them again.
    values = (t_accept, t_reject)
    if not (all(type(v) in (int, float) for v in values) or values == (None, None)):
        raise damaged(f"audit row {row_id}, their last change, is not one sigverify writes")
    return raw, LastChange(row_id, model_id, t_accept, t_reject, _calibration_of(detail))


def _calibration_of(detail: str | None) -> str | None:
    try:
        value = json.loads(detail or "{}").get("calibration_id")
    except (ValueError, RecursionError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def refuse_unrecorded(saved: dict[str, Any] | None, last: LastChange | None) -> None:
    """Raise `ThresholdsDamagedError` unless `saved` (the readable setting, None: none)
    is what `last` set. A calibration id is compared where the row records one (a
    setting saved before either recorded it is stamped with one when first read)."""
    recorded = last if last is not None and last.t_accept is not None else None
    if saved is None and recorded is None:
        return
    if saved is not None and recorded is not None and _same(saved, recorded):
        return
    raise damaged(_what_differs(saved, last))


def _same(saved: dict[str, Any], recorded: LastChange) -> bool:
    # A version that recorded the calibration in the row wrote it in the setting too
    return (
        saved["model_id"] == recorded.model_id
        and float(saved["t_accept"]) == float(recorded.t_accept)
        and float(saved["t_reject"]) == float(recorded.t_reject)
        and recorded.calibration_id in (None, saved.get("calibration_id"))
    )


def _what_differs(saved: dict[str, Any] | None, last: LastChange | None) -> str:
    if saved is None:
        stored = "none are stored"
    else:
        stored = f"{_pair(saved['t_accept'], saved['t_reject'])} are stored"
    if last is None:
        recorded = "the audit trail records no change that set them"
    elif last.t_accept is None:
        recorded = f"audit row {last.row_id}, their last change, put back the model's own"
    else:
        recorded = f"audit row {last.row_id}, their last change, set {_set_by(last)}"
    return f"{stored}, yet {recorded}: changed outside sigverify"


def _set_by(last: LastChange) -> str:
    return f"{_pair(last.t_accept, last.t_reject)} for model {last.model_id}"


def _pair(t_accept: float, t_reject: float) -> str:
    return f"accept {float(t_accept):.3f} / reject {float(t_reject):.3f}"


def recorded_thresholds(
    store: Store, model_id: str, calibration_id: str
) -> tuple[float, float] | None:
    """What the trail's last change set for this model and calibration, if it set any:
    what a damaged setting is mended back to (Settings offers it)."""
    try:
        _, last = setting_and_last_change(store)
    except ThresholdsDamagedError:
        return None
    if last is None or last.t_accept is None or last.model_id != model_id:
        return None
    if last.calibration_id not in (None, calibration_id):
        return None
    return float(last.t_accept), float(last.t_reject)
