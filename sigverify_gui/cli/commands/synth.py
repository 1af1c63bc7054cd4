"""`sigverify synth OUT`: write a synthetic signature data set in the generic layout.

For trying the app, training and evaluation without real customers' signatures:
OUT/<writer>/genuine/*.png and OUT/<writer>/forged/*.png, the same files for the
same seed on every machine.
"""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, emit, file_path, seed_number


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth",
        help="write a synthetic signature data set (generic layout)",
        description=(
            "Draw synthetic writers' genuine signatures and skilled forgeries as scanned "
            "images into OUT/<writer>/genuine and OUT/<writer>/forged."
        ),
    )
    p.add_argument("out", metavar="OUT", type=file_path, help="a new or empty folder to write into")
    p.add_argument("--writers", type=int, default=10, help="number of writers (default 10)")
    p.add_argument(
        "--genuine", type=int, default=12, help="genuine signatures per writer (default 12)"
    )
    p.add_argument(
        "--forged", type=int, default=6, help="forgeries per writer (default 6, 0: none)"
    )
    p.add_argument("--seed", type=seed_number, default=0, help="random seed: same seed, same files")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.progress import TerminalProgress
    from model.synth import write_dataset

    ids = write_dataset(
        args.out,
        writers=args.writers,
        genuine=args.genuine,
        forged=args.forged,
        seed=args.seed,
        progress=TerminalProgress("synth"),
    )
    n_genuine, n_forged = len(ids) * args.genuine, len(ids) * args.forged
    summary = {"out": str(args.out), "writers": len(ids), "genuine": n_genuine, "forged": n_forged}
    human = (
        f"Wrote {_count(len(ids), 'writer')}: {_count(n_genuine, 'genuine signature')} "
        f"and {_count(n_forged, 'forgery', 'forgeries')}, in {args.out}"
    )
    emit(args, summary, human)
    return 0


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
