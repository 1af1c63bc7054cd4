"""One way for long work to report progress and to be cancelled.

Long operations (training, enrolling a folder, re-embedding) take a `Progress`
and call `progress.update(done, total, text)`. The CLI passes a terminal bar, the
GUI a bridge to its progress dialog, tests a `NullProgress`. Cancellation is
asked for by the consumer and noticed by the worker at its next `update`, which
raises `CancelledError`, so work always stops at a safe point.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from model.errors import CancelledError


class Progress(Protocol):
    def update(self, done: int, total: int, text: str = "") -> None: ...


class NullProgress:
    """Progress that shows nothing but still honours cancellation."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def update(self, done: int, total: int, text: str = "") -> None:
        if self.cancelled:
            raise CancelledError("The operation was cancelled.")


class TerminalProgress(NullProgress):
    """A one-line bar on stderr, redrawn at most ten times a second.

    When stderr is not a terminal (a log file, CI) the bar would be thousands of
    carriage returns, so it prints a plain line every 10% instead.
    """

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        super().__init__()
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._last_draw = 0.0
        self._start = time.monotonic()
        self._interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def update(self, done: int, total: int, text: str = "") -> None:
        super().update(done, total, text)
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not self._interactive:
            decile = int(10 * done / total) if total > 0 else 0
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{self.label}: {done}/{total} {text}\n")
                self.stream.flush()
            return
        if not finished and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        frac = min(1.0, done / total) if total > 0 else 0.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self._start
        line = f"\r{self.label} [{bar}] {done}/{total} {elapsed:5.0f}s {text}"
        self.stream.write(line[:160].ljust(80))
        if finished:
            self.stream.write("\n")
        self.stream.flush()
