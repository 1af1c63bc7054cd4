"""Scanners on Linux through SANE (`python-sane`, imported only when a scanner is used).

SANE is not thread-safe, so every call into it goes through one process-wide lock: the
GUI's worker may scan while another thread lists devices, one after the other. SANE is
initialised once per process and never shut down (its backends keep USB state that a
re-initialisation would have to rebuild on every scan).

Cancelling: python-sane reads the image line by line and calls a progress function
between lines; that function calls `sane_cancel` when the caller's event is set, and
the read then ends with SANE's "cancelled" status. (Raising from the progress
function instead would crash python-sane 2.9, so a command-line caller must turn
Ctrl-C into setting the event while it scans, as `sigverify scan` does.)
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from types import ModuleType
from typing import Any

from model.errors import CancelledError, CaptureError
from sigverify_gui.services.capture.base import Capture, DeviceInfo, ScanSettings, check_cancel
from sigverify_gui.services.capture.sane_options import configure

log = logging.getLogger("sigverify.capture.sane")

_LOCK = threading.RLock()
_initialised: set[int] = set()  # id() of each SANE module initialised (a fake in tests)

# What SANE's status texts (sane_strstatus) mean for the teller, matched in lower case.
_STATUS_MESSAGES = {
    "busy": "The scanner is busy, perhaps used by another program; wait a moment and try again.",
    "jammed": "Paper is jammed in the scanner's feeder; clear it and try again.",
    "out of documents": "The scanner's feeder is empty; put the document in and try again.",
    "cover is open": "The scanner's cover is open; close it and try again.",
    "device i/o": ("The scanner stopped responding; check its cable and power, then try again."),
    "denied": "This computer account may not use the scanner; ask IT to give it access.",
    "out of memory": "The scanner ran out of memory; scan a smaller area or at a lower dpi.",
    "warming up": "The scanner is warming up; wait a few seconds and try again.",
    "locked": "The scanner is locked; unlock its transport lock and try again.",
}


def import_sane() -> ModuleType:
    """The `sane` module, or a `CaptureError` saying what is missing."""
    try:
        import sane
    except ImportError as err:
        if "libsane" in str(err):
            raise CaptureError(
                "The SANE scanner library (libsane) is not installed on this computer; "
                "ask IT to install it."
            ) from err
        raise CaptureError(
            "Scanning needs the 'python-sane' package, which is not installed; ask IT to "
            "install sigverify with its 'scan' option."
        ) from err
    return sane


class SaneBackend:
    """Lists and opens SANE scanners. `local_only` skips network scanners, whose
    discovery takes seconds; `module` replaces `import sane` (tests)."""

    name = "sane"

    def __init__(self, *, local_only: bool = False, module: ModuleType | None = None) -> None:
        self.local_only = local_only
        self._module = module

    def sane(self) -> ModuleType:
        return self._module if self._module is not None else import_sane()

    def unavailable_reason(self) -> str | None:
        try:
            self.sane()
        except CaptureError as err:
            return str(err)
        return None

    def list_devices(self) -> list[DeviceInfo]:
        sane = self.sane()
        with _LOCK, _sigpipe_kept():
            _ensure_initialised(sane)
            try:
                found = sane.get_devices(self.local_only)
            except _errors(sane) as err:
                raise CaptureError(f"The list of scanners could not be read ({err}).") from err
        return [
            DeviceInfo(
                id=f"sane:{name}",
                name=f"{vendor} {model}".strip() or name,
                backend="sane",
                vendor=vendor,
                model=model,
                type=kind,
            )
            for name, vendor, model, kind in found
        ]

    def open(self, device: str, settings: ScanSettings, label: str | None = None) -> SaneScanner:
        return SaneScanner(device, settings, label=label, module=self._module)


class SaneScanner:
    """One SANE device, scanned in grey with `settings`. Opened for each scan and
    closed after, so that other programs can use the scanner in between."""

    def __init__(
        self,
        device: str,
        settings: ScanSettings | None = None,
        *,
        label: str | None = None,
        module: ModuleType | None = None,
    ) -> None:
        self.device = device
        self.settings = settings or ScanSettings()
        self._label = label
        self._module = module

    @property
    def device_id(self) -> str:
        return f"sane:{self.device}"

    @property
    def description(self) -> str:
        return (
            f"{self._label} (sane:{self.device})" if self._label else f"scanner sane:{self.device}"
        )

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        check_cancel(cancel)
        sane = self._module if self._module is not None else import_sane()
        errors = _errors(sane)
        with _LOCK, _sigpipe_kept():
            _ensure_initialised(sane)
            try:
                dev = sane.open(self.device)
            except errors as err:
                raise _open_error(self.device, str(err)) from err
            try:
                dpi = configure(dev, self.settings, errors)
                check_cancel(cancel)
                image = _read_image(dev, cancel, errors)
            finally:
                try:
                    dev.close()
                except errors as err:  # the image is already read; nothing to tell the teller
                    log.warning("closing SANE device %s failed: %s", self.device, err)
        from model.image_modes import gray_array

        return Capture(gray_array(image), dpi, self.description)


# --- talking to SANE -------------------------------------------------------------------
@contextlib.contextmanager
def _sigpipe_kept():
    """Undo SANE's reset of SIGPIPE once its calls are done.

    SANE's reader machinery (sanei_thread) sets SIGPIPE back to its default action,
    which kills the whole process on a write to a closed pipe. Python ignores SIGPIPE
    and reports EPIPE instead, and the GUI relies on that when its model process
    dies. `signal.signal` works only on the main thread and scans run in workers, so
    Python's disposition is put back through libc.
    """
    try:
        yield
    finally:
        if sys.platform != "win32" and signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN:
            import ctypes

            libc = ctypes.CDLL(None)
            libc.signal.restype = ctypes.c_void_p
            libc.signal(int(signal.SIGPIPE), ctypes.c_void_p(int(signal.SIG_IGN)))


def _errors(sane: ModuleType) -> tuple[type[BaseException], ...]:
    low_level = getattr(sane, "_sane", None)
    error = getattr(low_level, "error", None)
    return (error, OSError) if isinstance(error, type) else (OSError,)


def _ensure_initialised(sane: ModuleType) -> None:
    if id(sane) in _initialised:
        return
    try:
        version = sane.init()
    except _errors(sane) as err:
        raise CaptureError(f"The scanner system (SANE) could not be started ({err}).") from err
    log.info("SANE initialised, version %s", version)
    _initialised.add(id(sane))


def _open_error(device: str, status: str) -> CaptureError:
    if "invalid argument" in status.lower():  # what SANE says for an unknown device name
        return CaptureError(
            f"The scanner 'sane:{device}' was not found; check that it is connected and "
            "switched on, or choose another scanner."
        )
    return _status_error(status)


def _status_error(status: str) -> CaptureError:
    lowered = status.lower()
    if "cancel" in lowered:
        return CancelledError("The scan was cancelled.")
    for words, message in _STATUS_MESSAGES.items():
        if words in lowered:
            return CaptureError(message)
    return CaptureError(f"The scanner reported a problem: {status.rstrip('.')}.")


def _read_image(dev: Any, cancel: threading.Event | None, errors: tuple) -> Any:
    cancelled = threading.Event()
    escaped: list[BaseException] = []

    def between_lines(_line: int, _total: int) -> None:
        # python-sane 2.9 crashes the whole process when this function raises, so
        # nothing may escape it, not even a KeyboardInterrupt: it is kept for later.
        try:
            if cancel is not None and cancel.is_set() and not cancelled.is_set():
                cancelled.set()
                dev.cancel()  # the next read returns SANE_STATUS_CANCELLED
        except BaseException as exc:  # re-raised once the read is over
            escaped.append(exc)
            cancelled.set()
            dev.cancel()

    try:
        dev.start()
        return dev.snap(progress=between_lines)
    except errors as err:
        if escaped:
            raise escaped[0] from err
        if cancelled.is_set() or (cancel is not None and cancel.is_set()):
            raise CancelledError("The scan was cancelled.") from err
        raise _status_error(str(err)) from err
    except RuntimeError as err:  # python-sane: "Scanner returned no data"
        raise CaptureError(
            "The scanner sent no image; check that the document is in place and try again."
        ) from err
