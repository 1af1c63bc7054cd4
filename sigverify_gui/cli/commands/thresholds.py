"""`sigverify thresholds`: the decision thresholds in force on a store, and setting them.

The same service as the GUI's Settings: thresholds are kept in the store, for the model
and the calibration they were chosen for, and every change is audited with what they
were before.
"""

from __future__ import annotations

from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit, unit_interval


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "thresholds",
        help="show or set the accept / reject thresholds of a store (audited)",
        description="Without options, shows the thresholds in force for the loaded model. "
        "A score at or above ACCEPT is accepted, one below REJECT rejected, and one in "
        "between referred to the teller.",
    )
    change = p.add_mutually_exclusive_group()
    change.add_argument(
        "--set",
        nargs=2,
        type=unit_interval,
        metavar=("ACCEPT", "REJECT"),
        help="the branch's own thresholds: ACCEPT from 0.50 to 1, REJECT from 0 to ACCEPT",
    )
    change.add_argument(
        "--reset", action="store_true", help="go back to the model's own thresholds"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="set an ACCEPT below the model's own (it accepts, without a look, signatures "
        "the model would refer to a person)",
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.thresholds import (
        check_not_below_model,
        check_thresholds,
        set_thresholds,
        thresholds_in_force,
    )

    with open_store_from(args) as store:  # first: a wrong --db fails before the model loads
        verifier = verifier_from(args)
        if args.set:
            accept, reject = args.set
            check_thresholds(accept, reject)  # first: a range error is the one to fix
            if not args.force:
                check_not_below_model(accept, verifier)
            now = set_thresholds(store, verifier, accept, reject, operator=operator_of(args))
        elif args.reset:
            now = set_thresholds(store, verifier, None, None, operator=operator_of(args))
        else:
            now = thresholds_in_force(store, verifier)
    whose = now.whose
    if now.set_for_another:
        whose += "; the branch's own were set for another model or calibration"
    emit(
        args,
        {
            **now.to_dict(),
            "model_id": verifier.model_id,
            "calibration_id": verifier.calibration_id,
            "set_for_another": now.set_for_another,
        },
        f"Model {verifier.model_id}: accept at {now.t_accept:.3f} or above, reject below "
        f"{now.t_reject:.3f}, refer in between ({whose}).",
    )
    return 0
