"""Scanners on Linux through SANE (`python-sane`), every device call in a child process.

Each listing and each scan runs in a short-lived child (`sane_child`; our side of it:
`sane_process`), never in the app's process. SANE backends built on sanei_thread
cancel their reader thread asynchronously when a scan ends in an error or a cancel;
the cancel can land while that thread holds glibc's malloc lock, and the process then
hangs in `sane_cancel` or at its next allocation (seen with SANE's test backend about
once in a few hundred such scans). In the app that would freeze the window; in a
child it is a scanner that stopped responding: the child is killed once it is silent
for longer than `SaneLimits` allows, and the teller is told so.

SANE's reset of SIGPIPE to "terminate the process" now touches only the child, which
has nothing left to do once its parent is gone; and each scan starts from the driver's
own settings, not those the last scan left behind. Our children still take turns on
one device (`device_turn`): a second one would find it busy.

Cancelling: the parent sends "cancel" once the caller's event is set, and the child
calls `sane_cancel` between lines. A command-line caller turns Ctrl-C into setting the
event, as `sigverify scan` does; the child itself ignores Ctrl-C.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from types import ModuleType

from model.errors import CancelledError, CaptureError, SigverifyError
from sigverify_gui.services.capture import sane_child
from sigverify_gui.services.capture.base import Capture, DeviceInfo, ScanSettings, check_cancel
from sigverify_gui.services.capture.sane_process import (
    CANCELLED_MESSAGE,
    ChildWaits,
    device_turn,
    run_child,
)

log = logging.getLogger("sigverify.capture.sane")

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
NO_IMAGE_MESSAGE = "The scanner sent no image; check that the document is in place and try again."
FAILED_MESSAGE = "The scanner's driver failed unexpectedly; the details are in the log file."


@dataclass(frozen=True)
class SaneLimits:
    """How long, in seconds, the app waits on a SANE child before it kills it."""

    # Silence during a scan: no step done and no line read. Not the scan's length: an
    # A4 page at 600 dpi takes a minute, and a lamp may warm up for half of one.
    no_progress: float = 120.0
    cancel: float = 5.0  # from sending "cancel" to the child's answer
    listing: float = 30.0  # a whole device listing, with network discovery


def import_sane(name: str = "sane") -> ModuleType:
    """The SANE module (`name` is a fake's in tests), or a `CaptureError` saying what
    is missing."""
    try:
        if name != "sane":
            return importlib.import_module(name)
        import sane  # spelt out, so that the build (PyInstaller) finds and bundles it

        return sane
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


class SaneBackend:
    """Lists and opens SANE scanners. `local_only` skips network scanners, whose
    discovery takes seconds; `module` names a stand-in for `sane` (tests)."""

    name = "sane"

    def __init__(
        self, *, local_only: bool = False, module: str = "sane", limits: SaneLimits | None = None
    ) -> None:
        self.local_only = local_only
        self._module = module
        self.limits = limits or SaneLimits()

    def unavailable_reason(self) -> str | None:
        try:
            import_sane(self._module)
        except CaptureError as err:
            return str(err)
        return None

    def list_devices(self) -> list[DeviceInfo]:
        import_sane(self._module)  # a missing package is said before any child starts
        silent = (
            f"Looking for scanners took more than {self.limits.listing:g} seconds and was "
            "stopped; check that the scanners are switched on, then try again."
        )
        reply, _ = run_child(
            sane_child.list_devices,
            (self._module, self.local_only),
            None,
            ChildWaits(self.limits.listing, self.limits.cancel, silent),
        )
        if reply[0] != "devices":
            raise _failure(reply, "", cancelled=False)
        return [
            DeviceInfo(
                id=f"sane:{name}",
                name=f"{vendor} {model}".strip() or name,
                backend="sane",
                vendor=vendor,
                model=model,
                type=kind,
            )
            for name, vendor, model, kind in reply[1]
        ]

    def open(self, device: str, settings: ScanSettings, label: str | None = None) -> SaneScanner:
        return SaneScanner(device, settings, label=label, module=self._module, limits=self.limits)


class SaneScanner:
    """One SANE device, scanned in grey with `settings`. Opened for each scan (in a
    child process) and closed after, so that other programs can use it in between."""

    def __init__(
        self,
        device: str,
        settings: ScanSettings | None = None,
        *,
        label: str | None = None,
        module: str = "sane",
        limits: SaneLimits | None = None,
    ) -> None:
        self.device = device
        self.settings = settings or ScanSettings()
        self._label = label
        self._module = module
        self.limits = limits or SaneLimits()

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
        import_sane(self._module)
        silent = (
            f"The scanner stopped responding for {self.limits.no_progress:g} seconds and "
            "the scan was stopped; check its cable and power, then try again."
        )
        with device_turn(self.device, cancel):
            reply, cancelled = run_child(
                sane_child.scan,
                (self._module, self.device, self.settings),
                cancel,
                ChildWaits(self.limits.no_progress, self.limits.cancel, silent),
            )
        if reply[0] != "image":
            raise _failure(reply, self.device, cancelled)
        _, gray, dpi = reply
        return Capture(gray, dpi, self.description)


# --- the child's answer in the teller's words -------------------------------------------
def _failure(reply: tuple, device: str, cancelled: bool) -> SigverifyError:
    """The child's ("failed", kind, detail) as the error the teller is shown."""
    _, kind, detail = reply
    if kind == "cancelled" or (cancelled and kind == "status"):
        return CancelledError(CANCELLED_MESSAGE)
    if kind == "init":
        return CaptureError(f"The scanner system (SANE) could not be started ({detail}).")
    if kind == "list":
        return CaptureError(f"The list of scanners could not be read ({detail}).")
    if kind == "open":
        return _open_error(device, detail)
    if kind == "status":
        return _status_error(detail)
    if kind == "no data":
        return CaptureError(NO_IMAGE_MESSAGE)
    if kind == "refused":
        return CaptureError(detail)
    log.error("the SANE child failed:\n%s", detail)
    return CaptureError(FAILED_MESSAGE)


def _open_error(device: str, status: str) -> SigverifyError:
    if "invalid argument" in status.lower():  # what SANE says for an unknown device name
        return CaptureError(
            f"The scanner 'sane:{device}' was not found; check that it is connected and "
            "switched on, or choose another scanner."
        )
    return _status_error(status)


def _status_error(status: str) -> SigverifyError:
    lowered = status.lower()
    if "cancel" in lowered:
        return CancelledError(CANCELLED_MESSAGE)
    for words, message in _STATUS_MESSAGES.items():
        if words in lowered:
            return CaptureError(message)
    return CaptureError(f"The scanner reported a problem: {status.rstrip('.')}.")
