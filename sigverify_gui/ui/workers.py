"""Long work off the UI thread, with progress, cancellation and errors that reach the user.

    task = run_in_background(
        lambda progress: enrol_customer(store, verifier, cid, images, progress=progress),
        on_done=self.show_result, label="Enrolling…", parent=self,
    )

`fn(progress)` runs in Qt's global thread pool. `progress` is a `ProgressBridge`
(the `model.progress.Progress` protocol): each `update` is forwarded to the UI
thread by a signal, and after `cancel()` the next `update` raises `CancelledError`,
so the work stops at one of its own safe points. The result, the error or the
cancellation comes back on the UI thread through the `BackgroundTask`'s signals;
errors nobody handles go to `errors.show_error`.

The progress dialog is only created when the job is still running after
`SHOW_DIALOG_AFTER_MS`, so quick jobs do not flash a window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from model.errors import CancelledError
from sigverify_gui.ui import errors
from sigverify_gui.ui.qt import (
    QObject,
    QProgressDialog,
    QPushButton,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    QWidget,
    Signal,
    Slot,
    is_alive,
)

log = logging.getLogger("sigverify.ui.workers")

SHOW_DIALOG_AFTER_MS = 300

# Tasks still running: a Python reference keeps each task (and its runnable) alive
# until its result has been delivered, whatever the caller keeps.
_running: set[BackgroundTask] = set()


class ProgressBridge(QObject):
    """`model.progress.Progress` for a worker thread, reporting to the UI thread."""

    changed = Signal(int, int, str)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def update(self, done: int, total: int, text: str = "") -> None:
        if self._cancel.is_set():
            raise CancelledError("The operation was cancelled.")
        self.changed.emit(int(done), int(total), str(text))


class _WorkerSignals(QObject):
    # Created in the UI thread: emitted from the worker thread, delivered queued.
    ended = Signal()


class Worker(QRunnable):
    """Runs `fn(progress)` once in a pool thread; `outcome` says how it ended.

    The job's closure often holds a window (`self` of the widget that started it), and
    a window must be destroyed on the UI thread. So this thread lets go of everything
    the job left (its frames, a cancellation's traceback) before it signals the end,
    while `fn` still holds the window; the UI thread then takes `outcome` and drops
    `fn`. Signalling first, with the result in hand, once let a window's last reference
    go here, and the test run died in Qt (a segmentation fault)."""

    def __init__(self, fn: Callable[[ProgressBridge], Any], progress: ProgressBridge) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the BackgroundTask owns it
        self.fn = fn
        self.progress = progress
        self.signals = _WorkerSignals()
        self.outcome: tuple[str, Any] | None = None  # ("done" | "failed" | "cancelled", value)

    def run(self) -> None:
        self.outcome = self._call()
        try:
            self.signals.ended.emit()
        except RuntimeError:  # the application quit while the job ran: nobody to tell
            log.info("a background job finished after its receiver was deleted")

    def _call(self) -> tuple[str, Any]:
        try:
            return "done", self.fn(self.progress)
        except CancelledError:
            return "cancelled", None
        except BaseException as err:  # every failure must reach the UI thread
            return "failed", err


class BackgroundTask(QObject):
    """The UI thread's handle on one job: progress, cancel, and how it ended."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()  # after exactly one of the three above

    def __init__(
        self,
        fn: Callable[[ProgressBridge], Any],
        *,
        label: str = "Working…",
        show_progress: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__()
        self.label = label
        self.parent_widget = parent
        self.progress = ProgressBridge()
        self.worker = Worker(fn, self.progress)
        self.dialog: QProgressDialog | None = None
        self.running = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.was_cancelled = False
        self._last_progress = (0, 0, "")
        self._show_progress = show_progress
        self.progress.changed.connect(self._on_progress)
        self.worker.signals.ended.connect(self._on_ended)

    def start(self) -> BackgroundTask:
        self.running = True
        _running.add(self)
        if self._show_progress:
            QTimer.singleShot(SHOW_DIALOG_AFTER_MS, self, self._show_dialog)
        QThreadPool.globalInstance().start(self.worker)
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next progress update.

        The dialog stays up, saying so, until the job has really ended. Qt's progress
        dialog hides itself on Cancel (and Escape), which gave the teller the window
        back while the job went on: it could still save, or show its result under
        another customer chosen meanwhile."""
        if self.running:
            self.progress.cancel()
            dialog = self.dialog
            if dialog is not None and is_alive(dialog):
                dialog.setLabelText("Cancelling…")
                for button in dialog.findChildren(QPushButton):
                    button.setEnabled(False)
                dialog.show()

    # --- the progress dialog -------------------------------------------------------------
    @Slot()
    def _show_dialog(self) -> None:
        if not self.running or self.dialog is not None:
            return
        dialog = QProgressDialog(self.label, "Cancel", 0, 0, self.parent_widget)
        dialog.setWindowTitle("sigverify")
        dialog.setAccessibleName(self.label)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        # Escape reaches the dialog's own cancel shortcut only once its window is active;
        # before that it rejects (hides) the dialog, which must cancel just the same.
        dialog.canceled.connect(self.cancel)
        dialog.rejected.connect(self.cancel)
        self.dialog = dialog
        self._apply_progress(*self._last_progress)
        dialog.show()

    def _apply_progress(self, done: int, total: int, text: str) -> None:
        dialog = self.dialog
        if dialog is None or self.progress.cancelled:
            return
        dialog.setLabelText(f"{self.label}\n{text}" if text else self.label)
        dialog.setMaximum(max(total, 0))  # 0: a busy indicator, total unknown
        # Last: a modal QProgressDialog processes events in setValue, where the job's
        # end may arrive and close the dialog; nothing may touch it after this call.
        dialog.setValue(min(done, total) if total > 0 else 0)

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        self._last_progress = (done, total, text)
        self._apply_progress(done, total, text)
        self.progressed.emit(done, total, text)

    # --- endings -------------------------------------------------------------------------
    def _end(self) -> None:
        self.running = False
        # The job has ended: let go of its closure (the teller's images and captures)
        # and its progress, here in the UI thread. The pool keeps the worker itself for
        # good (not auto-deleted: see `Worker`), which used to keep all that too, about
        # 0.7 MB per verification all day. What they held may now be freed, cycles
        # included: `collector` keeps that on the UI thread.
        self.worker.fn = self.worker.progress = None
        _running.discard(self)
        dialog, self.dialog = self.dialog, None
        # Qt deletes the dialog with its parent (a Settings or Scan dialog closed while
        # the job ran): then there is nothing left to close.
        if dialog is not None and is_alive(dialog):
            dialog.canceled.disconnect(self.cancel)
            dialog.rejected.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()

    @Slot()
    def _on_ended(self) -> None:
        (how, value), self.worker.outcome = self.worker.outcome, None
        self._end()
        if how == "done":
            self.result = value
            self.succeeded.emit(value)
        elif how == "failed":
            self.error = value
            self.failed.emit(value)
        else:
            self.was_cancelled = True
            self.cancelled.emit()
        self.finished.emit()


def _guarded(callback: Callable[..., Any], parent: QWidget | None) -> Callable[..., None]:
    # A failing callback runs in the UI thread; its error must still reach the user.
    # A job may outlive the widget that started it (a dialog closed meanwhile): its
    # result then has nowhere to go, and touching the widget would fail.
    def call(*args: Any) -> None:
        if parent is not None and not is_alive(parent):
            log.info("a background job ended after its window was closed")
            return
        try:
            callback(*args)
        except Exception as err:
            errors.show_error(parent, err)

    return call


def run_in_background(
    fn: Callable[[ProgressBridge], Any],
    *,
    progress: bool = True,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
    label: str = "Working…",
    parent: QWidget | None = None,
) -> BackgroundTask:
    """Start `fn(progress)` in a worker; callbacks run on the UI thread.

    Without `on_error`, errors go to `errors.show_error(parent, err)`. `progress=False`
    never shows a dialog (for work that has its own indicator, like model loading).
    """
    task = BackgroundTask(fn, label=label, show_progress=progress, parent=parent)
    if on_done is not None:
        task.succeeded.connect(_guarded(on_done, parent))
    task.failed.connect(_guarded(on_error, parent) if on_error else _show_failure(parent))
    if on_cancel is not None:
        task.cancelled.connect(_guarded(on_cancel, parent))
    return task.start()


def _show_failure(parent: QWidget | None) -> Callable[[BaseException], None]:
    def show(err: BaseException) -> None:
        errors.show_error(parent if parent is None or is_alive(parent) else None, err)

    return show


def running_tasks() -> list[BackgroundTask]:
    return list(_running)


def after_running_tasks(callback: Callable[[], None]) -> None:
    """Call `callback` on the UI thread once every job running now has ended: at once
    when none is. Jobs started later are not waited for."""
    pending = {task for task in _running if task.running}
    if not pending:
        callback()
        return

    def one_ended(task: BackgroundTask) -> None:
        pending.discard(task)
        if not pending:
            callback()

    for task in pending:
        task.finished.connect(lambda task=task: one_ended(task))


def cancel_all_and_wait(timeout_ms: int = 5000) -> bool:
    """At shutdown: ask every job to stop and wait for the pool; True when all stopped."""
    for task in list(_running):
        task.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
