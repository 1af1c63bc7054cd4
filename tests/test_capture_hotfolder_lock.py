"""The hot-folder record shared by several watchers (the GUI's two panels, a second copy
of the app): checking and recording a file is one locked step, so watchers running at
the same time, in threads or in processes, never take one file twice nor drop each
other's entries."""

import json
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from model.errors import CaptureError
from model.imageio import encode_png
from sigverify_gui.services.capture import HotFolder, hotfolder_record
from sigverify_gui.services.capture.hotfolder_record import (
    FileKey,
    ProcessedRecord,
    state_file_for,
)

KEYS = [FileKey(f"scan{i:04d}.png", 1000 + i, 10**18 + i) for i in range(200)]
N_FILES = 16


def _name(capture) -> str:
    return capture.source.partition(", scanned ")[0]


def _claim_all(folder: Path, state: Path, seed: int, start) -> list[FileKey]:
    """One watcher's claims on every key, in its own order, started with the others."""
    record = ProcessedRecord(folder, state_file_for(folder, state))
    keys = KEYS[:]
    random.Random(seed).shuffle(keys)
    names = {k.name for k in KEYS}
    start.wait()
    return [key for key in keys if record.claim(key, names)]


def _take_all(folder: Path, state: Path, seed: int, start) -> list[str]:
    """One watcher's share of the folder: take, newest first, until nothing is left."""
    hot = HotFolder(
        folder, state_dir=state, settle_seconds=0.05, poll_interval=0.01, newest_first=True
    )
    start.wait()
    taken = []
    while (capture := hot.wait_for_next(timeout=1.5)) is not None:
        taken.append(_name(capture))
    return taken


def _in_process(work, results, *args) -> None:
    results.put(work(*args))


def _run_two(how: str, work, folder: Path, state: Path) -> list[list]:
    """`work` by two watchers at once, as two threads or as two spawned processes."""
    if how == "threads":
        start = threading.Barrier(2)
        results: list[list] = [[], []]

        def run(i: int) -> None:
            results[i] = work(folder, state, i, start)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return results
    ctx = multiprocessing.get_context("spawn")  # as on Windows: nothing inherited
    start, queue = ctx.Barrier(2), ctx.Queue()
    processes = [
        ctx.Process(target=_in_process, args=(work, queue, folder, state, i, start))
        for i in range(2)
    ]
    for process in processes:
        process.start()
    try:
        return [queue.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(30)
            assert process.exitcode == 0


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_claims_at_the_same_time_are_each_granted_once_and_all_saved(tmp_path, how):
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    first, second = _run_two(how, _claim_all, folder, state)

    assert not set(first) & set(second), "a file was granted to both watchers"
    assert sorted(first + second) == sorted(KEYS)
    saved = json.loads(state_file_for(folder, state).read_text())
    assert len(saved["files"]) == len(KEYS), "an entry was lost"


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_watchers_waiting_at_the_same_time_never_take_one_file_twice(tmp_path, how):
    # The GUI's enrolment and verification panels each wait in a worker of their own.
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    for i in range(N_FILES):
        path = folder / f"scan{i:02d}.png"
        path.write_bytes(encode_png(np.full((40, 80), 100 + i, np.uint8)))
        when = time.time_ns() - (N_FILES - i) * 10**9
        os.utime(path, ns=(when, when))
    first, second = _run_two(how, _take_all, folder, state)

    assert not set(first) & set(second), "a file was taken by both watchers"
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert sorted(first + second) == sorted(p.name for p in folder.iterdir())
    saved = json.loads(state_file_for(folder, state).read_text())
    assert len(saved["files"]) == N_FILES, "an entry was lost"


@pytest.mark.skipif(sys.platform == "win32", reason="holds the lock as POSIX does")
def test_a_record_locked_elsewhere_is_waited_for_and_then_a_clear_error(tmp_path, monkeypatch):
    import fcntl

    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    state.mkdir()
    record = ProcessedRecord(folder, state_file_for(folder, state))
    key = KEYS[0]
    lock_path = state_file_for(folder, state).with_suffix(".lock")

    # Another copy of the app holds the lock for a moment: the claim waits for it.
    with open(lock_path, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        threading.Timer(0.3, fcntl.flock, (other, fcntl.LOCK_UN)).start()
        started = time.monotonic()
        assert record.claim(key, {key.name})
        assert time.monotonic() - started >= 0.25

    # One that never lets go: a clear error, not a worker that never returns.
    monkeypatch.setattr(hotfolder_record, "_LOCK_TIMEOUT_S", 0.2)
    with open(lock_path, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(CaptureError, match="locked by another copy of the app"):
            record.claim(KEYS[1], {KEYS[1].name})
    assert record.claim(KEYS[1], {KEYS[1].name})  # released: it goes through


def test_a_record_held_open_elsewhere_is_replaced_after_a_short_wait(tmp_path, monkeypatch):
    # Windows refuses os.replace while another handle has the file open.
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    real_replace, refused = os.replace, []

    def replace_when_closed(src, dst):
        if len(refused) < 2:
            refused.append(dst)
            raise PermissionError(13, "The process cannot access the file", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(hotfolder_record, "_REPLACE_PAUSE_S", 0.01)
    monkeypatch.setattr(hotfolder_record.os, "replace", replace_when_closed)
    record = ProcessedRecord(folder, state_file_for(folder, state))
    assert record.claim(KEYS[0], {KEYS[0].name})
    monkeypatch.undo()

    assert len(refused) == 2
    saved = json.loads(state_file_for(folder, state).read_text())
    assert saved["files"] == [list(KEYS[0])]
    assert [p.name for p in state.iterdir() if p.suffix == ".tmp"] == []


def test_a_folder_whose_name_is_no_utf8_has_its_own_record(tmp_path):
    # Bytes the system handed over as they were (surrogate-escaped) had raised
    # UnicodeEncodeError, and the hot folder could not be watched at all.
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/scans-\xff"))
    plain = tmp_path / "scans"
    assert state_file_for(odd, tmp_path) != state_file_for(plain, tmp_path)
    assert state_file_for(plain, tmp_path).name.startswith("hotfolder-")


def test_the_record_is_on_the_disk_before_its_name_is(tmp_path, monkeypatch):
    # Renamed into place unsynced, a power cut could leave the name on an empty file:
    # every scan still in the folder would be offered again.
    folder, state = tmp_path / "in", tmp_path / "state"
    folder.mkdir()
    real_fsync, real_replace, events = os.fsync, os.replace, []

    def fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync", st.st_ino, st.st_size))
        real_fsync(fd)

    def replace(src, dst):
        st = os.stat(src)
        events.append(("replace", st.st_ino, st.st_size))
        real_replace(src, dst)

    monkeypatch.setattr(hotfolder_record.os, "fsync", fsync)
    monkeypatch.setattr(hotfolder_record.os, "replace", replace)
    record = ProcessedRecord(folder, state_file_for(folder, state))
    assert record.claim(KEYS[0], {KEYS[0].name})
    monkeypatch.undo()

    replaced = next(i for i, e in enumerate(events) if e[0] == "replace")
    _, inode, size = events[replaced]
    assert ("fsync", inode, size) in events[:replaced]  # the whole record, synced
    if os.name == "posix":  # and then the folder that holds its new name
        assert ("fsync", state.stat().st_ino) in [e[:2] for e in events[replaced:]]
