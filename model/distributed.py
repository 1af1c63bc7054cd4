"""Training on several processes at once: `torchrun` (PyTorch DDP), one process a GPU.

torchrun starts the same command once per process and tells each its place through the
environment (WORLD_SIZE, RANK, LOCAL_RANK). Every process trains on its share of each
epoch's batches; the first process alone validates, writes files and speaks to the user.
The CPU path is the same with the Gloo backend (tests/test_training_distributed.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
from torch import distributed as dist

from model.device import resolve_device
from model.errors import DeviceUnavailableError

# The first process validates and saves after every epoch while the others wait in the
# next collective; the default 10 minutes would end a run on a large validation set.
WAIT_LIMIT = timedelta(hours=2)


@dataclass(frozen=True)
class Processes:
    rank: int
    world: int
    device: torch.device
    owns_group: bool  # this module started the process group, so it ends it


def is_first_process() -> bool:
    """Whether this is torchrun's first process (or the only one): before joining, for
    what the command line does alone (log file, progress, its closing line)."""
    return int(os.environ.get("RANK", "0")) == 0


def join_processes(requested_device: str) -> Processes:
    """This process's place and device. Under torchrun each process takes the GPU of its
    LOCAL_RANK and the processes join over NCCL; on the CPU they join over Gloo."""
    device = resolve_device(requested_device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Processes(0, 1, device, owns_group=False)
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cards = torch.cuda.device_count()
        if local_rank >= cards:
            raise DeviceUnavailableError(
                f"This computer has {cards} CUDA graphics card(s) and torchrun started "
                f"process {local_rank + 1} on it; start one process a card "
                f"(torchrun --nproc-per-node {cards})."
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)  # collectives must not all fall to card 0
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            timeout=WAIT_LIMIT,
            device_id=device if device.type == "cuda" else None,
        )
    return Processes(dist.get_rank(), world, device, owns_group)


def leave(processes: Processes) -> None:
    if processes.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def mean_across(total: float, count: int, processes: Processes) -> float:
    """The mean of values of which each process holds `total` over `count`."""
    if processes.world > 1:
        both = torch.tensor([total, float(count)], dtype=torch.float64, device=processes.device)
        dist.all_reduce(both)
        total, count = float(both[0]), int(both[1])
    return total / max(count, 1)
