"""Run by tests/test_training_distributed.py under torchrun: one rank of a tiny
training on two processes (gloo, CPU). Argument: the output folder."""

import os
import sys
from pathlib import Path

import torch

from model.train import epoch_batches, train
from model.training_data import synthetic_canvases
from tests.tiny import tiny_config

cset = synthetic_canvases(n_writers=8, genuine=7, forged=2, seed=3)
train_set, val_set = cset.subset_writers(range(6)), cset.subset_writers([6, 7])
cfg = tiny_config(Path(sys.argv[1]))
checkpoint = train(cfg, train_set, val_set)
rank = int(os.environ["RANK"])
returned = "none" if checkpoint is None else "checkpoint"
print(f"rank {rank} batches {len(epoch_batches(train_set, cfg, 0))} epochs {cfg.epochs}")
print(f"rank {rank} returned {returned}, group left {not torch.distributed.is_initialized()}")
if rank == 0:
    state = torch.load(cfg.resume_path(), weights_only=True)
    print(f"scheduler steps {state['scheduler']['last_epoch']}")
    print(f"scheduler total {state['scheduler']['total_steps']}")
