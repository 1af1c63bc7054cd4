"""scripts/dist_check.py (`make dist-test`) against a stand-in for the built folder:
a program that hangs, or leaves a process behind, is reported within the time limit,
never waited on for good (a CI run once never finished that way)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a shell script")

# The stand-in for both executables; FAKE_MODE says how it misbehaves.
_PROGRAM = """#!/bin/sh
if [ "$1" = "--self-test" ]; then
    echo '{"ok": true}'
    # a child that outlives the program and keeps its output open
    [ "$FAKE_MODE" = leave-child ] && sleep 30 &
    exit 0
fi
if [ "$1" = "--version" ] || [ "$1" = cli ]; then
    echo "sigverify 0.1.0"
    exit 0
fi
echo "sigverify-startup: window painted 5 ms after the entry point (unix time $(date +%s.%N))" >&2
[ "$FAKE_MODE" = hang ] && exec sleep 30
exit 0
"""


@pytest.fixture
def dist_check(monkeypatch):
    spec = importlib.util.spec_from_file_location("dist_check", REPO / "scripts/dist_check.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "dist_check", module)  # its dataclass looks there
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "TIMEOUT_S", 3)
    return module


def check(dist_check, tmp_path, monkeypatch, capsys, mode: str) -> tuple[int, dict]:
    folder = tmp_path / "sigverify"
    folder.mkdir()
    for name in ("sigverify", "sigverify-app"):
        (folder / name).write_text(_PROGRAM)
        (folder / name).chmod(0o755)
    monkeypatch.setenv("FAKE_MODE", mode)
    monkeypatch.setattr(sys, "argv", ["dist_check.py", str(folder)])
    status = dist_check.main()
    return status, json.loads(capsys.readouterr().out)


def test_a_well_behaved_program_passes(dist_check, tmp_path, monkeypatch, capsys):
    status, summary = check(dist_check, tmp_path, monkeypatch, capsys, "")
    assert (status, summary["problems"]) == (0, [])
    assert summary["gui_start"]["window_ms"] is not None


def test_a_window_that_never_quits_is_reported_not_waited_for(
    dist_check, tmp_path, monkeypatch, capsys
):
    status, summary = check(dist_check, tmp_path, monkeypatch, capsys, "hang")
    assert status == 1
    assert summary["problems"] == [summary["gui_start"]["problem"]]
    assert "the window still ran after 3 s" in summary["problems"][0]


def test_a_process_left_running_is_named_and_stopped(dist_check, tmp_path, monkeypatch, capsys):
    status, summary = check(dist_check, tmp_path, monkeypatch, capsys, "leave-child")
    assert status == 1
    (problem,) = summary["problems"]
    assert problem.startswith("the self-test left processes running")
    assert "sleep 30" in problem
    assert summary["self_test"]["wall_ms"] < 30_000
