"""The installation self-test: does this copy of sigverify work, end to end, here?

IT runs it after installing (`sigverify self-test`, or the executable's `--self-test`):
load the model, open a throw-away store, enrol a synthetic customer from five genuine
renderings, then verify one more genuine rendering and one skilled forgery. The
report says which step failed, how long each took and what the model answered.

It checks that the pieces run together, not how good the model is: `ok` needs every
step to succeed and the genuine signature to score above the forgery, but no
particular decision (a weaker model may well "refer" both).

Nothing is written outside a temporary folder, removed afterwards; the user's own
store is never opened.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import SigverifyError
from sigverify_gui import __version__

log = logging.getLogger("sigverify.services.selftest")

CUSTOMER_ID = "SELFTEST-0001"
REFERENCES = 5
# Fixed, so that every installation draws the same signatures and results compare.
WRITER_SEED = 20240917


@dataclass
class _Run:
    """The report being filled in, step by step."""

    weights: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    failed_step: str | None = None
    error: str | None = None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except SigverifyError as err:  # the environment's fault: its message says it all
            log.warning("self-test step %s failed: %s", name, err)
            self._fail(name, str(err))
            raise _StepFailed from err
        except Exception as err:
            # The self-test's whole purpose is to say what broke: report it instead of
            # raising, and keep the traceback in the log file for IT.
            log.exception("self-test step %s failed", name)
            self._fail(name, f"{type(err).__name__}: {err}")
            raise _StepFailed from err
        finally:
            self.timings_ms[name] = round((time.perf_counter() - start) * 1000.0, 1)

    def _fail(self, name: str, error: str) -> None:
        self.failed_step, self.error = name, error


class _StepFailed(Exception):
    """Internal: unwinds the remaining steps once one has failed."""


def run_self_test(
    weights: str | Path | None = None,
    device: str = "auto",
    load_verifier: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Run every step once and return the report (see the module docstring).

    `weights` None means the bundled model; `load_verifier(weights, device=...)`
    defaults to the services' one factory (`runtime.load_verifier`).
    """
    if load_verifier is None:
        from sigverify_gui.services import runtime

        load_verifier = runtime.load_verifier
    run = _Run(weights=str(weights) if weights is not None else "bundled")
    report: dict[str, Any] = {"ok": False, "version": __version__}
    total_start = time.perf_counter()
    with suppress(_StepFailed):  # the failed step is recorded in `run`
        _run_steps(run, report, weights, device, load_verifier)
    report["timings_ms"] = {**run.timings_ms, "total": _ms_since(total_start)}
    report["failed_step"] = run.failed_step
    report["error"] = run.error
    genuine, forgery = report.get("genuine"), report.get("forgery")
    report["ok"] = bool(
        run.failed_step is None and genuine and forgery and genuine["score"] > forgery["score"]
    )
    if run.failed_step is None and not report["ok"]:
        report["error"] = "The genuine signature did not score higher than the forgery."
    log.info(
        "self-test %s in %.0f ms", "passed" if report["ok"] else "FAILED",
        report["timings_ms"]["total"],
    )  # fmt: skip
    return report


def _run_steps(
    run: _Run,
    report: dict[str, Any],
    weights: str | Path | None,
    device: str,
    load_verifier: Callable[..., Any],
) -> None:
    from sigverify_gui.services.captures import Capture
    from sigverify_gui.services.enrol import enrol_customer
    from sigverify_gui.services.verify import verify_signature
    from sigverify_gui.store.db import Store

    report.update(weights=run.weights, device=None, device_name=None, model_id=None)
    with run.step("load"):
        verifier = load_verifier(Path(weights) if weights is not None else None, device=device)
        report.update(
            device=verifier.device,
            device_name=verifier.device_name,
            engine=getattr(verifier, "engine", None),  # "torch" or "opencv"
            model_id=verifier.model_id,
        )
    with run.step("synth"):
        references, genuine, forgery = _synthetic_signatures()
    # ignore_cleanup_errors: on Windows a virus scanner may still hold a file; a
    # leftover temporary folder must not turn a working installation into a failure.
    scratch = tempfile.TemporaryDirectory(prefix="sigverify-selftest-", ignore_cleanup_errors=True)
    with scratch as tmp:
        with run.step("store"):
            store = Store(Path(tmp) / "selftest.db")
        with store:
            with run.step("enrol"):
                # force: the consistency check judges the model, not the installation
                enrol_customer(
                    store, verifier, CUSTOMER_ID,
                    [Capture(img, source=f"synthetic reference {i + 1}")
                     for i, img in enumerate(references)],
                    name="Self-test", force=True, operator="self-test",
                )  # fmt: skip
            report["references"] = len(references)
            for name, image in (("genuine", genuine), ("forgery", forgery)):
                with run.step(f"verify_{name}"):
                    result = verify_signature(
                        store, verifier, CUSTOMER_ID,
                        Capture(image, source=f"synthetic {name}"), operator="self-test",
                    )  # fmt: skip
                report[name] = {"score": result.score, "decision": result.decision}


def _synthetic_signatures():
    """Five genuine references, one more genuine and one skilled forgery of one writer."""
    import numpy as np

    from model.synth import make_writer, render_forgery, render_genuine

    writer = make_writer(WRITER_SEED)
    rng = np.random.default_rng(WRITER_SEED)
    references = [render_genuine(writer, rng) for _ in range(REFERENCES)]
    return references, render_genuine(writer, rng), render_forgery(writer, rng)


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)
