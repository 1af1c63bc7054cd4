"""`sigverify calibrate`: refit a trained model's score calibration and thresholds on
its validation writers (same weights, same model id)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from sigverify_gui.cli.output import add_json_flag, emit


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="refit a model's match-score calibration and thresholds (same weights)",
        description="Refit the calibration and the accept/reject thresholds of WEIGHTS.pt "
        "on the validation writers it was trained with (give the same --data folders), "
        "and write the result to --out. The weights and the model id do not change.",
    )
    p.add_argument("weights", type=Path, metavar="WEIGHTS.pt")
    p.add_argument("--data", type=Path, action="append", required=True, metavar="DIR")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.pt")
    p.add_argument("--cache", type=Path, default=Path("cache"), metavar="DIR")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.errors import SigverifyError
    from model.progress import TerminalProgress
    from model.recalibrate import recalibrate

    for d in args.data:
        if not d.is_dir():
            raise SigverifyError(f"The data set folder {d} does not exist.")
    command = "sigverify " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ckpt = recalibrate(
        args.weights, args.data, args.out, args.cache, TerminalProgress("data"), command
    )
    v = ckpt.metrics["validation"]
    t = ckpt.thresholds
    emit(
        args,
        {
            "out": str(args.out),
            "model_id": ckpt.model_id,
            "calibration": ckpt.calibration.to_dict(),
            "thresholds": t.to_dict(),
            "validation": v,
        },
        f"Wrote {args.out} ({ckpt.model_id}); validation EER skilled {v.get('eer_skilled')}, "
        f"random {v.get('eer_random')}; thresholds accept {t.accept:.3f} reject {t.reject:.3f}",
    )
    return 0
