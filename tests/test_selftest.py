"""The installation self-test: the service, `sigverify self-test` and the frozen entry."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path, PureWindowsPath

import numpy as np
import pytest

from model.errors import ModelError
from sigverify_gui import cli, frozen_main, paths
from sigverify_gui.services import runtime
from sigverify_gui.services.selftest import CUSTOMER_ID, run_self_test
from tests.fakes import FakeVerifier, render_signatures

TIMED_STEPS = ["load", "synth", "store", "enrol", "verify_genuine", "verify_forgery", "total"]


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A real checkpoint file of a tiny, untrained network (what it scores is arbitrary:
    the pipeline is under test, not the model)."""
    import torch

    from model.checkpoint import Checkpoint, save_checkpoint
    from model.network import NetworkConfig, build_network
    from model.scoring import Calibration, Thresholds

    torch.manual_seed(0)
    config = NetworkConfig(widths=(8, 16, 16, 32), embedding_dim=16)
    net = build_network(config)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    saved = save_checkpoint(
        path,
        Checkpoint(
            state_dict=net.state_dict(),
            config=config,
            calibration=Calibration(),
            thresholds=Thresholds(accept=0.7, reject=0.3),
        ),
    )
    return path, saved.model_id


@pytest.fixture
def scratch_tmp(tmp_path, monkeypatch):
    """Temporary files of the test go to a folder of its own, to check the cleanup."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def other_writer_as_forgery(monkeypatch):
    """The fake verifier tells writers apart but not skilled forgeries: let another
    writer's signature play the forgery."""
    from sigverify_gui.services import selftest

    def signatures():
        own = render_signatures(2, 6)
        return own[:5], own[5], render_signatures(3, 1)[0]

    monkeypatch.setattr(selftest, "_synthetic_signatures", signatures)


class RiggedVerifier(FakeVerifier):
    """Scores every query the same, so that the genuine cannot outscore the forgery."""

    def scores(self, refs, queries):
        return np.full(np.atleast_2d(queries).shape[0], 0.5)


def test_real_checkpoint_runs_every_step_and_cleans_up(tiny_weights, scratch_tmp):
    path, model_id = tiny_weights
    report = run_self_test(path, device="cpu")
    assert report["failed_step"] is None, report["error"]
    assert report["model_id"] == model_id and report["device"] == "cpu"
    assert report["weights"] == str(path) and report["references"] == 5
    assert list(report["timings_ms"]) == TIMED_STEPS
    assert all(v >= 0 for v in report["timings_ms"].values())
    for name in ("genuine", "forgery"):
        assert 0.0 <= report[name]["score"] <= 1.0
        assert report[name]["decision"] in ("accept", "refer", "reject")
    genuine_won = report["genuine"]["score"] > report["forgery"]["score"]
    assert report["ok"] is genuine_won
    assert (report["error"] is None) is genuine_won
    json.dumps(report)  # the CLI prints it as JSON
    # the temporary store is gone, and the user's own store was never created
    assert list(scratch_tmp.iterdir()) == []
    assert not paths.default_db_path().exists()


def test_passes_when_the_genuine_outscores_the_forgery(scratch_tmp, other_writer_as_forgery):
    loads = []

    def loader(weights, device="auto"):
        loads.append((weights, device))
        return FakeVerifier()

    report = run_self_test(None, load_verifier=loader)
    assert loads == [(None, "auto")] and report["weights"] == "bundled"
    assert report["genuine"]["score"] > report["forgery"]["score"]
    assert report["ok"] is True and report["error"] is None
    assert report["model_id"] == "fake-0001" and report["device_name"] == "CPU"


def test_fails_when_the_forgery_scores_as_high(scratch_tmp):
    report = run_self_test(None, load_verifier=lambda w, device="auto": RiggedVerifier())
    assert report["failed_step"] is None and report["ok"] is False
    assert "did not score higher" in report["error"]


def test_a_failing_step_is_named_and_stops_the_rest(scratch_tmp):
    def missing(weights, device="auto"):
        raise ModelError("The model weights file nope.pt does not exist.")

    report = run_self_test("nope.pt", load_verifier=missing)
    assert report["ok"] is False and report["failed_step"] == "load"
    assert report["error"] == "The model weights file nope.pt does not exist."
    assert list(report["timings_ms"]) == ["load", "total"]
    assert report["model_id"] is None and "genuine" not in report

    class BrokenVerifier(FakeVerifier):
        def embed_canvases(self, canvases):
            raise RuntimeError("boom")

    report = run_self_test(None, load_verifier=lambda w, device="auto": BrokenVerifier())
    assert report["failed_step"] == "enrol" and report["error"] == "RuntimeError: boom"
    assert list(scratch_tmp.iterdir()) == []


@pytest.fixture
def fake_cli(monkeypatch, other_writer_as_forgery):
    """Only the self-test command (others may be unfinished), with a chosen verifier."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["self_test"])
    chosen = {"verifier": FakeVerifier, "loads": []}

    def loader(weights=None, device="auto"):
        chosen["loads"].append((weights, device))
        return chosen["verifier"]()

    monkeypatch.setattr(runtime, "load_verifier", loader)
    return chosen


def test_cli_exit_status_and_output(capsys, fake_cli, scratch_tmp):
    assert cli.main(["self-test", "--json", "--weights", "w.pt", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["version"] and out["weights"] == "w.pt"
    assert fake_cli["loads"] == [(Path("w.pt"), "cpu")]

    assert cli.main(["self-test"]) == 0
    text = capsys.readouterr().out
    assert "self-test: PASSED" in text and "genuine: score" in text and "timings:" in text

    fake_cli["verifier"] = RiggedVerifier
    assert cli.main(["self-test"]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text and "did not score higher" in text


def test_frozen_entry_dispatches_by_flag_and_name(capsys, fake_cli, monkeypatch, scratch_tmp):
    gui_calls = []
    monkeypatch.setattr(frozen_main, "_gui", lambda args: gui_calls.append(args) or 0)
    monkeypatch.setattr("sys.argv", ["/opt/sigverify/sigverify-app"])

    assert frozen_main.main(["--self-test"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    for flag in ("cli", "--cli"):
        assert frozen_main.main([flag, "self-test", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["ok"] is True
    assert frozen_main.main(["--cli", "--version"]) == 0
    assert capsys.readouterr().out.startswith("sigverify ")
    assert gui_calls == []

    assert frozen_main.main(["--db", "x.db"]) == 0 and gui_calls == [["--db", "x.db"]]
    assert frozen_main.main([]) == 0 and gui_calls[-1] == []

    # the console program beside it (sigverify.exe on Windows) is the command line
    monkeypatch.setattr("sys.argv", ["C:\\Program Files\\sigverify\\sigverify.EXE"])
    monkeypatch.setattr(frozen_main, "Path", PureWindowsPath)
    assert frozen_main.main(["self-test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert len(gui_calls) == 2


def test_self_test_customer_is_a_valid_id():
    from sigverify_gui.services.enrol import normalise_customer_id

    assert normalise_customer_id(CUSTOMER_ID) == CUSTOMER_ID


def test_frozen_entry_serves_the_model_process_first(monkeypatch):
    # The GUI's model runs in a child started by "spawn", which in a built program is
    # this same entry point: multiprocessing must get it before any argument parsing.
    calls = []
    monkeypatch.setattr("multiprocessing.freeze_support", lambda: calls.append("freeze"))
    monkeypatch.setattr(frozen_main, "_gui", lambda args: calls.append(args) or 0)
    monkeypatch.setattr("sys.argv", ["sigverify-app"])
    assert frozen_main.main(["--multiprocessing-fork"]) == 0
    assert calls == ["freeze", ["--multiprocessing-fork"]]
