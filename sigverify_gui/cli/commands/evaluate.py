"""`sigverify evaluate`: measure a model on a data set with the standard protocol."""

from __future__ import annotations

import os
from pathlib import Path

from sigverify_gui.cli.output import (
    add_json_flag,
    check_png_target,
    emit,
    file_path,
    left_out_list,
    left_out_warning,
    non_negative_int,
    positive_int,
    warn,
)


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure EER, AUC, FAR and FRR of a model on a data set",
        description="Per writer, the first --refs genuine images (by file name) are the "
        "references; its other genuine images are genuine queries, its forgeries skilled-"
        "forgery queries, and other writers' genuine queries (never their references) "
        "random-forgery queries.",
    )
    p.add_argument("--data", type=file_path, required=True, metavar="DIR")
    p.add_argument("--layout", default="auto", help="data set layout (default: detect)")
    p.add_argument("--refs", type=positive_int, default=5, help="references per writer (default 5)")
    p.add_argument(
        "--weights", type=file_path, default=None, help="weights file (default: bundled)"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument(
        "--holdout",
        action="store_true",
        help="only the writers this model held out of training for this data set",
    )
    p.add_argument(
        "--random-per-writer",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="cap random-forgery queries per writer (default: all)",
    )
    p.add_argument(
        "--plot",
        type=file_path,
        default=None,
        metavar="OUT.png",
        help="write DET curves and score histograms",
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from dataclasses import replace

    from model import Verifier
    from model.datasets import open_dataset
    from model.evaluate import plot, score_protocol, summarize
    from model.progress import TerminalProgress

    if args.plot:
        # before the scoring, which can take a while
        check_png_target(args.plot, data=[args.data])
    dataset = open_dataset(args.data, args.layout)
    verifier = Verifier.load(args.weights, device=args.device)
    if args.holdout:
        dataset = replace(dataset, writers=_holdout_writers(verifier, dataset))
    scores = score_protocol(
        dataset,
        embed=lambda paths: verifier.embed(paths),
        score=verifier.scores,
        refs=args.refs,
        random_per_writer=args.random_per_writer,
        progress=TerminalProgress("evaluating"),
    )
    t = verifier.thresholds
    summary = summarize(scores, t.accept, t.reject)
    summary = {
        "data": str(dataset.root),
        "layout": dataset.layout,
        "model_id": verifier.model_id,
        "holdout": args.holdout,
    } | summary
    if args.plot:
        plot(
            scores,
            args.plot,
            title=f"{dataset.root.name} ({verifier.model_id})",
            t_accept=t.accept,
            t_reject=t.reject,
        )
    left_out = left_out_list(
        {os.path.relpath(path, dataset.root): why for path, why in scores.unreadable.items()}
    )
    summary["unreadable"] = left_out
    warn([*dataset.warnings, *left_out_warning(left_out)])
    emit(args, summary, _human(summary))
    return 0


def _holdout_writers(verifier, dataset):
    from model.errors import SigverifyError

    sources = verifier.card["training"].get("data", {}).get("sources", [])
    for source in sources:
        if source.get("name") == Path(dataset.root).name:
            held = set(source.get("holdout_writers", []))
            return tuple(w for w in dataset.writers if w.writer in held)
    raise SigverifyError(
        f"This model was not trained on a data set named {Path(dataset.root).name!r}, "
        "so it has no hold-out writers there; drop --holdout."
    )


def _human(s: dict) -> str:
    def pct(key: str) -> str:
        v = s.get(key)
        return "n/a" if v is None else f"{100 * v:.2f}%"

    def ci(key: str) -> str:
        v = s.get(key)
        return "" if not v else f" [95% CI {100 * v[0]:.1f}–{100 * v[1]:.1f}% over writers]"

    def auc(key: str) -> str:
        v = s.get(key)
        return "n/a" if v is None else f"{v:.4f}"

    return "\n".join(
        [
            f"{s['data']} ({s['layout']}), model {s['model_id']}",
            f"writers {s['n_writers']}, genuine {s['n_genuine']}, skilled {s['n_skilled']}, "
            f"random {s['n_random']}",
            f"EER skilled {pct('eer_skilled')}{ci('eer_skilled_ci95')} (per-writer thresholds "
            f"{pct('eer_skilled_user')}), random {pct('eer_random')}{ci('eer_random_ci95')}",
            f"AUC skilled {auc('auc_skilled')}, random {auc('auc_random')}",
            f"at the shipped thresholds: FAR skilled {pct('far_skilled')}, random "
            f"{pct('far_random')}; FRR {pct('frr')}",
        ]
    )
