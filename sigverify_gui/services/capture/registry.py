"""Every scanner this computer can reach, whichever backend drives it.

Device ids are "<backend>:<the backend's own name>" ("sane:test:0",
"twain:Canon LiDE 300", "wia:{6BDD1FC6-...}\\0000"), so one id names one scanner for
the CLI, the GUI's settings and the audit trail alike.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from model.errors import CaptureError
from sigverify_gui.services.capture.base import (
    CaptureSource,
    DeviceInfo,
    ScannerBackend,
    ScanSettings,
)

log = logging.getLogger("sigverify.capture")


@dataclass(frozen=True)
class BackendStatus:
    name: str
    available: bool
    reason: str = ""  # why not, when it is not available


def platform_backends(
    platform: str = sys.platform, *, local_only: bool = False
) -> list[ScannerBackend]:
    """The backends worth trying here: TWAIN and WIA on Windows, SANE elsewhere."""
    if platform == "win32":
        from sigverify_gui.services.capture.twain_backend import TwainBackend
        from sigverify_gui.services.capture.wia_backend import WiaBackend

        return [TwainBackend(), WiaBackend()]
    from sigverify_gui.services.capture.sane_backend import SaneBackend

    return [SaneBackend(local_only=local_only)]


def available_backends(backends: list[ScannerBackend] | None = None) -> list[BackendStatus]:
    statuses = []
    for backend in platform_backends() if backends is None else backends:
        reason = backend.unavailable_reason()
        statuses.append(BackendStatus(backend.name, reason is None, reason or ""))
    return statuses


def list_devices(
    backends: list[ScannerBackend] | None = None, *, local_only: bool = False
) -> list[DeviceInfo]:
    """All scanners of all usable backends; a backend that fails is logged and skipped,
    so one broken driver does not hide the other scanners."""
    return _survey(platform_backends(local_only=local_only) if backends is None else backends)[0]


def open_scanner(
    device_id: str | None,
    settings: ScanSettings | None = None,
    backends: list[ScannerBackend] | None = None,
) -> CaptureSource:
    """A capture source for `device_id`, or for the first scanner found when None.

    Raises `CaptureError` for an unknown id, a backend that cannot run here, or no
    scanner at all, saying which.
    """
    settings = settings or ScanSettings()
    backends = platform_backends() if backends is None else backends
    if device_id is None:
        devices, problems = _survey(backends)
        if not devices:
            if problems:
                raise CaptureError(f"No scanner can be used: {problems[0]}")
            raise CaptureError("No scanner was found; check that it is connected and switched on.")
        device_id, label = devices[0].id, devices[0].name
    else:
        label = None
    backend_name, sep, local_name = device_id.partition(":")
    backend = next((b for b in backends if b.name == backend_name), None)
    if backend is None and (found := _by_local_name(device_id, backends)) is not None:
        # the name the scanner's own tools print (`scanimage -L`: "test:0"), without
        # the backend sigverify puts in front ("sane:test:0")
        return open_scanner(found, settings, backends)
    if not sep or not local_name or backend is None:
        raise CaptureError(
            f"'{device_id}' is not a scanner this computer can use; run "
            "'sigverify devices' to list the scanners."
        )
    reason = backend.unavailable_reason()
    if reason is not None:
        raise CaptureError(reason)
    return backend.open(local_name, settings, label)


def _by_local_name(name: str, backends: list[ScannerBackend]) -> str | None:
    """The full id of the one listed scanner whose own name is `name`."""
    matches = [device.id for device in _survey(backends)[0] if device.id.partition(":")[2] == name]
    return matches[0] if len(matches) == 1 else None


def _survey(backends: list[ScannerBackend]) -> tuple[list[DeviceInfo], list[str]]:
    devices: list[DeviceInfo] = []
    problems: list[str] = []
    for backend in backends:
        reason = backend.unavailable_reason()
        if reason is not None:
            problems.append(reason)
            continue
        try:
            devices.extend(backend.list_devices())
        except CaptureError as err:
            log.warning("listing %s scanners failed: %s", backend.name, err)
            problems.append(str(err))
    return devices, problems
