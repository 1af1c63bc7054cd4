"""`sigverify identify IMAGE`: which enrolled customers' signatures look most like this one."""

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
from sigverify_gui.cli.output import add_json_flag, emit, file_path, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "identify",
        help="rank enrolled customers by how well a signature matches them",
        description="Search every enrolled customer for the best matches to a signature.",
    )
    p.add_argument("image", metavar="IMAGE", type=file_path, help="the questioned signature")
    p.add_argument("--top", type=positive_int, default=5, metavar="K", help="how many to list (5)")
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.identify import identify_signature

    with open_store_from(args) as store:  # first: a wrong --db fails before the model loads
        verifier = verifier_from(args)
        result = identify_signature(
            store,
            verifier,
            args.image,
            top_k=args.top,
            operator=operator_of(args),
            progress=TerminalProgress("re-embedding"),
        )
    lines = [
        f"Searched {result.customers_searched} customer(s) "
        f"({result.references_searched} reference(s)):"
    ]
    for c in result.candidates:
        name = f" ({c.name})" if c.name else ""
        lines.append(f"{c.rank:>3}. {c.customer_id}{name}  score {c.score:.3f}")
    emit(args, result.to_dict(), "\n".join(lines))
    return 0
