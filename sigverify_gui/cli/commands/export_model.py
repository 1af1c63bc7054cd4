"""`sigverify export-model`: a checkpoint's portable form (`model.portable`), which the
teller executable's CPU flavour runs without torch."""

from __future__ import annotations

from sigverify_gui.cli.output import add_json_flag, check_target, emit, file_path


def register(sub) -> None:
    p = sub.add_parser(
        "export-model",
        help="export weights to the portable model the CPU executable runs (needs onnx)",
        description="Export a checkpoint to NAME.onnx.zip: the network in ONNX, run by "
        "OpenCV without torch, with its calibration and thresholds. The export is "
        "checked: OpenCV's embeddings must equal torch's.",
    )
    p.add_argument("weights", type=file_path, metavar="WEIGHTS.pt")
    p.add_argument("out", type=file_path, metavar="OUT.onnx.zip")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.errors import SigverifyError
    from model.export import export_portable
    from model.portable import PORTABLE_SUFFIX, is_portable

    if not is_portable(args.out):
        raise SigverifyError(f"The portable model's file name must end in {PORTABLE_SUFFIX}.")
    check_target(args.out, reads=[args.weights])  # no folder made for a mistyped path
    model = export_portable(args.weights, args.out)
    emit(
        args,
        {"out": str(args.out), "model_id": model.model_id},
        f"Wrote {args.out} (model {model.model_id}).",
    )
    return 0
