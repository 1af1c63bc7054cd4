"""The portable model: the trained network exported to ONNX and run by OpenCV's DNN
module, with no torch at all.

Why it exists: the teller executable's CPU flavour leaves torch out. torch's CPU
library alone is 330 MB, more than half of that build's size budget, while OpenCV,
which preprocessing needs anyway, runs the same network from its ONNX export, as
fast on a branch PC's CPU and with a much quicker start. The embeddings agree with
torch's to about 1e-6 (the export checks it, and so do the tests), and the model id
is the checkpoint's, so a store's embeddings stay valid under either engine.

One file, NAME.onnx.zip (`sigverify export-model` makes it from a checkpoint):
`model.onnx` and `model.json`, which holds what inference needs beside the network:
the model id, the preprocessing version, calibration, thresholds, the embedding
size, the training description and figures, and the SHA-256 of `model.onnx`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.errors import ModelError
from model.model_file import format_for, require_usable, written_whole
from model.preprocess import PREPROCESS_VERSION
from model.scoring import Calibration, Thresholds

PORTABLE_SUFFIX = ".onnx.zip"
_NETWORK, _CARD = "model.onnx", "model.json"


def is_portable(path: str | Path) -> bool:
    return str(path).lower().endswith(PORTABLE_SUFFIX)


@dataclass
class PortableModel:
    onnx: bytes
    model_id: str
    embedding_dim: int
    canvas_hw: tuple[int, int]
    calibration: Calibration
    thresholds: Thresholds
    preprocess_version: str = PREPROCESS_VERSION
    card: dict = field(default_factory=dict)  # {"training": ..., "metrics": ...}


def write_portable(path: Path, model: PortableModel) -> None:
    """Write atomically (`model_file.written_whole`), like a checkpoint."""
    meta = {
        "format": format_for(model.calibration),
        "model_id": model.model_id,
        "preprocess_version": model.preprocess_version,
        "embedding_dim": model.embedding_dim,
        "canvas_hw": list(model.canvas_hw),
        "calibration": model.calibration.to_dict(),
        "thresholds": model.thresholds.to_dict(),
        "card": model.card,
        "onnx_sha256": hashlib.sha256(model.onnx).hexdigest(),
    }
    with written_whole(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_CARD, json.dumps(meta, indent=1, default=str))
        archive.writestr(_NETWORK, model.onnx)


def load_portable(path: Path) -> PortableModel:
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ModelError(f"The model file {path} {what}.")
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(_CARD))
            onnx = archive.read(_NETWORK)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ModelError(
            f"The model file {path.name} is damaged or not a sigverify model."
        ) from err
    version = require_usable(meta, path.name)
    if hashlib.sha256(onnx).hexdigest() != meta.get("onnx_sha256"):
        raise ModelError(f"The model file {path.name} fails its integrity check.")
    try:
        return PortableModel(
            onnx=onnx,
            model_id=str(meta["model_id"]),
            embedding_dim=int(meta["embedding_dim"]),
            canvas_hw=(int(meta["canvas_hw"][0]), int(meta["canvas_hw"][1])),
            calibration=Calibration.from_dict(meta["calibration"]),
            thresholds=Thresholds.from_dict(meta["thresholds"]),
            preprocess_version=version,
            card=dict(meta.get("card") or {}),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ModelError(f"{path.name} is not a sigverify model file of a known format.") from err


class OpenCVEngine:
    """Runs a portable model on the CPU through OpenCV's DNN module."""

    name = "opencv"
    device = "cpu"
    device_name = "CPU"

    def __init__(self, model: PortableModel) -> None:
        import cv2

        try:
            self._net = cv2.dnn.readNetFromONNX(np.frombuffer(model.onnx, np.uint8))
        except cv2.error as err:
            raise ModelError("The model's network could not be loaded by OpenCV.") from err
        # One network object holds its input between setInput and forward: callers on
        # two threads (the GUI's worker and a re-embedding) must take turns.
        self._lock = threading.Lock()

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """(N, 1, H, W) float32 canvases → (N, D) float32 embeddings."""
        with self._lock:
            self._net.setInput(np.ascontiguousarray(batch, np.float32))
            out = self._net.forward()
        return np.asarray(out, np.float32).reshape(len(batch), -1)
