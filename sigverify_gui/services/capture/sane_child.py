"""The scanning child: the SANE calls of one device listing or one scan, in a process
that `sane_backend` starts for that job alone and kills if it stops answering.

The child imports the SANE module by name (python-sane's `sane`; a fake in tests), does
its one job and reports over its pipe:

    ("alive",)                    after each step, and about once a second while lines
                                  arrive: the parent's sign that the scan makes progress
    ("log", level, text)          for the parent's log (the child has no log file)
    ("devices", [(name, vendor, model, type), ...])
    ("image", gray, dpi)          the grey uint8 array and the dpi the scanner used
    ("failed", kind, detail)      what went wrong, which the parent words for the teller:
                                  "init", "list", "open", "status" (SANE's status text),
                                  "cancelled", "no data", "refused" (a setting the
                                  scanner cannot take, in the teller's words already)
                                  or "bug" (the child's traceback)

The parent's one message is "cancel". It is looked at between lines (python-sane's
progress function) and answered with `sane_cancel`, after which the read ends with
SANE's "cancelled" status.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

from model.errors import CaptureError
from sigverify_gui.services.capture.base import ScanSettings
from sigverify_gui.services.capture.sane_options import configure

ALIVE_EVERY_S = 1.0


class _Failure(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind, self.detail = kind, detail


# --- the child's two mains (top-level functions: "spawn" finds them by name) -----------
def list_devices(conn: Connection, module_name: str, local_only: bool) -> None:
    def job() -> tuple:
        sane = _initialised(conn, module_name)
        try:
            found = sane.get_devices(local_only)
        except _errors(sane) as err:
            raise _Failure("list", str(err)) from err
        return ("devices", [tuple(str(field) for field in device) for device in found])

    _serve(conn, job)


def scan(conn: Connection, module_name: str, device: str, settings: ScanSettings) -> None:
    def job() -> tuple:
        sane = _initialised(conn, module_name)
        errors = _errors(sane)
        try:
            dev = sane.open(device)
        except errors as err:
            raise _Failure("open", str(err)) from err
        _say(conn, "alive")
        try:
            dpi = configure(dev, settings, errors)
            _say(conn, "alive")
            gray = _read_grey(dev, conn, errors)
        finally:
            try:
                dev.close()
            except errors as err:  # the image is already read; nothing to tell the teller
                _say(conn, "log", logging.WARNING, f"closing SANE device {device} failed: {err}")
        return ("image", gray, dpi)

    _serve(conn, job)


def _serve(conn: Connection, job: Callable[[], tuple]) -> None:
    # Ctrl-C in a terminal reaches the whole process group; the parent turns it into
    # a "cancel" for us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    try:
        reply = job()
    except _Failure as failure:
        reply = ("failed", failure.kind, failure.detail)
    except CaptureError as err:
        reply = ("failed", "refused", str(err))
    except Exception:
        reply = ("failed", "bug", traceback.format_exc())
    _say(conn, *reply)
    # Skip the interpreter's shutdown: a backend's thread may have left a lock held
    # that it would wait on. The answer is sent and the device closed.
    os._exit(0)


def _die_with_parent() -> None:
    """Have Linux kill this child when the parent dies (strictly: when the thread that
    started it ends, which waits for the child anyway). A child stuck in a driver would
    otherwise hold the scanner until someone ended it by hand."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the call
        os._exit(1)


# --- talking to SANE -------------------------------------------------------------------
def _initialised(conn: Connection, module_name: str) -> ModuleType:
    sane = importlib.import_module(module_name)
    try:
        version = sane.init()
    except _errors(sane) as err:
        raise _Failure("init", str(err)) from err
    _say(conn, "log", logging.DEBUG, f"SANE initialised, version {version}")
    return sane


def _errors(sane: ModuleType) -> tuple[type[BaseException], ...]:
    low_level = getattr(sane, "_sane", None)
    error = getattr(low_level, "error", None)
    return (error, OSError) if isinstance(error, type) else (OSError,)


def _read_grey(dev: Any, conn: Connection, errors: tuple) -> Any:
    cancelled = False
    last_said = time.monotonic()

    def between_lines(_line: int, _total: int) -> None:
        # python-sane 2.9 crashes the process when this function raises; the pipe
        # helpers it calls never do.
        nonlocal cancelled, last_said
        if not cancelled and _cancel_asked(conn):
            cancelled = True
            dev.cancel()  # the next read returns SANE_STATUS_CANCELLED
        elif time.monotonic() - last_said >= ALIVE_EVERY_S:
            last_said = time.monotonic()
            _say(conn, "alive")

    try:
        if _cancel_asked(conn):
            raise _Failure("cancelled")
        dev.start()
        _say(conn, "alive")
        image = dev.snap(progress=between_lines)
    except errors as err:
        raise _Failure("cancelled" if cancelled else "status", str(err)) from err
    except RuntimeError as err:  # python-sane: "Scanner returned no data"
        raise _Failure("no data", str(err)) from err
    from model.image_modes import gray_array

    return gray_array(image)


# --- the pipe ----------------------------------------------------------------------------
def _cancel_asked(conn: Connection) -> bool:
    try:
        return conn.poll() and conn.recv() == "cancel"
    except (EOFError, OSError):  # the parent is gone: nobody wants this scan any more
        return True


def _say(conn: Connection, *message: Any) -> None:
    with contextlib.suppress(OSError):  # the parent is gone; the next look for a cancel says so
        conn.send(message)
