"""`sigverify calibrate`: refitting a trained model's calibration on its own validation
writers, weights untouched (the model id changes only when stroke texture joins a model
made before it)."""

from dataclasses import replace

import pytest

from model.checkpoint import load_checkpoint, save_checkpoint
from model.errors import ModelError
from model.recalibrate import recalibrate
from model.scoring import REFERENCE_CENTRING, Calibration
from model.synth import write_dataset
from model.texture import TEXTURE_VERSION
from model.train import train
from model.training_setup import prepare
from tests.cli_errors import cli_with, run_cli
from tests.tiny import tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A data set folder and a tiny model trained on it, calibrated before centring."""
    root = tmp_path_factory.mktemp("recal")
    data_dir = root / "signatures"
    write_dataset(data_dir, writers=8, genuine=7, forged=2, seed=1)
    data = prepare([data_dir], 0.25, 0.25, seed=0, cache_dir=root / "cache")
    cfg = tiny_config(root, epochs=1, data_description=data.description)
    ckpt = train(cfg, data.train, data.val)
    old = replace(ckpt, calibration=Calibration(a=10.0, b=-7.0, k=2))  # as before centring
    save_checkpoint(root / "old.pt", old)
    return root, data_dir


def test_calibration_is_refitted_with_centring_and_texture(trained, tmp_path):
    root, data_dir = trained
    old = load_checkpoint(root / "old.pt")
    new = recalibrate(root / "old.pt", [data_dir], tmp_path / "new.pt", root / "cache", command="x")
    again = load_checkpoint(tmp_path / "new.pt")
    assert again.sha256 == old.sha256
    # the stroke texture joins the embedding, so stored references must be made again
    assert again.calibration.texture == TEXTURE_VERSION and not old.calibration.texture
    assert again.model_id != old.model_id
    assert again.calibration.texture_weight >= 0.0
    assert 0.0 < again.calibration.typical_texture_distance < 1.0
    # ... but a new calibration id, so a branch's thresholds chosen for the old one lapse
    assert again.calibration.fingerprint != old.calibration.fingerprint
    reloaded = load_checkpoint(tmp_path / "new.pt")
    assert again.calibration.fingerprint == reloaded.calibration.fingerprint
    assert again.calibration.centre == REFERENCE_CENTRING
    assert 0.0 < again.calibration.typical_self_similarity <= 1.0
    assert 0.0 <= again.thresholds.reject <= again.thresholds.accept <= 1.0
    assert again.training["recalibrated"] == {"command": "x"}
    assert new.metrics["validation"]["n_writers"] == 2


def test_recalibrating_a_texture_model_keeps_its_model_id(trained, tmp_path):
    root, data_dir = trained
    first = recalibrate(root / "old.pt", [data_dir], tmp_path / "a.pt", root / "cache")
    second = recalibrate(tmp_path / "a.pt", [data_dir], tmp_path / "b.pt", root / "cache")
    assert second.model_id == first.model_id


def test_without_texture_a_model_made_before_it_keeps_its_model_id(
    trained, tmp_path, monkeypatch, capsys
):
    root, data_dir = trained
    old = load_checkpoint(root / "old.pt")
    main = cli_with(monkeypatch, "calibrate")
    argv = ["calibrate", root / "old.pt", "--data", data_dir, "--cache", root / "cache"]
    code, out, err = run_cli(main, capsys, *argv, "--out", tmp_path / "plain.pt", "--no-texture")
    assert code == 0, err
    plain = load_checkpoint(tmp_path / "plain.pt")
    assert plain.model_id == old.model_id and not plain.calibration.texture
    assert old.model_id in out
    assert plain.calibration.centre == REFERENCE_CENTRING  # refitted all the same
    assert plain.calibration.fingerprint != old.calibration.fingerprint
    code, _, err = run_cli(main, capsys, *argv, "--out", root / "old.pt")
    assert code == 2 and "this command reads it too" in err  # the weights stay as they were
    assert load_checkpoint(root / "old.pt").calibration == old.calibration


def test_other_data_or_no_record_of_the_split_is_refused(trained, tmp_path):
    root, _ = trained
    other = tmp_path / "other"
    write_dataset(other, writers=10, genuine=7, forged=2, seed=2)
    with pytest.raises(ModelError, match="validation writers old.pt was trained with"):
        recalibrate(root / "old.pt", [other], tmp_path / "x.pt", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # refused before preprocessing a single image
    few = tmp_path / "few"  # too few writers to split: not train's "--holdout-fraction"
    write_dataset(few, writers=3, genuine=7, forged=2, seed=3)
    with pytest.raises(ModelError, match="too few writers\\); give the same --data") as info:
        recalibrate(root / "old.pt", [few], tmp_path / "x.pt")
    assert "--holdout-fraction" not in str(info.value)
    bare = replace(load_checkpoint(root / "old.pt"), training={})
    save_checkpoint(tmp_path / "bare.pt", bare)
    with pytest.raises(ModelError, match="does not record"):
        recalibrate(tmp_path / "bare.pt", [other], tmp_path / "y.pt")
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "y.pt").exists()


def test_a_model_of_a_refined_preprocessing_version_is_refitted_onto_the_current_one(
    trained, tmp_path
):
    # pp4 changed only the canvases of scans over 0.5 megapixels: the shipped weights
    # were refitted on its canvases, not retrained. Anything else still refuses them.
    from model.preprocess import PREPROCESS_VERSION, REFINED_VERSIONS
    from model.verifier import Verifier

    root, data_dir = trained
    current = load_checkpoint(root / "old.pt")
    older = save_checkpoint(
        tmp_path / "older.pt", replace(current, preprocess_version=REFINED_VERSIONS[0])
    )
    with pytest.raises(
        ModelError, match=f"was trained with image preprocessing {REFINED_VERSIONS[0]!r}"
    ):
        Verifier.load(tmp_path / "older.pt", device="cpu")
    refitted = recalibrate(tmp_path / "older.pt", [data_dir], tmp_path / "new.pt", root / "cache")
    again = load_checkpoint(tmp_path / "new.pt")
    assert again.preprocess_version == PREPROCESS_VERSION and again.sha256 == older.sha256
    assert refitted.model_id == again.model_id != older.model_id  # stored references redone
    assert Verifier.load(tmp_path / "new.pt", device="cpu").model_id == again.model_id
    ancient = save_checkpoint(tmp_path / "pp2.pt", replace(current, preprocess_version="pp2"))
    with pytest.raises(ModelError, match="'pp2'"):
        recalibrate(tmp_path / "pp2.pt", [data_dir], tmp_path / "x.pt", root / "cache")
    assert ancient.sha256 == current.sha256
