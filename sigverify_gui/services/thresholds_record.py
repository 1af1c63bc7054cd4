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
    # False: a hand-made row, which neither sets both thresholds nor puts back the
    # model's own (its values, which may be anything, are not kept)
    sigverify_wrote: bool = True

    def to_detail(self) -> dict[str, Any]:
        """As the audit row of the change that replaces a damaged setting records it."""
        if not self.sigverify_wrote:
            return {"audit_row": self.row_id, "sigverify_wrote": False}
        return {
            "audit_row": self.row_id,
            "model_id": self.model_id,
            "t_accept": self.t_accept,
            "t_reject": self.t_reject,
            "calibration_id": self.calibration_id,
        }

    @classmethod
    def from_detail(cls, recorded: dict[str, Any]) -> LastChange:
        return cls(
            recorded["audit_row"],
            recorded.get("model_id"),
            recorded.get("t_accept"),
            recorded.get("t_reject"),
            recorded.get("calibration_id"),
            recorded.get("sigverify_wrote", True),
        )


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
    raw, last = setting_and_any_last_change(store)
    # A hand-made row is an audit row too: it reads as damage, which IT mends by
    # setting them again.
    if last is not None and not last.sigverify_wrote:
        raise damaged(recorded_text(last))
    return raw, last


def setting_and_any_last_change(store: Store) -> tuple[str | None, LastChange | None]:
    """`setting_and_last_change`, a hand-made last change returned (not refused)."""
    raw, row_id, model_id, t_accept, t_reject, detail = store.db.execute(
        _SETTING_AND_LAST_CHANGE, [SETTING_KEY]
    ).fetchone()
    if row_id is None:
        return raw, None
    values = (t_accept, t_reject)
    if not (all(type(v) in (int, float) for v in values) or values == (None, None)):
        return raw, LastChange(row_id, None, None, None, None, sigverify_wrote=False)
    model_id = model_id if isinstance(model_id, str) else None  # (a hand-made row's)
    return raw, LastChange(row_id, model_id, t_accept, t_reject, calibration_of(detail))


def calibration_of(detail: str | None) -> str | None:
    """The calibration id a `thresholds_changed` row's detail records, if any."""
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
    return f"{stored_text(saved, 'are')}, yet {recorded_text(last)}: changed outside sigverify"


def stored_text(saved: dict[str, Any] | None, verb: str) -> str:
    """The stored thresholds (None: none), as the damage message and the audit row of
    the change that replaced them say it (`verb`: "are" or "were")."""
    if saved is None:
        return f"none {verb} stored"
    return f"{_pair(saved['t_accept'], saved['t_reject'])} {verb} stored"


def recorded_text(last: LastChange | None) -> str:
    """What the trail's last change did, as the damage message says it."""
    if last is None:
        return "the audit trail records no change that set them"
    if not last.sigverify_wrote:
        return f"audit row {last.row_id}, their last change, is not one sigverify writes"
    if last.t_accept is None:
        return f"audit row {last.row_id}, their last change, put back the model's own"
    return f"audit row {last.row_id}, their last change, set {_set_by(last)}"


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
