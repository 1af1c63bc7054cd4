"""The files training makes and writes: the canvas cache (damaged, stale), the images it
leaves out, and weights, resume and portable files on a full disk or read-only place."""

import errno
import zipfile

import numpy as np
import pytest
import torch

from model.checkpoint import Checkpoint, save_checkpoint
from model.datasets import open_dataset
from model.errors import ModelError, SigverifyError
from model.network import build_network
from model.portable import PortableModel, write_portable
from model.scoring import Calibration, Thresholds
from model.synth import write_dataset
from model.train import train
from model.training_data import canvases_from_dataset, synthetic_canvases
from tests.cli_errors import assert_user_error, cli_with, files_under, run_cli
from tests.tiny import TINY, tiny_config

JUNK = b"this is not a picture"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("small") / "signatures"
    write_dataset(root, writers=2, genuine=3, forged=0, seed=4)
    return root


def _copy(src, dst):
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    return dst


# --- the canvas cache ---------------------------------------------------------------


def test_a_damaged_cache_file_is_made_again_not_a_crash(small_data, tmp_path, caplog):
    cache = tmp_path / "cache"
    first = canvases_from_dataset(open_dataset(small_data), "signatures", cache)
    (cache_file,) = cache.iterdir()
    with cache_file.open("r+b") as file:  # `truncate -s`: cut short
        file.truncate(cache_file.stat().st_size // 2)
    with caplog.at_level("WARNING", logger="sigverify.training"):
        again = canvases_from_dataset(open_dataset(small_data), "signatures", cache)
    assert np.array_equal(again.canvases, first.canvases)
    assert "cannot be read" in caplog.text
    # rewritten whole: read from the cache next time, without a warning
    caplog.clear()
    with caplog.at_level("WARNING", logger="sigverify.training"):
        third = canvases_from_dataset(open_dataset(small_data), "signatures", cache)
    assert np.array_equal(third.canvases, first.canvases) and not caplog.text
    assert [p.name for p in cache.iterdir()] == [cache_file.name]


def test_an_image_replaced_under_its_name_is_read_again(small_data, tmp_path):
    data = _copy(small_data, tmp_path / "signatures")
    image = sorted(data.rglob("*.png"))[0]
    good = image.read_bytes()
    image.write_bytes(JUNK)
    cache = tmp_path / "cache"
    damaged = canvases_from_dataset(open_dataset(data), "signatures", cache)
    assert len(damaged) == 5 and list(damaged.unreadable) == [
        f"signatures/{image.relative_to(data).as_posix()}"
    ]
    # the same run again: from the cache, still saying which image was left out
    assert canvases_from_dataset(open_dataset(data), "signatures", cache).unreadable
    image.write_bytes(good)  # repaired: the same name, the same folder
    repaired = canvases_from_dataset(open_dataset(data), "signatures", cache)
    assert len(repaired) == 6 and not repaired.unreadable


def test_a_cache_that_cannot_be_written_leaves_nothing_behind(small_data, tmp_path, monkeypatch):
    def full_disk(file, **arrays):
        with open(file, "wb") as partial:
            partial.write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("model.training_data.np.savez", full_disk)
    cache = tmp_path / "cache"
    cset = canvases_from_dataset(open_dataset(small_data), "signatures", cache)
    assert len(cset) == 6 and list(cache.iterdir()) == []


def test_train_says_on_stderr_which_images_it_left_out(tmp_path, monkeypatch, capsys):
    write_dataset(tmp_path / "signatures", writers=8, genuine=7, forged=0, seed=1)
    image = sorted((tmp_path / "signatures").rglob("*.png"))[0]
    image.write_bytes(JUNK)
    monkeypatch.setattr("model.train.train", lambda *a, **k: None)
    main = cli_with(monkeypatch, "train")
    (tmp_path / "out").mkdir()
    argv = ["train", "--data", tmp_path / "signatures", "--out", tmp_path / "out" / "w.pt"]
    argv += ["--holdout-fraction", "0.1", "--cache", tmp_path / "cache"]
    for _ in ("preprocessed", "from the cache"):
        code, _, err = run_cli(main, capsys, *argv)
        assert code == 0, err
        warnings = [line for line in err.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1, err
        assert "Left out 1 image(s) that could not be used" in warnings[0]
        assert image.name in warnings[0] and "w.pt.log lists them all" in warnings[0]


# --- weights, resume and portable files on a full disk --------------------------------


def _checkpoint() -> Checkpoint:
    return Checkpoint(
        state_dict=build_network(TINY).state_dict(),
        config=TINY,
        calibration=Calibration(),
        thresholds=Thresholds(accept=0.8, reject=0.3),
    )


FAILURES = [
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    (OSError(errno.EROFS, "Read-only file system"), "Read-only file system"),
    # torch's own writer, given a file name
    (
        RuntimeError(
            "[enforce fail at inline_container.cc:747] . open file failed with strerror: "
            "Read-only file system"
        ),
        "Read-only file system",
    ),
]


@pytest.mark.parametrize(("failure", "reason"), FAILURES)
def test_weights_that_cannot_be_written_are_one_error_and_no_tmp(
    tmp_path, monkeypatch, failure, reason
):
    def failing_save(payload, file):
        file.write(b"half a file")
        raise failure

    monkeypatch.setattr("model.checkpoint.torch.save", failing_save)
    out = tmp_path / "w.pt"
    with pytest.raises(ModelError) as info:
        save_checkpoint(out, _checkpoint())
    assert str(info.value) == f"Could not write '{out}': {reason}."
    assert list(tmp_path.iterdir()) == []


def test_a_resume_file_that_cannot_be_written_is_one_error_and_no_tmp(tmp_path, monkeypatch):
    cset = synthetic_canvases(n_writers=8, genuine=7, forged=2, seed=3)
    save = torch.save

    def full_disk(payload, file):
        if str(file.name).endswith(".resume.tmp"):
            file.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
        save(payload, file)

    monkeypatch.setattr("model.checkpoint.torch.save", full_disk)
    cfg = tiny_config(tmp_path, epochs=1)
    with pytest.raises(ModelError, match="No space left on device") as info:
        train(cfg, cset.subset_writers(range(6)), cset.subset_writers([6, 7]))
    assert str(cfg.resume_path()) in str(info.value)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_portable_model_that_cannot_be_written_is_one_error_and_no_tmp(tmp_path, monkeypatch):
    def full_disk(self, name, data, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    model = PortableModel(
        onnx=b"onnx",
        model_id="sv-0",
        embedding_dim=16,
        canvas_hw=(8, 8),
        calibration=Calibration(),
        thresholds=Thresholds(accept=0.8, reject=0.3),
    )
    out = tmp_path / "m.onnx.zip"
    with pytest.raises(ModelError) as info:
        write_portable(out, model)
    assert str(info.value) == f"Could not write '{out}': No space left on device."
    assert list(tmp_path.iterdir()) == []


# --- an output in a place that cannot be written: refused before the work ------------


@pytest.fixture
def read_only(monkeypatch):
    """Every new file refused as on a read-only file system (root ignores a mode)."""

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("sigverify_gui.cli.output.tempfile.mkstemp", refuse)


def test_check_target_refuses_a_folder_that_cannot_be_written(tmp_path, read_only):
    from sigverify_gui.cli.output import check_target

    with pytest.raises(SigverifyError) as info:
        check_target(tmp_path / "out.pt")
    assert str(info.value) == f"Could not write '{tmp_path / 'out.pt'}': Read-only file system."


def test_check_target_leaves_nothing_in_a_folder_it_can_write(tmp_path):
    from sigverify_gui.cli.output import check_target

    check_target(tmp_path / "out.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--data", "{data}", "--out", "{out}/w.pt"],
        ["calibrate", "{out}/in.pt", "--data", "{data}", "--out", "{out}/w.pt"],
        ["export-model", "{out}/in.pt", "{out}/m.onnx.zip"],
        ["evaluate", "--data", "{data}", "--plot", "{out}/plot.png"],
    ],
)
def test_outputs_in_a_place_that_cannot_be_written_are_refused_before_any_work(
    small_data, tmp_path, monkeypatch, capsys, read_only, argv
):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started")

    monkeypatch.setattr("model.datasets.open_dataset", no_work)
    monkeypatch.setattr("model.training_setup.plan_writers", no_work)
    monkeypatch.setattr("model.export.export_portable", no_work)
    main = cli_with(monkeypatch, "train", "calibrate", "export_model", "evaluate")
    before = files_under(tmp_path)
    argv = [a.format(data=small_data, out=tmp_path) for a in argv]
    code, _, err = run_cli(main, capsys, *argv)
    assert_user_error(code, err, "Could not write", "Read-only file system")
    assert files_under(tmp_path) == before
