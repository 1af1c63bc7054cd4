"""Scanning through SANE with its `test` backend: a real driver, a virtual scanner.

Skipped when python-sane or the `test` device is missing, unless the environment sets
SIGVERIFY_REQUIRE_SANE=1 (CI does), in which case their absence is a failure.

Each scan runs in a child process of its own, so the test device starts every scan
from its default settings, and a device held open by this process is not busy for
it: busy, hanging and dying devices are tested with a fake in
test_capture_sane_child.py.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sigverify_gui.cli as cli
from model.errors import CancelledError, CaptureError
from model.imageio import encode_png, load_image
from sigverify_gui.services.capture import ScanArea, ScanSettings, open_scanner
from sigverify_gui.services.capture.sane_backend import SaneBackend, SaneLimits
from tests.fakes import cancel_after

pytestmark = pytest.mark.sane

TEST_DEVICE = "sane:test:0"
MM_PER_INCH = 25.4
# The test device's "Grid" picture: black and white squares 10 mm wide.
GRID = {"test-picture": "Grid"}


def _unavailable(reason: str) -> None:
    if os.environ.get("SIGVERIFY_REQUIRE_SANE") == "1":
        pytest.fail(f"{reason} (SIGVERIFY_REQUIRE_SANE=1 requires SANE's test device)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sane_devices():
    try:
        import sane  # noqa: F401
    except ImportError as err:
        _unavailable(f"python-sane is not installed ({err})")
    devices = SaneBackend(local_only=True).list_devices()
    if TEST_DEVICE not in [d.id for d in devices]:
        _unavailable("SANE's test backend is off: add the line 'test' to /etc/sane.d/dll.conf")
    return devices


SMALL_AREA = ScanArea(0, 0, 50, 30)  # small, so that each scan takes milliseconds


def _scan(area=SMALL_AREA, dpi=300, **options):
    return open_scanner(TEST_DEVICE, ScanSettings(dpi=dpi, area=area, options=options)).capture()


def _size(mm: float, dpi: float) -> int:
    return int(mm / MM_PER_INCH * dpi)  # the test device drops the partial pixel


def test_the_test_device_is_listed(sane_devices):
    test0 = next(d for d in sane_devices if d.id == TEST_DEVICE)
    assert (test0.backend, test0.vendor, test0.type) == ("sane", "Noname", "virtual device")
    assert test0.name == "Noname frontend-tester"


def test_a_grey_300_dpi_scan_loads_and_can_be_quality_checked(sane_devices):
    from model.quality import QualityReport, check_quality

    capture = _scan(**GRID)

    assert capture.gray.dtype == np.uint8
    assert capture.gray.shape == (_size(30, 300), _size(50, 300))  # (354, 590)
    assert capture.dpi == 300.0
    assert capture.original is None and "sane:test:0" in capture.source
    # The grid's squares change colour every 10 mm: every 118.1 px at 300 dpi.
    edges = np.flatnonzero(np.diff(capture.gray[5].astype(int)))
    np.testing.assert_allclose(
        edges[:4], [10 / MM_PER_INCH * 300 * k for k in (1, 2, 3, 4)], atol=1.5
    )
    assert set(np.unique(capture.gray)) == {0, 255}

    loaded = load_image(encode_png(capture.gray))
    np.testing.assert_array_equal(loaded.gray, capture.gray)
    report = check_quality(loaded.gray, capture.dpi)
    assert isinstance(report, QualityReport)  # a grid is no signature: any verdict will do


def test_no_area_means_the_whole_glass_again(sane_devices):
    _scan(area=ScanArea(0, 0, 10, 10), dpi=50)
    assert _scan(area=None, dpi=50).gray.shape == (_size(200, 50), _size(200, 50))


def test_the_resolution_is_honoured(sane_devices):
    # (The test device draws its grid from the area's corner, so an offset does not
    # show in its pixels: the fake scanner's test checks offsets.)
    at_150 = _scan(dpi=150, **GRID)
    assert at_150.dpi == 150.0
    assert at_150.gray.shape == (_size(30, 150), _size(50, 150))


def test_settings_the_scanner_cannot_do_are_refused_in_words(sane_devices):
    with pytest.raises(CaptureError, match="1 to 1200 dpi, not at 2400 dpi"):
        _scan(dpi=2400)
    with pytest.raises(CaptureError, match="covers 200 x 200 mm"):
        _scan(area=ScanArea(0, 0, 250, 30))
    with pytest.raises(CaptureError, match="no setting 'lamp-colour'"):
        _scan(**{"lamp-colour": "blue"})
    with pytest.raises(CaptureError, match="setting ppl-loss takes a number, not 'many'"):
        _scan(**{"ppl-loss": "many"})
    # python-sane would have clamped it to 0 without a word
    with pytest.raises(CaptureError, match="setting ppl-loss takes 0 to 128, not -5"):
        _scan(**{"ppl-loss": "-5"})
    with pytest.raises(CaptureError, match="not found"):
        open_scanner("sane:test:9").capture()


def test_a_scanner_is_found_by_the_name_its_own_tools_print():
    # `scanimage -L` says "test:0"; sigverify's id puts the backend in front
    shot = open_scanner("test:0", ScanSettings(dpi=75)).capture()
    assert shot.gray.ndim == 2
    with pytest.raises(CaptureError, match="'test:9' is not a scanner this computer can use"):
        open_scanner("test:9")


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        ("SANE_STATUS_JAMMED", CaptureError, "jammed"),
        ("SANE_STATUS_IO_ERROR", CaptureError, "stopped responding"),
        ("SANE_STATUS_COVER_OPEN", CaptureError, "cover is open"),
        ("SANE_STATUS_NO_DOCS", CaptureError, "feeder is empty"),
        ("SANE_STATUS_EOF", CaptureError, "sent no image"),
        ("SANE_STATUS_CANCELLED", CancelledError, "cancelled"),
    ],
)
def test_device_failures_become_teller_messages(sane_devices, status, error, words):
    # The test device fails its reads with whatever status it is told to. (Not
    # SANE_STATUS_DEVICE_BUSY: python-sane retries a busy read, and the test device
    # answers every read with it, so that scan never ends; a device busy at opening is
    # tested with the fake in test_capture_sane_child.py.)
    with pytest.raises(error, match=words):
        _failing_scan(status)
    assert not multiprocessing.active_children()  # the scan's child is gone


def _failing_scan(status: str):
    """A scan the test device fails with `status`. The device's driver deadlocks, once
    in a few hundred such scans, inside the sane_cancel that follows the failed read
    (its reader thread, cancelled asynchronously, can die holding glibc's malloc lock).
    The app then kills the silent child and tells the teller the scanner stopped
    responding, which is right for the teller and wrong for this test: that one case,
    and no other, is scanned once more."""
    limits = SaneLimits(no_progress=15.0)
    settings = ScanSettings(dpi=300, area=SMALL_AREA, options={"read-return-value": status})
    scanner = SaneBackend(limits=limits).open(TEST_DEVICE.removeprefix("sane:"), settings)
    try:
        return scanner.capture()
    except CaptureError as err:
        if f"for {limits.no_progress:g} seconds" not in str(err):
            raise
        return scanner.capture()


def test_cancel_stops_a_scan_midway(sane_devices):
    # The test device pauses 0.2 s per buffer: this scan would take about 2.5 s.
    slow = {"read-delay": True, "read-delay-duration": 200_000}
    source = open_scanner(TEST_DEVICE, ScanSettings(area=ScanArea(0, 0, 50, 100), options=slow))
    cancel, set_at = cancel_after(1.0)
    with pytest.raises(CancelledError, match="cancelled"):
        source.capture(cancel)
    assert time.monotonic() - set_at[0] < 1.0  # the next line, not the time limit
    assert _scan().gray.size > 0  # the device was released


def test_cli_devices_and_scan_with_the_test_device(sane_devices, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["devices", "scan"])
    assert cli.main(["devices", "--local-only", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert TEST_DEVICE in [d["id"] for d in listed]
    assert set(listed[0]) == {"id", "name", "backend", "vendor", "model", "type"}

    out_png = tmp_path / "scan.png"
    argv = ["scan", "--device", TEST_DEVICE, "--area", "0,0,50,30", "-o", str(out_png)]
    assert cli.main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"out": str(out_png), "device": TEST_DEVICE, "dpi": 300.0, "shape": [354, 590]}
    assert load_image(out_png).gray.shape == (354, 590)


def test_ctrl_c_cancels_a_cli_scan_cleanly(sane_devices, tmp_path):
    """Ctrl-C must stop the scanner and say so. A terminal sends it to the whole
    process group: the scanning child must leave it to the command, which cancels."""
    code = (
        "import sys, sigverify_gui.cli as cli\n"
        "cli.COMMAND_MODULES = ['scan']\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    argv = ["scan", "--device", TEST_DEVICE, "--area", "0,0,50,200", "-o", str(tmp_path / "x.png")]
    argv += ["--option", "read-delay=1", "--option", "read-delay-duration=200000"]  # ~5 s
    child = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,  # a process group of its own, as in a terminal
    )
    time.sleep(2.0)  # started, and well into the scan
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=10)
    assert (child.returncode, err.strip()) == (2, "error: The scan was cancelled.")
    assert not (tmp_path / "x.png").exists()


def test_scanning_leaves_python_s_sigpipe_handling_intact(sane_devices):
    # SANE resets SIGPIPE to "terminate"; a later write to a dead pipe (the GUI's model
    # process gone) must raise BrokenPipeError, not kill the process.
    import os
    import subprocess
    import sys

    code = """
import os, sys
from sigverify_gui.services.capture import ScanArea, ScanSettings, open_scanner
open_scanner("sane:test:0", ScanSettings(dpi=75, area=ScanArea(0, 0, 20, 20))).capture()
r, w = os.pipe()
os.close(r)
try:
    os.write(w, b"x")
except BrokenPipeError:
    print("survived")
"""
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)  # fmt: skip
    assert result.stdout.strip() == "survived", (result.returncode, result.stderr)
