"""What every capture source shares: the `Capture` it returns and the settings it takes.

A capture source is anything the teller can take a signature from: an image file, the
folder a networked scanner saves into, or the scanner on the desk (SANE on Linux, TWAIN
or WIA on Windows). They all answer `capture(cancel)` with a `Capture`, so the GUI runs
any of them the same way in a worker thread and the services never ask where an image
came from.

Failures are `model.errors` exceptions with one-sentence messages: `CaptureError` when
the device or folder cannot deliver, `CancelledError` when `cancel` was set, and the
`ImageError` family when a file was delivered but is not a usable picture.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from model.errors import CancelledError, CaptureError
from sigverify_gui.services import captures

# A scanner setting given by the caller for one backend (a SANE option, say).
OptionValue = str | int | float | bool


# A subclass, not a second class of the same name: `services.captures.prepare` and
# everything built on it accept a scanned `Capture` as they are.
@dataclass(frozen=True, eq=False)
class Capture(captures.Capture):
    """A captured image: uint8 grey pixels, dpi when known, and where it came from.

    `source` is a short description for messages and the audit trail ("scan_0004.png",
    "Canon LiDE 300 (sane:genesys:libusb:001:004)"); `original` is the file's bytes
    exactly as read when the capture came from a file, else None.
    """

    original: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Sources build these from decoders and drivers; catch a wrong array here, at
        # the boundary, rather than deep in preprocessing.
        if self.gray.dtype.name != "uint8" or self.gray.ndim != 2:
            raise ValueError(
                f"Capture needs 2-D uint8 pixels, got {self.gray.dtype} {self.gray.shape}"
            )


@runtime_checkable
class CaptureSource(Protocol):
    """One place a signature can be taken from."""

    @property
    def description(self) -> str:
        """What to call this source in the interface and in messages."""
        ...

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        """Take one image; blocks until it is there. Setting `cancel` (from any thread)
        stops the wait and raises `CancelledError`."""
        ...


@dataclass(frozen=True)
class ScanArea:
    """A rectangle on the scanner glass in millimetres, from its top-left corner."""

    x: float
    y: float
    width: float
    height: float

    def __post_init__(self) -> None:
        values = (self.x, self.y, self.width, self.height)
        # not finite: NaN passed every comparison below and gave a 1-pixel scan
        finite = all(math.isfinite(v) for v in values)
        if not finite or min(self.x, self.y) < 0 or min(self.width, self.height) <= 0:
            raise CaptureError(
                "The scan area must start at or after the glass's corner and have a "
                "positive width and height (X,Y,W,H in millimetres)."
            )

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @classmethod
    def parse(cls, text: str) -> ScanArea:
        """`"X,Y,W,H"` in millimetres, as typed on the command line."""
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 4:
            raise CaptureError(
                f"'{text}' is not a scan area; give four numbers in millimetres: X,Y,W,H "
                "(for example 0,0,100,40)."
            )
        return cls(*values)


# The resolution branch scanners are set to for signature cards and cheques: enough
# for the thin strokes that tell a forgery apart (see `model.quality.MIN_DPI`).
DEFAULT_DPI = 300


@dataclass(frozen=True)
class ScanSettings:
    """How to scan: always in grey, at `dpi`, over `area` (None: the whole glass).

    `options` are further settings by the backend's own names (SANE option names such
    as `"source": "Automatic Document Feeder"`); an unknown name is refused.
    `exact_dpi` False takes the scanner's resolution nearest `dpi` instead of refusing
    one it does not offer: a preview needs only roughly its resolution, and the capture
    says which it got.
    """

    dpi: int = DEFAULT_DPI
    area: ScanArea | None = None
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    exact_dpi: bool = True

    def __post_init__(self) -> None:
        if not 25 <= self.dpi <= 9600:
            raise CaptureError(f"{self.dpi} dpi is not a scanner resolution; use 150 to 600.")


@dataclass(frozen=True)
class DeviceInfo:
    """A scanner one backend can see. `id` is unique across backends ("sane:test:0")."""

    id: str
    name: str  # for people: "Canon LiDE 300"
    backend: str  # "sane", "twain" or "wia"
    vendor: str = ""
    model: str = ""
    type: str = ""  # the driver's own words: "flatbed scanner", "virtual device"

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "backend": self.backend,
            "vendor": self.vendor,
            "model": self.model,
            "type": self.type,
        }


class ScannerBackend(Protocol):
    """One way of talking to scanners (SANE, TWAIN, WIA). Imports its driver lazily."""

    name: str

    def unavailable_reason(self) -> str | None:
        """None when the backend can be used here, else why not, in a teller's words."""
        ...

    def list_devices(self) -> list[DeviceInfo]: ...

    def open(self, device: str, settings: ScanSettings, label: str | None = None) -> CaptureSource:
        """A source for `device`, the part of a device id after "<backend>:"; `label`
        is the device's human name when the caller knows it."""
        ...


def check_cancel(cancel: threading.Event | None, what: str = "The scan") -> None:
    """Raise `CancelledError` ("The scan was cancelled.") once `cancel` is set."""
    if cancel is not None and cancel.is_set():
        raise CancelledError(f"{what} was cancelled.")


def nearest_offered(allowed: Any, dpi: float) -> float:
    """The resolution nearest `dpi` among those a scanner offers, as offered: a list of
    values, or a range (low, high, step; step 0 for any value), as SANE describes them
    and WIA's are read; anything else (unknown) gives `dpi`. Ties go to the lower, the
    quicker scan."""
    if isinstance(allowed, list) and allowed:
        return min(allowed, key=lambda v: (abs(v - dpi), v))
    if isinstance(allowed, tuple) and len(allowed) == 3:
        low, high, step = allowed
        if not step:
            return min(max(dpi, low), high)
        steps = min(max(round((dpi - low) / step), 0), int((high - low) // step))
        return low + steps * step
    return dpi
