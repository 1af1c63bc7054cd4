"""Turning data set folders into writer-disjoint training, validation and hold-out sets.

Hold-out: the last `holdout_fraction` of each data set's writers in natural order
(CEDAR 55 writers at 0.3 → writers 39..55). They are never seen in training or
validation, and the checkpoint names them, so `sigverify evaluate --holdout`
measures exactly them. Validation: a seeded random `val_fraction` of the remaining
writers of each data set (at least two); it picks the best epoch and fits the
calibration and thresholds. Training: the rest, plus any synthetic writers.

`plan_writers` makes and checks the split from the folders' listings alone, so that
a data set training cannot use is refused before minutes of preprocessing and an
epoch of training; `prepare_planned` then reads the images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.datasets import Dataset, open_dataset
from model.errors import DatasetError
from model.progress import Progress
from model.training_data import CanvasSet, canvases_from_dataset, synthetic_canvases
from model.validation import VALIDATION_REFS

SYNTHETIC_GENUINE, SYNTHETIC_FORGED = 12, 8
# Validation scores each writer's genuine queries against its first VALIDATION_REFS
# references, and other writers' queries as random forgeries: it needs two such writers.
MIN_VALIDATION_WRITERS = 2


@dataclass
class PreparedData:
    train: CanvasSet
    val: CanvasSet
    description: dict  # what the checkpoint records about the data
    unreadable: dict[str, str] = field(default_factory=dict)  # images left out, and why


@dataclass
class WriterPlan:
    """The data sets and their writer split, checked before any image is read."""

    datasets: list[Dataset]
    splits: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (train, val, holdout) each
    holdout_fraction: float
    val_fraction: float
    seed: int
    synthetic_writers: int


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


def _require_distinct_names(data_dirs: list[Path], synthetic_writers: int) -> None:
    """Refuse two sources of one name: a data set is known by its folder's name (its
    writers as "<folder>/<writer>", the hold-out recorded under it), so two folders
    called "signatures" would mix their writers in validation and in the record."""
    seen: dict[str, Path] = {}
    named = [(Path(d).name, Path(d)) for d in data_dirs]
    if synthetic_writers:
        named.append(("synthetic", Path("--synthetic-writers")))
    for name, path in named:
        if name in seen:
            raise DatasetError(
                f"Two data sources are both named {name!r} ({seen[name]} and {path}): the "
                "model records each data set by its folder's name. Give each folder a "
                "name of its own."
            )
        seen[name] = path


def plan_writers(
    data_dirs: list[Path],
    holdout_fraction: float = 0.3,
    val_fraction: float = 0.15,
    seed: int = 0,
    synthetic_writers: int = 0,
) -> WriterPlan:
    """Open every data set and split its writers; refuse a split that leaves nothing
    to train or validate on now, not after preprocessing and a first epoch."""
    _require_distinct_names(data_dirs, synthetic_writers)
    datasets = [open_dataset(root) for root in data_dirs]
    splits = [
        split_writers(len(ds.writers), holdout_fraction, val_fraction, seed) for ds in datasets
    ]
    if not any(len(val) for _, val, _ in splits):
        raise DatasetError(
            "No writers are left for validation: after the hold-out, a data set needs at "
            "least 6 writers. Give more writers or a smaller --holdout-fraction."
        )

    def genuine_counts(part: int) -> list[int]:
        return [
            len(ds.writers[i].genuine)
            for ds, split in zip(datasets, splits, strict=True)
            for i in split[part]
        ]

    train_genuine = genuine_counts(0) + [SYNTHETIC_GENUINE] * synthetic_writers
    require_enough_writers(train_genuine, genuine_counts(1))
    return WriterPlan(datasets, splits, holdout_fraction, val_fraction, seed, synthetic_writers)


def require_enough_writers(train_genuine: list[int], val_genuine: list[int]) -> None:
    """Refuse training and validation writers (their genuine signature counts) that
    training could not use: a batch takes two genuine signatures of a writer."""
    if not any(n >= 2 for n in train_genuine):
        raise DatasetError(
            "No writer is left to train on with at least 2 genuine signatures. Give more "
            "writers, smaller --holdout-fraction and --val-fraction, or --synthetic-writers."
        )
    usable = sum(n >= VALIDATION_REFS + 1 for n in val_genuine)
    if usable < MIN_VALIDATION_WRITERS:
        raise DatasetError(
            f"Validation needs at least {MIN_VALIDATION_WRITERS} writers with at least "
            f"{VALIDATION_REFS + 1} genuine signatures each ({VALIDATION_REFS} as references, "
            f"the rest as queries), but {usable} of the validation writers have that many; "
            "give writers with more genuine signatures, or more writers."
        )


def prepare(
    data_dirs: list[Path],
    holdout_fraction: float = 0.3,
    val_fraction: float = 0.15,
    seed: int = 0,
    synthetic_writers: int = 0,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> PreparedData:
    """`plan_writers` and `prepare_planned` in one call."""
    plan = plan_writers(data_dirs, holdout_fraction, val_fraction, seed, synthetic_writers)
    return prepare_planned(plan, cache_dir, progress)


def prepare_planned(
    plan: WriterPlan, cache_dir: Path | None = None, progress: Progress | None = None
) -> PreparedData:
    """Preprocess the planned writers' images (cached) and render the synthetic ones."""
    trains, vals, sources, unreadable = [], [], [], {}
    for ds, (tr, va, ho) in zip(plan.datasets, plan.splits, strict=True):
        name = Path(ds.root).name
        cset = canvases_from_dataset(ds, name, cache_dir, progress)
        unreadable |= cset.unreadable
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
    if n := plan.synthetic_writers:
        trains.append(
            synthetic_canvases(n, SYNTHETIC_GENUINE, SYNTHETIC_FORGED, plan.seed, progress)
        )
        sources.append(
            {
                "name": "synthetic",
                "writers": n,
                "genuine_per_writer": SYNTHETIC_GENUINE,
                "forged_per_writer": SYNTHETIC_FORGED,
                "seed": plan.seed,
            }
        )
    train, val = CanvasSet.concat(trains), CanvasSet.concat(vals)
    # again on what was read: unreadable or blank scans are skipped, not counted
    require_enough_writers(_genuine_counts(train), _genuine_counts(val))
    description = {
        "sources": sources,
        "holdout_fraction": plan.holdout_fraction,
        "val_fraction": plan.val_fraction,
        "split_seed": plan.seed,
    }
    return PreparedData(train, val, description, unreadable)


def _genuine_counts(cset: CanvasSet) -> list[int]:
    genuine = cset.writer[~cset.forged]
    return np.bincount(genuine, minlength=len(cset.writer_names)).tolist()
