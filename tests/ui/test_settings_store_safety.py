"""A store setting that cannot be used never locks the teller out.

Applying settings is all or nothing: the settings file is written only once the new
store has opened, so a failed apply leaves the old settings and the old store in use.
A store named in the settings that is damaged by the next start is explained, and the
teller chooses what to do; the app never switches stores on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.ui import app as app_module
from sigverify_gui.ui import settings as settings_mod
from sigverify_gui.ui import startup_store, workers
from sigverify_gui.ui.settings import Settings, SettingsError, load_settings, save_settings
from sigverify_gui.ui.settings_dialog import SettingsDialog
from tests.fakes import FakeVerifier


@pytest.fixture
def not_a_store(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("Branch opening hours: 9 to 5.\n" * 50)
    return path


@pytest.fixture
def saved(context):
    """The context's settings, as saved by an earlier session."""
    save_settings(context.settings)
    return settings_file_bytes()


@pytest.fixture
def started(qtbot, monkeypatch):
    """`app.start` as `sigverify-gui` runs it (no --db), closed after the test."""
    monkeypatch.delenv("SIGVERIFY_DB", raising=False)
    previous_hook = sys.excepthook  # start() installs the application's own
    runs = []

    def start(argv=()):
        running = app_module.start(list(argv), verifier_factory=lambda d: FakeVerifier())
        qtbot.addWidget(running.window)
        runs.append(running)
        return running

    yield start
    workers.cancel_all_and_wait()
    for running in runs:
        running.context.store.close()
    sys.excepthook = previous_hook


@pytest.fixture
def answers(monkeypatch):
    """Scripted answers to the start-up question; records what it was asked."""
    asked: list[tuple[Path, str, Path | None]] = []
    script: list[tuple[str, str]] = []

    def ask(setting_path, problem, default):
        asked.append((setting_path, problem, default))
        return script.pop(0)

    monkeypatch.setattr(startup_store, "ask_about_store", ask)
    return script, asked


@pytest.fixture
def default_store(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "default" / "sigverify.db"
    monkeypatch.setattr(startup_store, "default_db_path", lambda: path)
    return path


def settings_file_bytes() -> bytes:
    return Path(settings_mod.qsettings().fileName()).read_bytes()


# --- applying settings ---------------------------------------------------------------------
def test_a_file_that_is_not_a_store_changes_nothing(qtbot, context, saved, not_a_store):
    old_store, old_settings = context.store, context.settings
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.store_path.setText(str(not_a_store))
    assert dialog.accept_changes() is False
    assert "not a signature store" in dialog.problem.text()
    assert dialog.isVisible()
    dialog.reject()  # the teller cancels
    assert settings_file_bytes() == saved
    assert load_settings().store_path == str(old_store.path)
    assert context.store is old_store and context.settings == old_settings
    assert context.store.db.execute("SELECT count(*) FROM customers").fetchone()[0] == 0


def test_the_app_still_starts_after_a_failed_apply(qtbot, context, saved, not_a_store, started):
    with pytest.raises(StoreError, match="not a signature store"):
        context.apply_settings(context.settings.with_changes(store_path=str(not_a_store)))
    running = started()
    assert running.window.isVisible()
    assert running.context.store.path == context.store.path


def test_thresholds_and_hot_folder_wait_for_the_store(qtbot, context, saved, not_a_store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    dialog.accept_spin.setValue(0.85)
    dialog.hot_folder.setText(str(hot))
    dialog.store_path.setText(str(not_a_store))
    assert dialog.accept_changes() is False
    assert context.thresholds().source == "model"  # no threshold written to the old store
    assert context.settings.hot_folder == "" and settings_file_bytes() == saved


def test_a_failed_threshold_write_puts_the_old_settings_back(qtbot, context, saved, tmp_path):
    def refuse(t_accept, t_reject):
        raise StoreError("The signature store is busy in another program.")

    context.set_thresholds = refuse
    new = context.settings.with_changes(store_path=str(tmp_path / "branch-2.db"))
    with pytest.raises(StoreError, match="busy"):
        context.apply_settings(new, thresholds=(0.9, 0.2))
    assert settings_file_bytes() == saved
    assert context.store.path != tmp_path / "branch-2.db"
    assert not list(tmp_path.glob("branch-2.db*"))  # the store it made is not left behind


def test_a_settings_file_that_cannot_be_written_is_reported(context, saved):
    # A folder where the file should be: refused to every user, root included.
    ini = Path(settings_mod.qsettings().fileName())
    ini.unlink()
    ini.mkdir()
    with pytest.raises(SettingsError, match="could not be saved"):
        context.apply_settings(context.settings.with_changes(theme="dark"))
    assert context.settings.theme == "light"


# --- starting with a store setting that no longer works ------------------------------------
def save_store_setting(path: Path) -> None:
    save_settings(Settings(store_path=str(path)), validate=False)


def test_start_asks_and_can_continue_with_the_default_store_for_this_session(
    not_a_store, started, answers, default_store
):
    script, asked = answers
    save_store_setting(not_a_store)
    script.append((startup_store.USE_DEFAULT, ""))
    running = started()
    ((setting_path, problem, offered),) = asked
    assert setting_path == not_a_store and offered == default_store
    assert "not a signature store" in problem and str(not_a_store) in problem
    assert running.window.isVisible()
    assert running.context.store.path == default_store
    assert str(default_store) in running.window.status.texts()[2]
    # not switched for good: the setting is kept, so the next start asks again
    assert load_settings().store_path == str(not_a_store)
    assert running.context.settings.store_path == str(not_a_store)


def test_a_store_setting_whose_file_is_gone_is_asked_about_not_made_anew(
    tmp_path, started, answers, default_store
):
    script, asked = answers
    moved = tmp_path / "share" / "branch.db"
    moved.parent.mkdir()
    save_store_setting(moved)
    script.append((startup_store.USE_DEFAULT, ""))
    running = started()
    ((setting_path, problem, _),) = asked
    assert setting_path == moved and "No signature store" in problem
    assert not moved.exists()  # no empty store in its place for tellers to fill again
    assert running.context.store.path == default_store


def test_start_can_open_another_store_and_remember_it(
    tmp_path, not_a_store, started, answers, default_store
):
    script, asked = answers
    other = tmp_path / "branch-copy.db"
    Store(other).close()
    save_store_setting(not_a_store)
    script.append((startup_store.USE_OTHER, str(other)))
    running = started()
    assert running.context.store.path == other
    assert load_settings().store_path == str(other)
    assert not default_store.exists()


def test_a_choice_that_fails_too_is_explained_and_asked_again(
    tmp_path, not_a_store, started, answers, default_store
):
    script, asked = answers
    also_bad = tmp_path / "also-bad.db"
    also_bad.write_bytes(b"\x00" * 4096)
    save_store_setting(not_a_store)
    script.extend([(startup_store.USE_OTHER, str(also_bad)), (startup_store.USE_DEFAULT, "")])
    running = started()
    assert len(asked) == 2
    assert str(also_bad) in asked[1][1]
    assert running.context.store.path == default_store
    assert load_settings().store_path == str(not_a_store)


def test_quitting_at_the_question_exits_without_a_second_dialog(
    not_a_store, answers, monkeypatch, default_store
):
    script, _ = answers
    monkeypatch.delenv("SIGVERIFY_DB", raising=False)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main() installs its own
    save_store_setting(not_a_store)
    script.append((startup_store.QUIT, ""))
    told = []
    monkeypatch.setattr(app_module, "_tell_and_quit", told.append)
    assert app_module.main([]) == 2
    assert told == [] and not default_store.exists()


def test_a_store_given_on_the_command_line_is_not_second_guessed(not_a_store, answers, monkeypatch):
    _, asked = answers
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    told = []
    monkeypatch.setattr(app_module, "_tell_and_quit", told.append)
    assert app_module.main(["--db", str(not_a_store)]) == 2
    assert asked == [] and "restore it from a backup" in str(told[0])
