"""Fixtures for the UI tests: offscreen Qt, isolated QSettings, a fake verifier, and
error dialogs recorded instead of shown (a crash dialog nobody expected fails the test).

Uncaught exceptions in slots already fail a test through pytest-qt's exception
capture; errors that the UI routes to `errors.show_error` as crashes are caught by
`dialogs` below, so a bug cannot hide behind a dialog.
"""

from __future__ import annotations

import os
from pathlib import Path

# Before any QApplication exists: the tests run headless, with or without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from sigverify_gui.ui import errors, workers  # noqa: E402
from sigverify_gui.ui.collector import collect_on_ui_thread  # noqa: E402
from sigverify_gui.ui.context import AppContext  # noqa: E402
from sigverify_gui.ui.qt import QSettings  # noqa: E402
from sigverify_gui.ui.settings import Settings  # noqa: E402
from tests.fakes import FakeVerifier  # noqa: E402

# The offscreen platform plugin warns whenever a top-level window with a layout is
# shown; it says nothing about our code, so it must not fail the UI tests.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


class DialogRecorder:
    """Stands in for `errors.dialog_presenter`: keeps what would have been shown."""

    def __init__(self) -> None:
        self.messages: list[errors.ErrorMessage] = []
        self.crash_expected = False

    def __call__(self, parent, message: errors.ErrorMessage) -> None:
        self.messages.append(message)

    @property
    def errors(self) -> list[errors.ErrorMessage]:
        return [m for m in self.messages if m.kind == errors.ERROR]

    @property
    def crashes(self) -> list[errors.ErrorMessage]:
        return [m for m in self.messages if m.kind == errors.CRASH]

    def expect_crash(self) -> None:
        """Call in a test that provokes a crash dialog on purpose."""
        self.crash_expected = True


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    recorder = DialogRecorder()
    monkeypatch.setattr(errors, "dialog_presenter", recorder)
    yield recorder
    if recorder.crashes and not recorder.crash_expected:
        pytest.fail(f"unexpected crash dialog(s): {recorder.crashes}")


@pytest.fixture(autouse=True)
def qsettings(tmp_path_factory):
    """QSettings of this test only: an INI file under a fresh temporary folder."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def _collect_on_the_ui_thread(qapp):
    # as the app does (sigverify_gui.ui.collector): never in a job's thread
    collect_on_ui_thread(qapp)


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test(qapp):
    yield
    # A job still running would deliver its result into the next test's widgets.
    assert workers.cancel_all_and_wait(10_000), "a background job did not stop"
    qapp.processEvents()


@pytest.fixture
def fake_verifier():
    return FakeVerifier()


@pytest.fixture
def context(qtbot, store, fake_verifier):
    """An AppContext on a temporary store, with the fake verifier already loaded."""
    ctx = AppContext(
        store,
        Settings(store_path=str(store.path)),
        verifier_factory=lambda device: fake_verifier,
    )
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        ctx.load_verifier()
    yield ctx
    workers.cancel_all_and_wait(10_000)  # before the store they may be reading closes
    ctx.store.close()  # the context may have switched stores during the test
