"""Where the CLI's output goes wrong: a full disk, a reader that went away. Run as a
real process, since what matters is the exit status and the interpreter's last flush."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from model.imageio import encode_png

RUN_CLI = "import sys; from sigverify_gui.cli import main; sys.exit(main())"


@pytest.fixture
def image(tmp_path):
    page = np.full((300, 600), 235, np.uint8)
    page[120:170, 150:450] = 30
    path = tmp_path / "sig.png"
    path.write_bytes(encode_png(page))
    return str(path)


def _sigverify(args, tmp_path, **streams):
    env = os.environ | {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args], env=env, stderr=subprocess.PIPE, **streams
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_output_to_a_full_disk_is_one_line_not_an_internal_error(image, tmp_path):
    with open("/dev/full", "w") as full:
        done = _sigverify(["quality", image, "--json"], tmp_path, stdout=full)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert err == (
        "error: The command ran, but its output could not be written: No space left on device.\n"
    )


def test_a_reader_that_went_away_ends_quietly(image, tmp_path):
    read, write = os.pipe()
    os.close(read)
    try:
        done = _sigverify(["quality", image], tmp_path, stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.decode()) == (0, "")
