"""The hot folder: files a scanner writes slowly are taken once, whole, and only once."""

import json
import os
import threading
import time

import numpy as np
import pytest

from model.errors import CancelledError, CaptureError, ImageError
from model.imageio import encode_png
from sigverify_gui.services.capture import HotFolder, is_candidate_name
from sigverify_gui.services.capture.files import describe_scan

# Longer than the writer's pauses between chunks (0.2 s), so a file is never taken
# between two chunks, and short enough to keep the tests quick.
SETTLE = 0.6
POLL = 0.05


def _image(seed: int, shape=(120, 300)) -> np.ndarray:
    """A grey page with a few dark strokes; the seed makes each file's pixels differ."""
    rng = np.random.default_rng(seed)
    img = np.full(shape, 235, np.uint8)
    xs = np.arange(20, shape[1] - 20)
    for _ in range(3):
        ys = (shape[0] / 2 + 30 * np.sin(xs / rng.uniform(8, 25) + rng.uniform(0, 6))).astype(int)
        for dy in range(3):
            img[np.clip(ys + dy, 0, shape[0] - 1), xs] = 30
    img += rng.integers(0, 8, shape, dtype=np.uint8)  # scanner noise: no two alike
    return img


def _write_slowly(path, data: bytes, chunks: int = 4, pause: float = 0.2) -> None:
    """Write as a scanner does: a chunk, a pause, the next chunk."""
    step = -(-len(data) // chunks)
    with open(path, "wb") as f:
        for i in range(chunks):
            f.write(data[i * step : (i + 1) * step])
            f.flush()
            time.sleep(pause)


def _name(capture) -> str:
    """The file a hot-folder capture came from (its source also says when it was saved)."""
    assert capture is not None, "nothing was taken"
    name, _, saved = capture.source.partition(", scanned ")
    assert saved, capture.source
    return name


def _in_thread(fn, *args) -> threading.Thread:
    thread = threading.Thread(target=fn, args=args, daemon=True)
    thread.start()
    return thread


def _drain(hot: HotFolder, seconds: float) -> list:
    """Everything `poll` hands out over `seconds`."""
    taken = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        taken += hot.poll()
        time.sleep(POLL)
    return taken


def test_files_written_in_chunks_are_each_taken_once_and_whole(tmp_path):
    hot = HotFolder(tmp_path, settle_seconds=SETTLE, poll_interval=POLL)
    images = {f"scan_{i:04d}.png": _image(i) for i in range(2)}
    payloads = {name: encode_png(img) for name, img in images.items()}

    # Two scanners saving at once, each in four chunks with pauses in between.
    writers = [_in_thread(_write_slowly, tmp_path / n, d) for n, d in payloads.items()]
    taken = []
    for _ in payloads:
        capture = hot.wait_for_next(timeout=10)
        assert capture is not None, "a file was never taken"
        taken.append(capture)
    for writer in writers:
        writer.join()
    taken += _drain(hot, SETTLE + 0.2)  # nothing more: neither file is offered again

    assert sorted(_name(c) for c in taken) == sorted(payloads)
    for capture in taken:
        assert capture.original == payloads[_name(capture)]
        np.testing.assert_array_equal(capture.gray, images[_name(capture)])


def test_temporary_names_are_ignored_and_a_rename_into_place_is_taken_once(tmp_path):
    data = encode_png(_image(7))
    for name in ("a.part", "~$b.png", ".c.png", "d.png.tmp", "e.png.crdownload", "f.txt"):
        (tmp_path / name).write_bytes(data)
    hot = HotFolder(tmp_path, settle_seconds=SETTLE, poll_interval=POLL)

    # A browser or copy tool: the whole file under a temporary name, then renamed.
    def download():
        _write_slowly(tmp_path / "g.png.part", data)
        os.rename(tmp_path / "g.png.part", tmp_path / "g.png")

    _in_thread(download)
    # The first file taken is the renamed one, although the others settled long before.
    capture = hot.wait_for_next(timeout=5)
    assert capture is not None and _name(capture) == "g.png"
    assert capture.original == data
    assert _drain(hot, SETTLE + 0.2) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("scan.png", True),
        ("SCAN.JPG", True),
        ("page.tiff", True),
        ("doc.pdf", True),
        ("scan.png.part", False),
        ("scan.tmp", False),
        ("~$scan.png", False),
        (".scan.png", False),
        ("Thumbs.db", False),
        ("notes.txt", False),
    ],
)
def test_candidate_names(name, expected):
    assert is_candidate_name(name) is expected


def test_the_record_in_the_state_dir_survives_a_restart(tmp_path):
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    (folder / "x.png").write_bytes(encode_png(_image(1)))
    first = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    assert _name(first.wait_for_next(timeout=3)) == "x.png"

    records = list(state.glob("hotfolder-*.json"))
    assert len(records) == 1  # kept beside the hot folder, not in it
    assert [p.name for p in folder.iterdir()] == ["x.png"]
    assert json.loads(records[0].read_text())["files"][0][0] == "x.png"

    again = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    assert again.wait_for_next(timeout=0.6) is None  # already taken before the restart

    # The scanner reuses the name for a new scan: a different file, taken.
    new_pixels = _image(2)
    (folder / "x.png").write_bytes(encode_png(new_pixels))
    capture = again.wait_for_next(timeout=3)
    np.testing.assert_array_equal(capture.gray, new_pixels)


def test_without_a_state_dir_skip_existing_ignores_what_is_already_there(tmp_path):
    (tmp_path / "old.png").write_bytes(encode_png(_image(3)))
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, skip_existing=True)
    assert hot.wait_for_next(timeout=0.5) is None
    (tmp_path / "new.png").write_bytes(encode_png(_image(4)))
    assert _name(hot.wait_for_next(timeout=3)) == "new.png"


def test_taken_files_can_be_moved_to_processed(tmp_path):
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL, move_processed=True)
    first, second = encode_png(_image(5)), encode_png(_image(6))
    (tmp_path / "s.png").write_bytes(first)
    assert hot.wait_for_next(timeout=3).original == first
    (tmp_path / "s.png").write_bytes(second)  # same name again: kept apart, not overwritten
    assert hot.wait_for_next(timeout=3).original == second

    assert not (tmp_path / "s.png").exists()
    assert (tmp_path / "processed" / "s.png").read_bytes() == first
    assert (tmp_path / "processed" / "s-1.png").read_bytes() == second
    assert hot.wait_for_next(timeout=0.4) is None  # the processed/ folder is not watched


def test_unusable_files_are_reported_once_by_name(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"this is not a picture at all" * 10)
    (tmp_path / "cut.png").write_bytes(encode_png(_image(8))[:200])  # a scanner that died
    rejected = []
    hot = HotFolder(
        tmp_path,
        settle_seconds=0.1,
        poll_interval=POLL,
        on_reject=rejected.append,
        damaged_patience=0.3,
    )
    assert _drain(hot, 0.8) == []  # the cut file is waited for a while, then rejected

    assert sorted(type(e).__name__ for e in rejected) == [
        "TruncatedImageError",
        "UnsupportedFormatError",
    ]
    assert {("junk.png" in str(e)) or ("cut.png" in str(e)) for e in rejected} == {True}

    # wait_for_next raises the error instead, so a waiting teller hears about it.
    (tmp_path / "junk2.png").write_bytes(b"not a picture either" * 10)
    with pytest.raises(ImageError, match="junk2.png"):
        hot.wait_for_next(timeout=3)


def test_a_file_of_several_pages_is_refused_not_read_as_its_first(tmp_path):
    """A scanner's hot folder delivers signatures; a multi-page file is a page to search."""
    from PIL import Image

    first, second = Image.fromarray(_image(1)), Image.fromarray(_image(2))
    first.save(tmp_path / "batch.tif", save_all=True, append_images=[second])
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    with pytest.raises(ImageError, match="'batch.tif' holds 2 pages"):
        hot.wait_for_next(timeout=3)


def test_cancel_and_timeout_end_the_wait(tmp_path):
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=1.0)
    started = time.monotonic()
    assert hot.wait_for_next(timeout=0.3) is None
    assert time.monotonic() - started < 0.9  # the timeout cuts the 1 s poll interval short

    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        hot.capture(cancel)
    assert time.monotonic() - started < 0.9  # woken by the event, not the next poll


def test_a_missing_or_vanished_folder_is_a_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="does not exist"):
        HotFolder(tmp_path / "nowhere")
    folder = tmp_path / "share"
    folder.mkdir()
    hot = HotFolder(folder, settle_seconds=0.1)
    folder.rmdir()  # a network share that went away
    with pytest.raises(CaptureError, match="cannot be read"):
        hot.poll()


def test_a_damaged_record_file_is_replaced_not_fatal(tmp_path):
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    first = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    (folder / "a.png").write_bytes(encode_png(_image(9)))
    assert first.wait_for_next(timeout=3) is not None
    record = next(state.glob("hotfolder-*.json"))
    record.write_text("{ not json")

    hot = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    assert _name(hot.wait_for_next(timeout=3)) == "a.png"  # offered again, not a crash
    assert json.loads(record.read_text())["version"] == 1


def test_a_full_folder_is_taken_in_bounded_batches_oldest_first(tmp_path):
    for i in range(5):
        path = tmp_path / f"old_{i}.png"
        path.write_bytes(encode_png(_image(20 + i, shape=(20, 30))))
        os.utime(path, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))  # old_0 oldest
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    hot.max_per_poll = 2
    batches = []
    while sum(len(b) for b in batches) < 5 and len(batches) < 100:
        batch = hot.poll()
        if batch:
            batches.append([_name(c) for c in batch])
        time.sleep(POLL)
    assert batches == [["old_0.png", "old_1.png"], ["old_2.png", "old_3.png"], ["old_4.png"]]


def _write_aged(path, data: bytes, age_s: int) -> None:
    """A file written `age_s` seconds ago (its mtime says so)."""
    path.write_bytes(data)
    when = time.time_ns() - age_s * 10**9
    os.utime(path, ns=(when, when))


def test_newest_first_takes_one_at_a_time_and_records_only_what_it_hands_out(tmp_path):
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    for name, age in (("older.png", 300), ("newest.png", 5), ("middle.png", 60)):
        _write_aged(folder / name, encode_png(_image(age)), age)
    hot = HotFolder(
        folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL, newest_first=True
    )
    assert _name(hot.wait_for_next(timeout=3)) == "newest.png"
    assert hot.queued() == 2

    # A restart now: the two not handed out are still offered, the taken one is not.
    again = HotFolder(
        folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL, newest_first=True
    )
    assert _name(again.wait_for_next(timeout=3)) == "middle.png"
    assert again.queued() == 1
    assert _name(again.wait_for_next(timeout=3)) == "older.png"
    assert again.queued() == 0
    assert again.wait_for_next(timeout=0.5) is None


def test_watchers_sharing_a_state_dir_never_offer_the_same_file_twice(tmp_path):
    # The GUI's enrolment and verification panels each have a watcher of the folder.
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    enrol = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    verify = HotFolder(folder, state_dir=state, settle_seconds=0.1, poll_interval=POLL)
    assert verify.wait_for_next(timeout=0.3) is None  # both have looked at the folder
    (folder / "a.png").write_bytes(encode_png(_image(11)))
    assert _name(enrol.wait_for_next(timeout=3)) == "a.png"
    assert verify.wait_for_next(timeout=0.5) is None
    assert verify.queued() == 0

    (folder / "b.png").write_bytes(encode_png(_image(12)))
    assert _name(verify.wait_for_next(timeout=3)) == "b.png"
    assert enrol.wait_for_next(timeout=0.5) is None
    saved = json.loads(next(state.glob("hotfolder-*.json")).read_text())
    assert sorted(name for name, _, _ in saved["files"]) == ["a.png", "b.png"]


def test_a_file_over_the_size_cap_is_refused_with_its_real_size(tmp_path):
    with open(tmp_path / "huge.tif", "wb") as f:
        f.truncate(60 * 1024 * 1024)  # sparse: 60 MB on paper, nothing on disk
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    with pytest.raises(ImageError, match=r"'huge.tif' is 60\.0 MB; the limit is 50\.0 MB\."):
        hot.wait_for_next(timeout=3)


def test_a_capture_names_the_file_and_when_it_was_scanned(tmp_path):
    _write_aged(tmp_path / "scan0042.png", encode_png(_image(13)), 90)
    mtime_ns = (tmp_path / "scan0042.png").stat().st_mtime_ns
    hot = HotFolder(tmp_path, settle_seconds=0.1, poll_interval=POLL)
    capture = hot.wait_for_next(timeout=3)
    # Read "now" as the capture did: just after midnight, 90 s ago is yesterday.
    assert capture.source == describe_scan("scan0042.png", mtime_ns)
    hhmm = time.strftime("%H:%M", time.localtime(mtime_ns / 1e9))
    assert capture.source.startswith("scan0042.png, scanned ") and capture.source.endswith(hhmm)

    # A scan from another day says which day.
    noon = time.mktime((2026, 11, 22, 12, 0, 0, 0, 0, -1))
    day_before = int(time.mktime((2026, 11, 21, 10, 41, 0, 0, 0, -1)) * 1e9)
    assert describe_scan("a.png", day_before, now=noon) == "a.png, scanned 2026-11-21 10:41"
    assert describe_scan("a.png", int(noon * 1e9), now=noon) == "a.png, scanned 12:00"


def test_only_recent_files_are_offered_and_older_ones_are_left_alone(tmp_path):
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    # An upgrade: no record yet, and the folder holds every scan ever saved into it.
    for i, age in enumerate((20 * 60, 3 * 3600, 11 * 60)):
        _write_aged(folder / f"old_{i}.png", encode_png(_image(30 + i)), age)
    _write_aged(folder / "recent.png", encode_png(_image(33)), 4 * 60)
    hot = HotFolder(
        folder,
        state_dir=state,
        settle_seconds=0.1,
        poll_interval=POLL,
        newest_first=True,
        max_age_seconds=600,
    )
    assert _name(hot.wait_for_next(timeout=3)) == "recent.png"
    assert (hot.queued(), hot.left_alone()) == (0, 3)
    assert hot.wait_for_next(timeout=0.4) is None
    saved = json.loads(next(state.glob("hotfolder-*.json")).read_text())
    assert [name for name, _, _ in saved["files"]] == ["recent.png"]  # the rest untouched

    # A file copied in while the watcher looks keeps its old time, but it has just
    # arrived: it is offered.
    _write_aged(folder / "copied.png", encode_png(_image(34)), 2 * 3600)
    assert _name(hot.wait_for_next(timeout=3)) == "copied.png"
    assert hot.left_alone() == 3


def test_newest_first_waits_for_a_newer_scan_still_being_written(tmp_path):
    # A leftover from a few minutes ago has settled; the teller's scan is still coming in.
    _write_aged(tmp_path / "leftover.png", encode_png(_image(40)), 3 * 60)
    hot = HotFolder(
        tmp_path, settle_seconds=SETTLE, poll_interval=POLL, newest_first=True, max_age_seconds=600
    )
    assert hot.wait_for_next(timeout=SETTLE + 0.3) is not None  # the leftover alone: taken
    _write_aged(tmp_path / "leftover2.png", encode_png(_image(41)), 2 * 60)
    assert hot.wait_for_next(timeout=0.1) is None  # seen, not settled yet
    fresh = encode_png(_image(42))
    writer = _in_thread(_write_slowly, tmp_path / "fresh.png", fresh, 6)  # 1.2 s of writing
    time.sleep(SETTLE + 0.1)  # the leftover has settled; the fresh scan has not

    assert _name(hot.wait_for_next(timeout=5)) == "fresh.png"
    writer.join()
    assert _name(hot.wait_for_next(timeout=3)) == "leftover2.png"


def test_recent_is_judged_on_the_clock_of_the_share_that_dates_the_files(tmp_path, monkeypatch):
    from sigverify_gui.services.capture import hotfolder

    assert hotfolder.share_clock_offset(tmp_path) == 0.0  # one machine, one clock
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    # A file server 20 minutes behind this computer: a scan saved 4 minutes ago reads
    # 24 minutes old on our clock, and would be left alone as a leftover.
    monkeypatch.setattr(hotfolder, "share_clock_offset", lambda folder: -20 * 60.0)
    _write_aged(tmp_path / "fresh.png", encode_png(_image(50)), 24 * 60)
    _write_aged(tmp_path / "leftover.png", encode_png(_image(51)), 40 * 60)
    hot = HotFolder(
        tmp_path, settle_seconds=0.1, poll_interval=POLL, newest_first=True, max_age_seconds=600
    )
    assert _name(hot.wait_for_next(timeout=3)) == "fresh.png"
    assert hot.left_alone() == 1


def test_a_folder_that_cannot_be_written_is_taken_at_our_clock(tmp_path):
    from sigverify_gui.services.capture.hotfolder import share_clock_offset

    assert share_clock_offset(tmp_path / "missing") == 0.0
