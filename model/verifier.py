"""The inference API the app, the CLI and the benchmark use.

    from model import Verifier
    v = Verifier.load()            # bundled weights, CUDA if available, else CPU
    E = v.embed(images)            # paths or arrays of raw scans -> (N, D) float32
    s = v.score(E_refs, e_query)   # calibrated match score in [0, 1]
    v.decide(s)                    # "accept" | "refer" | "reject"

Thread-safe for inference: nothing here mutates state after `load`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import Checkpoint, load_checkpoint
from model.device import device_name, resolve_device
from model.errors import ModelError
from model.imageio import load_gray
from model.network import build_network, for_inference
from model.preprocess import Preprocessed, preprocess
from model.resources import resources_dir
from model.scoring import ScoringMixin
from model.scoring import Thresholds as Thresholds

DEFAULT_WEIGHTS_NAME = "sigverify-v1.pt"
ImageInput = np.ndarray | str | os.PathLike


def default_weights_path() -> Path:
    return resources_dir() / DEFAULT_WEIGHTS_NAME


class Verifier(ScoringMixin):
    def __init__(self, checkpoint: Checkpoint, device: torch.device) -> None:
        self.checkpoint = checkpoint
        self._device = device
        net = build_network(checkpoint.config)
        net.load_state_dict(checkpoint.state_dict)
        self.net = for_inference(net, device)
        self.model_id = checkpoint.model_id
        self.embedding_dim = checkpoint.config.embedding_dim
        self.calibration = checkpoint.calibration
        self.thresholds = checkpoint.thresholds

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str = "auto") -> Verifier:
        """Load weights (the bundled model when `path` is None) onto `device`."""
        dev = resolve_device(device)
        weights = Path(path) if path is not None else default_weights_path()
        if path is None and not weights.is_file():
            raise ModelError(
                f"The bundled model {weights.name} is missing from {weights.parent}; "
                "reinstall sigverify or give the weights file explicitly."
            )
        return cls(load_checkpoint(weights, map_location=dev), dev)

    # --- what the status bar and the audit trail show --------------------------------
    @property
    def device(self) -> str:
        return self._device.type

    @property
    def device_name(self) -> str:
        return device_name(self._device)

    @property
    def card(self) -> dict:
        """Training description and figures recorded in the checkpoint."""
        return {"training": self.checkpoint.training, "metrics": self.checkpoint.metrics}

    # --- embedding ---------------------------------------------------------------------
    @staticmethod
    def preprocess(image: ImageInput) -> Preprocessed:
        gray = image if isinstance(image, np.ndarray) else load_gray(image)
        return preprocess(gray)

    def embed(self, images: Sequence[ImageInput], batch_size: int = 64) -> np.ndarray:
        """Raw scans (paths or arrays, any size) → (N, D) float32 unit vectors."""
        if len(images) > 8:  # OpenCV and image decoding release the GIL: use both cores
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
                canvases = list(pool.map(lambda img: self.preprocess(img).canvas, images))
        else:
            canvases = [self.preprocess(img).canvas for img in images]
        return self.embed_canvases(canvases, batch_size)

    @torch.inference_mode()
    def embed_canvases(self, canvases: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Preprocessed canvases (float in [0, 1] or uint8) → (N, D) float32."""
        out = []
        for i in range(0, len(canvases), batch_size):
            chunk = [np.asarray(c) for c in canvases[i : i + batch_size]]
            arr = np.stack(
                [c.astype(np.float32) / 255.0 if c.dtype == np.uint8 else c for c in chunk]
            )
            x = torch.from_numpy(np.ascontiguousarray(arr, np.float32))[:, None]
            x = x.to(self._device, memory_format=torch.channels_last)
            with torch.autocast(
                self._device.type, dtype=torch.float16, enabled=self._device.type == "cuda"
            ):
                out.append(self.net(x).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.embedding_dim), np.float32)
        return np.ascontiguousarray(np.concatenate(out), np.float32)
