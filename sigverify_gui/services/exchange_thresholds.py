"""What an import says about the thresholds of the store its file came from.

Thresholds are a branch's policy, kept in its own store: an import never changes this
store's (whoever imports another branch's customers must not change how this branch
decides), and the file's `thresholds_changed` rows arrive as that store's history, not
as this one's setting (`thresholds_record`). But an export is also how a branch's data
moves to a new computer, and there the branch's stricter thresholds would be dropped
without a word: scores the old store referred would now be accepted. So when the file's
store had set its own for the model loaded here, and they are not the ones in force
here, the import says so and how to set them.
"""

from __future__ import annotations

from typing import Any

from sigverify_gui.services.thresholds import thresholds_in_force
from sigverify_gui.services.thresholds_record import ThresholdsDamagedError, calibration_of
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store.db import Store


def thresholds_notice(
    store: Store, audit_rows: list[dict[str, Any]], verifier: VerifierLike
) -> str | None:
    """A sentence for IT when the file's store set other thresholds for this model and
    calibration than those in force here; None otherwise."""
    theirs = _last_own_change(audit_rows)
    if theirs is None or theirs.get("t_accept") is None:
        return None  # none set there, or put back to the model's own
    if theirs.get("model_id") != verifier.model_id:
        return None  # set for another model: they would not hold for this one anyway
    if calibration_of(theirs.get("detail")) not in (None, verifier.calibration_id):
        return None
    try:
        here = thresholds_in_force(store, verifier)
    except ThresholdsDamagedError:
        return None  # verification says so, with its own remedy
    t_accept, t_reject = float(theirs["t_accept"]), float(theirs["t_reject"])
    if (t_accept, t_reject) == (here.t_accept, here.t_reject):
        return None
    whose = "the model's own" if here.source == "model" else "this branch's own"
    return (
        f"The store this file came from used its own thresholds for this model (accept "
        f"{t_accept:.3f} / reject {t_reject:.3f}); this store keeps {whose} (accept "
        f"{here.t_accept:.3f} / reject {here.t_reject:.3f}). If theirs should hold here, "
        f"set them with `sigverify thresholds --set {t_accept:.3f} {t_reject:.3f}`."
    )


def _last_own_change(audit_rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The file's store's own last thresholds change: rows it had imported itself carry
    an `origin` and never set its thresholds."""
    own = [r for r in audit_rows if r["kind"] == "thresholds_changed" and not r.get("origin")]
    return max(own, key=lambda r: int(r["id"]), default=None)
