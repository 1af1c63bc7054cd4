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


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the verification network on signature data sets",
        description="Train the siamese embedding network (writer-independent). "
        "The last --holdout-fraction of each data set's writers are held out for "
        "`sigverify evaluate --holdout`; a seeded --val-fraction of the rest validates.",
    )
    add_data_options(p)
    p.add_argument("--out", type=Path, required=True, metavar="WEIGHTS.pt")
    p.add_argument("--loss", choices=["triplet", "contrastive"], default="triplet")
    p.add_argument(
        "--mining",
        choices=["semihard", "hard"],
        default="semihard",
        help="in-batch negative mining for the triplet loss",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=0.5,
        help="loss margin (default 0.5)",
    )
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split-seed",
        type=int,
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
        type=int,
        default=0,
        metavar="N",
        help="mix N synthetic writers into the training set",
    )
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="WEIGHTS.pt",
        help="start from these weights (fine-tune the shipped model or your own) "
        "instead of random ones",
    )
    p.add_argument("--holdout-fraction", type=float, default=0.3)
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.set_defaults(func=run)


def run(args) -> int:
    import logging

    from model.errors import SigverifyError
    from model.network import NetworkConfig
    from model.progress import TerminalProgress
    from model.train import TrainConfig, train
    from model.training_setup import prepare

    if args.epochs < 1:
        raise SigverifyError("--epochs must be at least 1.")
    check_data_folders(args.data)
    log_path = args.out.with_name(args.out.name + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("sigverify").setLevel(
        logging.INFO
    )  # per-epoch figures, whatever the root level

    data = prepare(
        args.data,
        args.holdout_fraction,
        args.val_fraction,
        args.seed if args.split_seed is None else args.split_seed,
        args.synthetic_writers,
        args.cache,
        TerminalProgress("data"),
    )
    cfg = TrainConfig(
        out=args.out,
        loss=args.loss,
        mining=args.mining,
        margin=args.margin,
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        network=NetworkConfig(),
        data_description=data.description,
        init=args.init,
        command=command_line(),
    )
    print(
        f"training on {len(data.train)} images of {len(data.train.writer_names)} writers, "
        f"validating on {len(data.val.writer_names)} writers; log: {log_path}",
        file=sys.stderr,
    )
    ckpt = train(cfg, data.train, data.val, resume=args.resume, progress=TerminalProgress("train"))
    print(f"saved {args.out} ({ckpt.model_id}); {validation_summary(ckpt)}")
    return 0
