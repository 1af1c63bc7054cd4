"""The stroke tower: what it sees, how it joins the shape network, and training it
beside a trained network (`sigverify train --stroke-beside`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from model.checkpoint import load_checkpoint, save_checkpoint
from model.errors import CancelledError
from model.export import export_portable
from model.network import NetworkConfig, build_network, for_inference
from model.progress import NullProgress
from model.stroke import CROP_HW, INK, StrokeTower, capture_changes, ink_crop
from model.synth import write_dataset
from model.train import train
from model.training_setup import prepare
from model.verifier import Verifier
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.tiny import TINY, tiny_config

STROKE = {"stroke_widths": (4, 8, 8), "stroke_dim": 8}


def _strokes(shift: int = 0) -> torch.Tensor:
    canvas = np.zeros((224, 448), np.float32)
    rng = np.random.default_rng(0)
    for _ in range(12):  # short strokes of varied grey, away from the borders
        y, x = rng.integers(60, 150), rng.integers(100, 300)
        canvas[y : y + 3, x : x + rng.integers(10, 40)] = rng.uniform(0.4, 1.0)
    return torch.from_numpy(np.roll(canvas, shift, axis=1))[None, None]


def test_the_tower_sees_strokes_not_where_they_lie():
    tower = StrokeTower((4, 8, 8), 8).eval()
    with torch.no_grad():
        here, there = tower(_strokes()), tower(_strokes(shift=40))
    assert torch.allclose(torch.linalg.norm(here, dim=1), torch.ones(1))
    torch.testing.assert_close(here, there, atol=1e-5, rtol=0)  # moved by 10 cells


def test_the_pooling_keeps_full_precision_under_mixed_precision():
    # CUDA's float16 is not here; the CPU's bfloat16 autocast loses the spread the same way
    tower = StrokeTower((4, 8, 8), 8).eval()
    canvas = _strokes()
    with torch.no_grad():
        # features as the body gives them under autocast, with a large mean to cancel
        features = (tower.body(canvas) + 100.0).bfloat16()
        exact = tower.pool(features.float(), canvas)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = tower.pool(features, canvas)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, exact, atol=1e-5, rtol=0)


def test_joined_cosine_is_the_shares_mix_of_the_two():
    net = build_network(replace(TINY, **STROKE)).eval()
    net.stroke_share.fill_(0.3)
    a, b = torch.rand(2, 1, 1, 224, 448).unbind(0)
    with torch.no_grad():
        ea, eb = net(a), net(b)
        shape = net.shape_embedding(a) @ net.shape_embedding(b).T
        stroke = net.stroke(a) @ net.stroke(b).T
    assert ea.shape == (1, TINY.embedding_dim + 8)
    assert torch.allclose(torch.linalg.norm(ea, dim=1), torch.ones(1))
    torch.testing.assert_close(ea @ eb.T, 0.7 * shape + 0.3 * stroke)
    fast = for_inference(net, torch.device("cpu"))
    with torch.no_grad():
        torch.testing.assert_close(fast(a), ea, atol=1e-5, rtol=1e-4)


def test_a_network_without_a_tower_is_unchanged():
    assert NetworkConfig().output_dim == NetworkConfig().embedding_dim
    old = NetworkConfig.from_dict({"name": "sigres", "widths": [8, 16, 16, 32]})
    assert old.stroke_widths == ()
    assert "stroke_share" not in build_network(TINY).state_dict()


def test_training_crops_hold_ink_and_captures_change_deterministically():
    canvas = (_strokes()[0, 0].numpy() * 255).astype(np.uint8)
    crop = ink_crop(canvas, np.random.default_rng(1))
    assert crop.shape == CROP_HW and (crop > INK * 255).any()
    a = capture_changes(crop, np.random.default_rng(2))
    b = capture_changes(crop, np.random.default_rng(2))
    assert a.dtype == np.float32 and a.shape == CROP_HW
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    changed = [capture_changes(crop, np.random.default_rng(s)) for s in range(20)]
    assert any(np.abs(c - crop / 255.0).max() > 0.05 for c in changed)


@pytest.fixture(scope="module")
def beside(tmp_path_factory):
    """A tiny shape network, and a stroke tower trained beside it."""
    root = tmp_path_factory.mktemp("stroke")
    write_dataset(root / "signatures", writers=8, genuine=7, forged=2, seed=1)
    data = prepare([root / "signatures"], 0.25, 0.25, seed=0, cache_dir=root / "cache")
    cfg = tiny_config(root, epochs=1, data_description=data.description)
    train(cfg, data.train, data.val)
    joined = train(
        replace(cfg, out=root / "joined.pt", stroke_beside=root / "w.pt", **STROKE),
        data.train,
        data.val,
    )
    return root, data, joined


def test_the_tower_joins_the_unchanged_shape_network(beside):
    root, data, joined = beside
    base = load_checkpoint(root / "w.pt")
    again = load_checkpoint(root / "joined.pt")
    assert again.config == replace(base.config, **STROKE)
    for name, weights in base.state_dict.items():
        assert torch.equal(again.state_dict[name], weights), name
    share = float(again.state_dict["stroke_share"])
    assert 0.0 <= share < 1.0
    assert again.model_id != base.model_id
    record = again.training["shape_network"]
    assert record["model_id"] == base.model_id and record["training"] == base.training
    assert list(again.training["config"]["stroke_widths"]) == [4, 8, 8]
    v = Verifier.load(root / "joined.pt", device="cpu")
    e = v.embed([data.val.canvases[0]])
    assert e.shape == (1, v.embedding_dim) and v.embedding_dim == 16 + 8 + 59
    assert np.isclose(np.linalg.norm(e[0, :24]), 1.0, atol=1e-5)


def test_an_interrupted_tower_run_resumes_exactly(beside, tmp_path):
    root, data, _ = beside
    cfg = tiny_config(root, epochs=2, stroke_beside=root / "w.pt", **STROKE)
    straight = train(replace(cfg, out=tmp_path / "a.pt"), data.train, data.val)

    class StopAtSecondEpoch(NullProgress):
        def update(self, done, total, text=""):
            if text.startswith("epoch 2/"):
                raise CancelledError("stop")

    interrupted = replace(cfg, out=tmp_path / "b.pt")
    with pytest.raises(CancelledError):
        train(interrupted, data.train, data.val, progress=StopAtSecondEpoch())
    assert interrupted.resume_path().is_file() and not interrupted.out.exists()
    resumed = train(interrupted, data.train, data.val, resume=True)
    for key, value in straight.state_dict.items():
        assert torch.equal(value, resumed.state_dict[key]), key
    assert straight.sha256 == resumed.sha256


def test_the_joined_network_exports_to_the_portable_model(beside, tmp_path):
    root, data, _ = beside
    model = export_portable(root / "joined.pt", tmp_path / "j.onnx.zip")
    assert model.embedding_dim == 24
    torch_v = Verifier.load(root / "joined.pt", device="cpu")
    portable = Verifier.load(tmp_path / "j.onnx.zip")
    images = list(data.val.canvases[:3])
    np.testing.assert_allclose(portable.embed(images), torch_v.embed(images), atol=1e-4)
    assert portable.model_id == torch_v.model_id


def test_cli_trains_a_tower_only_on_its_networks_writers(beside, monkeypatch, capsys):
    root, _, _ = beside
    main = cli_with(monkeypatch, "train")
    argv = ["train", "--data", root / "signatures", "--cache", root / "cache"]
    code, _, err = run_cli(
        main, capsys, *argv, "--out", root / "x.pt", "--stroke-beside", root / "w.pt",
        "--split-seed", "9",
    )  # fmt: skip
    assert_user_error(code, err, "split", "--split-seed")
    code, _, err = run_cli(
        main, capsys, *argv, "--out", root / "y.pt", "--stroke-beside", root / "joined.pt"
    )
    assert_user_error(code, err, "already has a stroke tower")
    bare = load_checkpoint(root / "w.pt")
    save_checkpoint(root / "bare.pt", replace(bare, training={}))
    code, _, err = run_cli(
        main, capsys, *argv, "--out", root / "z.pt", "--stroke-beside", root / "bare.pt"
    )
    assert_user_error(code, err, "does not record the writers")
    code, _, err = run_cli(
        main, capsys, *argv, "--out", root / "z.pt", "--stroke-beside", root / "w.pt",
        "--init", root / "w.pt",
    )  # fmt: skip
    assert_user_error(code, err, "leave out --init")
    write_dataset(root / "other", writers=8, genuine=7, forged=2, seed=2)
    code, _, err = run_cli(
        main, capsys, "train", "--data", root / "other", "--cache", root / "cache",
        "--out", root / "z.pt", "--stroke-beside", root / "w.pt",
    )  # fmt: skip
    last = err.strip().splitlines()[-1]  # after the preprocessing's progress lines
    assert code == 2 and last.startswith("error: "), err
    assert "validation writers w.pt was trained with" in last
    assert not any((root / name).exists() for name in ("x.pt", "y.pt", "z.pt"))
