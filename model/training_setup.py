"""Turning data set folders into writer-disjoint training, validation and hold-out sets.

Hold-out: the last `holdout_fraction` of each data set's writers in natural order
(CEDAR 55 writers at 0.3 → writers 39..55). They are never seen in training or
validation, and the checkpoint names them, so `sigverify evaluate --holdout`
measures exactly them. Validation: a seeded random `val_fraction` of the remaining
writers of each data set (at least two); it picks the best epoch and fits the
calibration and thresholds. Training: the rest, plus any synthetic writers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.datasets import open_dataset
from model.errors import DatasetError
from model.progress import Progress
from model.training_data import CanvasSet, canvases_from_dataset, synthetic_canvases


@dataclass
class PreparedData:
    train: CanvasSet
    val: CanvasSet
    description: dict  # what the checkpoint records about the data


def split_writers(n: int, holdout_fraction: float, val_fraction: float, seed: int):
    """Indices (train, val, holdout) of n writers in natural order."""
    n_hold = math.ceil(n * holdout_fraction) if holdout_fraction > 0 else 0
    rest = np.arange(n - n_hold)
    hold = np.arange(n - n_hold, n)
    n_val = max(2, round(len(rest) * val_fraction)) if len(rest) >= 6 else 0
    rng = np.random.default_rng([seed, n, 7])
    val = np.sort(rng.choice(rest, n_val, replace=False)) if n_val else np.zeros(0, int)
    train = np.setdiff1d(rest, val)
    return train, val, hold


def prepare(
    data_dirs: list[Path],
    holdout_fraction: float = 0.3,
    val_fraction: float = 0.15,
    seed: int = 0,
    synthetic_writers: int = 0,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> PreparedData:
    trains, vals, sources = [], [], []
    for root in data_dirs:
        ds = open_dataset(root)
        name = Path(ds.root).name
        cset = canvases_from_dataset(ds, name, cache_dir, progress)
        tr, va, ho = split_writers(len(cset.writer_names), holdout_fraction, val_fraction, seed)
        trains.append(cset.subset_writers(tr))
        if len(va):
            vals.append(cset.subset_writers(va))
        sources.append(
            {
                "name": name,
                "layout": ds.layout,
                "writers": len(ds.writers),
                "images": int(len(cset)),
                "train_writers": [ds.writers[i].writer for i in tr],
                "val_writers": [ds.writers[i].writer for i in va],
                "holdout_writers": [ds.writers[i].writer for i in ho],
            }
        )
    if synthetic_writers:
        trains.append(synthetic_canvases(synthetic_writers, 12, 8, seed, progress))
        sources.append(
            {
                "name": "synthetic",
                "writers": synthetic_writers,
                "genuine_per_writer": 12,
                "forged_per_writer": 8,
                "seed": seed,
            }
        )
    if not vals:
        raise DatasetError(
            "No writers are left for validation: after the hold-out, a data set needs at "
            "least 6 writers. Give more writers or a smaller --holdout-fraction."
        )
    description = {
        "sources": sources,
        "holdout_fraction": holdout_fraction,
        "val_fraction": val_fraction,
        "split_seed": seed,
    }
    return PreparedData(CanvasSet.concat(trains), CanvasSet.concat(vals), description)
