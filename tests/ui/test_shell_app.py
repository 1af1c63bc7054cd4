"""Starting the application: the window first, the model in the background."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from sigverify_gui.ui import app as app_module
from sigverify_gui.ui import workers
from tests.fakes import FakeVerifier


@pytest.fixture
def restore_excepthook():
    previous = sys.excepthook  # start() installs the application's own
    yield
    sys.excepthook = previous


def test_window_is_shown_before_the_model_has_loaded(qtbot, tmp_path, restore_excepthook):
    release = threading.Event()
    began = time.monotonic()
    running = app_module.start(
        ["--db", str(tmp_path / "branch.db")],
        verifier_factory=lambda device: release.wait(10) and FakeVerifier(),
    )
    qtbot.addWidget(running.window)
    assert time.monotonic() - began < 2.0
    assert running.window.isVisible()
    assert running.context.verifier is None and running.context.is_loading
    assert running.context.store.path == tmp_path / "branch.db"
    with qtbot.waitSignal(running.context.verifier_ready, timeout=5000):
        release.set()
    assert running.window.status.texts()[0] == "Model: fake-0001"
    workers.cancel_all_and_wait()
    running.context.store.close()


def test_a_damaged_store_is_explained_and_the_app_exits(tmp_path, monkeypatch, restore_excepthook):
    bad = tmp_path / "branch.db"
    bad.write_bytes(b"this is not a database, just some bytes" * 100)
    told = []
    monkeypatch.setattr(app_module, "_tell_and_quit", told.append)
    assert app_module.main(["--db", str(bad)]) == 2
    assert "restore it from a backup" in str(told[0])
