"""The signature model in a child process, so that loading torch never freezes the GUI.

Importing torch and loading its native libraries holds Python's GIL for hundreds of
milliseconds at a time: done in a worker thread of the GUI's process, it still stalls
the window. `ModelProcessVerifier` keeps torch in a child process instead and offers
the same interface as `model.Verifier` (`VerifierLike` and more).

Only numpy arrays and plain data cross the pipe. The parent reads and preprocesses
images itself and sends canvases; the child's one job is to embed them. Scores and
decisions are pure numpy, computed here with `model.scoring` from the calibration and
thresholds the child reports once the weights are loaded. This module never imports
torch (a test checks it), nor OpenCV until images are preprocessed: loading that
library would stall the window too.

The child is started with multiprocessing's "spawn" method, the one that works on
Windows and in a PyInstaller build, whose entry point must therefore call
`multiprocessing.freeze_support()` before anything else.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

from model import errors as model_errors
from model.errors import ModelError, SigverifyError
from model.scoring import Calibration, ScoringMixin, Thresholds

if TYPE_CHECKING:
    from model.preprocess import Preprocessed

log = logging.getLogger("sigverify.services.model_process")

ImageInput = np.ndarray | str | os.PathLike
# Loading torch from a slow disk on a busy branch PC can take a minute; far beyond
# that, the child is stuck and the teller is better told so than left waiting.
READY_TIMEOUT_S = 300.0
# Canvases per message (~100 KB each): bounds the memory one message needs on both sides.
MAX_CANVASES_PER_MESSAGE = 256
STOPPED_MESSAGE = (
    "The signature model stopped unexpectedly; try again, and restart sigverify "
    "if it keeps happening."
)
FAILED_MESSAGE = "The signature model failed unexpectedly; the details are in the log file."
CLOSED_MESSAGE = "The signature model has been shut down; restart sigverify to use it."


class ModelProcessVerifier(ScoringMixin):
    """`model.Verifier`, served by a child process. Safe to call from several threads."""

    def __init__(self, weights: str | os.PathLike | None = None, device: str = "auto") -> None:
        """Start the child and wait until it has loaded the weights (None: the bundled
        ones) onto `device`; the child's `ModelError` is raised here if it cannot."""
        self._weights = None if weights is None else str(weights)
        self._requested_device = device
        # One request and its answer at a time on the pipe; also guards (re)starts.
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._closed = False
        with self._lock:
            info = self._start_child()
        self.model_id: str = info["model_id"]
        self.device: str = info["device"]
        self.device_name: str = info["device_name"]
        self.gpu_available: bool = info["gpu_available"]
        self.embedding_dim: int = int(info["embedding_dim"])
        self.calibration = Calibration.from_dict(info["calibration"])
        self.thresholds = Thresholds.from_dict(info["thresholds"])
        self.card: dict = info["card"]

    @property
    def child_pid(self) -> int | None:
        """The child process's id while one runs (for diagnostics)."""
        child = self._child
        return child.process.pid if child is not None else None

    # --- embedding: images are read and preprocessed here, the network runs in the child
    # model.verifier is imported on first use: it brings OpenCV, which the window's
    # start need not wait for.
    @staticmethod
    def preprocess(image: ImageInput) -> Preprocessed:
        from model.verifier import read_and_preprocess

        return read_and_preprocess(image)

    def embed(self, images: Sequence[ImageInput], batch_size: int | None = None) -> np.ndarray:
        """Raw scans (paths or arrays, any size) → (N, D) float32 (see `model.Verifier.embed`)."""
        from model.verifier import embed_images

        return embed_images(images, lambda canvases: self.embed_canvases(canvases, batch_size))

    def embed_canvases(
        self, canvases: Sequence[np.ndarray], batch_size: int | None = None
    ) -> np.ndarray:
        """Preprocessed canvases (float in [0, 1] or uint8) → (N, D) float32; `batch_size`
        by default the in-process verifier's (`model.verifier.ENGINE_BATCH`)."""
        if len(canvases) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        # Imported here, not at the top: it brings OpenCV (see the module docstring).
        from model.verifier import ENGINE_BATCH, float_batch

        # Whole batches per message, so that the network sees the batches it would in-process.
        batch_size = batch_size or ENGINE_BATCH
        per_message = batch_size * max(1, MAX_CANVASES_PER_MESSAGE // batch_size)
        out = []
        for start in range(0, len(canvases), per_message):
            # one contiguous float32 array crosses the pipe
            chunk = float_batch(canvases[start : start + per_message])
            out.append(self._request((chunk, batch_size)))
        return np.ascontiguousarray(np.concatenate(out), np.float32)

    # --- the child's lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Stop the child; calling again does nothing. Later calls raise `ModelError`."""
        self._closed = True
        child = self._child
        if child is not None:
            child.terminate()  # first, so that a call waiting for its answer gets EOF
        with self._lock:
            if self._child is not None:
                self._child.stop()
                self._child = None

    def _request(self, request: tuple) -> Any:
        with self._lock:
            if self._child is None:  # the last one died: this call starts another
                if self._closed:
                    raise ModelError(CLOSED_MESSAGE)
                info = self._start_child()
                if info["model_id"] != self.model_id:
                    self._child.stop()
                    self._child = None
                    raise ModelError(
                        "The signature model's weights file changed while sigverify was "
                        "running; restart sigverify."
                    )
            child = self._child
            try:
                child.conn.send(request)
                reply = child.conn.recv()
            except (EOFError, OSError) as err:
                self._child = None
                child.stop()
                if self._closed:
                    raise ModelError(CLOSED_MESSAGE) from err
                log.error("the model process %s died (exit code %s)", child.pid, child.exitcode)
                raise ModelError(STOPPED_MESSAGE) from err
        if reply[0] == "error":
            raise _rebuild_error(*reply[1:])
        return reply[1]

    def _start_child(self) -> dict:
        """Start a child and wait for its "ready" (called with the lock held)."""
        started = time.perf_counter()
        context = multiprocessing.get_context("spawn")
        parent_conn, child_conn = context.Pipe()
        process = context.Process(
            target=serve,
            args=(child_conn, self._weights, self._requested_device),
            name="sigverify-model",
            daemon=True,  # multiprocessing stops it at exit even if nothing else does
        )
        process.start()
        child_conn.close()  # our copy: without it, the child's death would not reach us
        child = _Child(process, parent_conn)
        # Stopped when this object is collected, or at interpreter exit, whichever is first.
        child.finalizer = weakref.finalize(self, child.stop)
        self._child = child
        try:
            info = self._await_ready(child)
        except BaseException:
            self._child = None
            child.stop()
            raise
        log.info("model process %s ready in %.1f s", child.pid, time.perf_counter() - started)
        return info

    def _await_ready(self, child: _Child) -> dict:
        try:
            if not child.conn.poll(READY_TIMEOUT_S):
                raise ModelError(
                    f"The signature model did not load within {READY_TIMEOUT_S:.0f} "
                    "seconds; restart sigverify."
                )
            reply = child.conn.recv()
        except (EOFError, OSError) as err:
            if self._closed:
                raise ModelError(CLOSED_MESSAGE) from err
            child.stop()  # to learn its exit code
            log.error("the model process died while loading (exit code %s)", child.exitcode)
            raise ModelError(STOPPED_MESSAGE) from err
        if reply[0] == "error":
            raise _rebuild_error(*reply[1:])
        return reply[1]


class _Child:
    """One running child process and our end of its pipe."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.pid = process.pid
        self.exitcode: int | None = None
        self.finalizer: weakref.finalize | None = None

    def terminate(self) -> None:
        if self.process.is_alive():
            self.process.terminate()

    def stop(self) -> None:
        """Terminate (the child holds nothing worth a graceful end), then clean up."""
        if self.finalizer is not None:
            self.finalizer.detach()  # done now; not again at collection or exit
        if self.process.exitcode is None:
            self.terminate()
            self.process.join(2.0)
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join(2.0)
        self.exitcode = self.process.exitcode
        self.conn.close()


def _rebuild_error(class_name: str, message: str, child_traceback: str) -> SigverifyError:
    """The child's domain error as the same class and message; anything else is a bug,
    logged with the child's traceback and reported as a `ModelError`."""
    cls = getattr(model_errors, class_name, None)
    if isinstance(cls, type) and issubclass(cls, SigverifyError):
        return cls(message)
    log.error("the model process failed:\n%s", child_traceback)
    return ModelError(FAILED_MESSAGE)


# --- the child ------------------------------------------------------------------------
def serve(conn: Connection, weights: str | None, device: str) -> None:
    """The child's main: load the weights, say "ready", then embed canvases until the
    parent terminates it or is gone (its end of the pipe closes)."""
    # Ctrl+C in a terminal reaches the whole process group; stopping is the parent's call.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("stdout", "stderr"):  # a windowless build has no streams to write to
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    try:
        from model.verifier import Verifier

        verifier = Verifier.load(weights, device=device)
        conn.send(("ready", _describe(verifier)))
    except Exception as err:
        _send(conn, _error_reply(err))
        return
    while True:
        try:
            canvases, batch_size = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple = ("ok", verifier.embed_canvases(canvases, batch_size))
        except Exception as err:
            reply = _error_reply(err)
        if not _send(conn, reply):
            return


def _describe(verifier: Any) -> dict:
    return {
        "model_id": verifier.model_id,
        "device": verifier.device,
        "device_name": verifier.device_name,
        "gpu_available": verifier.gpu_available,
        "embedding_dim": verifier.embedding_dim,
        "calibration": verifier.calibration.to_dict(),
        "thresholds": verifier.thresholds.to_dict(),
        "card": verifier.card,
    }


def _error_reply(err: BaseException) -> tuple[str, str, str, str]:
    return ("error", type(err).__name__, str(err), traceback.format_exc())


def _send(conn: Connection, message: tuple) -> bool:
    try:
        conn.send(message)
        return True
    except OSError:  # the parent is gone
        return False
