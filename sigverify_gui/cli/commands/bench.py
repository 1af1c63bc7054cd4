"""`sigverify bench`: the app's speed figures on this machine (see `model.bench`)."""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, emit, positive_int

# The figure groups `run` registers by importing their modules, named here so that
# `--help` lists them without loading torch (a test keeps the two lists equal).
FIGURE_GROUPS = ("preprocess", "model", "identify", "services", "window")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure how fast this machine runs the app's steps",
        description=(
            "Time the app's steps (each figure the median of repeated runs after a "
            "warm-up) on inputs drawn in code, and print the figures."
        ),
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=FIGURE_GROUPS,
        metavar="NAME",
        help=f"run only these figure groups, of: {', '.join(FIGURE_GROUPS)} (default: all)",
    )
    p.add_argument(
        "--repeat", type=positive_int, default=None, metavar="N", help="timed runs per figure"
    )
    p.add_argument("--weights", default=None, help="weights file (default: the bundled model)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    # importing these registers their figure groups
    import model.bench_model  # noqa: F401
    import sigverify_gui.services.bench  # noqa: F401
    from model.bench import DEFAULT_REPEAT, run_benchmarks

    repeat = DEFAULT_REPEAT if args.repeat is None else args.repeat
    options = {"weights": args.weights, "device": args.device}
    figures = run_benchmarks(args.only, repeat=repeat, options=options)
    emit(args, figures, _table(figures))
    return 0


def _table(figures: dict) -> str:
    width = max(len(name) for name in figures)
    lines = []
    for name, value in figures.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{name.ljust(width)}  {text}")
    return "\n".join(lines)
