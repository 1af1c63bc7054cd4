"""Scanners on Windows through TWAIN (`pytwain`, imported only when a scanner is used).

Kept thin on purpose: it cannot be exercised on the Linux build machine, so it only
translates our settings into pytwain calls and pytwain's exceptions into our errors;
tests drive it with a fake `twain` module. The image arrives as a Windows bitmap,
which `load_image` reads like any BMP file (dpi included).

TWAIN has no way to interrupt a transfer from outside: `cancel` is honoured until the
scan starts, and the scanner's own cancel button works during it.
"""

from __future__ import annotations

import logging
import threading
from types import ModuleType
from typing import Any

from model.errors import CancelledError, CaptureError, ImageError
from sigverify_gui.services.capture.base import (
    Capture,
    DeviceInfo,
    ScanSettings,
    check_cancel,
)

log = logging.getLogger("sigverify.capture.twain")

# TWAIN's data source manager serves one call at a time per process.
_LOCK = threading.Lock()
_MM_PER_INCH = 25.4

# pytwain's exception class names (twain.exceptions) -> what the teller is told.
_ERRORS_BY_NAME = {
    "SMLoadFileFailed": (
        "The TWAIN scanner system is not installed on this computer; ask IT to install "
        "the scanner's driver."
    ),
    "NoDataSourceError": "The scanner was not found; check that it is connected and switched on.",
    "CheckDeviceOnlineError": (
        "The scanner is not responding; check that it is connected and switched on."
    ),
    "PaperJam": "Paper is jammed in the scanner's feeder; clear it and try again.",
    "PaperDoubleFeedError": (
        "The scanner took two sheets at once; reload the document and try again."
    ),
    "DeniedError": "The scanner is busy, perhaps used by another program; wait and try again.",
    "MaxConnectionsError": (
        "The scanner is busy, perhaps used by another program; wait and try again."
    ),
}


def import_twain() -> ModuleType:
    try:
        import twain
    except ImportError as err:
        raise CaptureError(
            "Scanning through TWAIN needs the 'pytwain' package, which is not installed; "
            "ask IT to install sigverify with its 'scan' option."
        ) from err
    return twain


def _twain_error(twain: ModuleType) -> type[BaseException]:
    exceptions = getattr(twain, "exceptions", None)
    return getattr(exceptions, "TwainError", OSError)


def _as_tuple(kinds: Any) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _translate(err: BaseException) -> CaptureError:
    name = type(err).__name__
    if name == "DSTransferCancelled":
        return CancelledError("The scan was cancelled.")
    message = _ERRORS_BY_NAME.get(name)
    return CaptureError(message or f"The scanner reported a problem ({name}).")


class TwainBackend:
    name = "twain"

    def __init__(self, *, module: ModuleType | None = None) -> None:
        self._module = module

    def twain(self) -> ModuleType:
        return self._module if self._module is not None else import_twain()

    def unavailable_reason(self) -> str | None:
        try:
            self.twain()
        except CaptureError as err:
            return str(err)
        return None

    def list_devices(self) -> list[DeviceInfo]:
        twain = self.twain()
        with _LOCK:
            try:
                with twain.SourceManager(None) as manager:
                    names = list(manager.source_list)
            except _twain_error(twain) as err:
                raise _translate(err) from err
        return [
            DeviceInfo(id=f"twain:{n}", name=n, backend="twain", type="TWAIN source") for n in names
        ]

    def open(self, device: str, settings: ScanSettings, label: str | None = None) -> TwainScanner:
        return TwainScanner(device, settings, label=label, module=self._module)


class TwainScanner:
    """One TWAIN source, by its product name, scanned in grey without the driver's
    own dialog (the teller already chose the settings in our window)."""

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
        if self.settings.options:
            raise CaptureError("TWAIN scanners take no extra settings here; leave them out.")
        self._label = label
        self._module = module

    @property
    def device_id(self) -> str:
        return f"twain:{self.device}"

    @property
    def description(self) -> str:
        return f"{self._label or self.device} (twain:{self.device})"

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        check_cancel(cancel)
        twain = self._module if self._module is not None else import_twain()
        with _LOCK:
            try:
                bmp = self._acquire(twain, cancel)
            except _twain_error(twain) as err:
                raise _translate(err) from err
            except MemoryError as err:  # the driver's bitmap did not fit in memory
                raise CaptureError(
                    "The scan is too large for this computer's memory; scan a smaller "
                    "area or at a lower resolution."
                ) from err
            except (ValueError, RuntimeError, OSError) as err:
                # pytwain raises these for what a driver returns that it cannot use
                log.warning("TWAIN driver failure", exc_info=True)
                raise CaptureError(
                    f"The scanner's driver failed ({type(err).__name__}); switch the "
                    "scanner off and on, and try again."
                ) from err
        from model.imageio import load_image

        try:
            loaded = load_image(bmp)
        except ImageError as err:
            raise CaptureError("The scanner sent an image that cannot be read.") from err
        return Capture(loaded.gray, loaded.dpi or float(self.settings.dpi), self.description)

    def _acquire(self, twain: ModuleType, cancel: threading.Event | None) -> bytes:
        with twain.SourceManager(None) as manager:
            source = manager.open_source(self.device)
            if source is None:
                raise CaptureError(f"The scanner '{self.device}' was not found.")
            try:
                self._configure(twain, source)
                check_cancel(cancel)
                source.request_acquire(show_ui=False, modal_ui=False)
                handle, _remaining = source.xfer_image_natively()
                try:
                    return twain.dib_to_bm_file(handle)
                finally:
                    free = getattr(twain, "GlobalFree", None)  # Windows' GlobalFree
                    if free is not None:
                        free(handle)
            finally:
                source.close()

    def _configure(self, twain: ModuleType, source: Any) -> None:
        check_status = getattr(getattr(twain, "exceptions", None), "CheckStatus", ())
        dpi = float(self.settings.dpi)
        try:  # one page: a feeder would otherwise keep the rest of its stack pending
            source.set_capability(twain.CAP_XFERCOUNT, twain.TWTY_INT16, 1)
        except (*_as_tuple(check_status), _twain_error(twain)):
            log.info("TWAIN source does not take a page count; it scans as it does")
        steps = [
            (twain.ICAP_PIXELTYPE, twain.TWTY_UINT16, twain.TWPT_GRAY),
            (twain.ICAP_UNITS, twain.TWTY_UINT16, twain.TWUN_INCHES),
            (twain.ICAP_XRESOLUTION, twain.TWTY_FIX32, dpi),
            (twain.ICAP_YRESOLUTION, twain.TWTY_FIX32, dpi),
        ]
        for cap, kind, value in steps:
            try:
                source.set_capability(cap, kind, value)
            except check_status:  # the driver rounded the value to one it supports
                log.info("TWAIN source adjusted capability %s from %s", cap, value)
        area = self.settings.area
        if area is not None:
            frame = tuple(v / _MM_PER_INCH for v in (area.x, area.y, area.right, area.bottom))
            try:
                source.set_image_layout(frame)
            except check_status:
                log.info("TWAIN source adjusted the scan area %s", frame)
