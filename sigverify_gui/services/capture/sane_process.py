"""Our side of a SANE child (`sane_child`): start it, pass a cancel on, wait for its
answer, and kill it when it falls silent for too long.

The child is started with multiprocessing's "spawn" method, the one a PyInstaller
build supports (its entry point calls `multiprocessing.freeze_support()`). It lives
for one job: a device listing or a scan.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from model.errors import CancelledError, CaptureError
from sigverify_gui.services.capture.base import check_cancel

log = logging.getLogger("sigverify.capture.sane")

CANCELLED_MESSAGE = "The scan was cancelled."
DIED_MESSAGE = (
    "The scanner's driver stopped unexpectedly; try again, and switch the scanner off "
    "and on if it keeps happening."
)
POLL_S = 0.05  # how often the caller's cancel event is looked at

_DEVICE_LOCKS: dict[str, threading.Lock] = {}
_DEVICE_LOCKS_LOCK = threading.Lock()


@contextlib.contextmanager
def device_turn(device: str, cancel: threading.Event | None) -> Iterator[None]:
    """One of our children at a time for `device` (a second would find it busy); the
    wait for a turn can be cancelled."""
    with _DEVICE_LOCKS_LOCK:
        lock = _DEVICE_LOCKS.setdefault(device, threading.Lock())
    while not lock.acquire(timeout=POLL_S):
        check_cancel(cancel)
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class ChildWaits:
    silence: float  # the longest silence before the child is killed...
    cancel: float  # ...or, after a cancel, the longest wait for its answer
    silent_message: str  # what the teller is told when silence kills it


def run_child(
    main: Callable, args: tuple, cancel: threading.Event | None, waits: ChildWaits
) -> tuple[tuple, bool]:
    """Run `main(conn, *args)` in a new child; its final message, and whether the
    caller cancelled. A child silent for too long is killed (`CaptureError`, or
    `CancelledError` once the caller cancelled); one that dies is reported the same way."""
    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe()
    child = context.Process(
        target=main, args=(child_conn, *args), name="sigverify-sane", daemon=True
    )
    child.start()
    child_conn.close()  # our copy: without it, the child's death would not reach us
    cancelled = False
    deadline = time.monotonic() + waits.silence
    try:
        while True:
            if not cancelled and cancel is not None and cancel.is_set():
                cancelled = True
                deadline = time.monotonic() + waits.cancel
                with contextlib.suppress(OSError):  # it died: the next poll says so
                    conn.send("cancel")
            if conn.poll(POLL_S):
                message = _receive(conn, child, cancelled)
                if message[0] == "log":
                    log.log(message[1], "SANE child %s: %s", child.pid, message[2])
                elif message[0] != "alive":
                    return message, cancelled
                if not cancelled:
                    deadline = time.monotonic() + waits.silence
            elif time.monotonic() > deadline:
                log.error("SANE child %s was silent for too long; stopping it", child.pid)
                child.terminate()
                if cancelled:
                    raise CancelledError(CANCELLED_MESSAGE)
                raise CaptureError(waits.silent_message)
    finally:
        conn.close()
        _stop(child)


def _receive(conn: Connection, child: BaseProcess, cancelled: bool) -> tuple:
    try:
        return conn.recv()
    except (EOFError, OSError) as err:
        log.error("SANE child %s died (exit code %s)", child.pid, _stop(child))
        if cancelled:
            raise CancelledError(CANCELLED_MESSAGE) from err
        raise CaptureError(DIED_MESSAGE) from err


def _stop(child: BaseProcess) -> int | None:
    """Wait a moment for the child to end (it does once it has answered), then
    terminate it, then kill it; its exit code."""
    for end in (None, child.terminate, child.kill):
        if child.exitcode is not None:
            break
        if end is not None:
            end()
        child.join(1.0)
    return child.exitcode
