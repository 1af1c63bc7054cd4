"""A stand-in for python-sane's `sane` module, which the scanning child imports by name:
`SaneBackend(module="tests.fake_sane")`. The child is another process, so a device's
name says how it behaves:

    page            a flatbed whose glass shows a ramp: a pixel's grey is x + 2y, its
                    place on the glass in whole millimetres
    fail:STATUS     its read ends with SANE's STATUS text ("Document feeder jammed")
    no-data         its read ends without a line
    slow:SECONDS    reads a line every 50 ms for SECONDS, and stops on a cancel
    hang            its read never ends, nor calls back between lines
    exit            the process ends abruptly (os._exit) during the read
    bug             its read raises an exception SANE never does (ValueError)

An open device is locked against other openings in any process, as a driver that
claims a USB scanner is: that is how a device "in use elsewhere" is busy. Setting
FAKE_SANE_LISTING=hang or exit (the child inherits the environment) makes the device
listing hang or end the process.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

DEVICES = ["page", "slow:5", "hang", "exit"]
LINE_S = 0.05
MM_PER_INCH = 25.4
LOCKS = Path(tempfile.gettempdir(), f"fake-sane-locks-{os.getuid()}")  # one file a device


class error(Exception):  # python-sane's name
    """`_sane.error`: SANE's status text."""


_sane = types.SimpleNamespace(error=error)  # where python-sane keeps it


def init() -> tuple[int, int, int, int]:
    return (16908289, 1, 2, 1)


def get_devices(local_only: bool = False) -> list[tuple[str, str, str, str]]:
    if os.environ.get("FAKE_SANE_LISTING") == "hang":
        _forever()
    if os.environ.get("FAKE_SANE_LISTING") == "exit":
        os._exit(3)
    return [(name, "Fake", name.split(":")[0].title(), "flatbed scanner") for name in DEVICES]


def open(name: str) -> FakeDevice:  # python-sane's name
    kind = name.split(":")[0]
    if kind not in ("page", "fail", "no-data", "slow", "hang", "exit", "bug"):
        raise error("Invalid argument")
    return FakeDevice(name)


@dataclass
class Option:
    type: int
    constraint: object = None
    unit: int = 0

    def is_active(self) -> bool:
        return True

    def is_settable(self) -> bool:
        return True


_INT, _FIXED, _STRING, _MM = 1, 2, 3, 3
GLASS_MM = (216.0, 297.0)


class FakeDevice:
    opt = {
        "mode": Option(_STRING, ["Color", "Gray"]),
        "depth": Option(_INT, [8, 16]),
        "resolution": Option(_INT, (50, 1200, 1)),
        "tl_x": Option(_FIXED, (0.0, GLASS_MM[0], 0.0), _MM),
        "tl_y": Option(_FIXED, (0.0, GLASS_MM[1], 0.0), _MM),
        "br_x": Option(_FIXED, (0.0, GLASS_MM[0], 0.0), _MM),
        "br_y": Option(_FIXED, (0.0, GLASS_MM[1], 0.0), _MM),
    }

    def __init__(self, name: str) -> None:
        self.name = name
        self.mode, self.depth, self.resolution = "Color", 16, 75
        self.tl_x, self.tl_y, (self.br_x, self.br_y) = 0.0, 0.0, GLASS_MM
        self.cancelled = False
        LOCKS.mkdir(exist_ok=True)
        self._claim = (LOCKS / name.replace("/", "_")).open("w")  # noqa: SIM115
        try:
            fcntl.flock(self._claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._claim.close()
            raise error("Device busy") from None

    def start(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def close(self) -> None:
        self._claim.close()  # and with it the lock

    def snap(self, no_cancel: bool = False, progress=None) -> Image.Image:
        kind, _, argument = self.name.partition(":")
        if kind == "fail":
            raise error(argument)
        if kind == "no-data":
            raise RuntimeError("Scanner returned no data")
        if kind == "hang":
            _forever()
        if kind == "exit":
            os._exit(3)
        if kind == "bug":
            raise ValueError("a fault in the driver's Python wrapper")
        lines = (
            round(float(argument) / LINE_S)
            if kind == "slow"
            else self._pixels(self.br_y - self.tl_y)
        )
        for line in range(lines):
            if progress is not None:
                progress(line, lines)
            if self.cancelled:
                raise error("Operation was cancelled")
            if kind == "slow":
                time.sleep(LINE_S)
        return Image.fromarray(self._ramp(lines))

    def _pixels(self, mm: float) -> int:
        return int(mm / MM_PER_INCH * self.resolution)

    def _ramp(self, lines: int) -> np.ndarray:
        mm_per_pixel = MM_PER_INCH / self.resolution
        x = self.tl_x + np.arange(self._pixels(self.br_x - self.tl_x)) * mm_per_pixel
        y = self.tl_y + np.arange(lines) * mm_per_pixel
        grey = np.floor(x)[None, :] + 2 * np.floor(y)[:, None]
        return np.clip(grey, 0, 255).astype(np.uint8)


def _forever() -> None:
    while True:
        time.sleep(60)
