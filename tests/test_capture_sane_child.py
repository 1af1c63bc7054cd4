"""SANE in a child process, with a fake `sane` module (tests/fake_sane.py) whose devices
can be busy, fail, hang or die: what the real test backend cannot be made to do on
purpose. Each test's time limits are short; the defaults are minutes."""

import logging
import multiprocessing
import threading
import time

import numpy as np
import pytest

import tests.fake_sane as fake_sane
from model.errors import CancelledError, CaptureError
from sigverify_gui.services.capture import ScanArea, ScanSettings
from sigverify_gui.services.capture.sane_backend import SaneBackend, SaneLimits
from tests.fakes import cancel_after

FAKE = "tests.fake_sane"
QUICK = SaneLimits(no_progress=2.0, cancel=1.0, listing=2.0)


def _scanner(device, area=None, limits=QUICK, dpi=100, **options):
    settings = ScanSettings(dpi=dpi, area=area, options=options)
    return SaneBackend(module=FAKE, limits=limits).open(device, settings)


@pytest.fixture(autouse=True)
def _no_child_is_left_behind():
    yield
    assert not [p for p in multiprocessing.active_children() if p.name == "sigverify-sane"]


def test_the_fake_devices_are_listed():
    devices = SaneBackend(module=FAKE, limits=QUICK).list_devices()
    assert [d.id for d in devices] == [f"sane:{name}" for name in fake_sane.DEVICES]
    assert (devices[0].name, devices[0].type) == ("Fake Page", "flatbed scanner")


def test_a_scan_brings_back_the_area_asked_for_in_grey():
    capture = _scanner("page", ScanArea(10, 5, 50, 30)).capture()
    assert capture.dpi == 100.0 and capture.gray.dtype == np.uint8
    assert capture.gray.shape == (int(30 / 25.4 * 100), int(50 / 25.4 * 100))  # (118, 196)
    assert capture.gray[0, 0] == 10 + 2 * 5  # the ramp's grey at the area's corner
    assert capture.source == "scanner sane:page"
    # A fresh child for each scan: no area means the whole glass, not the last area.
    assert _scanner("page", dpi=50).capture().gray.shape == (int(297 / 25.4 * 50), 425)


def test_a_device_in_use_elsewhere_is_busy_then_free_again():
    holder = fake_sane.open("page")  # another program has the scanner
    try:
        with pytest.raises(CaptureError, match="busy"):
            _scanner("page").capture()
    finally:
        holder.close()
    assert _scanner("page").capture().gray.size > 0


def test_two_scans_of_one_device_take_turns():
    # Two children at once would find the device busy; ours wait for their turn.
    results: list = []
    scanner = _scanner("slow:0.5")
    threads = [threading.Thread(target=lambda: results.append(scanner.capture())) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2


@pytest.mark.parametrize(
    ("device", "options", "error", "words"),
    [
        ("fail:Document feeder jammed", {}, CaptureError, "jammed"),
        ("fail:Error during device I/O", {}, CaptureError, "stopped responding; check"),
        ("fail:Lamp exploded", {}, CaptureError, "reported a problem: Lamp exploded."),
        ("fail:Operation was cancelled", {}, CancelledError, "cancelled"),
        ("no-data", {}, CaptureError, "sent no image"),
        ("nosuch:1", {}, CaptureError, "'sane:nosuch:1' was not found"),
        ("page", {"lamp-colour": "blue"}, CaptureError, "no setting 'lamp-colour'"),
        ("exit", {}, CaptureError, "driver stopped unexpectedly"),
    ],
)
def test_device_failures_become_teller_messages(device, options, error, words):
    with pytest.raises(error, match=words):
        _scanner(device, **options).capture()


def test_an_unforeseen_failure_is_logged_with_the_child_s_traceback(caplog):
    with caplog.at_level(logging.ERROR), pytest.raises(CaptureError, match="details are in"):
        _scanner("bug").capture()
    assert "ValueError: a fault in the driver's Python wrapper" in caplog.text


def test_a_slow_scan_that_keeps_reading_is_not_stopped():
    # 4.5 s of lines, over twice the no-progress limit: the child says it is alive.
    capture = _scanner("slow:4.5", limits=SaneLimits(no_progress=2.0)).capture()
    assert capture.gray.shape[0] == 90


def test_cancel_stops_a_scan_between_lines():
    cancel, set_at = cancel_after(1.0)
    with pytest.raises(CancelledError, match="The scan was cancelled."):
        _scanner("slow:10", limits=SaneLimits(cancel=30)).capture(cancel)
    assert time.monotonic() - set_at[0] < 1.0  # the child's answer, not the time limit


def test_a_scan_that_hangs_is_stopped_after_the_no_progress_limit():
    started = time.monotonic()
    with pytest.raises(CaptureError, match="stopped responding for 2 seconds"):
        _scanner("hang").capture()
    assert 2.0 <= time.monotonic() - started < 7


def test_cancel_during_a_scan_that_hangs_gives_up_on_it_promptly():
    cancel, set_at = cancel_after(0.5)
    with pytest.raises(CancelledError, match="The scan was cancelled."):
        _scanner("hang", limits=SaneLimits(cancel=1.0)).capture(cancel)
    assert time.monotonic() - set_at[0] < 3.5  # the cancel limit, then stopping the child


def test_a_scan_waiting_for_its_turn_can_be_cancelled():
    first = threading.Thread(target=_scanner("slow:2").capture)
    first.start()
    time.sleep(0.2)  # the first scan has the device
    cancel, set_at = cancel_after(0.3)
    with pytest.raises(CancelledError):
        _scanner("slow:2").capture(cancel)
    assert time.monotonic() - set_at[0] < 0.5
    first.join(30)


@pytest.mark.parametrize(
    ("listing", "words"),
    [("hang", "took more than 2 seconds"), ("exit", "driver stopped unexpectedly")],
)
def test_a_device_listing_that_hangs_or_dies_is_a_capture_error(monkeypatch, listing, words):
    monkeypatch.setenv("FAKE_SANE_LISTING", listing)  # the child inherits it
    with pytest.raises(CaptureError, match=words):
        SaneBackend(module=FAKE, limits=QUICK).list_devices()
