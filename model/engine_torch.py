"""Running a checkpoint's network with torch: CUDA with mixed precision when there is
a GPU, else the CPU. The teller executable's CPU flavour uses `model.portable` instead."""

from __future__ import annotations

import numpy as np
import torch

from model.checkpoint import Checkpoint
from model.device import device_name
from model.network import build_network, inference_network


class TorchEngine:
    name = "torch"

    def __init__(self, checkpoint: Checkpoint, device: torch.device) -> None:
        net = build_network(checkpoint.config)
        net.load_state_dict(checkpoint.state_dict)
        self.net = inference_network(net, device, checkpoint.config.canvas_hw)
        self._device = device

    @property
    def device(self) -> str:
        return self._device.type

    @property
    def device_name(self) -> str:
        return device_name(self._device)

    @torch.inference_mode()
    def embed(self, batch: np.ndarray) -> np.ndarray:
        """(N, 1, H, W) float32 canvases → (N, D) float32 embeddings."""
        x = torch.from_numpy(np.ascontiguousarray(batch, np.float32))
        x = x.to(self._device, memory_format=torch.channels_last)
        cuda = self._device.type == "cuda"
        with torch.autocast(self._device.type, dtype=torch.float16, enabled=cuda):
            return self.net(x).float().cpu().numpy()
