"""The decision thresholds in force: the model's own, unless the branch set its own.

A branch's thresholds are stored with the ids of the model and of the calibration they
were chosen for: a score's meaning changes with either (`sigverify calibrate` refits a
model's calibration and keeps its weights, hence its model id), so thresholds set for
another model or calibration are not applied: the model's own are used, `source` says
so and `set_for_another` tells the branch why its own are not.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from model.calibration import MIN_ACCEPT
from model.errors import SigverifyError
from sigverify_gui.services.errors import ThresholdBelowModelError
from sigverify_gui.services.thresholds_record import (
    SETTING_KEY,
    ThresholdsDamagedError,
    damaged,
    refuse_unrecorded,
    setting_and_last_change,
)
from sigverify_gui.services.thresholds_replaced import what_was_replaced
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store

log = logging.getLogger("sigverify.services.thresholds")


@dataclass(frozen=True)
class Thresholds:
    t_accept: float  # accept at or above
    t_reject: float  # reject below; refer in between
    source: str  # "model" or "settings"
    # The branch set its own for another model or calibration, so they are not applied.
    set_for_another: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "accept": self.t_accept,
            "reject": self.t_reject,
            "source": self.source,
            "set_for_another": self.set_for_another,
        }

    @property
    def whose(self) -> str:
        """In words, as every front end says it."""
        return "the branch's own" if self.source == "settings" else "the model's own"


def thresholds_in_force(store: Store, verifier: VerifierLike) -> Thresholds:
    """Raises `ThresholdsDamagedError` when the stored setting is not one sigverify
    writes, or not the one the audit trail last recorded: edited outside sigverify, a zero accept
    threshold would accept every forgery, and a lowered one some, unseen."""
    raw, last_change = setting_and_last_change(store)
    saved = _readable(raw) if raw else None
    refuse_unrecorded(saved, last_change)
    if saved and "calibration_id" not in saved and saved.get("model_id") == verifier.model_id:
        saved = _stamped_with_calibration(store, saved, verifier)
    if saved and _chosen_for(saved, verifier):
        return Thresholds(float(saved["t_accept"]), float(saved["t_reject"]), "settings")
    return Thresholds(
        float(verifier.t_accept), float(verifier.t_reject), "model", set_for_another=bool(saved)
    )


def _readable(raw: str) -> dict[str, Any]:
    try:
        try:
            saved = json.loads(raw)
        except (ValueError, RecursionError):
            raise ValueError("its text is not JSON") from None
        if not (isinstance(saved, dict) and isinstance(saved.get("model_id"), str)):
            raise ValueError("it names no model")
        t_accept, t_reject = saved.get("t_accept"), saved.get("t_reject")
        if not all(type(t) in (int, float) for t in (t_accept, t_reject)):
            raise ValueError("its thresholds are not numbers")
        check_thresholds(t_accept, t_reject)
    except (ValueError, SigverifyError) as err:
        raise damaged(str(err).rstrip(".")) from err
    return saved


def _chosen_for(saved: dict[str, Any], verifier: VerifierLike) -> bool:
    return (
        saved.get("model_id") == verifier.model_id
        and saved.get("calibration_id", verifier.calibration_id) == verifier.calibration_id
    )


def _stamped_with_calibration(
    store: Store, saved: dict[str, Any], verifier: VerifierLike
) -> dict[str, Any]:
    """A setting saved before calibration ids were recorded names the model only. It was
    chosen for the calibration that model has now (the first version to record ids is
    the first to read it), so it is stamped with that calibration's id, and a later
    `sigverify calibrate` makes it lapse like any other. A read-only store keeps it
    unstamped (it applies, as before)."""
    stamped = saved | {"calibration_id": verifier.calibration_id}
    try:
        with store.write() as db:
            now = records.get_setting(db, SETTING_KEY)
            if now and json.loads(now) == saved:  # not changed by another workstation since
                records.set_setting(db, SETTING_KEY, json.dumps(stamped))
    except SigverifyError as err:
        log.info("branch thresholds not stamped with their calibration: %s", err)
        return saved
    log.info("branch thresholds stamped with calibration %s", verifier.calibration_id)
    return stamped


def check_thresholds(t_accept: float, t_reject: float) -> None:
    """Refuse thresholds that cannot be used, in the words the Settings dialog shows too."""
    if not (0.0 <= t_reject <= 1.0 and 0.0 <= t_accept <= 1.0):  # NaN fails as well
        raise SigverifyError("Thresholds must lie between 0 and 1.")
    if t_reject > t_accept:
        raise SigverifyError(
            f"The reject threshold ({t_reject:.3f}) must not be above the accept "
            f"threshold ({t_accept:.3f})."
        )
    if t_accept < MIN_ACCEPT:
        raise SigverifyError(
            f"An accept threshold below {MIN_ACCEPT:.2f} would accept signatures the model "
            f"judges more likely forged than genuine; choose {MIN_ACCEPT:.2f} or more."
        )


def check_not_below_model(t_accept: float | None, verifier: VerifierLike) -> None:
    """Refuse, overridably, an accept threshold below the model's own: on every
    workstation using the store it accepts without a look signatures the model would
    refer to a person. The GUI asks twice, the CLI wants --force."""
    model_accept = round(float(verifier.t_accept), 3)
    if t_accept is None or round(t_accept, 3) >= model_accept:
        return
    raise ThresholdBelowModelError(
        f"Accepting at {t_accept:.3f}, below the model's {model_accept:.3f}, accepts "
        "without a look signatures the model would refer to a person, on every "
        "workstation using this store."
    )


def set_thresholds(
    store: Store,
    verifier: VerifierLike,
    t_accept: float | None,
    t_reject: float | None,
    operator: str = "",
) -> Thresholds:
    """Set the branch's thresholds for the loaded model; both None restores the model's.

    Setting what is already stored changes nothing and leaves no audit row: the trail
    records changes, and a reset on a store that never had thresholds of its own is none.
    """
    if (t_accept is None) != (t_reject is None):
        raise SigverifyError("Give both the accept and the reject threshold, or neither.")
    if t_accept is not None and t_reject is not None:
        check_thresholds(t_accept, t_reject)
        t_accept, t_reject = t_accept + 0.0, t_reject + 0.0  # -0 is 0, shown "0.000"
        value: str | None = json.dumps(
            {
                "model_id": verifier.model_id,
                "calibration_id": verifier.calibration_id,
                "t_accept": t_accept,
                "t_reject": t_reject,
            }
        )
    else:
        value = None
    with store.write() as db:
        stored = records.get_setting(db, SETTING_KEY)
        detail: dict[str, Any] = {"calibration_id": verifier.calibration_id}
        try:
            was = thresholds_in_force(store, verifier)  # inside the write: what is replaced
        except ThresholdsDamagedError:  # verifications were refused; this is how IT mends it
            # Nothing was decided by the damaged setting, and nothing else records it:
            # the row says what was stored and what the trail had set.
            detail |= what_was_replaced(store)
        else:
            if stored == value:
                return was
            detail["was"] = {"t_accept": was.t_accept, "t_reject": was.t_reject}
            if was.set_for_another and stored:
                # "Were" is what tellers decided by (the model's own); the branch's own,
                # chosen for another model or calibration and not applied, are named
                # too, or the trail would not say what this change removed.
                detail["lapsed"] = json.loads(stored)
        records.set_setting(db, SETTING_KEY, value)
        audit.append(
            db,
            "thresholds_changed",
            operator,
            model_id=verifier.model_id,
            t_accept=t_accept,
            t_reject=t_reject,
            detail=json.dumps(detail),
        )
    return thresholds_in_force(store, verifier)


def lapsed_note(lapsed: Any) -> str:
    """How an audit row's `lapsed` (the branch's thresholds that a change removed while
    they were not applied) reads after the thresholds in force; "" without one."""
    try:
        return (
            f"; the branch's own {float(lapsed['t_accept']):.3f} / "
            f"{float(lapsed['t_reject']):.3f}, set for another model or calibration, "
            "had lapsed"
        )
    except (KeyError, TypeError, ValueError):
        return ""


def shown_score(score: float, decision: str, t_accept: float, t_reject: float) -> str:
    """The score as people read it, in the GUI and the CLI: three decimals, like the
    thresholds, and on the side of them that the decision is. Rounded plainly, a score
    of 0.4859 against a threshold of 0.4861 would read "0.486", rejected for being
    below 0.486."""
    step = 0.001
    shown = round(score, 3)
    accept, reject = round(t_accept, 3), round(t_reject, 3)
    if decision == "accept":
        shown = max(shown, accept)
    elif decision == "reject":
        shown = min(shown, reject - step)
    else:
        shown = min(max(shown, reject), accept - step)
    return f"{min(max(shown, 0.0), 1.0):.3f}"
