"""Scan settings as SANE options: the preview's resolution snaps to one the scanner
offers (many flatbeds offer only a list such as 150, 300, 600), a scan's never does."""

import types

import pytest

from model.errors import CaptureError
from sigverify_gui.services.capture import ScanSettings
from sigverify_gui.services.capture.base import nearest_offered
from sigverify_gui.services.capture.sane_options import configure

_INT = 1


class _Option:
    def __init__(self, constraint) -> None:
        self.type, self.unit, self.constraint = _INT, 0, constraint

    def is_active(self) -> bool:
        return True

    def is_settable(self) -> bool:
        return True


def _device(resolutions) -> types.SimpleNamespace:
    return types.SimpleNamespace(opt={"resolution": _Option(resolutions)}, resolution=0)


@pytest.mark.parametrize(
    ("allowed", "asked", "got"),
    [
        ([150, 300, 600], 75, 150),
        ([100, 200, 300], 150, 100),  # a tie goes to the lower: a quicker preview
        ([150, 300, 600], 2400, 600),
        ((50, 1200, 0), 75, 75),
        ((100, 1200, 0), 75, 100),
        ((50, 1200, 100), 75, 50),  # 50, 150, 250, ...: 75 lies nearer 50
        ((50, 1200, 100), 120, 150),
        ((50.0, 600.0, 0.0), 9600, 600),  # a fixed-point range
        ((74.9, 600.0, 0.0), 25, 74.9),  # as offered, not cut to a whole number
        ([75.5, 150.0], 25, 75.5),
        ((50, 1200, 100), 9600, 1150),  # the top of the grid, not the range's end
    ],
)
def test_nearest_offered_resolution(allowed, asked, got):
    assert nearest_offered(allowed, asked) == got


@pytest.mark.parametrize("name", ["resolution", "mode", "tl_x", "depth"])
def test_a_setting_the_app_makes_itself_is_refused_as_an_extra(name):
    """As extras they were overwritten (resolution) or changed nothing (mode), unsaid."""
    with pytest.raises(CaptureError, match=f"setting '{name}' is not an extra one"):
        configure(_device([300]), ScanSettings(dpi=300, options={name: "1"}), ())


def test_a_preview_takes_the_nearest_resolution_a_scan_is_refused_it():
    dev = _device([150, 300, 600])
    assert configure(dev, ScanSettings(dpi=75, exact_dpi=False), ()) == 150.0
    with pytest.raises(CaptureError, match="scans at 150, 300, 600 dpi, not at 75 dpi"):
        configure(_device([150, 300, 600]), ScanSettings(dpi=75), ())


class _Typed(_Option):
    def __init__(self, kind: int, constraint) -> None:
        super().__init__(constraint)
        self.type = kind


def test_extra_settings_are_checked_against_what_the_scanner_offers():
    # python-sane clamps a value out of range, or refuses a switch given as "yes", in
    # words no teller reads; scanimage takes yes/no for a switch.
    dev = _device([300])
    dev.opt |= {"lamp": _Typed(0, None), "delay": _Typed(1, (1000, 200000, 1000))}
    dev.opt["source"] = _Typed(3, ["Flatbed", "ADF"])
    configure(dev, ScanSettings(dpi=300, options={"lamp": "yes", "source": "adf"}), ())
    assert (dev.lamp, dev.source) == (1, "ADF")  # a word in either case, as SANE's tools
    refusals = {
        "lamp": ("maybe", "takes yes or no, not 'maybe'"),
        "delay": ("999999999", "takes 1000 to 200000, not 999999999"),
        "source": ("Drawer", "takes Flatbed, ADF, not Drawer"),
    }
    for name, (value, words) in refusals.items():
        with pytest.raises(CaptureError, match=words):
            configure(dev, ScanSettings(dpi=300, options={name: value}), ())
