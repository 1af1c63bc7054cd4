"""Choosing where the network runs: CUDA when there is a GPU, else the CPU."""

from __future__ import annotations

import torch

from model.errors import DeviceUnavailableError, ModelError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    """Whether this computer has a CUDA graphics card that this torch build can use."""
    return torch.cuda.is_available()


def resolve_device(choice: str = "auto") -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    if choice == "cuda":
        if not cuda_available():
            raise DeviceUnavailableError("No CUDA graphics card is available on this computer.")
        return torch.device("cuda")
    if choice == "cpu":
        return torch.device("cpu")
    raise ModelError(f"Unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}.")


def device_name(device: torch.device) -> str:
    """What the status bar shows: the GPU's name, or "CPU"."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "CPU"
