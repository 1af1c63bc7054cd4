"""What every screen shares: the open store, the settings and the verifier.

The verifier (torch and the weights) takes seconds to load, so the window is shown
first and the model loads in a worker (the real one in a child process:
`services.model_process`). Until it is ready, `verifier` is None and
actions that need it are queued with `when_ready`, each with what to do should the
load fail (a screen that said "waiting" must not say so for the rest of the day);
`waiting_changed` lets the status bar say that something is waiting for the model.
The verifier comes from an injected factory so tests pass a `FakeVerifier`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from model.errors import SigverifyError
from sigverify_gui.services.thresholds import Thresholds, set_thresholds, thresholds_in_force
from sigverify_gui.services.thresholds_record import (
    ThresholdsDamagedError,
    setting_and_last_change,
)
from sigverify_gui.services.typed_text import login_name
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store.db import Store, discard_if_unused
from sigverify_gui.ui import errors
from sigverify_gui.ui.qt import QObject, QTimer, QWidget, Signal
from sigverify_gui.ui.settings import (
    Settings,
    save_settings,
    validate_settings,
    validate_thresholds,
)
from sigverify_gui.ui.store_opening import open_with_feedback
from sigverify_gui.ui.workers import (
    BackgroundTask,
    ProgressBridge,
    after_running_tasks,
    run_in_background,
)

log = logging.getLogger("sigverify.ui.context")
# How often the store is asked whether another program changed it: one tiny query.
STORE_WATCH_MS = 2000
SAVING_THRESHOLDS = "Saving the thresholds to the signature store…"

VerifierFactory = Callable[[str], VerifierLike]  # device choice -> loaded verifier
OnReady = Callable[[VerifierLike], None]
OnFailed = Callable[[BaseException], None]


def load_real_verifier(device: str) -> VerifierLike:
    # In a child process: importing torch in this one, even from a worker thread, holds
    # the GIL long enough to freeze the window for a good part of a second.
    from sigverify_gui.services.model_process import ModelProcessVerifier

    return ModelProcessVerifier(None, device=device)


class AppContext(QObject):
    verifier_loading = Signal()
    verifier_ready = Signal(object)  # the verifier
    verifier_failed = Signal(object)  # the exception
    waiting_changed = Signal(int)  # actions queued until the verifier is ready
    store_changed = Signal()  # customers, references or the audit trail changed
    store_replaced = Signal()  # another store file was opened
    settings_changed = Signal(object)  # the new Settings
    thresholds_changed = Signal()

    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        verifier_factory: VerifierFactory | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._settings = settings or Settings()
        self._factory = verifier_factory or load_real_verifier
        self._verifier: VerifierLike | None = None
        self._load_task: BackgroundTask | None = None
        # Bumped by each load: the result of a load superseded by another (the device
        # changed meanwhile) is ignored when it arrives.
        self._load_generation = 0
        self._waiting: list[tuple[OnReady, OnFailed | None]] = []
        self.load_error: BaseException | None = None
        self.operator = _login_name()
        # Dialogs about loading need a window; the main window sets itself here.
        self.dialog_parent: QWidget | None = None
        # Other programs write the store too (a second window, the CLI, another
        # workstation on a shared store): its change counter is watched, so that lists
        # refresh without a restart.
        self._seen_generation = self._store_generation()
        self._seen_thresholds = self._thresholds_record()
        self._watch = QTimer(self)
        self._watch.setInterval(STORE_WATCH_MS)
        self._watch.timeout.connect(self._check_for_other_writers)
        self._watch.start()

    # --- state ---------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def verifier(self) -> VerifierLike | None:
        """The loaded verifier, or None while it loads (or after it failed to)."""
        return self._verifier

    @property
    def is_loading(self) -> bool:
        return self._load_task is not None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    # --- the verifier --------------------------------------------------------------------
    def load_verifier(self) -> BackgroundTask | None:
        """Start loading the verifier for the settings' device (no-op while loading)."""
        if self._load_task is not None:
            return self._load_task
        self._verifier = None
        self.load_error = None
        self._load_generation += 1
        generation = self._load_generation
        device = self._settings.device
        self._load_task = run_in_background(
            lambda progress: self._factory(device),
            progress=False,
            on_done=lambda verifier: self._on_loaded(verifier, generation),
            on_error=lambda err: self._on_load_failed(err, generation),
            label="Loading the signature model…",
            parent=self.dialog_parent,
        )
        self.verifier_loading.emit()
        return self._load_task

    def _on_loaded(self, verifier: VerifierLike, generation: int) -> None:
        if generation != self._load_generation:
            return
        self._load_task = None
        self._verifier = verifier
        log.info("verifier %s ready on %s", verifier.model_id, verifier.device_name)
        self.verifier_ready.emit(verifier)
        self.thresholds_changed.emit()
        waiting, self._waiting = self._waiting, []
        self.waiting_changed.emit(0)
        self._call_each([on_ready for on_ready, _ in waiting], verifier)

    def _on_load_failed(self, err: BaseException, generation: int) -> None:
        if generation != self._load_generation:
            return
        self._load_task = None
        self.load_error = err
        waiting, self._waiting = self._waiting, []
        self.waiting_changed.emit(0)
        log.warning("verifier failed to load (%d queued actions dropped)", len(waiting))
        self.verifier_failed.emit(err)
        # Each dropped action puts its screen back before the error's dialog shows.
        self._call_each([on_failed for _, on_failed in waiting if on_failed is not None], err)
        errors.show_error(self.dialog_parent, err)

    def _call_each(self, callbacks: list[Callable[[object], None]], argument: object) -> None:
        for callback in callbacks:
            try:
                callback(argument)
            except Exception as err:  # one failing action must not stop the others
                errors.show_error(self.dialog_parent, err)

    def when_ready(self, callback: OnReady, on_failed: OnFailed | None = None) -> bool:
        """Run `callback(verifier)` now if loaded, else once loading finishes; should
        that load fail, the action is dropped and `on_failed(error)` is called instead
        (the error itself is shown once, by the context, not by each action).

        Returns True when it ran at once. After a failed load, asking again retries.
        """
        if self._verifier is not None:
            callback(self._verifier)
            return True
        self._waiting.append((callback, on_failed))
        self.waiting_changed.emit(len(self._waiting))
        if self._load_task is None:
            self.load_verifier()
        return False

    # --- thresholds ----------------------------------------------------------------------
    def thresholds(self) -> Thresholds | None:
        """The thresholds in force for the loaded model (None while it loads)."""
        if self._verifier is None:
            return None
        return thresholds_in_force(self._store, self._verifier)

    def set_thresholds(self, t_accept: float | None, t_reject: float | None) -> Thresholds:
        """Set the branch's thresholds (None, None: the model's own); audited."""
        result = self._thresholds_write(t_accept, t_reject)()
        self._thresholds_were_set()
        return result

    def _thresholds_write(
        self, t_accept: float | None, t_reject: float | None
    ) -> Callable[[], Thresholds]:
        """The store write that sets the thresholds, checked and bound here to the store
        and model in use now, for any thread to run (it may wait on a busy store)."""
        if self._verifier is None:
            raise SigverifyError("The signature model is still loading; try again soon.")
        if t_accept is not None and t_reject is not None:
            validate_thresholds(t_accept, t_reject)
        store, verifier, operator = self._store, self._verifier, self.operator
        return lambda: set_thresholds(store, verifier, t_accept, t_reject, operator=operator)

    def _thresholds_were_set(self) -> None:
        self._seen_thresholds = self._thresholds_record()  # said now, not by the watch
        self.thresholds_changed.emit()
        self.store_changed.emit()

    # --- store and settings --------------------------------------------------------------
    def notify_store_changed(self) -> None:
        """Services wrote to the store: lists and the history refresh."""
        self._seen_generation = self._store_generation()
        self.store_changed.emit()

    def _store_generation(self) -> int | None:
        try:
            return self._store.generation()
        except (SigverifyError, sqlite3.Error):  # closed meanwhile, or unreadable now:
            return None  # the next look, or the next real use, will say

    def _thresholds_record(self) -> object:
        """The thresholds setting and the trail's last change of it, as stored: the
        change counter does not move with them, and the status bar must follow another
        program's change (IT mending them from the command line, or damage)."""
        try:
            return setting_and_last_change(self._store)
        except ThresholdsDamagedError as err:  # said where they are used
            return str(err)
        except (SigverifyError, sqlite3.Error):  # closed meanwhile, or unreadable now:
            return None  # the next look, or the next real use, will say

    def _check_for_other_writers(self) -> None:
        generation = self._store_generation()
        if generation is not None and generation != self._seen_generation:
            log.info("the store was changed by another program; refreshing")
            self._seen_generation = generation
            self.store_changed.emit()
        thresholds = self._thresholds_record()
        if thresholds is not None and thresholds != self._seen_thresholds:
            self._seen_thresholds = thresholds
            self.thresholds_changed.emit()

    def replace_store(self, path: str | Path) -> None:
        """Open another store file; the old one is closed only once the new one opened."""
        self._switch_to(open_with_feedback(lambda: Store(path)))

    def _switch_to(self, new: Store) -> None:
        old, self._store = self._store, new
        # A job started on the old store (one the teller set going just before opening
        # Settings, before its progress dialog made the window modal) finishes in it
        # and records there; closing it under the job would lose that record.
        after_running_tasks(old.close)
        self._seen_generation = self._store_generation()
        self._seen_thresholds = self._thresholds_record()
        log.info("store switched to %s", new.path)
        self.store_replaced.emit()
        self.store_changed.emit()
        self.thresholds_changed.emit()

    def apply_settings(
        self,
        settings: Settings,
        *,
        validate: bool = True,
        thresholds: tuple[float | None, float | None] | None = None,
    ) -> None:
        """Apply `settings` (and `thresholds`, for the store open now) all or nothing.

        Order matters: settings are saved only once everything they name has been
        checked and, for the store, opened. Saved first, a file that turned out not to
        be a store stayed in the settings and the next start refused to open at all.
        On any failure this raises with the old settings saved and the old store open;
        the new store is put in use last.

        `validate=False` is for changes the teller did not type (the theme toggle):
        a hot folder unplugged since it was chosen must not stop the theme changing.
        """
        staged = self._stage(settings, validate=validate)
        try:
            if thresholds is not None:  # for the store open now, beside which they were edited
                self.set_thresholds(*thresholds)
        except BaseException:
            self._unstage(staged)
            raise
        self._put_in_use(staged)

    def apply_settings_in_background(
        self,
        settings: Settings,
        thresholds: tuple[float | None, float | None] | None,
        *,
        parent: QWidget | None = None,
    ) -> BackgroundTask | None:
        """`apply_settings` with the thresholds written in a worker, with progress: on a
        store another program holds, the write waits some 10 s for the lock
        (`store.db.longest_write_wait_s`), and on the UI thread it froze the window.

        The checks, a new store's opening (it has its own window) and the saving happen
        here and raise here. Then None when there is nothing to write (all is applied),
        else the task: when it has `succeeded` all is applied, when it `failed` or was
        `cancelled` the old settings are back, before any slot the caller connects runs.
        """
        write = self._thresholds_write(*thresholds) if thresholds is not None else None
        staged = self._stage(settings)
        if write is None:
            self._put_in_use(staged)
            return None
        task = BackgroundTask(_unless_cancelled(write), label=SAVING_THRESHOLDS, parent=parent)
        task.succeeded.connect(lambda _in_force: self._thresholds_set_with(staged))
        task.failed.connect(lambda _err: self._unstage(staged))
        task.cancelled.connect(lambda: self._unstage(staged))
        return task.start()

    def _thresholds_set_with(self, staged: _StagedSettings) -> None:
        self._thresholds_were_set()
        self._put_in_use(staged)

    def _stage(self, settings: Settings, *, validate: bool = True) -> _StagedSettings:
        """Check `settings`, open the store they newly name and save them: all but put
        in use. On a failure nothing is left changed."""
        if validate:
            validate_settings(settings)
        new_path = self._changed_store_path(settings)
        made_here = new_path is not None and not new_path.exists()
        new_store = open_with_feedback(lambda: Store(new_path)) if new_path is not None else None
        staged = _StagedSettings(settings, new_store, made_here)
        try:
            save_settings(settings, validate=False)
        except BaseException:
            _let_go(staged)
            raise
        return staged

    def _unstage(self, staged: _StagedSettings) -> None:
        """A staged change that failed later: the old settings saved again."""
        _let_go(staged)
        save_settings(self._settings, validate=False)

    def _put_in_use(self, staged: _StagedSettings) -> None:
        old, self._settings = self._settings, staged.settings
        if staged.new_store is not None:
            self._switch_to(staged.new_store)
        if staged.settings.device != old.device:
            self._load_task = None  # a load for the old device, if any, is superseded
            self.load_verifier()
        self.settings_changed.emit(staged.settings)

    def _changed_store_path(self, settings: Settings) -> Path | None:
        """The store file `settings` newly names, or None.

        Compared with the old settings, not with the store open now: a store given
        with --db stays open until the teller really picks another one.
        """
        if not settings.store_path or settings.store_path == self._settings.store_path:
            return None
        new_path = Path(settings.store_path).expanduser()
        return None if new_path == self._store.path else new_path


@dataclass(frozen=True)
class _StagedSettings:
    """Settings checked and saved, with the store they newly name open, not in use yet."""

    settings: Settings
    new_store: Store | None
    made_here: bool  # the new store's file did not exist before


def _let_go(staged: _StagedSettings) -> None:
    """Close the staged new store; one this failed apply made is not left behind."""
    if staged.new_store is not None and staged.made_here:
        discard_if_unused(staged.new_store)
    elif staged.new_store is not None:
        staged.new_store.close()


def _unless_cancelled(write: Callable[[], Thresholds]) -> Callable[[ProgressBridge], Thresholds]:
    def work(progress: ProgressBridge) -> Thresholds:
        # Queued behind other jobs (the pool has a thread per core), the write may not
        # have begun when Cancel is pressed: then it never does. Once begun, it ends as
        # the store lets it (written, or refused as busy), and Cancel waits for that.
        progress.update(0, 0)
        return write()

    return work


def _login_name() -> str:
    # Recorded as the operator in audit rows; a missing name must not stop the app.
    return login_name()
