"""`sigverify train`: train the verification network on data set folders."""

from __future__ import annotations

import sys
from pathlib import Path

from sigverify_gui.cli.commands.training_options import (
    add_data_options,
    check_data_folders,
    command_line,
    validation_summary,
)
from sigverify_gui.cli.output import (
    check_weights_target,
    file_path,
    fraction,
    left_out_list,
    left_out_warning,
    non_negative_int,
    positive_int,
    positive_number,
    seed_number,
    warn,
)


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the verification network on signature data sets",
        description="Train the siamese embedding network (writer-independent). "
        "The last --holdout-fraction of each data set's writers are held out for "
        "`sigverify evaluate --holdout`; a seeded --val-fraction of the rest validates.",
    )
    add_data_options(p)
    p.add_argument("--out", type=file_path, required=True, metavar="WEIGHTS.pt")
    p.add_argument("--loss", choices=["triplet", "contrastive"], default="triplet")
    p.add_argument(
        "--mining",
        choices=["semihard", "hard"],
        default="semihard",
        help="in-batch negative mining for the triplet loss",
    )
    p.add_argument(
        "--margin",
        type=positive_number,
        default=0.5,
        help="loss margin (default 0.5)",
    )
    p.add_argument("--epochs", type=positive_int, default=30)
    p.add_argument("--lr", type=positive_number, default=2e-3)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--seed", type=seed_number, default=0)
    p.add_argument(
        "--split-seed",
        type=seed_number,
        default=None,
        metavar="S",
        help="seed of the training/validation split and the synthetic writers (default: "
        "--seed); keep it fixed to train several networks on the same writers with "
        "different --seed",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue an interrupted run of the same --out"
    )
    p.add_argument(
        "--synthetic-writers",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="mix N synthetic writers into the training set",
    )
    p.add_argument(
        "--init",
        type=file_path,
        default=None,
        metavar="WEIGHTS.pt",
        help="start from these weights (fine-tune the shipped model or your own) "
        "instead of random ones",
    )
    p.add_argument(
        "--stroke-beside",
        type=file_path,
        default=None,
        metavar="WEIGHTS.pt",
        help="train only a stroke tower beside this trained network, whose weights stay "
        "as they are, on the same writers (its split is used)",
    )
    p.add_argument(
        "--stroke-widths",
        type=positive_int,
        nargs=3,
        default=(8, 8, 16),
        metavar=("A", "B", "C"),
        help="the stroke tower's channels per layer (default 8 8 16, the shipped model's)",
    )
    p.add_argument("--holdout-fraction", type=fraction, default=None, help="default 0.3")
    p.add_argument("--val-fraction", type=fraction, default=None, help="default 0.15")
    p.set_defaults(func=run)


def run(args) -> int:
    from model.checkpoint import load_checkpoint
    from model.device import resolve_device
    from model.distributed import is_first_process
    from model.errors import SigverifyError
    from model.network import NetworkConfig
    from model.progress import TerminalProgress
    from model.recalibrate import require_same_val_writers
    from model.train import TrainConfig, load_init, train
    from model.training_setup import plan_writers, prepare_planned

    # Everything that can be refused is refused here, before any file is written and
    # before preprocessing and training, which take minutes to hours.
    check_data_folders(args.data)
    check_weights_target(args.out, data=args.data)
    resolve_device(args.device)  # no graphics card: said now, not after preprocessing
    network = NetworkConfig()
    if args.init is not None and args.stroke_beside is not None:
        raise SigverifyError("A stroke tower starts from random weights: leave out --init.")
    if args.init is not None:
        load_init(args.init, network)
    base = load_checkpoint(args.stroke_beside) if args.stroke_beside is not None else None
    split = _split(args, base)
    plan = plan_writers(args.data, *split, args.synthetic_writers)

    # Under torchrun every process runs this command; the first alone logs and reports.
    first = is_first_process()
    log_path = _log_to_file(args.out) if first else None
    data = prepare_planned(plan, args.cache, TerminalProgress("data") if first else None)
    if first:  # as evaluate says it: each is in the log
        warn(left_out_warning(left_out_list(data.unreadable), f"{log_path} lists them all"))
    if base is not None:
        recorded = base.training.get("data") or {}
        require_same_val_writers(recorded, data.description, args.stroke_beside.name)
    cfg = TrainConfig(
        out=args.out,
        loss=args.loss,
        mining=args.mining,
        margin=args.margin,
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        network=network,
        data_description=data.description,
        init=args.init,
        stroke_beside=args.stroke_beside,
        stroke_widths=tuple(args.stroke_widths),
        command=command_line(),
    )
    if first:
        print(
            f"training on {len(data.train)} images of {len(data.train.writer_names)} "
            f"writers, validating on {len(data.val.writer_names)} writers; log: {log_path}",
            file=sys.stderr,
        )
    progress = TerminalProgress("train") if first else None
    ckpt = train(cfg, data.train, data.val, resume=args.resume, progress=progress)
    if ckpt is not None:  # None: another torchrun process than the first, which saved
        print(f"saved {args.out} ({ckpt.model_id}); {validation_summary(ckpt)}")
    return 0


def _split(args, base) -> tuple[float, float, int]:
    """Hold-out fraction, validation fraction and split seed: the options' (with their
    defaults), or for a stroke tower the shape network's (`base`, the checkpoint of
    --stroke-beside), which no option may contradict."""
    from model.errors import SigverifyError

    given = (args.holdout_fraction, args.val_fraction, args.split_seed)
    if base is None:
        holdout = 0.3 if args.holdout_fraction is None else args.holdout_fraction
        val = 0.15 if args.val_fraction is None else args.val_fraction
        split = (holdout, val, args.seed if args.split_seed is None else args.split_seed)
    else:
        if base.config.stroke_widths:
            raise SigverifyError(f"{args.stroke_beside.name} already has a stroke tower.")
        recorded = base.training.get("data") or {}
        try:
            split = (
                float(recorded["holdout_fraction"]),
                float(recorded["val_fraction"]),
                int(recorded["split_seed"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise SigverifyError(
                f"{args.stroke_beside.name} does not record the writers it was trained on."
            ) from err
        if any(g is not None and g != r for g, r in zip(given, split, strict=True)):
            raise SigverifyError(
                "A stroke tower is trained on its network's split; leave out "
                "--holdout-fraction, --val-fraction and --split-seed."
            )
    if split[0] + split[1] >= 1:
        raise SigverifyError(
            "--holdout-fraction and --val-fraction must add up to less than 1, so that "
            "writers are left to train on."
        )
    return split


def _log_to_file(out: Path) -> Path:
    """Log the run beside the weights (per-epoch figures, whatever the root level)."""
    import logging

    log_path = out.with_name(out.name + ".log")
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("sigverify").setLevel(logging.INFO)
    return log_path
