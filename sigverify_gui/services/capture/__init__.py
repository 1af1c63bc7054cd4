"""Taking a signature image: from a file, a hot folder, or a scanner (SANE, TWAIN, WIA).

Every source answers `capture(cancel)` with a `Capture`; see `base` for the contract.
Scanner drivers are imported only when a scanner is used, so importing this package
costs nothing on a computer without them.
"""

from sigverify_gui.services.capture.base import (
    DEFAULT_DPI,
    Capture,
    CaptureSource,
    DeviceInfo,
    ScanArea,
    ScannerBackend,
    ScanSettings,
)
from sigverify_gui.services.capture.files import IMAGE_EXTENSIONS, ImageFileSource, read_capture
from sigverify_gui.services.capture.hotfolder import HotFolder, is_candidate_name
from sigverify_gui.services.capture.registry import (
    BackendStatus,
    available_backends,
    list_devices,
    open_scanner,
    platform_backends,
)

__all__ = [
    "DEFAULT_DPI",
    "IMAGE_EXTENSIONS",
    "BackendStatus",
    "Capture",
    "CaptureSource",
    "DeviceInfo",
    "HotFolder",
    "ImageFileSource",
    "ScanArea",
    "ScanSettings",
    "ScannerBackend",
    "available_backends",
    "is_candidate_name",
    "list_devices",
    "open_scanner",
    "platform_backends",
    "read_capture",
]
