"""Refitting a trained network's calibration and thresholds on its own validation
writers, without retraining: after the match score's definition changes (centring on
the customer's references, then stroke texture, came after the shipped weights), or to
refit on fresh data. The weights stay as they are. So do the model id and every stored
embedding, except when stroke texture joins a model made before it: its embeddings
grow by the texture histogram, so it gets a new model id and stored references are
embedded again (as after any model change). `texture=False` refits without it: the
embeddings, and the model id, of a model made before texture then stay as they are.
A model made for a preprocessing version the current one only refines
(`preprocess.REFINED_VERSIONS`) is refitted on the current canvases and takes the
current version, so a new model id too: stored references are embedded again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from model.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from model.device import resolve_device
from model.errors import DatasetError, ModelError
from model.network import build_network
from model.preprocess import PREPROCESS_VERSION
from model.progress import Progress
from model.training_setup import WriterPlan, plan_writers, prepare_planned
from model.validation import calibrate_on


def val_writers(description: dict) -> dict[str, list[str]]:
    sources = description.get("sources", [])
    return {s["name"]: s["val_writers"] for s in sources if "val_writers" in s}


def require_same_val_writers(recorded: dict, description: dict, name: str) -> None:
    """Refuse data set folders that do not give the validation writers a model (`name`,
    whose training data description is `recorded`) was trained with."""
    if val_writers(description) != val_writers(recorded):
        raise ModelError(
            f"These data set folders do not give the validation writers {name} was "
            "trained with; give the same --data folders as its training."
        )


def _planned_val_writers(plan: WriterPlan) -> list[dict]:
    return [
        {"name": Path(ds.root).name, "val_writers": [ds.writers[i].writer for i in val]}
        for ds, (_, val, _) in zip(plan.datasets, plan.splits, strict=True)
    ]


def recalibrate(
    weights: Path,
    data_dirs: list[Path],
    out: Path,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    command: str = "",
    device: str = "auto",
    texture: bool = True,
    unreadable: dict[str, str] | None = None,
) -> Checkpoint:
    """Refit the calibration of `weights` on its validation writers and save it to
    `out`; `unreadable`, when given, is filled with the images left out as unusable
    ("<data set>/<path in it>" -> why)."""
    ckpt = load_checkpoint(weights, refit=True)
    recorded = ckpt.training.get("data") or {}
    if not val_writers(recorded):
        raise ModelError(f"{Path(weights).name} does not record its validation writers.")
    name = Path(weights).name
    try:  # the split the model recorded, not one the user chooses (train's options)
        split = (recorded[k] for k in ("holdout_fraction", "val_fraction", "split_seed"))
        plan = plan_writers(data_dirs, *split)
    except DatasetError as err:
        raise ModelError(
            f"These data set folders do not give the validation writers {name} was "
            "trained with (too few writers); give the same --data folders as its training."
        ) from err
    # before every image is preprocessed, not after
    require_same_val_writers(recorded, {"sources": _planned_val_writers(plan)}, name)
    data = prepare_planned(plan, cache_dir, progress)
    if unreadable is not None:
        unreadable.update(data.unreadable)
    dev = resolve_device(device)
    net = build_network(ckpt.config)
    net.load_state_dict(ckpt.state_dict)
    calibration, thresholds, metrics = calibrate_on(net.to(dev), data.val, dev, texture)
    refitted = replace(
        ckpt,
        preprocess_version=PREPROCESS_VERSION,  # the canvases it was refitted on
        calibration=calibration,
        thresholds=thresholds,
        metrics={"validation": metrics},
        training=ckpt.training | {"recalibrated": {"command": command}},
    )
    return save_checkpoint(out, refitted)
