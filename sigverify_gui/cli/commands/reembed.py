"""`sigverify reembed`: bring every reference up to the loaded model now.

The services do this by themselves before comparing, but a branch that installs a
new model may prefer to pay the time once, after hours, with a progress bar. Each
batch is audited under the operator who ran it.
"""

from __future__ import annotations

from model.progress import TerminalProgress
from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reembed", help="re-embed references made by another model version (with progress)"
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.reembed import reembed_stale

    unreadable: list[int] = []  # one such reference must not stop the rest
    with open_store_from(args) as store:  # first: a wrong --db fails before the model loads
        verifier = verifier_from(args)
        count = reembed_stale(
            store,
            verifier,
            progress=TerminalProgress("re-embedding"),
            operator=operator_of(args),
            unreadable=unreadable,
        )
    human = f"Re-embedded {count} reference(s) with model {verifier.model_id}."
    if unreadable:
        listed = ", ".join(map(str, unreadable))
        human += (
            f"\n{len(unreadable)} reference(s) can no longer be read, so they were left as "
            f"they were: {listed}. Replace them (replace-reference) or retire them."
        )
    emit(
        args,
        {"reembedded": count, "model_id": verifier.model_id, "unreadable": unreadable},
        human,
    )
    return 1 if unreadable else 0
