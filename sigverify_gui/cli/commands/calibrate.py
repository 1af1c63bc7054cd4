"""`sigverify calibrate`: refit a trained model's score calibration and thresholds on
its validation writers (same weights, same model id)."""

from __future__ import annotations

from sigverify_gui.cli.commands.training_options import (
    add_data_options,
    check_data_folders,
    command_line,
    validation_summary,
)
from sigverify_gui.cli.output import (
    add_json_flag,
    check_weights_target,
    emit,
    file_path,
    left_out_list,
    left_out_warning,
    warn,
)


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="refit a model's match-score calibration and thresholds (same weights)",
        description="Refit the calibration and the accept/reject thresholds of WEIGHTS.pt "
        "on the validation writers it was trained with (give the same --data folders), "
        "and write the result to --out. The weights do not change; nor does the model id, "
        "unless stroke texture joins a model made before it, or the model was made for "
        "an older preprocessing version that the current one only refines (it is refitted "
        "on the current canvases and takes the current version).",
    )
    p.add_argument("weights", type=file_path, metavar="WEIGHTS.pt")
    add_data_options(p)
    p.add_argument("--out", type=file_path, required=True, metavar="OUT.pt")
    p.add_argument(
        "--no-texture",
        dest="texture",
        action="store_false",
        help="score by the network alone, without the stroke-texture term: a model made "
        "before texture keeps its model id, so stored references need not be embedded again",
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.progress import TerminalProgress
    from model.recalibrate import recalibrate

    check_data_folders(args.data)
    # before preprocessing, not once done
    check_weights_target(args.out, reads=[args.weights], data=args.data)
    unreadable: dict[str, str] = {}
    ckpt = recalibrate(
        args.weights,
        args.data,
        args.out,
        args.cache,
        TerminalProgress("data"),
        command_line(),
        texture=args.texture,
        unreadable=unreadable,
    )
    left_out = left_out_list(unreadable)
    warn(left_out_warning(left_out))
    emit(
        args,
        {
            "out": str(args.out),
            "model_id": ckpt.model_id,
            "calibration": ckpt.calibration.to_dict(),
            "thresholds": ckpt.thresholds.to_dict(),
            "validation": ckpt.metrics["validation"],
            "unreadable": left_out,
        },
        f"Wrote {args.out} ({ckpt.model_id}); {validation_summary(ckpt)}",
    )
    return 0
