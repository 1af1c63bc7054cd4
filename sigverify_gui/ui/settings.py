"""The application's settings: one typed object, defaults in one place, kept in QSettings.

What lives here is this workstation's: which device runs the model, where the store
is, the scanner and the hot folder, the theme. The decision thresholds do not: they
belong to the store (`services.thresholds`), because every program that uses the
store (this app, the CLI, another workstation) must decide by the same thresholds,
and each change is audited. They are validated here, beside the other fields, so
the settings dialog has one place to ask.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, fields, replace
from pathlib import Path

from model.errors import SigverifyError, os_reason
from sigverify_gui.services.thresholds import check_thresholds
from sigverify_gui.ui.qt import QSettings

ORGANISATION = "sigverify"
APPLICATION = "sigverify-gui"
# The same choices as `model.device.DEVICE_CHOICES`, which imports torch; the UI must
# not pay for torch before the window is shown.
DEVICES = ("auto", "cpu", "cuda")
THEMES = ("light", "dark")


class SettingsError(SigverifyError):
    """A setting the teller entered cannot be used (the message says which and why)."""


@dataclass(frozen=True)
class Settings:
    store_path: str = ""  # empty: SIGVERIFY_DB or the user's default store
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    scanner_device: str = ""  # a capture service's device id; empty: ask
    hot_folder: str = ""  # empty: no hot folder
    theme: str = "light"  # "light" | "dark"

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)


def qsettings() -> QSettings:
    """The application's QSettings: an INI file in the user's configuration folder.

    INI rather than the native format (the Windows registry) so that IT can read,
    back up and copy a workstation's settings as one file.
    """
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def load_settings(store: QSettings | None = None) -> Settings:
    """The saved settings; a value missing or of the wrong kind takes its default."""
    q = store or qsettings()
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        raw = q.value(f"settings/{f.name}", getattr(defaults, f.name))
        values[f.name] = str(raw) if raw is not None else getattr(defaults, f.name)
    loaded = Settings(**values)
    # A hand-edited or old file must not stop the app: unknown choices fall back.
    if loaded.device not in DEVICES:
        loaded = loaded.with_changes(device=defaults.device)
    if loaded.theme not in THEMES:
        loaded = loaded.with_changes(theme=defaults.theme)
    return loaded


def save_settings(
    settings: Settings, store: QSettings | None = None, *, validate: bool = True
) -> None:
    """Validate, then persist; an invalid object raises and nothing is written.

    Raises `SettingsError` when the file cannot be written (a read-only or full
    disk): QSettings itself fails silently, and the teller would believe it saved.
    """
    if validate:
        validate_settings(settings)
    q = store or qsettings()
    for f in fields(Settings):
        q.setValue(f"settings/{f.name}", getattr(settings, f.name))
    q.sync()
    if q.status() != QSettings.Status.NoError:
        raise SettingsError(f"The settings could not be saved to {q.fileName()}.")


def validate_settings(settings: Settings) -> None:
    """Raise `SettingsError` naming the first field that cannot be used."""
    if settings.device not in DEVICES:
        raise SettingsError(f"Unknown device '{settings.device}'; choose auto, CPU or CUDA.")
    if settings.theme not in THEMES:
        raise SettingsError(f"Unknown theme '{settings.theme}'; choose light or dark.")
    if settings.store_path:
        check_store_path(Path(settings.store_path))
    if settings.hot_folder:
        check_hot_folder(Path(settings.hot_folder))


def check_store_path(path: Path) -> None:
    """The store file must be writable, or creatable in an existing, writable folder."""
    path = path.expanduser()
    found = _status(path, "signature store file")
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise SettingsError(f"{path} is a folder; choose a file for the signature store.")
    if found is not None:
        if not os.access(path, os.R_OK | os.W_OK):
            raise SettingsError(f"The signature store {path} cannot be written to.")
        return
    folder = path.parent
    if not folder.is_dir():
        missing = "is not a folder" if folder.exists() else "does not exist"
        raise SettingsError(f"The folder {folder} for the signature store {missing}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SettingsError(f"The folder {folder} cannot be written to.")


def check_hot_folder(folder: Path) -> None:
    """The hot folder must be an existing folder (a file of that name is none)."""
    found = _status(folder.expanduser(), "hot folder")
    if found is None:
        raise SettingsError(f"The hot folder {folder} does not exist.")
    if not stat.S_ISDIR(found.st_mode):
        raise SettingsError(f"The hot folder {folder} is not a folder; choose a folder.")


def _status(path: Path, what: str) -> os.stat_result | None:
    """`path`'s status, or None when nothing is there. A name no file can have is a
    problem with the setting, said in words: Path.is_dir() let the system's "File name
    too long" out (a "File problem" box beside the dialog) and a null character reached
    os.open as Python's "embedded null byte" (the crash dialog)."""
    if "\0" in str(path):
        raise SettingsError(f"The {what} name holds a character no file name can have.")
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise SettingsError(
                f"The {what} name {shortened(path)} is too long for this system."
            ) from err
        raise SettingsError(
            f"The {what} {shortened(path)} cannot be used: {os_reason(err)}."
        ) from err


def shortened(path: Path, keep: int = 60) -> str:
    """`path` for a one-line message: a name thousands of characters long keeps its
    start and end, with an ellipsis between."""
    text = str(path)
    return text if len(text) <= 2 * keep else f"{text[:keep]}…{text[-keep:]}"


def validate_thresholds(t_accept: float, t_reject: float) -> None:
    """The services' rule (`check_thresholds`), as a problem with the settings."""
    try:
        check_thresholds(t_accept, t_reject)
    except SigverifyError as err:
        raise SettingsError(str(err)) from err


def resolve_store_path(cli_path: str | None, settings: Settings) -> Path:
    """Which store to open: `--db`, then SIGVERIFY_DB, then the settings, then the default."""
    from sigverify_gui.paths import default_db_path

    if cli_path:
        return Path(cli_path).expanduser()
    if os.environ.get("SIGVERIFY_DB"):
        return Path(os.environ["SIGVERIFY_DB"]).expanduser()
    if settings.store_path:
        return Path(settings.store_path).expanduser()
    return default_db_path()


def store_path_from_settings(cli_path: str | None, settings: Settings) -> bool:
    """Whether `resolve_store_path` takes the settings' store: the only one of the four
    that the teller can change (in the Settings dialog)."""
    return not cli_path and not os.environ.get("SIGVERIFY_DB") and bool(settings.store_path)
