"""The store to start with, when the one named in Settings cannot be opened.

The teller reaches Settings only through the window. When the store file that the
settings name has been replaced or damaged since, quitting (as for a store given
with --db or SIGVERIFY_DB, which IT set and IT fixes) would leave the teller no way
to undo the setting. But every decision goes into the store's audit trail, so the
store a branch works in must never change behind its back: the app neither quits
nor switches on its own. It names the setting and the file, says what is wrong, and
the teller chooses:

- continue with the default store for this session only: the setting is left as it
  is, so the question comes back at every start until someone fixes or changes it,
  and the status bar names the store in use meanwhile;
- choose another store file: opened, then saved as the setting, as the Settings
  dialog would;
- quit, e.g. to have IT restore the store from a backup.

Each choice is logged. Nothing else runs yet, so the question blocks (`exec`). Every
opening says so in a window when it is slow (`store_opening`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from model.errors import CancelledError, SigverifyError
from sigverify_gui.paths import default_db_path
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.ui.qt import QFileDialog, QMessageBox
from sigverify_gui.ui.settings import (
    Settings,
    check_store_path,
    resolve_store_path,
    save_settings,
    store_path_from_settings,
)
from sigverify_gui.ui.store_opening import open_with_feedback

log = logging.getLogger("sigverify.ui.startup")

USE_DEFAULT, USE_OTHER, QUIT = "default", "other", "quit"

# (the setting's file, what is wrong, the default store or None) -> (choice, chosen file)
StoreQuestion = Callable[[Path, str, Path | None], tuple[str, str]]


def open_start_store(cli_path: str | None, settings: Settings) -> tuple[Store, Settings]:
    """The store to start with, and the settings (changed only when the teller chose
    another store file). Raises `StoreError` when a store from --db, SIGVERIFY_DB or
    the default cannot be opened, `CancelledError` when the teller chose to quit."""
    path = resolve_store_path(cli_path, settings)
    default = default_db_path()
    from_settings = store_path_from_settings(cli_path, settings)
    try:
        # A store named in Settings existed when it was chosen: missing now, it was
        # moved or its share is not mounted, and an empty new one in its place would
        # have tellers enrol customers again. --db and SIGVERIFY_DB are IT's way to
        # start a branch's store, so those may make one, in an existing folder; only
        # sigverify's own default folder is ever created.
        create = not from_settings or path == default
        store = open_with_feedback(
            lambda: Store(path, create=create, create_folder=path == default)
        )
        return store, settings
    except StoreError as err:
        if not from_settings:
            raise
        problem = str(err)
    while True:
        log.warning("no store to start with: %s", problem)
        offer_default = default if default.expanduser() != path else None
        choice, chosen = ask_about_store(path, problem, offer_default)
        try:
            if choice == USE_DEFAULT and offer_default is not None:
                store = open_with_feedback(lambda: Store(default))
                log.warning("continuing with the default store %s for this session", store.path)
                return store, settings
            if choice == USE_OTHER and chosen:
                return _open_and_remember(Path(chosen), settings)
        except SigverifyError as err:  # that one failed too: ask again, saying why
            problem = str(err)
            continue
        if choice == QUIT:
            raise CancelledError("The teller quit: the store in the settings cannot be opened.")


def _open_and_remember(path: Path, settings: Settings) -> tuple[Store, Settings]:
    check_store_path(path)
    store = open_with_feedback(lambda: Store(path))
    chosen = settings.with_changes(store_path=str(store.path))
    try:
        save_settings(chosen, validate=False)
    except BaseException:
        store.close()
        raise
    log.warning("store setting changed at start from %s to %s", settings.store_path, store.path)
    return store, chosen


def ask_with_dialogs(setting_path: Path, problem: str, default: Path | None) -> tuple[str, str]:
    """The question as a message box; "choose" then asks for the file."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Signature store problem",
        "The signature store named in Settings (This workstation, Store) cannot be "
        f"opened:\n{setting_path}",
    )
    default_choice = (
        f"Continue with the default store ({default}) for this session only: the setting "
        "is kept, so you will be asked again; "
        if default is not None
        else ""
    )
    box.setInformativeText(
        f"{problem}\n\nsigverify does not switch stores by itself: every decision is "
        f"recorded in the store's audit trail. {default_choice}choose another store file; "
        "or quit and ask IT to restore the store from a backup."
    )
    use_default = None
    if default is not None:
        use_default = box.addButton(
            "Continue with the default store", QMessageBox.ButtonRole.AcceptRole
        )
    use_other = box.addButton("Choose another store…", QMessageBox.ButtonRole.ActionRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if use_default is not None and clicked is use_default:
        return USE_DEFAULT, ""
    if clicked is use_other:
        name, _ = QFileDialog.getSaveFileName(
            None,
            "Signature store",
            str(setting_path.parent),
            "Signature stores (*.db)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        return USE_OTHER, name
    return QUIT, ""


# Tests replace this with scripted answers, as `errors.dialog_presenter`.
ask_about_store: StoreQuestion = ask_with_dialogs
