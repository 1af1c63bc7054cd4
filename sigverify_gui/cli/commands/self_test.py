"""`sigverify self-test`: check that this installation works, end to end.

Exit status 0 when every step worked and the genuine signature outscored the forgery,
1 otherwise (the report says which step failed and why).
"""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, emit, file_path

FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "self-test",
        help="check that this installation works (model, store, enrol, verify)",
        description=(
            "Load the model, enrol a synthetic customer in a temporary store and verify "
            "a genuine signature and a forgery. Your own store is not touched. Exits 0 "
            "when everything worked and the genuine signature scored higher."
        ),
    )
    p.add_argument(
        "--weights", type=file_path, default=None, metavar="FILE",
        help="model weights (default: the shipped model)",
    )  # fmt: skip
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where the model runs"
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sigverify_gui.services.selftest import run_self_test

    report = run_self_test(args.weights, device=args.device)
    emit(args, report, _human(report))
    return 0 if report["ok"] else FAILED


def _human(report: dict) -> str:
    t = report["timings_ms"]
    lines = [
        f"sigverify {report['version']} self-test: {'PASSED' if report['ok'] else 'FAILED'}",
        f"model: {report.get('model_id') or '-'} ({report['weights']}) "
        f"on {report.get('device_name') or '-'}",
    ]
    for name in ("genuine", "forgery"):
        if report.get(name):
            r = report[name]
            lines.append(f"{name}: score {r['score']:.3f}, {r['decision']}")
    lines.append("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in t.items()))
    if report["error"]:
        step = f" (step: {report['failed_step']})" if report["failed_step"] else ""
        lines.append(f"problem{step}: {report['error']}")
    return "\n".join(lines)
