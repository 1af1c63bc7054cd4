"""Scanners on Windows through WIA, by COM automation (`win32com`, else `comtypes`).

Kept thin on purpose: it cannot be exercised on the Linux build machine, so it only
sets WIA properties and turns COM errors into our errors; tests drive it with a fake
COM client. Each call initialises COM on the calling thread, because the GUI scans
from a worker thread and COM objects are per thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from model.errors import CancelledError, CaptureError, ImageError
from sigverify_gui.services.capture.base import (
    Capture,
    DeviceInfo,
    ScanSettings,
    check_cancel,
    nearest_offered,
)

log = logging.getLogger("sigverify.capture.wia")

_SCANNER_DEVICE_TYPE = 1  # WiaDeviceType.ScannerDeviceType
# Device info properties (WIA_DIP_*) and scan item properties (WIA_IPS_*).
_DEV_NAME, _VEND_DESC, _DEV_DESC = 7, 3, 4
_CUR_INTENT, _XRES, _YRES, _XPOS, _YPOS, _XEXTENT, _YEXTENT = range(6146, 6153)
_INTENT_GRAYSCALE = 2
_SUBTYPE_RANGE, _SUBTYPE_LIST = 1, 2  # WiaSubType
# Every WIA scanner driver must deliver BMP; `load_image` reads it, dpi included.
_FORMAT_BMP = "{B96B3CAB-0728-11D3-9D7B-0000F81EF32E}"
_MM_PER_INCH = 25.4

_DISP_E_EXCEPTION = 0x80020009
_HRESULT_MESSAGES = {
    0x80210002: "Paper is jammed in the scanner's feeder; clear it and try again.",
    0x80210003: "The scanner's feeder is empty; put the document in and try again.",
    0x80210005: "The scanner is switched off or disconnected; check it and try again.",
    0x80210006: "The scanner is busy, perhaps used by another program; wait and try again.",
    0x80210007: "The scanner is warming up; wait a few seconds and try again.",
    0x80210008: "The scanner needs attention; check its display or lights, then try again.",
    0x8021000A: "The scanner stopped responding; check its cable and power, then try again.",
    0x8021000D: "The scanner is locked; unlock its transport lock and try again.",
    0x80210015: "No scanner is available; check that it is connected and switched on.",
    0x80210016: "The scanner's cover is open; close it and try again.",
    0x80210017: "The scanner's lamp is off; switch it on and try again.",
    0x80070005: "This computer account may not use the scanner; ask IT to give it access.",
}


class ComClient(Protocol):
    def init_thread(self) -> None: ...

    def create(self, prog_id: str) -> Any: ...

    def is_com_error(self, err: BaseException) -> bool: ...


class _Win32Com:
    def __init__(self) -> None:
        import pythoncom
        import win32com.client

        self._pythoncom, self._client = pythoncom, win32com.client

    def init_thread(self) -> None:
        self._pythoncom.CoInitialize()

    def create(self, prog_id: str) -> Any:
        return self._client.Dispatch(prog_id)

    def is_com_error(self, err: BaseException) -> bool:
        return isinstance(err, self._pythoncom.com_error)


class _Comtypes:
    def __init__(self) -> None:
        import _ctypes

        import comtypes
        import comtypes.client

        self._comtypes, self._error = comtypes, _ctypes.COMError

    def init_thread(self) -> None:
        self._comtypes.CoInitialize()

    def create(self, prog_id: str) -> Any:
        return self._comtypes.client.CreateObject(prog_id)

    def is_com_error(self, err: BaseException) -> bool:
        return isinstance(err, self._error)


def default_com() -> ComClient:
    for client in (_Win32Com, _Comtypes):
        try:
            return client()
        except ImportError:
            continue
    raise CaptureError(
        "Scanning through WIA needs the 'pywin32' or 'comtypes' package, and neither is "
        "installed; ask IT to install sigverify with its 'scan' option."
    )


def hresult_of(err: BaseException) -> int | None:
    """The COM error code of `err` (pywin32 and comtypes store it differently)."""
    code = getattr(err, "hresult", None)
    if code is None and err.args and isinstance(err.args[0], int):
        code = err.args[0]
    if code is None:
        return None
    code &= 0xFFFFFFFF
    # An automation call wraps the driver's code in DISP_E_EXCEPTION's excepinfo.
    if code == _DISP_E_EXCEPTION and len(err.args) > 2:
        info = err.args[2]
        if isinstance(info, tuple) and len(info) > 5 and isinstance(info[5], int):
            code = info[5] & 0xFFFFFFFF
    return code


def _translate(err: BaseException) -> CaptureError:
    code = hresult_of(err)
    message = _HRESULT_MESSAGES.get(code) if code is not None else None
    if message is None:
        shown = f"0x{code:08X}" if code is not None else type(err).__name__
        message = f"The scanner reported a problem (WIA error {shown})."
    return CaptureError(message)


def _property(properties: Any, prop_id: int) -> Any | None:
    # Iterating works alike in pywin32 and comtypes; indexing by id does not.
    return next((p for p in properties if p.PropertyID == prop_id), None)


def _required(properties: Any, prop_id: int) -> Any:
    prop = _property(properties, prop_id)
    if prop is None:
        raise CaptureError(f"This scanner lacks a setting WIA scanners have ({prop_id}).")
    return prop


def _offered(prop: Any) -> list | tuple | None:
    """The values a WIA property offers (its SubType: 1 a range, 2 a list), in the terms
    of `nearest_offered`; None when it does not say."""
    subtype = getattr(prop, "SubType", 0)
    if subtype == _SUBTYPE_RANGE:
        return (prop.SubTypeMin, prop.SubTypeMax, prop.SubTypeStep)
    if subtype == _SUBTYPE_LIST:
        return list(prop.SubTypeValues)
    return None


def _value(properties: Any, prop_id: int) -> str:
    prop = _property(properties, prop_id)
    return "" if prop is None else str(prop.Value)


class WiaBackend:
    name = "wia"

    def __init__(self, *, com: ComClient | None = None) -> None:
        self._com = com

    def com(self) -> ComClient:
        return self._com if self._com is not None else default_com()

    def unavailable_reason(self) -> str | None:
        try:
            self.com()
        except CaptureError as err:
            return str(err)
        return None

    def list_devices(self) -> list[DeviceInfo]:
        com = self.com()
        try:
            com.init_thread()
            infos = list(com.create("WIA.DeviceManager").DeviceInfos)
            devices = []
            for info in infos:
                if info.Type != _SCANNER_DEVICE_TYPE:  # cameras and video devices too
                    continue
                props = info.Properties
                name = _value(props, _DEV_NAME) or str(info.DeviceID)
                devices.append(
                    DeviceInfo(
                        id=f"wia:{info.DeviceID}",
                        name=name,
                        backend="wia",
                        vendor=_value(props, _VEND_DESC),
                        model=_value(props, _DEV_DESC),
                        type="scanner",
                    )
                )
        except Exception as err:
            if not com.is_com_error(err):
                raise
            raise _translate(err) from err
        return devices

    def open(self, device: str, settings: ScanSettings, label: str | None = None) -> WiaScanner:
        return WiaScanner(device, settings, label=label, com=self._com)


class WiaScanner:
    """One WIA scanner, by its device id, scanned in grey from its first item (the
    flatbed, or the feeder when the scanner has no glass)."""

    def __init__(
        self,
        device: str,
        settings: ScanSettings | None = None,
        *,
        label: str | None = None,
        com: ComClient | None = None,
    ) -> None:
        self.device = device
        self.settings = settings or ScanSettings()
        if self.settings.options:
            raise CaptureError("WIA scanners take no extra settings here; leave them out.")
        self._label = label
        self._com = com
        self._dpi = float(self.settings.dpi)  # the one set on the scanner (`_configure`)

    @property
    def device_id(self) -> str:
        return f"wia:{self.device}"

    @property
    def description(self) -> str:
        return f"{self._label or 'WIA scanner'} (wia:{self.device})"

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        check_cancel(cancel)
        com = self._com if self._com is not None else default_com()
        try:
            data = self._transfer(com, cancel)
        except Exception as err:
            if not com.is_com_error(err):
                raise
            raise _translate(err) from err
        from model.imageio import load_image

        try:
            loaded = load_image(data)
        except ImageError as err:
            raise CaptureError("The scanner sent an image that cannot be read.") from err
        return Capture(loaded.gray, loaded.dpi or self._dpi, self.description)

    def _transfer(self, com: ComClient, cancel: threading.Event | None) -> bytes:
        com.init_thread()
        manager = com.create("WIA.DeviceManager")
        info = next((i for i in manager.DeviceInfos if str(i.DeviceID) == self.device), None)
        if info is None:
            raise CaptureError(
                f"The scanner 'wia:{self.device}' was not found; check that it is connected "
                "and switched on."
            )
        item = next(iter(info.Connect().Items), None)
        if item is None:
            raise CaptureError("The scanner offers nothing to scan from.")
        self._configure(item.Properties)
        check_cancel(cancel)
        image_file = item.Transfer(_FORMAT_BMP)
        if image_file is None:  # the teller pressed cancel on the scanner
            raise CancelledError("The scan was cancelled.")
        return bytes(image_file.FileData.BinaryData)

    def _configure(self, properties: Any) -> None:
        # The intent first: setting it resets resolution and area to its defaults.
        _required(properties, _CUR_INTENT).Value = _INTENT_GRAYSCALE
        dpi = self.settings.dpi
        if not self.settings.exact_dpi:  # a preview: the resolution nearest will do
            dpi = nearest_offered(_offered(_required(properties, _XRES)), dpi)
        self._dpi = float(dpi)
        values = [(_XRES, dpi), (_YRES, dpi)]
        area = self.settings.area
        if area is not None:  # WIA takes the area in pixels at the chosen resolution

            def px(mm: float) -> int:
                return round(mm / _MM_PER_INCH * dpi)

            values += [
                (_XPOS, px(area.x)),
                (_YPOS, px(area.y)),
                (_XEXTENT, px(area.width)),
                (_YEXTENT, px(area.height)),
            ]
        for prop_id, value in values:
            _required(properties, prop_id).Value = value
