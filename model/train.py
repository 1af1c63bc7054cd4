"""Training the embedding tower (writer-independent, metric learning).

Batches are P writers × (K genuine + F skilled forgeries): each genuine anchor then
has positives of its own writer, its writer's forgeries as the hardest negatives,
and the other writers' signatures as random negatives, all inside the batch where
the loss mines them. Every random choice of an epoch comes from a generator seeded
with (seed, epoch), so a run is deterministic under `--seed` and `--resume` from the
last finished epoch continues it exactly.

On CUDA the forward pass runs under automatic mixed precision; several GPUs are
used through `torchrun` (PyTorch DDP: each rank takes every WORLD_SIZE-th batch, all
ranks the same number), with cuDNN and cuBLAS held to deterministic algorithms.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import distributed as dist

from model.augment import augment
from model.checkpoint import Checkpoint, load_checkpoint, save_checkpoint, save_whole
from model.distributed import Processes, join_processes, leave, mean_across
from model.errors import DatasetError, ModelError
from model.losses import make_loss
from model.network import NetworkConfig, build_network
from model.progress import NullProgress, Progress
from model.scoring import Calibration, Thresholds
from model.stroke import StrokeTower
from model.stroke_training import join_towers, stroke_batch
from model.training_data import CanvasSet
from model.validation import calibrate_on, embed_canvases, validate

log = logging.getLogger("sigverify.train")


@dataclass
class TrainConfig:
    out: Path
    loss: str = "triplet"
    mining: str = "semihard"
    # 0.5 beat 0.3 for the triplet loss on validation (skilled EER 15.7% against 16.8%)
    margin: float = 0.5
    epochs: int = 30
    batch_writers: int = 12
    genuine_per_writer: int = 4
    forged_per_writer: int = 2
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    data_description: dict = field(default_factory=dict)
    command: str = ""
    # Start from these weights instead of random ones: fine-tuning the shipped model,
    # or a bank retraining it on its own customers' signatures.
    init: Path | None = None
    # Train a stroke tower (`model.stroke_training`) beside this checkpoint's shape
    # network, which stays as it is, instead of a shape network.
    stroke_beside: Path | None = None
    stroke_widths: tuple[int, int, int] = (8, 8, 16)  # the shipped model's
    stroke_dim: int = 64

    def resume_path(self) -> Path:
        return self.out.with_name(self.out.name + ".resume")


def epoch_batches(train: CanvasSet, cfg: TrainConfig, epoch: int) -> list[np.ndarray]:
    """Every batch of one epoch, as arrays of row indices (deterministic per epoch)."""
    rng = np.random.default_rng([cfg.seed, epoch])
    genuine_rows = [
        np.flatnonzero((train.writer == w) & ~train.forged) for w in range(len(train.writer_names))
    ]
    forged_rows = [
        np.flatnonzero((train.writer == w) & train.forged) for w in range(len(train.writer_names))
    ]
    writers = [w for w, rows in enumerate(genuine_rows) if len(rows) >= 2]
    if not writers:  # the batches below would wait for ever for a writer to draw
        raise DatasetError("No training writer has two genuine signatures to learn from.")
    n_genuine = sum(len(genuine_rows[w]) for w in writers)
    per_batch = cfg.batch_writers * cfg.genuine_per_writer
    n_batches = max(1, math.ceil(n_genuine / per_batch))
    order: list[int] = []
    while len(order) < n_batches * cfg.batch_writers:
        order.extend(rng.permutation(writers).tolist())
    batches = []
    for b in range(n_batches):
        rows: list[int] = []
        for w in order[b * cfg.batch_writers : (b + 1) * cfg.batch_writers]:
            g = genuine_rows[w]
            rows.extend(
                rng.choice(g, cfg.genuine_per_writer, replace=len(g) < cfg.genuine_per_writer)
            )
            f = forged_rows[w]
            if len(f) and cfg.forged_per_writer:
                rows.extend(
                    rng.choice(f, cfg.forged_per_writer, replace=len(f) < cfg.forged_per_writer)
                )
        batches.append(np.asarray(rows))
    return batches


def load_init(path: Path, network: NetworkConfig) -> Checkpoint:
    """The weights to start from, refused unless they load and fit `network` (the
    command checks them before preprocessing, `train` again when it uses them).

    A model with a stroke tower (the shipped one) gives its shape network: `train`
    trains that, and a stroke tower is trained beside the result (`--stroke-beside`),
    from random weights, as the shipped one was."""
    start = load_checkpoint(path)
    shape_only = replace(
        start.config, stroke_widths=network.stroke_widths, stroke_dim=network.stroke_dim
    )
    if shape_only != network:
        raise ModelError(
            f"{path} has another network ({_described(start.config)}) than the one being "
            f"trained ({_described(network)})."
        )
    if start.config.stroke_widths and not network.stroke_widths:
        shape = {k: v for k, v in start.state_dict.items() if not _of_the_stroke_tower(k)}
        start = replace(start, config=network, state_dict=shape)
    return start


def _of_the_stroke_tower(key: str) -> bool:
    return key == "stroke_share" or key.startswith("stroke.")


def _described(config: NetworkConfig) -> str:
    """How two networks `load_init` compares differ, in the words of `train --help`."""
    return (
        f"{config.name} widths {list(config.widths)} blocks {list(config.blocks)}, "
        f"{config.embedding_dim}-long embeddings, canvas {list(config.canvas_hw)}"
    )


def run_settings(cfg: TrainConfig) -> dict:
    """What decides a run's course, as the resume file records it: a run resumed with
    other settings would be neither run (the device may change: a run begun on the CPU
    may go on on a GPU)."""
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in asdict(cfg).items()
        if k not in ("out", "command", "device")
    }


_RESUME_KEYS = frozenset(
    ("model", "optimizer", "scheduler", "scaler", "epoch", "history", "best_score")
    + ("best_epoch", "best_model")
)


def _resume_state(path: Path, device) -> dict:
    """The saved state of an interrupted run; a damaged or foreign file is refused in
    words (it had ended the run as an internal error, after all the preprocessing)."""
    try:
        with warnings.catch_warnings():  # torch's remarks on a file it cannot read
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # pickle and zip errors of every kind
        log.debug("torch could not load %s: %s", path, err)
        state = None
    if not isinstance(state, dict) or not _RESUME_KEYS.issubset(state):
        raise ModelError(
            f"{path} is damaged or not the saved state of a training run; delete it to "
            "start the run afresh."
        )
    return state


def _require_same_run(cfg: TrainConfig, state: dict) -> None:
    recorded = state.get("run")
    if recorded is None:  # written before runs were recorded: nothing to compare
        return
    current = run_settings(cfg)
    changed = [
        k for k in sorted(current.keys() | recorded.keys()) if recorded.get(k) != current.get(k)
    ]
    if changed:
        names = ", ".join("data" if k == "data_description" else k for k in changed)
        raise ModelError(
            f"{cfg.resume_path()} is of a run with other settings ({names}); resume it "
            "with the settings it was started with, or start a new run with another --out."
        )


def deterministic_cuda() -> None:
    """Make CUDA repeat itself, as the CPU does: cuDNN's fastest convolution algorithms
    and cuBLAS's default workspaces sum in varying order, so neither "deterministic
    under --seed" nor "resume continues exactly" would hold on a GPU without this.
    (Operations with no deterministic CUDA version only warn.)"""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def _batch_tensors(train: CanvasSet, rows: np.ndarray, rng: np.random.Generator):
    images = np.stack([augment(train.canvases[r], rng) for r in rows])[:, None]
    w = train.writer[rows].astype(np.int64)
    labels = np.where(train.forged[rows], -1 - w, w)
    return torch.from_numpy(images), torch.from_numpy(labels)


def _require_same_processes(cfg: TrainConfig, state: dict, world: int) -> None:
    # The schedule's length depends on the number of processes (each takes its share of
    # an epoch's batches): resumed by another number, a run would stop partway or never
    # bring its learning rate down.
    recorded = state.get("processes")
    if recorded is not None and int(recorded) != world:
        raise ModelError(
            f"{cfg.resume_path()} is of a run on {recorded} process(es); resume it on "
            f"{recorded} (torchrun --nproc-per-node {recorded}; 1: without torchrun)."
        )


def train(
    cfg: TrainConfig,
    train_set: CanvasSet,
    val_set: CanvasSet,
    resume: bool = False,
    progress: Progress | None = None,
) -> Checkpoint | None:
    """Train, validate and calibrate; the checkpoint, saved to `cfg.out`. Under torchrun
    the first process alone validates, saves and returns it (the others: None)."""
    processes = join_processes(cfg.device)
    try:
        return _train(cfg, train_set, val_set, resume, progress or NullProgress(), processes)
    finally:
        leave(processes)


def _train(
    cfg: TrainConfig,
    train_set: CanvasSet,
    val_set: CanvasSet,
    resume: bool,
    progress: Progress,
    processes: Processes,
) -> Checkpoint | None:
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    rank, world, device = processes.rank, processes.world, processes.device
    torch.manual_seed(cfg.seed)
    if device.type == "cuda":
        deterministic_cuda()
    base = load_checkpoint(cfg.stroke_beside) if cfg.stroke_beside is not None else None
    net = (
        build_network(cfg.network)
        if base is None
        else StrokeTower(cfg.stroke_widths, cfg.stroke_dim)
    )
    make_batch = _batch_tensors if base is None else stroke_batch
    if cfg.init is not None and base is not None:
        raise ModelError("A stroke tower starts from random weights: leave out --init.")
    if cfg.init is not None:
        start = load_init(cfg.init, cfg.network)
        net.load_state_dict(start.state_dict)
        log.info("starting from the weights of %s (%s)", cfg.init, start.model_id)
    net = net.to(device)
    model = net
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None
        )
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(epoch_batches(train_set, cfg, 0)) // world
    if steps_per_epoch == 0:
        raise DatasetError(f"Too few training batches an epoch for {world} processes.")
    total_steps = max(4, cfg.epochs * steps_per_epoch)
    # Warm up over the first 10% of steps; at least two steps, which OneCycleLR needs
    # to avoid a zero-length phase on very small runs.
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=cfg.lr,
        total_steps=total_steps,
        pct_start=min(0.5, max(0.1, 2.0 / total_steps)),
    )
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    loss_fn = make_loss(cfg.loss)
    loss_kwargs = {"margin": cfg.margin} | ({"mining": cfg.mining} if cfg.loss == "triplet" else {})

    start_epoch, history, best = 0, [], {"score": math.inf, "epoch": -1, "state": None}
    if resume and cfg.resume_path().is_file():
        state = _resume_state(cfg.resume_path(), device)
        _require_same_run(cfg, state)
        _require_same_processes(cfg, state, world)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if use_amp and state["scaler"]:  # a run begun on the CPU saved a disabled scaler
            scaler.load_state_dict(state["scaler"])
        start_epoch, history = int(state["epoch"]) + 1, list(state["history"])
        best = {
            "score": float(state["best_score"]),
            "epoch": int(state["best_epoch"]),
            "state": state["best_model"],
        }
        log.info("resuming after epoch %d", start_epoch)

    # The model is chosen among the last third of the epochs only, where the one-cycle
    # learning rate has come down. Earlier, at a high learning rate, the validation EER
    # of a few writers swings by several points between epochs, and a lucky swing is
    # not a better model (one run dipped to 9.7% at epoch 6 of 12, then read 18.7%,
    # 15.5%, 13.6%, 13.4%, 13.2%, 12.8%).
    first_selectable = cfg.epochs - max(1, cfg.epochs // 3)
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.monotonic()
        model.train()
        # every rank the same number of batches: DDP pairs the ranks' backward passes
        batches = epoch_batches(train_set, cfg, epoch)[: steps_per_epoch * world][rank::world]
        aug_rng = np.random.default_rng([cfg.seed, epoch, rank, 1])
        losses = []
        for i, rows in enumerate(batches):
            images, labels = make_batch(train_set, rows, aug_rng)
            images, labels = images.to(device, non_blocking=True), labels.to(device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                emb = model(images)
            loss = loss_fn(emb.float(), labels, **loss_kwargs)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            losses.append(float(loss.detach()))
            progress.update(
                epoch * len(batches) + i,
                cfg.epochs * len(batches),
                f"epoch {epoch + 1}/{cfg.epochs} loss {np.mean(losses):.4f}",
            )
        epoch_loss = mean_across(float(np.sum(losses)), len(losses), processes)
        if rank != 0:
            continue
        metrics = validate(net, val_set, device)
        # Model selection: skilled forgeries are the real threat, random ones the easy case.
        # (a data set without forgeries has no skilled EER: then random EER alone decides)
        selection = float(np.nan_to_num(metrics["eer_skilled"])) + 0.5 * metrics["eer_random"]
        record = {
            "epoch": epoch + 1,
            "loss": epoch_loss,
            "seconds": time.monotonic() - t0,
        } | metrics
        history.append(record)
        log.info("epoch %d: %s", epoch + 1, record)
        if epoch >= first_selectable and selection < best["score"]:
            best = {
                "score": selection,
                "epoch": epoch + 1,
                "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
            }
        save_whole(  # atomic: a kill mid-save keeps the previous epoch
            {
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "scaler": scaler.state_dict(),
                "epoch": epoch,
                "history": history,
                "best_score": best["score"],
                "best_epoch": best["epoch"],
                "best_model": best["state"],
                "run": run_settings(cfg),
                "processes": world,
            },
            cfg.resume_path(),
        )
        # after the save, so that cancelling here never loses the finished epoch
        progress.update(
            (epoch + 1) * len(batches),
            cfg.epochs * len(batches),
            f"epoch {epoch + 1}/{cfg.epochs} loss {record['loss']:.4f} "
            f"val EER skilled {metrics['eer_skilled']:.3f} random {metrics['eer_random']:.3f}",
        )
    if world > 1:
        dist.barrier()
    if rank != 0:
        return None  # the first process has the chosen epoch, calibrates and saves
    if best["state"] is not None:
        net.load_state_dict(best["state"])
    network = cfg.network
    if base is not None:
        net = join_towers(base, net, val_set, device)
        network = net.config
    calibration, thresholds, val_metrics = calibrate_on(net, val_set, device)
    shape_network = (
        {}
        if base is None
        else {"shape_network": {"model_id": base.model_id, "training": base.training}}
    )
    ckpt = Checkpoint(
        state_dict=net.state_dict(),
        config=network,
        calibration=calibration,
        thresholds=thresholds,
        training={
            "command": cfg.command,
            "data": cfg.data_description,
            "config": {
                k: (str(v) if isinstance(v, Path) else v)
                for k, v in asdict(cfg).items()
                if k not in ("network", "data_description", "command")
                and (base is not None or not k.startswith("stroke"))
            },
            "best_epoch": best["epoch"],
            "history": history,
        }
        | shape_network,
        metrics={"validation": val_metrics},
    )
    save_checkpoint(cfg.out, ckpt)
    return ckpt


__all__ = [
    "TrainConfig",
    "train",
    "epoch_batches",
    "load_init",
    "Calibration",
    "Thresholds",
    "embed_canvases",
]
