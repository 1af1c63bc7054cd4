"""The shared context: the model loads in the background, actions wait for it."""

from __future__ import annotations

import threading
import time

import pytest

from model.errors import ModelError
from sigverify_gui.ui.context import AppContext
from sigverify_gui.ui.qt import QTimer
from sigverify_gui.ui.settings import Settings
from tests.fakes import FakeVerifier


def test_slow_model_load_does_not_block_the_ui_thread(qtbot, store):
    release = threading.Event()
    # Made before the clock starts: a process's first FakeVerifier does a matrix
    # decomposition holding the GIL, which a loaded machine stretches to seconds.
    fake = FakeVerifier()

    def slow_factory(device):
        release.wait(5)
        return fake

    ctx = AppContext(store, verifier_factory=slow_factory)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    ctx.load_verifier()
    assert ctx.is_loading and ctx.verifier is None
    qtbot.wait(600)  # the event loop runs while the model "loads"
    release.set()
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        pass
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 15
    # A load in the UI thread would freeze it for the whole 600 ms. The bound leaves
    # room for a busy test machine's scheduling, which is not what is tested here.
    assert max(gaps) < 0.3, gaps
    assert ctx.verifier is not None and not ctx.is_loading


def test_when_ready_queues_actions_until_the_model_is_there(qtbot, store):
    release = threading.Event()
    fake = FakeVerifier()
    ctx = AppContext(store, verifier_factory=lambda device: release.wait(5) and fake)
    waiting = []
    ctx.waiting_changed.connect(waiting.append)
    ran = []
    ctx.load_verifier()
    assert ctx.when_ready(lambda v: ran.append(("first", v))) is False
    assert ctx.when_ready(lambda v: ran.append(("second", v))) is False
    assert ctx.waiting == 2 and waiting == [1, 2]
    assert ran == []
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        release.set()
    assert ran == [("first", fake), ("second", fake)]
    assert ctx.waiting == 0
    # once loaded, an action runs at once
    assert ctx.when_ready(lambda v: ran.append(("third", v))) is True
    assert ran[-1] == ("third", fake)


def _missing_model(device):
    """A verifier factory whose load fails, as with the bundled weights missing."""
    raise ModelError("The bundled model sigverify-v1.pt is missing.")


def test_failed_load_is_shown_and_queued_actions_are_dropped(qtbot, store, dialogs):
    ctx = AppContext(store, verifier_factory=_missing_model)
    ran = []
    with qtbot.waitSignal(ctx.verifier_failed, timeout=5000):
        ctx.when_ready(ran.append)  # starts the load itself
    assert ran == [] and ctx.waiting == 0
    assert isinstance(ctx.load_error, ModelError)
    assert [m.text for m in dialogs.errors] == ["The bundled model sigverify-v1.pt is missing."]


def test_each_dropped_action_hears_of_the_failed_load(qtbot, store, dialogs):
    # What lets a screen that said "waiting" say what became of its action.
    ctx = AppContext(store, verifier_factory=_missing_model)
    told = []
    with qtbot.waitSignal(ctx.verifier_failed, timeout=5000):
        ctx.when_ready(lambda v: told.append("ran"), on_failed=told.append)
        ctx.when_ready(lambda v: told.append("ran"))  # without: dropped unheard
    assert len(told) == 1 and isinstance(told[0], ModelError)
    assert len(dialogs.errors) == 1  # the error is shown once, not once per action


def test_after_a_failed_load_the_status_bar_no_longer_says_loading(qtbot, store, dialogs):
    from model.errors import DeviceUnavailableError
    from sigverify_gui.ui.main_window import MainWindow

    def no_card(device):
        raise DeviceUnavailableError("No CUDA graphics card is available.")

    ctx = AppContext(store, Settings(store_path=str(store.path)), verifier_factory=no_card)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(ctx.verifier_failed, timeout=5000):
        ctx.load_verifier()
    assert "could not be loaded" in window.statusBar().currentMessage()
    assert dialogs.errors[-1].hint == "Choose Automatic or CPU in Settings."


def test_device_change_reloads_and_ignores_the_superseded_load(qtbot, store):
    release_old = threading.Event()
    loaded_for = []

    def factory(device):
        if device == "auto":
            release_old.wait(5)
        loaded_for.append(device)
        return FakeVerifier(model_id=f"fake-{device}")

    ctx = AppContext(store, Settings(store_path=str(store.path)), verifier_factory=factory)
    ctx.load_verifier()
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        ctx.apply_settings(ctx.settings.with_changes(device="cpu"))
    assert ctx.verifier.model_id == "fake-cpu"
    release_old.set()  # the old load finishes late: it must not win
    qtbot.waitUntil(lambda: "auto" in loaded_for, timeout=5000)
    qtbot.wait(50)
    assert ctx.verifier.model_id == "fake-cpu"


def test_thresholds_are_set_in_the_store_and_announced(qtbot, context):
    assert context.thresholds().source == "model"
    with qtbot.waitSignals([context.thresholds_changed, context.store_changed], timeout=1000):
        context.set_thresholds(0.8, 0.2)
    in_force = context.thresholds()
    assert (in_force.t_accept, in_force.t_reject, in_force.source) == (0.8, 0.2, "settings")
    context.set_thresholds(None, None)
    assert context.thresholds().source == "model"


def test_replacing_the_store_opens_the_new_one_and_closes_the_old(qtbot, context, tmp_path):
    old = context.store
    with qtbot.waitSignal(context.store_replaced, timeout=1000):
        context.replace_store(tmp_path / "other.db")
    assert context.store.path == tmp_path / "other.db"
    assert old._closed


def _bundled_weights_present() -> bool:
    from model.resources import resources_dir

    return (resources_dir() / "sigverify-v1.pt").is_file()


@pytest.mark.slow
@pytest.mark.skipif(
    not _bundled_weights_present(),
    reason="the bundled weights resources/sigverify-v1.pt are not in this checkout yet",
)
def test_the_real_model_loads_in_the_background_and_the_status_bar_names_it(qtbot, store):
    from sigverify_gui.ui.main_window import MainWindow

    ctx = AppContext(store, Settings(device="cpu"))  # the default factory: ModelProcessVerifier
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    with qtbot.waitSignal(ctx.verifier_ready, timeout=60_000):
        ctx.load_verifier()
    timer.stop()
    assert len(ticks) > 5  # the event loop kept running while torch and the weights loaded
    texts = window.status.texts()
    assert texts[0] == f"Model: {ctx.verifier.model_id}" and texts[1] == "Device: CPU"
    t = ctx.verifier.thresholds
    assert texts[3] == f"Accept ≥ {t.accept:.3f} · reject < {t.reject:.3f}"


def test_a_store_given_on_the_command_line_survives_unrelated_setting_changes(
    qtbot, store, tmp_path, fake_verifier
):
    saved = Settings(store_path=str(tmp_path / "from-settings.db"))
    ctx = AppContext(store, saved, verifier_factory=lambda d: fake_verifier)  # store: --db
    ctx.apply_settings(saved.with_changes(theme="dark"), validate=False)
    assert ctx.store is store
    ctx.apply_settings(ctx.settings.with_changes(store_path=str(tmp_path / "picked.db")))
    assert ctx.store.path == tmp_path / "picked.db"
    ctx.store.close()


def test_a_change_by_another_program_refreshes_the_lists(qtbot, store, tmp_path):
    from sigverify_gui.services.enrol import enrol_customer
    from sigverify_gui.store.db import Store
    from tests.fakes import render_signatures

    ctx = AppContext(store, verifier_factory=lambda device: FakeVerifier())
    elsewhere = Store(store.path)  # a second window or the CLI, same file
    with elsewhere, qtbot.waitSignal(ctx.store_changed, timeout=5000):
        enrol_customer(elsewhere, FakeVerifier(), "W-7", render_signatures(2, 3))
    with qtbot.assertNotEmitted(ctx.store_changed, wait=2500):
        pass  # once seen, the same change does not refresh again
