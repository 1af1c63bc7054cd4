"""The hot folder and files it cannot take yet or at all: a newer scan cut short so far,
one filled in after its size was set, one the app may not read, and what is no file."""

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.errors import CaptureError, ImageError
from model.imageio import encode_png
from sigverify_gui.services.capture import HotFolder
from sigverify_gui.services.capture import files as capture_files
from sigverify_gui.services.capture.files import UnreadableFileError, read_capture

POLL = 0.05


def _page(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = np.full((120, 300), 235, np.uint8)
    img[50:60, 30:270] = 20
    img += rng.integers(0, 8, img.shape, dtype=np.uint8)
    return encode_png(img)


def _aged(path: Path, data: bytes, age_s: float) -> None:
    path.write_bytes(data)
    when = time.time_ns() - int(age_s * 1e9)
    os.utime(path, ns=(when, when))


def _newest_first(folder, **kwargs) -> HotFolder:
    options = dict(settle_seconds=0.1, poll_interval=POLL, newest_first=True)
    return HotFolder(folder, max_age_seconds=600, **(options | kwargs))


def test_newest_first_never_passes_a_cut_short_newer_scan_for_an_older_one(tmp_path):
    # Customer X's scan of two minutes ago was never taken; Y's has stopped half-way
    # (a slow share): Y's teller must not get X's signature.
    _aged(tmp_path / "scan0001.png", _page(1), 120)
    whole = _page(2)
    _aged(tmp_path / "scan0002.png", whole[: len(whole) // 2], 5)
    hot = _newest_first(tmp_path, damaged_patience=5.0)
    assert hot.wait_for_next(timeout=1.0) is None
    (tmp_path / "scan0002.png").write_bytes(whole)  # the rest arrives
    assert hot.wait_for_next(timeout=3).source.startswith("scan0002.png")


def test_a_scan_filled_in_after_its_size_was_set_is_waited_for(tmp_path):
    # Some scanners size the file first: until filled in, its end is zeros, which
    # decode as a picture whose lower half is black.
    whole = _page(3)
    _assert_waited_for_until_filled_in(tmp_path / "scan.png", whole)


def _assert_waited_for_until_filled_in(path: Path, whole: bytes) -> None:
    """Written at its full size with its second half zeros so far: not taken until the
    rest is filled in, then taken whole."""
    half = len(whole) // 2
    path.write_bytes(whole[:half] + bytes(len(whole) - half))
    hot = HotFolder(path.parent, settle_seconds=0.1, poll_interval=POLL, damaged_patience=5.0)
    assert hot.wait_for_next(timeout=0.8) is None
    with open(path, "r+b") as f:  # filled in, the same size
        f.seek(half)
        f.write(whole[half:])
    taken = hot.wait_for_next(timeout=3)
    assert taken is not None and taken.original == whole


def _uncompressed(fmt: str, seed: int) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(_page(seed))).save(out, format=fmt)
    return out.getvalue()


def _tiff_with_its_directory_last(seed: int) -> bytes:
    """An uncompressed grey TIFF whose directory follows the pixels, as most writers
    put it: filled in front to back, it does not decode until the very end."""
    import struct

    gray = np.asarray(Image.open(io.BytesIO(_page(seed))))
    h, w = gray.shape
    pixels = gray.tobytes()
    ifd_at = 8 + len(pixels)
    # (tag, value): width, height, 8 bits, no compression, black is zero, pixels at 8,
    # one sample, all rows in one strip of all the bytes; every value a LONG
    tags = [(256, w), (257, h), (258, 8), (259, 1), (262, 1),
            (273, 8), (277, 1), (278, h), (279, len(pixels))]  # fmt: skip
    ifd = struct.pack("<H", len(tags))
    for tag, value in tags:
        ifd += struct.pack("<HHII", tag, 4, 1, value)
    return b"II*\0" + struct.pack("<I", ifd_at) + pixels + ifd + b"\0\0\0\0"


@pytest.mark.parametrize("name", ["scan.tif", "scan.bmp", "directory-last.tif"])
def test_a_tiff_or_bmp_filled_in_after_its_size_was_set_is_waited_for(tmp_path, name):
    # No end marker to look for: so far, the zeros read as black rows at the bottom (a
    # TIFF), at the top (a BMP, stored bottom up), or as no picture at all (a TIFF whose
    # directory comes last). Each was taken, or refused, half-written.
    if name == "directory-last.tif":
        whole = _tiff_with_its_directory_last(11)
        assert Image.open(io.BytesIO(whole)).size == (300, 120)  # a picture when whole
    else:
        whole = _uncompressed("TIFF" if name.endswith(".tif") else "BMP", 11)
    _assert_waited_for_until_filled_in(tmp_path / name, whole)


def test_a_whole_tiff_whose_edge_is_pure_black_is_taken_after_the_patience(tmp_path):
    # A black lid clipped to 0 ends the file in zeros too: waited for, never refused.
    gray = np.asarray(Image.open(io.BytesIO(_page(12)))).copy()
    gray[-20:] = 0
    out = io.BytesIO()
    Image.fromarray(gray).save(out, format="TIFF")
    (tmp_path / "lid.tif").write_bytes(out.getvalue())
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=0.5)
    started = time.monotonic()
    taken = hot.wait_for_next(timeout=5)
    assert taken is not None and taken.original == out.getvalue()
    assert time.monotonic() - started >= 0.5


def test_a_whole_tiff_or_bmp_is_taken_at_once(tmp_path):
    for index, fmt in enumerate(("TIFF", "BMP")):
        (tmp_path / f"scan{index}.{fmt.lower()}").write_bytes(_uncompressed(fmt, 13))
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=30.0)
    started = time.monotonic()
    assert hot.wait_for_next(timeout=5) is not None and hot.wait_for_next(timeout=5) is not None
    assert time.monotonic() - started < 5


def test_a_scan_sized_before_its_header_is_written_is_waited_for(tmp_path):
    # All zeros so far, not even the format's signature: it had been refused at once
    # as "not a picture", and the real scan was only taken at the next click.
    whole = _page(8)
    path = tmp_path / "scan.png"
    path.write_bytes(bytes(len(whole)))
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=5.0)
    assert hot.wait_for_next(timeout=0.8) is None
    with open(path, "r+b") as f:  # filled in, the same size
        f.write(whole)
    taken = hot.wait_for_next(timeout=3)
    assert taken is not None and taken.original == whole


def test_a_file_that_is_no_picture_is_still_refused_at_once(tmp_path):
    (tmp_path / "notes.png").write_bytes(b"meeting at ten, bring the cheques" * 20)
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=30.0)
    started = time.monotonic()
    with pytest.raises(ImageError, match="notes.png"):
        hot.wait_for_next(timeout=5)
    assert time.monotonic() - started < 5


def test_a_scan_that_stays_cut_short_is_reported_after_the_patience(tmp_path):
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(_page(4))).save(jpeg, format="JPEG")
    (tmp_path / "dead.jpg").write_bytes(jpeg.getvalue()[:-200])  # no end marker
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=0.4)
    started = time.monotonic()
    with pytest.raises(ImageError, match="dead.jpg"):
        hot.wait_for_next(timeout=5)
    assert time.monotonic() - started >= 0.4


@pytest.mark.parametrize(
    ("name", "padding"),
    [
        ("scan.jpg", b"\r\n"),
        ("scan.jpg", b"\xff" * 16),
        ("scan.png", b"\n"),
        ("scan.png", b"\0" * 9),
    ],
)
def test_a_whole_scan_with_padding_after_its_end_is_taken_at_once(tmp_path, name, padding):
    # Some scanners' firmware ends a file with a line end or fill bytes: such whole
    # scans were waited on for the patience, then refused as cut short.
    data = _page(7)
    if name.endswith(".jpg"):
        jpeg = io.BytesIO()
        Image.open(io.BytesIO(data)).save(jpeg, format="JPEG")
        data = jpeg.getvalue()
    (tmp_path / name).write_bytes(data + padding)
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, damaged_patience=30.0)
    started = time.monotonic()
    taken = hot.wait_for_next(timeout=5)
    assert taken is not None and taken.original == data + padding
    assert time.monotonic() - started < 5


def test_a_file_the_app_may_not_read_is_reported_at_once(tmp_path, monkeypatch):
    (tmp_path / "scan.png").write_bytes(_page(5))
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self.name == "scan.png":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    with pytest.raises(UnreadableFileError, match="permission"):
        hot.wait_for_next(timeout=3)


def test_a_file_in_use_by_its_writer_is_tried_again(tmp_path, monkeypatch):
    (tmp_path / "scan.png").write_bytes(_page(6))
    real_open, refusals = Path.open, []

    def in_use(self, *args, **kwargs):
        if self.name == "scan.png" and len(refusals) < 2:
            err = PermissionError(13, "The process cannot access the file")
            err.winerror = 32  # Windows' sharing violation, as Python reports it there
            refusals.append(err)
            raise err
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", in_use)
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    assert hot.wait_for_next(timeout=3) is not None
    assert len(refusals) == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_or_a_folder_is_refused_without_waiting(tmp_path):
    pipe = tmp_path / "scan.png"
    os.mkfifo(pipe)  # opening it would wait for a writer for ever
    with pytest.raises(UnreadableFileError, match="not an ordinary file"):
        read_capture(pipe)
    with pytest.raises(UnreadableFileError, match="is a folder"):
        read_capture(tmp_path)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(_page(7))
    reads = []
    real_open = Path.open
    monkeypatch.setattr(
        Path, "open", lambda self, *a, **k: reads.append(self) or real_open(self, *a, **k)
    )
    with pytest.raises(ImageError, match="the limit is"):
        capture_files.read_bytes(path, limit=100)
    assert reads == []
    assert isinstance(UnreadableFileError("x"), CaptureError)
