"""The weights file: everything needed to use a trained network, and to trust it.

A checkpoint holds the weights, the architecture config, the preprocessing version
they were trained with, the score calibration and thresholds, a description of
the training data and a SHA-256 of the weights. It is loaded with
`torch.load(weights_only=True)`, so a weights file can never run code, and it is
refused when the preprocessing version differs from this code's: embeddings made
from differently preprocessed images would be silently wrong.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from model.errors import ModelError, os_reason
from model.model_file import format_for, require_usable, written_whole
from model.network import NetworkConfig
from model.portable import is_portable
from model.preprocess import PREPROCESS_VERSION
from model.scoring import Calibration, Thresholds

log = logging.getLogger("sigverify.checkpoint")


def weights_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def make_model_id(sha256: str, preprocess_version: str, texture: str = "") -> str:
    """Stable id of weights + preprocessing (+ the stroke-texture descriptor, whose
    histogram ends the embedding when the model uses one): what every stored embedding
    is tagged with."""
    made_of = f"{sha256}|{preprocess_version}" + (f"|{texture}" if texture else "")
    return "sv-" + hashlib.sha256(made_of.encode()).hexdigest()[:12]


@dataclass
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    config: NetworkConfig
    calibration: Calibration
    thresholds: Thresholds
    preprocess_version: str = PREPROCESS_VERSION
    training: dict = field(default_factory=dict)  # data description, command, seed, epochs
    metrics: dict = field(default_factory=dict)  # validation / hold-out figures
    sha256: str = ""

    @property
    def model_id(self) -> str:
        return make_model_id(
            self.sha256 or weights_digest(self.state_dict),
            self.preprocess_version,
            self.calibration.texture,
        )


def save_whole(payload: dict, path: Path) -> None:
    """`torch.save` to `path` whole or not at all (`model_file.written_whole`): a full
    disk or a read-only place is a `ModelError` naming the file, and leaves no .tmp."""
    with written_whole(path) as tmp, open(tmp, "wb") as file:
        # a Python file, not torch's own writer: a refused write is then an OSError
        # with the system's reason, not torch's "file write failed"
        torch.save(payload, file)


def save_checkpoint(path: Path, ckpt: Checkpoint) -> Checkpoint:
    """Write atomically (`save_whole`): a crash never leaves half a weights file."""
    state = {k: v.detach().to("cpu").clone() for k, v in ckpt.state_dict.items()}
    ckpt.sha256 = weights_digest(state)
    payload = {
        "format": format_for(ckpt.calibration),
        "state_dict": state,
        "config": ckpt.config.to_dict(),
        "preprocess_version": ckpt.preprocess_version,
        "calibration": ckpt.calibration.to_dict(),
        "thresholds": ckpt.thresholds.to_dict(),
        "training": ckpt.training,
        "metrics": ckpt.metrics,
        "sha256": ckpt.sha256,
    }
    save_whole(payload, path)
    return ckpt


def load_checkpoint(
    path: Path, map_location: str | torch.device = "cpu", *, refit: bool = False
) -> Checkpoint:
    """The checkpoint at `path`, checked; `refit` takes one made for a preprocessing
    version the current one only refines (`model_file.require_usable`), for
    `recalibrate`, which brings it to the current version."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ModelError(f"The model weights file {path} {what}.")
    if is_portable(path):  # a real model, but torch's weights are exported, not in it
        raise ModelError(
            f"{path.name} is a portable model, which only runs signatures; this needs the "
            "torch weights (.pt) it was exported from."
        )
    try:
        with warnings.catch_warnings():  # torch's remarks on a file it cannot read
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except OSError as err:
        raise ModelError(
            f"Could not read the model weights file {path.name}: {os_reason(err)}."
        ) from err
    except Exception as err:  # pickle/zip errors of every kind: the file is damaged
        # torch's text advises loading again with weights_only=False, which would let
        # the file run code: never shown to the user, kept in the log at debug level
        log.debug("torch could not load %s: %s", path, err)
        raise _damaged(path) from err
    version = require_usable(payload, path.name, refit=refit)
    try:
        state = payload["state_dict"]
        digest = weights_digest(state)
        ckpt = Checkpoint(
            state_dict=state,
            config=NetworkConfig.from_dict(payload["config"]),
            calibration=Calibration.from_dict(payload["calibration"]),
            thresholds=Thresholds.from_dict(payload["thresholds"]),
            preprocess_version=version,
            training=payload.get("training", {}),
            metrics=payload.get("metrics", {}),
            sha256=digest,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # a part is missing
        log.debug("%s lacks a usable part of a checkpoint: %r", path, err)
        raise _damaged(path) from err
    if digest != payload.get("sha256"):
        raise ModelError(f"The model weights file {path.name} fails its integrity check.")
    return ckpt


def _damaged(path: Path) -> ModelError:
    return ModelError(f"The model weights file {path.name} is damaged or not a sigverify model.")
