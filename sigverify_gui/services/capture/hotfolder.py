"""A hot folder: the folder a networked scanner saves into, watched by polling.

A scanner writes a file in chunks, sometimes over seconds, so a file is taken only once
its size and modification time have not changed for `settle_seconds`. Until then, and
for names that only ever hold half-written data (`.part`, `.tmp`, `~$x`, dotfiles) or
that are not images, it is left alone; a file renamed into place (`x.part` -> `x.png`)
is therefore taken once, whole. Polling needs no extra dependency and works on network
shares, where change notifications are unreliable.

Use from one thread (the GUI's worker): `poll()` returns what completed since the last
call; `wait_for_next(timeout, cancel)` and `capture(cancel)` block for the next one and
take only that one, so a file is never marked taken without being handed out. Settled
files are taken oldest first, or newest first (`newest_first`) for a teller who has
just scanned and expects that scan: then a newer file still being written is waited
for rather than passed over for an older one. `max_age_seconds` offers only files that
arrived recently, so leftovers are left alone; `queued()` and `left_alone()` count the
files not taken. A capture's `source` names the file and when it was saved.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from model.errors import (
    CaptureError,
    EmptyFileError,
    ImageError,
    ImageTooLargeError,
    TruncatedImageError,
    os_reason,
)
from sigverify_gui.services.capture.base import Capture, check_cancel
from sigverify_gui.services.capture.files import (
    IMAGE_EXTENSIONS,
    UnreadableFileError,
    describe_scan,
    read_capture,
)
from sigverify_gui.services.capture.hotfolder_record import (
    FileKey,
    ProcessedRecord,
    state_file_for,
)

log = logging.getLogger("sigverify.capture.hotfolder")

# Suffixes browsers, copy tools and scanner software give files still being written.
TEMP_SUFFIXES = frozenset({".tmp", ".temp", ".part", ".partial", ".crdownload", ".download"})
PROCESSED_DIR = "processed"
# How long a settled file that still reads as cut short is waited for before it is
# reported as damaged: a scanner on a slow network pauses longer than the settle time,
# and Windows' client for file shares shows a file's size and time up to about 10 s
# late, so a file still being written can look settled.
DAMAGED_PATIENCE_S = 15.0

RejectHandler = Callable[[Exception], None]


def is_candidate_name(name: str) -> bool:
    """Could a file of this name be a finished scan? (Temporary and hidden files: no.)"""
    if name.startswith((".", "~")):  # dotfiles, "._x" from macOS, "~$x" Office locks
        return False
    suffix = os.path.splitext(name)[1].lower()
    return suffix not in TEMP_SUFFIXES and suffix in IMAGE_EXTENSIONS


@dataclass
class _Pending:
    key: FileKey
    since: float  # monotonic time the file was first seen with this size and mtime
    # Wall time of the look before the one that first saw it so (None at the first look):
    # it arrived or changed after then, whatever its modification time says.
    arrived_after: float | None
    cut_short_since: float | None = None  # when it first read as cut short

    @property
    def order(self) -> tuple[int, str]:
        return (self.key.mtime_ns, self.key.name)

    def age(self, now: float, clock_offset: float = 0.0) -> float:
        """Seconds since it arrived, as far as can be told: since its modification time
        (on the share's clock, `clock_offset` ahead of ours), or since the last look that
        did not see it when that is later (a file copied in keeps its old time; one seen
        arriving is new whatever the share's clock says)."""
        modified = self.key.mtime_ns / 1e9 - clock_offset
        return now - max(modified, self.arrived_after or 0.0)


def share_clock_offset(folder: Path) -> float:
    """Seconds by which the clock that dates files in `folder` is ahead of this
    computer's: that of the file server (or the scanner) writing there. Measured by
    creating and removing a hidden file; 0 when the folder cannot be written.

    "Saved in the last 10 minutes" must be judged on that clock: a server 15 minutes
    behind would hide every fresh scan at the first look, one 15 minutes ahead offer
    leftovers as fresh.
    """
    probe = folder / f".sigverify-clock-{os.getpid()}-{threading.get_ident()}"
    try:
        before = time.time()
        probe.write_bytes(b"")
        after = time.time()
        written = probe.stat().st_mtime
    except OSError:
        return 0.0
    finally:
        with contextlib.suppress(OSError):  # the share went away: nothing to clean
            probe.unlink(missing_ok=True)
    offset = written - (before + after) / 2
    # Within a few seconds is one clock (file times are coarse, 2 s on some shares).
    return offset if abs(offset) > 5.0 else 0.0


class HotFolder:
    """Captures each new, completely written image file in `folder` once (a file of
    several pages is refused, as other unusable files are).

    `state_dir`: where to keep the record of files taken (a JSON file per hot folder),
    so that restarting the app does not offer them again; None keeps it in memory.
    `move_processed`: move each taken file into `folder/processed/` (files that are not
    usable pictures stay where they are, so someone notices them).
    `skip_existing`: treat files already in the folder at start as taken.
    `newest_first`: when several files are ready, take the newest first, and wait for
    a newer one still being written (meant with `max_age_seconds`, which bounds how
    long a newer file that never settles, an unreadable one, holds up the others).
    `max_age_seconds`: offer only files that arrived within this many seconds (None:
    any); older ones not taken are left alone, neither taken nor recorded.
    `on_reject`: called by `poll()` with the error for a file that settled but is not a
    usable picture (default: logged); `wait_for_next` raises it instead.
    `damaged_patience`: seconds a settled file that reads as cut short is waited for.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        state_dir: str | os.PathLike | None = None,
        settle_seconds: float = 1.0,
        poll_interval: float = 0.25,
        move_processed: bool = False,
        skip_existing: bool = False,
        newest_first: bool = False,
        max_age_seconds: float | None = None,
        on_reject: RejectHandler | None = None,
        damaged_patience: float = DAMAGED_PATIENCE_S,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CaptureError(
                f"The scan folder '{self.folder}' does not exist or is not a folder."
            )
        self.settle_seconds = settle_seconds
        self.poll_interval = poll_interval
        self.move_processed = move_processed
        self.newest_first = newest_first
        self.max_age_seconds = max_age_seconds
        self.on_reject = on_reject
        self.damaged_patience = damaged_patience
        self.max_per_poll = 10
        state_path = None if state_dir is None else state_file_for(self.folder, Path(state_dir))
        self.record = ProcessedRecord(self.folder, state_path)
        self._pending: dict[str, _Pending] = {}
        self._ready: deque[Capture | Exception] = deque()
        self._present: set[str] = set()
        self._listed: list[FileKey] = []
        self._last_look: float | None = None  # wall time of the last listing
        self._clock_offset: float | None = None  # the share's clock (`share_clock_offset`)
        if skip_existing:
            self.record.add(self._list(), self._present)

    @property
    def description(self) -> str:
        return f"scan folder '{self.folder}'"

    # --- taking files ---------------------------------------------------------------
    def poll(self) -> list[Capture]:
        """Captures of the files that completed since the last call, in the folder's
        order; at most `max_per_poll` of them, the others come with the next calls."""
        self._scan(self.max_per_poll)
        captures = []
        while self._ready:
            item = self._ready.popleft()
            if isinstance(item, Capture):
                captures.append(item)
            elif self.on_reject is not None:
                self.on_reject(item)
            else:
                log.warning("hot folder %s: %s", self.folder, item)
        return captures

    def wait_for_next(
        self, timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Capture | None:
        """The next completed file's capture; None after `timeout` seconds without one.

        Raises `CancelledError` once `cancel` is set, the file's `ImageError` when it is
        not a usable picture, `CaptureError` when the folder cannot be read.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            check_cancel(cancel, "Waiting for a scan")
            if not self._ready:
                self._scan(1)
            if self._ready:
                item = self._ready.popleft()
                if isinstance(item, Exception):
                    raise item
                return item
            pause = self.poll_interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                pause = min(pause, remaining)
            if cancel is not None:
                cancel.wait(pause)  # wakes at once when cancelled
            else:
                time.sleep(pause)

    def capture(self, cancel: threading.Event | None = None) -> Capture:
        """Wait, without a time limit, for the next scan saved into the folder."""
        result = self.wait_for_next(None, cancel)
        assert result is not None  # no timeout: only a capture or an exception ends it
        return result

    def queued(self) -> int:
        """Files seen in the folder at the last look, not taken yet and recent enough
        (some may still be being written): what the next calls will offer. Empty files
        are not counted: until something is written into them they are never taken."""
        return sum(1 for p in self._untaken() if self._is_recent(p)) + len(self._ready)

    def left_alone(self) -> int:
        """Files seen at the last look, not taken, and too old to be offered."""
        return sum(1 for p in self._untaken() if not self._is_recent(p))

    def _untaken(self) -> list[_Pending]:
        """The files of the last look not taken yet (empty ones never are, until written)."""
        found = []
        for key in self._listed:
            pending = self._pending.get(key.name)
            if pending and pending.key == key and key.size > 0 and key not in self.record:
                found.append(pending)
        return found

    def _is_recent(self, pending: _Pending) -> bool:
        if self.max_age_seconds is None:
            return True
        if self._clock_offset is None:  # measured once, when first needed
            self._clock_offset = share_clock_offset(self.folder)
            if self._clock_offset:
                log.info("scan folder clock is %+.0f s from this computer's", self._clock_offset)
        now = self._last_look or time.time()
        return pending.age(now, self._clock_offset) <= self.max_age_seconds

    # --- one pass over the folder -----------------------------------------------------
    def _list(self) -> list[FileKey]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError as err:
            raise CaptureError(
                f"The scan folder '{self.folder}' cannot be read ({os_reason(err)}); "
                "check that it is still connected."
            ) from err
        keys = []
        for entry in entries:
            if not is_candidate_name(entry.name):
                continue
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:  # deleted or renamed since the listing: not there any more
                continue
            keys.append(FileKey(entry.name, st.st_size, st.st_mtime_ns))
        self._present = {k.name for k in keys}
        self._listed = keys
        return keys

    def _scan(self, limit: int) -> None:
        """Take up to `limit` settled, recent files, in the folder's order."""
        now = time.monotonic()
        settled, writing = [], []
        self.record.reload()
        previous_look = self._last_look
        keys = self._list()
        self._last_look = time.time()
        for key in keys:
            if key in self.record:
                continue
            pending = self._pending.get(key.name)
            if pending is None or pending.key != key:  # new, or still being written
                pending = self._pending[key.name] = _Pending(key, now, previous_look)
                writing.append(pending)
            elif key.size > 0 and now - pending.since >= self.settle_seconds:
                settled.append(pending)
            else:
                writing.append(pending)
        for name in set(self._pending) - self._present:
            del self._pending[name]
        settled = [p for p in settled if self._is_recent(p)]
        settled.sort(key=lambda p: p.order, reverse=self.newest_first)
        if self.newest_first and settled:
            newest = settled[0].order
            if any(p.order > newest and self._is_recent(p) for p in writing):
                return  # the scan just made is still being written: it is the one wanted
        # A bounded batch: a folder full of old scans must not be decoded (and held
        # in memory) all at once; the rest stay settled and come in the next passes.
        taken = 0
        for pending in settled:
            if taken >= limit:
                break
            if self._take(pending, now):
                taken += 1
            elif self.newest_first:
                # The newest scan cannot be taken yet (in use by its writer, or cut
                # short so far): an older one is someone else's, so wait for this one.
                return
            # Oldest first, one not readable yet must not hold up the others.

    def _take(self, pending: _Pending, now: float) -> bool:
        """Try to take one settled file; True when it was taken or rejected, False
        when it should be tried again later."""
        key = pending.key
        path = self.folder / key.name
        try:
            source = describe_scan(key.name, key.mtime_ns)
            capture = read_capture(path, source=source, one_page=True)  # a signature
            if self._looks_unfinished(capture, pending, now):
                raise TruncatedImageError(f"The file '{key.name}' is damaged or cut short.")
            unchanged = self._key_of(path) == key
        except UnreadableFileError as err:  # no permission: waiting will not change it
            return self._reject(key, err)
        except CaptureError as err:  # in use by the writer (Windows), or just removed
            log.info("hot folder: %s not readable yet: %s", key.name, err)
            pending.since = now
            return False
        except (TruncatedImageError, EmptyFileError) as err:
            return self._cut_short_so_far(pending, path, now, err)
        except ImageTooLargeError as err:  # waiting will not make it smaller
            return self._reject(key, err)
        except ImageError as err:  # no picture, or not yet: sized first, filled in after
            if _not_filled_in_yet(path):
                return self._cut_short_so_far(pending, path, now, err)
            return self._reject(key, err)
        if not unchanged:  # written to while we read it: wait for it to settle again
            return False
        del self._pending[key.name]
        if not self.record.claim(key, self._present):
            return False  # another watcher of this folder took it while we read it
        self._ready.append(capture)
        log.info("hot folder: took %s (%d bytes)", key.name, key.size)
        if self.move_processed:
            self._move_to_processed(path)
        return True

    def _looks_unfinished(self, capture: Capture, pending: _Pending, now: float) -> bool:
        if _ends_whole(capture, pending.key.name):
            return False
        if _is_markerless(pending.key.name) and pending.cut_short_since is not None:
            # A TIFF or BMP left as it is for the whole patience is taken: a scan whose
            # edge is pure black (a black lid) ends in zeros too. A PNG or JPEG without
            # its end marker is damaged, and is reported (`_cut_short_so_far`).
            return now - pending.cut_short_since < self.damaged_patience
        return True

    def _cut_short_so_far(self, pending: _Pending, path: Path, now: float, err: ImageError) -> bool:
        """A file that reads as cut short: waited for (`damaged_patience`), then
        rejected; as `_take`, True when rejected."""
        if self._key_of(path) != pending.key:  # still being written after all
            return False
        if pending.cut_short_since is None:
            pending.cut_short_since = now
        if now - pending.cut_short_since < self.damaged_patience:
            pending.since = now
            return False
        return self._reject(pending.key, err)

    def _reject(self, key: FileKey, err: Exception) -> bool:
        """Record a file that is no usable picture, so it is not retried until it
        changes, and report it; False when another watcher did so first (it reports
        it)."""
        self._pending.pop(key.name, None)
        if not self.record.claim(key, self._present):
            return False
        self._ready.append(err)
        return True

    @staticmethod
    def _key_of(path: Path) -> FileKey | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return FileKey(path.name, st.st_size, st.st_mtime_ns)

    def _move_to_processed(self, path: Path) -> None:
        target_dir = self.folder / PROCESSED_DIR
        stem, suffix = os.path.splitext(path.name)
        try:
            target_dir.mkdir(exist_ok=True)
            target = target_dir / path.name
            n = 1
            while target.exists():  # never overwrite an earlier scan of the same name
                target = target_dir / f"{stem}-{n}{suffix}"
                n += 1
            os.rename(path, target)
        except OSError as err:
            # The record still keeps the file from being taken twice.
            log.warning("hot folder: could not move %s to %s: %s", path, target_dir, err)


# Formats without an end marker. Sized first and filled in after, such a file ends in
# zeros until it is done; its directory (TIFF) or its first rows (a BMP is stored
# bottom up) may be among them.
_NO_END_MARKER = (".tif", ".tiff", ".bmp")
_UNWRITTEN_TAIL = 1024  # trailing zero bytes: more than any whole file ends with
_TAIL_READ = 64 * 1024


def _not_filled_in_yet(path: Path) -> bool:
    """Whether a file that does not decode (or decodes as unsupported) may still be
    being filled in: zeros where every picture format has its signature (the header
    is yet to come), or, in a format without an end marker, a long run of zeros at
    the end."""
    if not path.is_file():  # opening a named pipe would wait for its writer
        return False
    try:
        with path.open("rb") as f:
            start = f.read(64)
            f.seek(max(0, path.stat().st_size - _TAIL_READ))
            tail = f.read(_TAIL_READ)
    except OSError:
        return False
    if bool(start) and not start.strip(b"\0"):
        return True
    return _is_markerless(path.name) and _zero_tail(tail)


def _is_markerless(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in _NO_END_MARKER


def _zero_tail(data: bytes) -> bool:
    return len(data) - len(data.rstrip(b"\0")) >= _UNWRITTEN_TAIL


def _ends_whole(capture: Capture, name: str) -> bool:
    """Whether a file that decoded is whole. A scanner that sizes its file first and
    fills it in after leaves zeros at the end, which decode without an error as a
    picture partly black. PNG and JPEG must end with their end marker; padding after
    it is allowed: zeros, a line end that some scanners' firmware writes, and (after a
    JPEG's) 0xFF fill bytes; a whole file so padded was waited on and then refused as
    cut short. TIFF and BMP have no end marker: one that ends in a long run of zeros
    while a band of rows at the top or the bottom of the picture is pure black (real
    scans end in paper) looks unfinished (`HotFolder._looks_unfinished`)."""
    data = capture.original
    if data is None:
        return True
    suffix = os.path.splitext(name)[1].lower()
    if suffix == ".png":
        return data.rstrip(b"\0\r\n")[-8:-4] == b"IEND"
    if suffix in (".jpg", ".jpeg"):
        return data.rstrip(b"\0\r\n\xff").endswith(b"\xff\xd9")
    if suffix in _NO_END_MARKER and _zero_tail(data[-_TAIL_READ:]):
        band = max(1, capture.gray.shape[0] // 50)
        return bool(capture.gray[:band].any() and capture.gray[-band:].any())
    return True
