"""TWAIN and WIA, which only run on Windows, driven here through fake driver modules:
what we ask the driver for, what we make of its image, and how its errors read."""

import io
import sys
import threading
import types

import numpy as np
import pytest
from PIL import Image

from model.errors import CancelledError, CaptureError
from sigverify_gui.services.capture import ScanArea, ScanSettings
from sigverify_gui.services.capture.twain_backend import TwainBackend
from sigverify_gui.services.capture.wia_backend import WiaBackend, hresult_of

PIXELS = np.random.default_rng(1).integers(0, 256, (30, 50), dtype=np.uint8)


def _bmp(dpi=300) -> bytes:
    out = io.BytesIO()
    Image.fromarray(PIXELS).save(out, format="BMP", dpi=(dpi, dpi))
    return out.getvalue()


# --- a fake pytwain ---------------------------------------------------------------------
def _fake_twain(sources=("Acme Flatbed",), fail_with=None, open_fails=None, driver_raises=None):
    """A stand-in for the `twain` module with the parts of pytwain's API we use."""
    tw = types.SimpleNamespace(calls=[], freed=[], refuse_page_count=False)
    exc = types.SimpleNamespace()
    exc.TwainError = type("TwainError", (Exception,), {})
    for name in ("DSTransferCancelled", "PaperJam", "SMLoadFileFailed", "GeneralFailure"):
        setattr(exc, name, type(name, (exc.TwainError,), {}))
    exc.CheckStatus = type("CheckStatus", (Exception,), {})
    tw.exceptions = exc
    names = "ICAP_PIXELTYPE TWTY_UINT16 TWPT_GRAY ICAP_UNITS TWUN_INCHES ICAP_XRESOLUTION "
    names += "ICAP_YRESOLUTION TWTY_FIX32 CAP_XFERCOUNT TWTY_INT16"
    for name in names.split():
        setattr(tw, name, name)  # a readable value is as good as TWAIN's numbers here

    class Source:
        def set_capability(self, cap, kind, value):
            tw.calls.append(("set", cap, kind, value))
            if cap == "CAP_XFERCOUNT" and tw.refuse_page_count:
                raise exc.GeneralFailure()  # an old driver: CapUnsupported and the like
            if cap == "ICAP_XRESOLUTION":
                raise exc.CheckStatus  # the driver rounded it: must be tolerated

        def set_image_layout(self, frame):
            tw.calls.append(("layout", frame))

        def request_acquire(self, show_ui, modal_ui):
            tw.calls.append(("acquire", show_ui, modal_ui))

        def xfer_image_natively(self):
            if fail_with is not None:
                raise getattr(exc, fail_with)()
            if driver_raises is not None:
                raise driver_raises
            return 1234, 0

        def close(self):
            tw.calls.append(("close",))

    class SourceManager:
        def __init__(self, parent):
            if open_fails is not None:
                raise getattr(exc, open_fails)()
            self.source_list = list(sources)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            tw.calls.append(("sm-close",))

        def open_source(self, name):
            return Source() if name in sources else None

    tw.SourceManager = SourceManager
    tw.dib_to_bm_file = lambda handle: _bmp() if handle == 1234 else b""
    tw.GlobalFree = tw.freed.append
    return tw


def test_twain_lists_sources_with_ids():
    backend = TwainBackend(module=_fake_twain(["Acme Flatbed", "Other"]))
    assert [(d.id, d.name, d.backend) for d in backend.list_devices()] == [
        ("twain:Acme Flatbed", "Acme Flatbed", "twain"),
        ("twain:Other", "Other", "twain"),
    ]


def test_twain_scan_asks_for_grey_dpi_and_area_and_frees_the_image():
    tw = _fake_twain()
    settings = ScanSettings(dpi=300, area=ScanArea(25.4, 0, 50.8, 25.4))
    capture = TwainBackend(module=tw).open("Acme Flatbed", settings).capture()

    np.testing.assert_array_equal(capture.gray, PIXELS)
    assert capture.dpi == pytest.approx(300, abs=0.1)
    assert capture.source == "Acme Flatbed (twain:Acme Flatbed)"
    assert ("set", "ICAP_PIXELTYPE", "TWTY_UINT16", "TWPT_GRAY") in tw.calls
    assert ("set", "ICAP_UNITS", "TWTY_UINT16", "TWUN_INCHES") in tw.calls
    assert ("set", "CAP_XFERCOUNT", "TWTY_INT16", 1) in tw.calls  # one page, not a stack
    assert ("set", "ICAP_YRESOLUTION", "TWTY_FIX32", 300.0) in tw.calls
    layouts = [call[1] for call in tw.calls if call[0] == "layout"]
    assert layouts == [pytest.approx((1.0, 0.0, 3.0, 1.0))]  # inches: left, top, right, bottom
    assert ("acquire", False, False) in tw.calls  # no driver dialog
    assert tw.freed == [1234]
    assert tw.calls[-2:] == [("close",), ("sm-close",)]


@pytest.mark.parametrize(
    ("fake", "error", "words"),
    [
        (_fake_twain(fail_with="PaperJam"), CaptureError, "jammed"),
        (_fake_twain(fail_with="DSTransferCancelled"), CancelledError, "cancelled"),
        (_fake_twain(fail_with="GeneralFailure"), CaptureError, "GeneralFailure"),
        (_fake_twain(open_fails="SMLoadFileFailed"), CaptureError, "not installed"),
        (_fake_twain(sources=()), CaptureError, "not found"),
        (_fake_twain(driver_raises=MemoryError()), CaptureError, "too large .* memory"),
        (_fake_twain(driver_raises=ValueError("bad DIB")), CaptureError, "driver failed"),
        (_fake_twain(driver_raises=RuntimeError("?")), CaptureError, "driver failed"),
    ],
)
def test_twain_failures_read_as_sentences(fake, error, words):
    source = TwainBackend(module=fake).open("Acme Flatbed", ScanSettings())
    with pytest.raises(error, match=words):
        source.capture()


def test_a_twain_driver_without_a_page_count_still_scans():
    tw = _fake_twain()
    tw.refuse_page_count = True
    capture = TwainBackend(module=tw).open("Acme Flatbed", ScanSettings()).capture()
    np.testing.assert_array_equal(capture.gray, PIXELS)


def test_twain_cancel_before_the_scan_touches_nothing():
    tw = _fake_twain()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        TwainBackend(module=tw).open("Acme Flatbed", ScanSettings()).capture(cancel)
    assert tw.calls == []


def test_twain_and_wia_missing_packages_are_capture_errors(monkeypatch):
    for name in ("twain", "win32com", "win32com.client", "pythoncom", "comtypes"):
        monkeypatch.setitem(sys.modules, name, None)
    assert "pytwain" in TwainBackend().unavailable_reason()
    assert "comtypes" in WiaBackend().unavailable_reason()
    with pytest.raises(CaptureError, match="pytwain"):
        TwainBackend().open("x", ScanSettings()).capture()
    with pytest.raises(CaptureError, match="comtypes"):
        WiaBackend().list_devices()


# --- a fake COM client for WIA ------------------------------------------------------------
class FakeComError(Exception):
    def __init__(self, hresult, text="", details=None):
        super().__init__(hresult, text, details)
        self.hresult = hresult


def _props(values: dict) -> list:
    return [types.SimpleNamespace(PropertyID=k, Value=v) for k, v in values.items()]


class FakeCom:
    def __init__(self, transfer_error=None, transfer_result="bmp"):
        self.threads = []
        self.requested_formats = []
        item_props = _props({i: 0 for i in range(6146, 6153)})
        self.item_props = item_props

        def transfer(fmt):
            self.requested_formats.append(fmt)
            if transfer_error is not None:
                raise transfer_error
            if transfer_result is None:
                return None
            return types.SimpleNamespace(FileData=types.SimpleNamespace(BinaryData=_bmp()))

        item = types.SimpleNamespace(Properties=item_props, Transfer=transfer)
        scanner = types.SimpleNamespace(
            DeviceID="{6BDD1FC6}\\0001",
            Type=1,
            Properties=_props({7: "Acme WIA", 3: "Acme", 4: "Acme Scan 9"}),
            Connect=lambda: types.SimpleNamespace(Items=[item]),
        )
        camera = types.SimpleNamespace(DeviceID="{cam}", Type=2, Properties=_props({7: "Cam"}))
        self.manager = types.SimpleNamespace(DeviceInfos=[camera, scanner])

    def init_thread(self):
        self.threads.append(threading.current_thread().name)

    def create(self, prog_id):
        assert prog_id == "WIA.DeviceManager"
        return self.manager

    def is_com_error(self, err):
        return isinstance(err, FakeComError)


def test_wia_lists_only_scanners():
    com = FakeCom()
    devices = WiaBackend(com=com).list_devices()
    assert [(d.id, d.name, d.vendor, d.model) for d in devices] == [
        ("wia:{6BDD1FC6}\\0001", "Acme WIA", "Acme", "Acme Scan 9")
    ]
    assert com.threads  # COM initialised on the calling thread


def test_wia_scan_sets_grey_dpi_and_area_in_pixels_from_a_worker_thread():
    com = FakeCom()
    settings = ScanSettings(dpi=300, area=ScanArea(25.4, 0, 50.8, 25.4))
    source = WiaBackend(com=com).open("{6BDD1FC6}\\0001", settings)
    result = {}
    worker = threading.Thread(target=lambda: result.update(c=source.capture()), name="scan")
    worker.start()
    worker.join()

    np.testing.assert_array_equal(result["c"].gray, PIXELS)
    assert com.threads == ["scan"]  # COM set up in the worker, where the scan ran
    assert {p.PropertyID: p.Value for p in com.item_props} == {
        6146: 2,  # intent: greyscale
        6147: 300,
        6148: 300,
        6149: 300,  # x: 25.4 mm at 300 dpi
        6150: 0,
        6151: 600,  # width: 50.8 mm
        6152: 300,
    }
    assert com.requested_formats == ["{B96B3CAB-0728-11D3-9D7B-0000F81EF32E}"]  # BMP


def test_a_wia_preview_takes_the_resolution_nearest_that_the_scanner_offers():
    com = FakeCom()
    xres = next(p for p in com.item_props if p.PropertyID == 6147)
    xres.SubType, xres.SubTypeValues = 2, [150, 300, 600]  # a list, as many flatbeds offer
    settings = ScanSettings(dpi=75, area=ScanArea(25.4, 0, 25.4, 25.4), exact_dpi=False)
    WiaBackend(com=com).open("{6BDD1FC6}\\0001", settings).capture()
    values = {p.PropertyID: p.Value for p in com.item_props}
    assert (values[6147], values[6148], values[6149], values[6151]) == (150, 150, 150, 150)


@pytest.mark.parametrize(
    ("com", "error", "words"),
    [
        (FakeCom(FakeComError(-2145320954)), CaptureError, "busy"),  # 0x80210006 signed
        (FakeCom(FakeComError(0x80210016)), CaptureError, "cover is open"),
        (FakeCom(FakeComError(0x8021FFFF)), CaptureError, "WIA error 0x8021FFFF"),
        (FakeCom(transfer_result=None), CancelledError, "cancelled"),
    ],
)
def test_wia_failures_read_as_sentences(com, error, words):
    source = WiaBackend(com=com).open("{6BDD1FC6}\\0001", ScanSettings())
    with pytest.raises(error, match=words):
        source.capture()


def test_wia_unknown_device_and_bugs():
    with pytest.raises(CaptureError, match="not found"):
        WiaBackend(com=FakeCom()).open("{gone}", ScanSettings()).capture()
    # Anything that is not a COM error is a bug and must not be dressed up as one.
    source = WiaBackend(com=FakeCom(ValueError("bug"))).open("{6BDD1FC6}\\0001", ScanSettings())
    with pytest.raises(ValueError, match="bug"):
        source.capture()


def test_hresult_is_found_where_pywin32_and_comtypes_put_it():
    assert hresult_of(FakeComError(-2145320954)) == 0x80210006
    # pywin32: com_error(DISP_E_EXCEPTION, text, excepinfo with the driver's scode, arg)
    wrapped = Exception(
        -2147352567, "Exception occurred.", (0, "WIA", "", None, 0, -2145320938), None
    )
    assert hresult_of(wrapped) == 0x80210016
    assert hresult_of(Exception("no code")) is None
