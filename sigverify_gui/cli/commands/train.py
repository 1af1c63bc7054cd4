"""`sigverify train`: train the verification network on data set folders."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the verification network on signature data sets",
        description="Train the siamese embedding network (writer-independent). "
        "The last --holdout-fraction of each data set's writers are held out for "
        "`sigverify evaluate --holdout`; a seeded --val-fraction of the rest validates.",
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        required=True,
        metavar="DIR",
        help="a data set folder in any layout the readers know (repeatable)",
    )
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
    p.add_argument(
        "--cache",
        type=Path,
        default=Path("cache"),
        metavar="DIR",
        help="where preprocessed canvases are cached (default ./cache)",
    )
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
    for d in args.data:
        if not d.is_dir():
            raise SigverifyError(f"The data set folder {d} does not exist.")
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
        args.seed,
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
        command="sigverify " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )
    print(
        f"training on {len(data.train)} images of {len(data.train.writer_names)} writers, "
        f"validating on {len(data.val.writer_names)} writers; log: {log_path}",
        file=sys.stderr,
    )
    ckpt = train(cfg, data.train, data.val, resume=args.resume, progress=TerminalProgress("train"))
    v = ckpt.metrics["validation"]
    print(
        f"saved {args.out} ({ckpt.model_id}); validation EER skilled "
        f"{v.get('eer_skilled')}, random {v.get('eer_random')}; thresholds "
        f"accept {ckpt.thresholds.accept:.3f} reject {ckpt.thresholds.reject:.3f}"
    )
    return 0
