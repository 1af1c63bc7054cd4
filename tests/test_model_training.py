"""Training, checkpoints and the Verifier on a tiny network and synthetic writers."""

import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from model.checkpoint import load_checkpoint, save_checkpoint
from model.errors import CancelledError, ModelError
from model.imageio import encode_png
from model.network import NetworkConfig
from model.preprocess import PREPROCESS_VERSION
from model.progress import NullProgress
from model.texture import TEXTURE_DIMS, TEXTURE_VERSION
from model.train import TrainConfig, epoch_batches, train
from model.training_data import CanvasSet, synthetic_canvases
from model.training_setup import split_writers
from model.verifier import Verifier
from tests.cli_errors import (
    assert_refused_option,
    assert_user_error,
    cli_with,
    files_under,
    run_cli,
)
from tests.tiny import tiny_config


@pytest.fixture(scope="module")
def canvases() -> CanvasSet:
    return synthetic_canvases(n_writers=8, genuine=7, forged=2, seed=3)


def _cfg(tmp_path, **kw) -> TrainConfig:
    return tiny_config(tmp_path, **kw)


def _split(cset):
    return cset.subset_writers(range(6)), cset.subset_writers([6, 7])


def test_batches_are_deterministic_and_hold_forgeries_of_batch_writers(canvases, tmp_path):
    cfg = _cfg(tmp_path)
    a, b = epoch_batches(canvases, cfg, 0), epoch_batches(canvases, cfg, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(
        np.array_equal(x, y) for x, y in zip(a, epoch_batches(canvases, cfg, 1), strict=False)
    )
    batch = a[0]
    genuine_writers = set(canvases.writer[batch][~canvases.forged[batch]])
    forged_writers = set(canvases.writer[batch][canvases.forged[batch]])
    assert forged_writers and forged_writers <= genuine_writers


def test_split_is_writer_disjoint():
    train, val, hold = split_writers(55, 0.3, 0.15, seed=0)
    assert len(hold) == 17 and list(hold) == list(range(38, 55))
    assert not set(train) & set(val) and not (set(train) | set(val)) & set(hold)
    assert len(train) + len(val) + len(hold) == 55


def test_training_is_deterministic_and_resume_continues_exactly(canvases, tmp_path):
    tr, va = _split(canvases)
    straight = train(_cfg(tmp_path / "a"), tr, va)

    class StopAtSecondEpoch(NullProgress):
        def update(self, done, total, text=""):
            if text.startswith("epoch 2/"):
                raise CancelledError("stop")

    cfg = _cfg(tmp_path / "b")
    with pytest.raises(CancelledError):
        train(cfg, tr, va, progress=StopAtSecondEpoch())
    assert cfg.resume_path().is_file() and not cfg.out.exists()
    # the run must go on as it began: other settings would make it neither run
    for changed in (replace(cfg, epochs=4), replace(cfg, seed=6), replace(cfg, lr=1e-3)):
        with pytest.raises(ModelError, match="run with other settings"):
            train(changed, tr, va, resume=True)
    resumed = train(cfg, tr, va, resume=True)
    for key, value in straight.state_dict.items():
        assert torch.equal(value, resumed.state_dict[key]), key
    assert straight.sha256 == resumed.sha256


@pytest.mark.parametrize("content", ["garbage", "cut short", "a checkpoint"])
def test_a_damaged_or_foreign_resume_file_is_refused_in_words(canvases, tmp_path, content):
    tr, va = _split(canvases)
    cfg = _cfg(tmp_path)
    if content == "a checkpoint":  # weights renamed into the resume file's place
        torch.save({"state_dict": {}, "format": 2}, cfg.resume_path())
    else:
        torch.save({"model": {}, "history": list(range(100))}, cfg.resume_path())
        data = cfg.resume_path().read_bytes()
        cut = data[: len(data) // 2] if content == "cut short" else b"\x80\x04garbage"
        cfg.resume_path().write_bytes(cut)
    with pytest.raises(ModelError, match="is damaged or not the saved state of a training run"):
        train(cfg, tr, va, resume=True)


def test_cuda_is_held_to_deterministic_algorithms(monkeypatch):
    from model.train import deterministic_cuda

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    try:
        deterministic_cuda()
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        torch.use_deterministic_algorithms(False)


def test_the_model_is_chosen_among_the_last_third_of_the_epochs(canvases, tmp_path, monkeypatch):
    # Scripted validation: the first epoch looks best by far, as a lucky swing at a
    # high learning rate can; the model must still come from epochs 5-6.
    skilled = iter([0.0, 0.10, 0.20, 0.30, 0.25, 0.28])
    monkeypatch.setattr(
        "model.train.validate", lambda *a: {"eer_skilled": next(skilled), "eer_random": 0.05}
    )
    tr, va = _split(canvases)
    ckpt = train(_cfg(tmp_path, epochs=6), tr, va)
    assert [r["epoch"] for r in ckpt.training["history"]] == [1, 2, 3, 4, 5, 6]
    assert ckpt.training["best_epoch"] == 5


def test_init_starts_from_given_weights_and_refuses_another_architecture(canvases, tmp_path):
    tr, va = _split(canvases)
    first = train(_cfg(tmp_path / "a", epochs=1), tr, va)
    # A vanishing learning rate: the fine-tuned weights must stay the starting ones,
    # which a random start (seed 5 again) would not give.
    tuned = train(_cfg(tmp_path / "b", epochs=1, lr=1e-12, init=tmp_path / "a" / "w.pt"), tr, va)
    fresh = train(_cfg(tmp_path / "c", epochs=1, lr=1e-12), tr, va)
    conv = next(k for k in first.state_dict if k.startswith("stem.") and k.endswith("weight"))
    assert torch.allclose(tuned.state_dict[conv], first.state_dict[conv], atol=1e-6)
    assert not torch.allclose(fresh.state_dict[conv], first.state_dict[conv], atol=1e-3)
    assert tuned.training["config"]["init"] == str(tmp_path / "a" / "w.pt")

    wider = NetworkConfig(widths=(8, 16, 32, 32), embedding_dim=16)
    with pytest.raises(ModelError, match=r"another network \(sigres widths \[8, 16, 16, 32\]"):
        train(_cfg(tmp_path / "d", network=wider, init=tmp_path / "a" / "w.pt"), tr, va)

    # A model with a stroke tower, as the shipped one (README: a bank starts from it)
    # had been refused as "a different architecture": its shape network is the start.
    from dataclasses import replace

    from model.checkpoint import save_checkpoint
    from model.network import build_network

    joined = replace(first.config, stroke_widths=(8, 8, 16))
    towers = build_network(joined).state_dict() | first.state_dict
    save_checkpoint(tmp_path / "joined.pt", replace(first, config=joined, state_dict=towers))
    from_joined = train(
        _cfg(tmp_path / "e", epochs=1, lr=1e-12, init=tmp_path / "joined.pt"), tr, va
    )
    assert not from_joined.config.stroke_widths
    assert torch.allclose(from_joined.state_dict[conv], first.state_dict[conv], atol=1e-6)


def test_checkpoint_round_trip_and_refusals(canvases, tmp_path):
    tr, va = _split(canvases)
    ckpt = train(_cfg(tmp_path, epochs=1, loss="contrastive", margin=0.5), tr, va)
    loaded = load_checkpoint(ckpt_path := tmp_path / "w.pt")
    assert loaded.sha256 == ckpt.sha256 and loaded.model_id == ckpt.model_id
    assert loaded.model_id.startswith("sv-")
    assert 0.0 <= loaded.thresholds.reject <= loaded.thresholds.accept <= 1.0
    assert loaded.training["data"] == {} and loaded.training["config"]["loss"] == "contrastive"

    other = replace(loaded, preprocess_version="pp0-old")
    save_checkpoint(tmp_path / "old.pt", other)
    with pytest.raises(ModelError, match="preprocessing"):
        load_checkpoint(tmp_path / "old.pt")

    payload = torch.load(ckpt_path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] = payload["state_dict"][name] + 1
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(ModelError, match="integrity"):
        load_checkpoint(tmp_path / "tampered.pt")

    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="damaged"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(ModelError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_checkpoint_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": 1, "evil": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ModelError):
        load_checkpoint(tmp_path / "evil.pt")


def test_verifier_embeds_scores_and_decides(canvases, tmp_path):
    from model.synth import make_writer, render_forgery, render_genuine

    tr, va = _split(canvases)
    train(_cfg(tmp_path, epochs=1), tr, va)
    v = Verifier.load(tmp_path / "w.pt", device="cpu")
    # the network's 16 numbers, then the stroke texture's histogram
    assert v.calibration.texture == TEXTURE_VERSION
    dim = 16 + TEXTURE_DIMS
    assert v.device == "cpu" and v.device_name == "CPU" and v.embedding_dim == dim
    rng = np.random.default_rng(0)
    writer = make_writer(99)
    scans = [render_genuine(writer, rng) for _ in range(4)] + [render_forgery(writer, rng)]
    emb = v.embed(scans)
    assert emb.shape == (5, dim) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb[:, :16], axis=1), 1.0, atol=1e-4)
    assert np.allclose(emb[:, 16:].sum(axis=1), 1.0, atol=1e-4)
    # batched and single embedding agree
    assert np.allclose(v.embed(scans[:1])[0], emb[0], atol=1e-5)
    # read a few images at a time (only their canvases are held): the same embeddings
    import model.verifier as mv

    read = []
    whole = mv.canvases_of
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mv, "READ_CHUNK", 2)
        patch.setattr(mv, "canvases_of", lambda images: read.append(len(images)) or whole(images))
        assert np.allclose(v.embed(scans), emb, atol=1e-5)
    assert read == [2, 2, 1]
    assert v.embed([]).shape == (0, dim)
    s = v.score(emb[:3], emb[3])
    assert 0.0 <= s <= 1.0
    assert v.decide(s) in ("accept", "refer", "reject")
    assert v.decide(1.0) == "accept" and v.decide(0.0, t_reject=0.01) == "reject"
    assert v.decide(0.5, t_accept=0.9, t_reject=0.1) == "refer"
    with pytest.raises(ModelError):
        v.score(np.zeros((0, dim), np.float32), emb[0])
    # a lone path or 2-D array is a list of one (a path was read letter by letter)
    path = tmp_path / "one.png"
    path.write_bytes(encode_png(scans[0]))
    for one in (str(path), path, scans[0], iter([scans[0]])):
        assert np.allclose(v.embed(one), emb[:1], atol=1e-5)
    _refused_in_words(v, emb, dim)


def _refused_in_words(v, emb, dim) -> None:
    """Every misuse of the API is a ModelError in words, never numpy's or a silent
    wrong answer (a NaN score, "accept" for 1.5)."""
    misuses = {
        "another model's query": lambda: v.score(emb[:3], emb[3][:10]),
        "no query": lambda: v.score(emb[:3], None),
        "several queries to score": lambda: v.score(emb[:3], emb[3:]),
        "NaN in a reference": lambda: v.score(np.where(emb[:3] > 0, np.nan, emb[:3]), emb[3]),
        "a score above 1": lambda: v.decide(1.5),
        "a NaN score": lambda: v.decide(float("nan")),
        "no score": lambda: v.decide(None),
        "crossed thresholds": lambda: v.decide(0.5, t_accept=0.2, t_reject=0.8),
        "nothing to embed": lambda: v.embed(None),
        "a colour scan bare": lambda: v.embed(np.zeros((50, 80, 3), np.uint8)),
        "batch of none": lambda: v.embed([], batch_size=0),
        "a switch for a batch size": lambda: v.embed([], batch_size=True),
        "a decision on True": lambda: v.decide(True),
        "no references": lambda: v.score([], emb[3]),
    }
    for misuse, call in misuses.items():
        with pytest.raises(ModelError) as refused:
            call()
        assert str(refused.value).endswith("."), misuse
    assert v.scores(emb[:3], emb[3:]).shape == (2,)  # several queries: scores
    assert v.embed([], batch_size=np.int64(4)).shape == (0, dim)  # numpy's integers too
    with pytest.raises(ModelError, match="no reference signatures"):
        v.score([], emb[3])


def test_verifier_reports_missing_bundled_model(monkeypatch, tmp_path):
    import model.verifier as mv

    monkeypatch.setattr(mv, "default_weights_path", lambda: tmp_path / "nope.pt")
    with pytest.raises(ModelError, match="missing"):
        Verifier.load()


def test_weights_given_as_a_folder_are_called_a_folder(tmp_path):
    with pytest.raises(ModelError, match="is a folder, not a file"):
        Verifier.load(tmp_path)


def test_cuda_request_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="CUDA"):
        Verifier.load(None, device="cuda")


def test_cli_split_seed_keeps_the_writers_while_seed_changes_the_start(
    tmp_path, monkeypatch, capsys
):
    from model.synth import write_dataset
    from sigverify_gui.cli import main
    from tests.tiny import TINY

    monkeypatch.setattr("model.network.NetworkConfig", lambda: TINY)
    data_dir = tmp_path / "signatures"
    write_dataset(data_dir, writers=8, genuine=7, forged=2, seed=1)

    common = ["train", "--data", str(data_dir), "--cache", str(tmp_path / "cache")]
    common += ["--epochs", "1", "--synthetic-writers", "2"]

    def run(name, *seeds):
        out = tmp_path / name / "w.pt"
        out.parent.mkdir()  # train refuses a missing folder rather than making one
        assert main([*common, "--holdout-fraction", "0.2", *seeds, "--out", str(out)]) == 0
        return load_checkpoint(out)

    first = run("a", "--seed", "0")
    same_writers = run("b", "--seed", "1", "--split-seed", "0")
    other_writers = run("c", "--seed", "1")
    assert same_writers.training["data"] == first.training["data"]
    assert same_writers.sha256 != first.sha256
    assert other_writers.training["data"] != first.training["data"]

    # too few writers left for validation: one line and a non-zero exit, no traceback
    assert main([*common, "--holdout-fraction", "0.5", "--out", str(tmp_path / "d.pt")]) != 0
    assert "at least 6 writers" in capsys.readouterr().err


def test_under_torchrun_only_the_first_process_logs_and_reports(tmp_path, monkeypatch, capsys):
    """Every torchrun process runs the whole command: a second one writing the same log
    file, drawing progress and saying "saved" for weights it never wrote was noise."""
    from model.synth import write_dataset
    from sigverify_gui.cli import main

    write_dataset(tmp_path / "signatures", writers=10, genuine=7, forged=2, seed=1)
    trained = []
    monkeypatch.setattr("model.train.train", lambda *a, **k: trained.append(k) or None)
    monkeypatch.setenv("RANK", "1")
    out = tmp_path / "w.pt"
    argv = ["train", "--data", str(tmp_path / "signatures"), "--out", str(out)]
    assert main([*argv, "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert len(trained) == 1 and trained[0]["progress"] is None
    assert (captured.out, captured.err) == ("", "")
    assert not out.with_name("w.pt.log").exists()


# --- bad input is refused in one line, before any work ----------------------------------


def _listed_dataset(root, writers: int, genuine: int, forged: int = 2):
    """Empty files in the generic layout: enough for every check made before images
    are read (a test that gets as far as preprocessing fails on them)."""
    for w in range(1, writers + 1):
        for kind, count in (("genuine", genuine), ("forged", forged)):
            (root / f"w{w:02d}" / kind).mkdir(parents=True, exist_ok=True)
            for n in range(1, count + 1):
                (root / f"w{w:02d}" / kind / f"{kind[0]}{n:02d}.png").write_bytes(b"")
    return root


@pytest.fixture
def train_cli(monkeypatch, tmp_path):
    """`sigverify train`, and a data set listed but never preprocessed: reading an
    image here is a failure of the test (exit 70), not of the input."""

    def no_preprocessing(*args, **kwargs):
        raise AssertionError("preprocessing started")

    monkeypatch.setattr("model.training_setup.canvases_from_dataset", no_preprocessing)
    monkeypatch.setattr("model.train.train", no_preprocessing)
    _listed_dataset(tmp_path / "data", writers=12, genuine=7)
    return cli_with(monkeypatch, "train", "calibrate", "self_test")


def _train_argv(tmp_path, *extra, data="data"):
    out = tmp_path / "t.pt"
    return ["train", "--data", tmp_path / data, "--cache", tmp_path / "cache", "--out", out, *extra]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--epochs", "0"),
        ("--epochs", "two"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "nan"),
        ("--margin", "0"),
        ("--margin", "-0.5"),
        ("--holdout-fraction", "1.5"),
        ("--holdout-fraction", "-0.1"),
        ("--val-fraction", "2"),
        ("--val-fraction", "1"),
        ("--synthetic-writers", "-3"),
        ("--seed", "-1"),
        ("--split-seed", "-2"),
    ],
)
def test_train_refuses_a_bad_number_before_any_work(train_cli, tmp_path, capsys, option, value):
    before = files_under(tmp_path)
    code, _, err = run_cli(train_cli, capsys, *_train_argv(tmp_path, option, value))
    assert_refused_option(code, err, option, value)
    assert files_under(tmp_path) == before


def test_train_refuses_fractions_that_leave_no_writer_to_train_on(train_cli, tmp_path, capsys):
    before = files_under(tmp_path)
    argv = _train_argv(tmp_path, "--holdout-fraction", "0.6", "--val-fraction", "0.4")
    assert_user_error(*run_cli(train_cli, capsys, *argv)[::2], "less than 1")
    assert files_under(tmp_path) == before


def test_train_checks_validation_writers_before_preprocessing(train_cli, tmp_path, capsys):
    _listed_dataset(tmp_path / "small", writers=12, genuine=5)  # 5 genuine: no query left
    before = files_under(tmp_path)
    argv = _train_argv(tmp_path, "--epochs", "1", data="small")
    assert_user_error(*run_cli(train_cli, capsys, *argv)[::2], "Validation needs", "6 genuine")
    assert files_under(tmp_path) == before  # no cache, no log, no weights


def test_train_checks_the_init_weights_before_preprocessing(train_cli, tmp_path, capsys):
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    before = files_under(tmp_path)
    for init, words in (("nope.pt", "does not exist"), ("picture.png", "not a sigverify model")):
        argv = _train_argv(tmp_path, "--init", tmp_path / init)
        code, _, err = run_cli(train_cli, capsys, *argv)
        assert_user_error(code, err, init, words)
        assert "weights_only" not in err and "arbitrary code" not in err
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("command", ["train", "calibrate"])
def test_train_and_calibrate_refuse_a_missing_output_folder(train_cli, tmp_path, capsys, command):
    out = tmp_path / "no-such-folder" / "t.pt"
    before = files_under(tmp_path)
    argv = ["--data", tmp_path / "data", "--out", out, "--cache", tmp_path / "cache"]
    argv = [command, *argv] if command == "train" else [command, tmp_path / "w.pt", *argv]
    code, _, err = run_cli(train_cli, capsys, *argv)
    assert_user_error(code, err, str(out), "the folder does not exist")
    assert files_under(tmp_path) == before and not out.parent.exists()


@pytest.mark.parametrize("command", ["train", "calibrate"])
@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("data/w1/genuine/g1.png", "lies in the data set folder"),  # it had replaced a scan
        ("t.onnx.zip", "names a portable model (.onnx.zip)"),  # nothing could load it
    ],
)
def test_train_and_calibrate_refuse_weights_where_they_do_harm(
    train_cli, tmp_path, capsys, command, out, words
):
    (tmp_path / "data" / "w1" / "genuine").mkdir(parents=True)
    before = files_under(tmp_path)
    argv = ["--data", tmp_path / "data", "--out", tmp_path / out, "--cache", tmp_path / "cache"]
    argv = [command, *argv] if command == "train" else [command, tmp_path / "w.pt", *argv]
    code, _, err = run_cli(train_cli, capsys, *argv)
    assert_user_error(code, err, words)
    assert files_under(tmp_path) == before


def test_self_test_names_a_file_that_is_not_a_model_in_one_line(train_cli, tmp_path, capsys):
    (tmp_path / "some.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    code, out, err = run_cli(train_cli, capsys, "self-test", "--weights", tmp_path / "some.png")
    assert code == 1 and "Traceback" not in out + err  # a failed self-test, reported
    problem = [line for line in out.splitlines() if line.startswith("problem")]
    assert problem == [
        "problem (step: load): The model weights file some.png is damaged or not a sigverify model."
    ]


def test_a_file_that_is_not_a_model_is_one_line_and_torch_detail_only_in_the_log(tmp_path, caplog):
    (tmp_path / "some.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    debug = caplog.at_level("DEBUG", logger="sigverify.checkpoint")
    with debug, pytest.raises(ModelError) as info:
        load_checkpoint(tmp_path / "some.png")
    assert str(info.value) == "The model weights file some.png is damaged or not a sigverify model."
    assert "weights_only" in caplog.text  # torch's own words, for IT

    torch.save({"format": 1, "preprocess_version": PREPROCESS_VERSION}, tmp_path / "part.pt")
    with pytest.raises(ModelError, match="part.pt is damaged or not a sigverify model"):
        load_checkpoint(tmp_path / "part.pt")


def test_plan_refuses_writers_that_training_or_validation_cannot_use(tmp_path):
    from model.errors import DatasetError
    from model.training_setup import plan_writers, require_enough_writers

    _listed_dataset(tmp_path / "ok", writers=12, genuine=7)
    plan = plan_writers([tmp_path / "ok"], 0.3, 0.15, seed=0)
    assert [len(part) for part in plan.splits[0]] == [6, 2, 4]

    with pytest.raises(DatasetError, match="train on"):
        require_enough_writers([1, 1], [7, 7])
    with pytest.raises(DatasetError, match="but 1 of the validation writers"):
        require_enough_writers([7, 7], [7, 5])
    require_enough_writers([2], [6, 6])

    _listed_dataset(tmp_path / "six", writers=6, genuine=7)  # all six would validate
    with pytest.raises(DatasetError, match="train on"):
        plan_writers([tmp_path / "six"], 0.0, 0.95, seed=0)
    plan_writers([tmp_path / "six"], 0.0, 0.95, seed=0, synthetic_writers=1)


def test_plan_refuses_two_sources_of_one_name(tmp_path):
    # A data set is known by its folder's name: two "signatures" folders would mix
    # their writers in validation and in the checkpoint's record of the hold-out.
    from model.errors import DatasetError
    from model.training_setup import plan_writers

    for bank in ("bank1", "bank2"):
        _listed_dataset(tmp_path / bank / "signatures", writers=12, genuine=7)
    folders = [tmp_path / "bank1" / "signatures", tmp_path / "bank2" / "signatures"]
    with pytest.raises(DatasetError, match="both named 'signatures'"):
        plan_writers(folders, 0.3, 0.15, seed=0)
    with pytest.raises(DatasetError, match="both named 'signatures'"):
        plan_writers(folders[:1] * 2, 0.3, 0.15, seed=0)  # one folder given twice
    _listed_dataset(tmp_path / "synthetic", writers=12, genuine=7)
    with pytest.raises(DatasetError, match="both named 'synthetic'"):
        plan_writers([tmp_path / "synthetic"], 0.3, 0.15, seed=0, synthetic_writers=4)
    plan_writers(folders[:1] + [tmp_path / "synthetic"], 0.3, 0.15, seed=0)


def test_a_training_set_without_two_genuine_signatures_of_a_writer_is_refused(tmp_path):
    from model.errors import DatasetError

    lone = synthetic_canvases(n_writers=2, genuine=1, forged=1, seed=3)
    with pytest.raises(DatasetError, match="two genuine"):
        epoch_batches(lone, _cfg(tmp_path), 0)  # instead of waiting for ever
