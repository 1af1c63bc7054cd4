"""The tiny network and training settings the training tests share (seconds, not hours)."""

from dataclasses import replace
from pathlib import Path

from model.network import NetworkConfig
from model.train import TrainConfig

TINY = NetworkConfig(widths=(8, 16, 16, 32), embedding_dim=16)


def tiny_config(folder: Path, **changes) -> TrainConfig:
    """Two epochs of batches of 3 writers × (3 genuine + 1 forgery), on the CPU."""
    base = TrainConfig(
        out=folder / "w.pt",
        epochs=2,
        batch_writers=3,
        genuine_per_writer=3,
        forged_per_writer=1,
        device="cpu",
        network=TINY,
        seed=5,
    )
    return replace(base, **changes)
