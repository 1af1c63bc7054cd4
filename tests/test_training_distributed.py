"""Multi-process training (PyTorch DDP) on the CPU: two ranks through torchrun and gloo,
as the README documents it for GPUs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.errors import ModelError
from model.train import train
from model.training_data import synthetic_canvases
from tests.tiny import tiny_config

ROOT = Path(__file__).resolve().parent.parent
TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed beside python")
def test_two_ranks_with_an_odd_number_of_batches_finish_the_schedule(tmp_path):
    # The tiny set gives 5 batches an epoch: split unevenly, one rank would wait for
    # ever for the other's gradients, and each rank's schedule would count all 5.
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [
            str(TORCHRUN),
            "--standalone",
            "--nproc_per_node=2",
            str(ROOT / "tests" / "ddp_train.py"),
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "rank 0 batches 5 epochs 2" in out and "rank 1 batches 5 epochs 2" in out
    steps = int(re.search(r"scheduler steps (\d+)", out)[1])
    total = int(re.search(r"scheduler total (\d+)", out)[1])
    assert steps == total == 2 * (5 // 2)  # both epochs, two batches a rank each
    assert (tmp_path / "w.pt").is_file()
    # the first process alone calibrates and returns the checkpoint; both leave the group
    assert "rank 0 returned checkpoint, group left True" in out
    assert "rank 1 returned none, group left True" in out

    # the schedule depends on the number of processes: resumed by one, the run is refused
    cset = synthetic_canvases(n_writers=8, genuine=7, forged=2, seed=3)
    train_set, val_set = cset.subset_writers(range(6)), cset.subset_writers([6, 7])
    with pytest.raises(ModelError, match="run on 2 process"):
        train(tiny_config(tmp_path), train_set, val_set, resume=True)
