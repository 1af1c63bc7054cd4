"""The portable model (ONNX run by OpenCV): export, loading, agreement with torch, and
an installation without torch (the teller executable's CPU flavour)."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from model.checkpoint import Checkpoint, save_checkpoint
from model.errors import ModelError
from model.export import export_portable
from model.network import build_network
from model.portable import load_portable
from model.resources import resources_dir
from model.scoring import Calibration, Thresholds
from model.synth import render_samples
from model.verifier import DEFAULT_WEIGHTS_NAME, PORTABLE_WEIGHTS_NAME, Verifier
from tests.tiny import TINY

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """A small random-weight checkpoint and its portable export."""
    folder = tmp_path_factory.mktemp("portable")
    torch.manual_seed(0)
    net = build_network(TINY).train()
    with torch.no_grad():  # give the batch norms statistics, as training would
        net(torch.rand(8, 1, *TINY.canvas_hw))
    ckpt = Checkpoint(
        state_dict=net.state_dict(),
        config=TINY,
        calibration=Calibration(a=9.0, b=-6.0, k=2),
        thresholds=Thresholds(accept=0.8, reject=0.3),
        training={"command": "test"},
    )
    save_checkpoint(folder / "w.pt", ckpt)
    export_portable(folder / "w.pt", folder / "w.onnx.zip")
    return folder / "w.pt", folder / "w.onnx.zip"


def _scans(n: int) -> list[np.ndarray]:
    return render_samples(4, n)


def test_portable_model_gives_the_checkpoints_embeddings_id_and_thresholds(exported):
    pt, portable = exported
    torch_v, opencv_v = Verifier.load(pt, device="cpu"), Verifier.load(portable)
    assert (torch_v.engine, opencv_v.engine) == ("torch", "opencv")
    assert opencv_v.device == "cpu" and opencv_v.device_name == "CPU"
    # a portable model runs on the CPU only, whatever card the computer has
    assert not opencv_v.gpu_available
    assert torch_v.gpu_available == torch.cuda.is_available()
    assert opencv_v.model_id == torch_v.model_id
    assert opencv_v.thresholds == torch_v.thresholds
    assert opencv_v.calibration == torch_v.calibration
    assert opencv_v.card["training"]["command"] == "test"
    scans = _scans(3)
    assert np.allclose(opencv_v.embed(scans), torch_v.embed(scans), atol=1e-5)
    # batches of more than one batch_size, and the empty batch
    canvases = [torch_v.preprocess(s).canvas for s in scans] * 3
    assert opencv_v.embed_canvases(canvases, batch_size=4).shape == (9, 16)
    assert opencv_v.embed_canvases([]).shape == (0, 16)
    # a model without texture is still written as format 1, which older versions read
    with zipfile.ZipFile(portable) as archive:
        assert json.loads(archive.read("model.json"))["format"] == 1
    assert torch.load(pt, weights_only=True)["format"] == 1


def test_shipped_portable_model_is_the_shipped_checkpoint():
    """The two bundled files must stay one model: re-export after every retraining."""
    pt, portable = resources_dir() / DEFAULT_WEIGHTS_NAME, resources_dir() / PORTABLE_WEIGHTS_NAME
    torch_v, opencv_v = Verifier.load(pt, device="cpu"), Verifier.load(portable)
    assert opencv_v.model_id == torch_v.model_id
    assert opencv_v.thresholds == torch_v.thresholds
    assert opencv_v.calibration == torch_v.calibration and torch_v.calibration.texture
    # a texture model is written as format 2, which versions without texture refuse
    assert torch.load(pt, weights_only=True)["format"] == 2
    with zipfile.ZipFile(portable) as archive:
        assert json.loads(archive.read("model.json"))["format"] == 2
    scans = _scans(2)
    assert np.allclose(opencv_v.embed(scans), torch_v.embed(scans), atol=1e-5)


def _rewrite(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    change(files)
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return dst


def _edit_card(**changes):
    def change(files):
        card = json.loads(files["model.json"]) | changes
        files["model.json"] = json.dumps(card).encode()

    return change


def _flip_a_weight_byte(files):
    onnx = bytearray(files["model.onnx"])
    onnx[len(onnx) // 2] ^= 0xFF
    files["model.onnx"] = bytes(onnx)


@pytest.mark.parametrize(
    "change, message",
    [
        (_flip_a_weight_byte, "integrity"),
        (_edit_card(preprocess_version="pp0-old"), "preprocessing"),
        (_edit_card(format=99), "known format"),
        (lambda files: files.pop("model.onnx"), "damaged"),
    ],
    ids=["tampered", "old-preprocessing", "unknown-format", "missing-network"],
)
def test_bad_portable_files_are_refused_with_a_clear_message(exported, tmp_path, change, message):
    bad = _rewrite(exported[1], tmp_path / "bad.onnx.zip", change)
    with pytest.raises(ModelError, match=message):
        load_portable(bad)


def test_truncated_portable_file_and_cuda_request_are_refused(exported, tmp_path):
    cut = tmp_path / "cut.onnx.zip"
    cut.write_bytes(exported[1].read_bytes()[:1000])
    with pytest.raises(ModelError, match="damaged"):
        Verifier.load(cut)
    with pytest.raises(ModelError, match="CPU only"):
        Verifier.load(exported[1], device="cuda")


def test_export_model_command(exported, tmp_path, capsys):
    from sigverify_gui.cli import main

    out = tmp_path / "m.onnx.zip"
    assert main(["export-model", str(exported[0]), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == load_portable(out).model_id
    assert main(["export-model", str(exported[0]), str(tmp_path / "m.onnx")]) == 2
    assert "onnx.zip" in capsys.readouterr().err
    # a mistyped folder is refused, as by every other command that writes a file
    assert main(["export-model", str(exported[0]), str(tmp_path / "no/m.onnx.zip")]) == 2
    assert "the folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    # the portable model where the torch weights are needed: said so, not "damaged"
    assert main(["export-model", str(out), str(tmp_path / "again.onnx.zip")]) == 2
    err = capsys.readouterr().err
    assert "m.onnx.zip is a portable model" in err and "damaged" not in err


# Python with torch made unimportable, as in the executable's CPU flavour.
_WITHOUT_TORCH = "import sys; sys.modules['torch'] = None\n"


def _run_without_torch(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH + code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_torch_the_bundled_portable_model_runs_the_self_test(tmp_path):
    result = _run_without_torch(
        "import json\n"
        "from sigverify_gui.services.selftest import run_self_test\n"
        "report = run_self_test(None)\n"
        "print(json.dumps(report, default=str))\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True, report
    assert report["engine"] == "opencv"


def test_without_torch_training_says_what_it_needs(tmp_path):
    result = _run_without_torch(
        "from sigverify_gui.cli import main\n"
        f"sys.exit(main(['train', '--data', {str(tmp_path)!r}, '--out', 'x.pt']))\n",
        tmp_path,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "needs torch" in result.stderr and "Traceback" not in result.stderr
