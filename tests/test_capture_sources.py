"""Image files, the capture contract, the scanner registry and the `devices`/`scan`
commands, with fake scanner backends (the real SANE device: test_capture_sane.py)."""

import io
import json
import sys
import threading

import numpy as np
import pytest
from PIL import Image

import sigverify_gui.cli as cli
from model.errors import CancelledError, CaptureError, ImageError
from model.imageio import encode_png, load_image
from sigverify_gui.services import captures
from sigverify_gui.services.capture import (
    Capture,
    CaptureSource,
    DeviceInfo,
    HotFolder,
    ImageFileSource,
    ScanArea,
    ScanSettings,
    available_backends,
    list_devices,
    open_scanner,
    platform_backends,
    registry,
)
from sigverify_gui.services.capture.sane_backend import SaneBackend


def _pixels(shape=(60, 90)) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, shape, dtype=np.uint8)


# --- files and the Capture contract ---------------------------------------------------
def test_an_image_file_is_read_once_with_its_bytes_and_dpi(tmp_path):
    pixels = _pixels()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", dpi=(200, 200))
    path = tmp_path / "card.png"
    path.write_bytes(buffer.getvalue())

    capture = ImageFileSource(path).capture()
    np.testing.assert_array_equal(capture.gray, pixels)
    assert capture.dpi == pytest.approx(200, abs=0.1)
    assert capture.source == "card.png"
    assert capture.original == buffer.getvalue()


def test_a_bad_file_names_itself_in_the_error(tmp_path):
    path = tmp_path / "letter.png"
    path.write_bytes(b"Dear customer, " * 20)
    with pytest.raises(ImageError, match="letter.png"):
        ImageFileSource(path).capture()
    with pytest.raises(CaptureError, match="does not exist"):
        ImageFileSource(tmp_path / "missing.png").capture()
    with pytest.raises(CancelledError):
        ImageFileSource(path).capture(_set_event())


def test_a_file_over_the_size_cap_is_refused_with_its_real_size(tmp_path):
    # Only the cap's worth is read, but the message must give the file's own size.
    with open(tmp_path / "huge.tif", "wb") as f:
        f.truncate(60 * 1024 * 1024)  # sparse: 60 MB on paper, nothing on disk
    with pytest.raises(ImageError, match=r"'huge.tif' is 60\.0 MB; the limit is 50\.0 MB\."):
        ImageFileSource(tmp_path / "huge.tif").capture()


def test_every_source_satisfies_the_protocol(tmp_path):
    sources = [
        ImageFileSource(tmp_path / "a.png"),
        HotFolder(tmp_path),
        SaneBackend().open("test:0", ScanSettings()),
        FakeBackend("fake", [_device("fake", "one")]).open("one", ScanSettings()),
    ]
    assert all(isinstance(s, CaptureSource) for s in sources)


def test_a_capture_is_what_the_services_take(tmp_path):
    capture = Capture(_pixels(), 300.0, "scanner x", original=None)
    assert isinstance(capture, captures.Capture)
    loaded = captures.load_input(capture)
    np.testing.assert_array_equal(loaded.gray, capture.gray)
    assert (loaded.dpi, loaded.name) == (300.0, "scanner x")
    with pytest.raises(ValueError, match="uint8"):
        Capture(np.zeros((4, 4), np.float32), None, "bad")


def test_scan_area_and_settings_are_checked():
    assert ScanArea.parse("10, 5,100,40") == ScanArea(10, 5, 100, 40)
    assert ScanArea.parse("10,5,100,40").right == 110
    # NaN passed every comparison and gave a 1-pixel scan; inf is no size either
    for text in ("10,5,100", "a,b,c,d", "0,0,0,40", "-1,0,10,10", "nan,0,10,10", "0,0,inf,10"):
        with pytest.raises(CaptureError):
            ScanArea.parse(text)
    assert ScanSettings().dpi == 300
    with pytest.raises(CaptureError, match="dpi"):
        ScanSettings(dpi=5)


# --- the registry, with fake backends ---------------------------------------------------
def _device(backend: str, name: str) -> DeviceInfo:
    return DeviceInfo(f"{backend}:{name}", f"Scanner {name}", backend, "Acme", name, "flatbed")


class FakeScanner:
    def __init__(self, device: str, settings: ScanSettings, label: str | None) -> None:
        self.device, self.settings, self.label = device, settings, label

    @property
    def device_id(self) -> str:
        return f"fake:{self.device}"

    @property
    def description(self) -> str:
        return f"{self.label or 'fake'} ({self.device_id})"

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        return Capture(_pixels((40, 70)), float(self.settings.dpi), self.description)


class FakeBackend:
    def __init__(self, name, devices=(), reason=None, fails=False):
        self.name, self.devices, self.reason, self.fails = name, list(devices), reason, fails
        self.opened: list[FakeScanner] = []

    def unavailable_reason(self):
        return self.reason

    def list_devices(self):
        if self.fails:
            raise CaptureError("The driver crashed.")
        return self.devices

    def open(self, device, settings, label=None):
        self.opened.append(FakeScanner(device, settings, label))
        return self.opened[-1]


def test_devices_of_all_usable_backends_are_merged():
    backends = [
        FakeBackend("fake", [_device("fake", "a"), _device("fake", "b")]),
        FakeBackend("broken", fails=True),  # skipped, does not hide the others
        FakeBackend("absent", [_device("absent", "c")], reason="Not installed."),
    ]
    assert [d.id for d in list_devices(backends)] == ["fake:a", "fake:b"]
    assert [(s.name, s.available, s.reason) for s in available_backends(backends)] == [
        ("fake", True, ""),
        ("broken", True, ""),
        ("absent", False, "Not installed."),
    ]


def test_open_scanner_chooses_checks_and_explains():
    fake = FakeBackend("fake", [_device("fake", "a"), _device("fake", "b")])
    settings = ScanSettings(dpi=200)
    first = open_scanner(None, settings, [fake])
    assert (first.device, first.label, first.settings) == ("a", "Scanner a", settings)
    assert open_scanner("fake:b", backends=[fake]).device == "b"

    with pytest.raises(CaptureError, match="sigverify devices"):
        open_scanner("nosuch:1", backends=[fake])
    with pytest.raises(CaptureError, match="sigverify devices"):
        open_scanner("fake", backends=[fake])
    with pytest.raises(CaptureError, match="Not installed"):
        open_scanner("absent:c", backends=[FakeBackend("absent", reason="Not installed.")])
    with pytest.raises(CaptureError, match="No scanner was found"):
        open_scanner(None, backends=[FakeBackend("fake")])
    with pytest.raises(CaptureError, match="No scanner can be used: Not installed"):
        open_scanner(None, backends=[FakeBackend("absent", reason="Not installed.")])


def test_each_platform_gets_its_own_backends():
    assert [b.name for b in platform_backends("linux")] == ["sane"]
    assert [b.name for b in platform_backends("win32")] == ["twain", "wia"]


def test_a_missing_python_sane_is_a_clear_capture_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sane", None)  # makes `import sane` fail
    backend = SaneBackend()
    assert "python-sane" in backend.unavailable_reason()
    with pytest.raises(CaptureError, match="python-sane"):
        backend.open("test:0", ScanSettings()).capture()
    with pytest.raises(CaptureError, match="No scanner can be used: .*python-sane"):
        open_scanner(None, backends=[backend])


# --- the commands ------------------------------------------------------------------------
@pytest.fixture
def run_cli(monkeypatch, capsys):
    """`sigverify ...` in-process, with only this feature's commands registered (the
    others are not needed here) and the given fake backends as the platform's."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["devices", "scan"])

    def run(argv, backends):
        monkeypatch.setattr(registry, "platform_backends", lambda *a, **k: backends)
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_devices_lists_ids_as_json(run_cli):
    backend = FakeBackend("fake", [_device("fake", "a")])
    code, out, _ = run_cli(["devices", "--json"], [backend])
    assert code == 0
    assert json.loads(out) == [
        {
            "id": "fake:a",
            "name": "Scanner a",
            "backend": "fake",
            "vendor": "Acme",
            "model": "a",
            "type": "flatbed",
        }
    ]
    code, out, _ = run_cli(["devices"], [FakeBackend("absent", reason="SANE is missing.")])
    assert code == 0
    assert "No scanner found." in out and "SANE is missing." in out


def test_scan_writes_the_png_and_reports_it(run_cli, tmp_path):
    backend = FakeBackend("fake", [_device("fake", "a")])
    out_png = tmp_path / "sig.png"
    argv = ["scan", "--dpi", "200", "--area", "0,0,50,30", "--option", "source=ADF"]
    code, out, _ = run_cli([*argv, "-o", str(out_png), "--json"], [backend])
    assert code == 0
    assert json.loads(out) == {
        "out": str(out_png),
        "device": "fake:a",
        "dpi": 200.0,
        "shape": [40, 70],
    }
    np.testing.assert_array_equal(load_image(out_png).gray, _pixels((40, 70)))
    settings = backend.opened[0].settings
    assert settings.area == ScanArea(0, 0, 50, 30)
    assert dict(settings.options) == {"source": "ADF"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan"], "No scanner was found"),
        (["scan", "--device", "other:1"], "sigverify devices"),
        (["scan", "--device", "fake:a", "--area", "1,2,3"], "not a scan area"),
        (["scan", "--device", "fake:a", "--option", "brightness"], "NAME=VALUE"),
    ],
)
def test_scan_problems_exit_2_with_one_line(run_cli, tmp_path, argv, message):
    backends = [FakeBackend("fake", [] if argv == ["scan"] else [_device("fake", "a")])]
    code, out, err = run_cli([*argv, "-o", str(tmp_path / "x.png")], backends)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("no/x.png", "Could not write"), ("x.jpg", "must be a .png file"), ("dir.png", "is a folder")],
)
def test_scan_to_a_file_it_cannot_write_exits_2_before_scanning(run_cli, tmp_path, name, message):
    backend = FakeBackend("fake", [_device("fake", "a")])
    (tmp_path / "dir.png").mkdir()
    code, _, err = run_cli(["scan", "-o", str(tmp_path / name)], [backend])
    assert code == 2 and message in err
    assert backend.opened == []  # refused before a minute of scanning, not after


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def test_encode_round_trip_used_by_scan_is_lossless():
    pixels = _pixels()
    np.testing.assert_array_equal(load_image(encode_png(pixels)).gray, pixels)
