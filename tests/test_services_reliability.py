"""Reliability: bad input changes nothing, a killed enrolment leaves nothing half-done,
and two processes enrolling into one store at once both succeed without loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model.errors import SigverifyError
from model.imageio import encode_png
from sigverify_gui.services import enrol, identify, verify
from sigverify_gui.store import audit
from sigverify_gui.store.db import TEST_PAUSE_ENV, Store
from tests.fakes import FakeVerifier, store_contents, write_signatures

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reliability")
    good = write_signatures(folder, 2, 4)
    bad = {
        "zero_byte": folder / "zero.png",
        "truncated": folder / "truncated.png",
        "text_as_png": folder / "text.png",
        "blank": folder / "blank.png",
        "missing": folder / "missing.png",
    }
    bad["zero_byte"].write_bytes(b"")
    data = good[0].read_bytes()
    bad["truncated"].write_bytes(data[: len(data) // 2])
    bad["text_as_png"].write_text("Dear customer, this is a letter, not a picture.\n" * 20)
    bad["blank"].write_bytes(encode_png(np.full((300, 600), 240, np.uint8)))
    return good, bad


@pytest.mark.parametrize(
    "bad_input",
    ["zero_byte", "truncated", "text_as_png", "blank", "missing", "unknown_customer"],
)
def test_bad_input_leaves_the_store_unchanged(tmp_path, files, bad_input):
    good, bad = files
    fake = FakeVerifier()
    with Store(tmp_path / "s.db") as store:
        enrol.enrol_customer(store, fake, "A", good[:3])
        verify.verify_signature(store, fake, "A", good[3])
        before = store_contents(store)
        image = good[3] if bad_input == "unknown_customer" else bad[bad_input]
        customer = "nobody" if bad_input == "unknown_customer" else "A"
        attempts = [
            lambda: verify.verify_signature(store, fake, customer, image),
            lambda: enrol.add_references(store, fake, customer, [good[3], image]),
            lambda: identify.identify_signature(store, fake, image),
            lambda: enrol.enrol_customer(store, fake, "NEW", [good[0], image]),
        ]
        if bad_input == "unknown_customer":
            attempts = attempts[:2]
        for attempt in attempts:
            with pytest.raises(SigverifyError):
                attempt()
            assert store_contents(store) == before


_SLOW_ENROL = """
import sys
from tests.fakes import FakeVerifier
from sigverify_gui.store.db import Store
from sigverify_gui.services.enrol import enrol_customer
store = Store(sys.argv[1])
# force: the same images as customer A, and the shared-image check is not under test
enrol_customer(store, FakeVerifier(), "KILLED", sys.argv[2:], name="half done", force=True)
"""


def test_killed_mid_enrolment_leaves_no_partial_customer(tmp_path, files):
    good, _ = files
    db_path = tmp_path / "s.db"
    with Store(db_path) as store:
        enrol.enrol_customer(store, FakeVerifier(), "A", good[:3])
        before = store_contents(store)
    env = {**os.environ, TEST_PAUSE_ENV: "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_ENROL, str(db_path), *map(str, good)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pauses = 0
        deadline = time.monotonic() + 60
        while pauses < 2 and time.monotonic() < deadline:  # two rows written, inside
            line = proc.stderr.readline()
            if not line:
                break
            pauses += line.strip() == "sigverify-test-pause"
        assert pauses == 2, "the enrolment never reached its transaction"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with Store(db_path) as store:  # opens: integrity check passed
        assert store_contents(store) == before
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert audit.verify_chain(store.db).ok


_ENROL_MANY = """
import sys
from model.imageio import load_gray
from tests.fakes import FakeVerifier
from sigverify_gui.store.db import Store
from sigverify_gui.services.enrol import enrol_customer
store = Store(sys.argv[1])
prefix, count, image = sys.argv[2], int(sys.argv[3]), load_gray(sys.argv[4])
fake = FakeVerifier()
for i in range(count):  # one image for all (force): the shared-image check is not under test
    enrol_customer(store, fake, f"{prefix}{i:04d}", [image], operator=prefix, force=True)
print("done", prefix)
"""


def test_two_processes_enrol_into_one_store_at_once(tmp_path, files):
    good, _ = files
    db_path = tmp_path / "shared.db"
    Store(db_path).close()
    count = 200
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ENROL_MANY, str(db_path), prefix, str(count), str(good[0])],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("P", "Q")
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    with Store(db_path) as store:
        contents = store_contents(store)
        ids = [c["customer_id"] for c in contents["customers"]]
        assert len(ids) == 2 * count
        assert {i[0] for i in ids} == {"P", "Q"}
        assert len(contents["refs"]) == 2 * count
        assert [r["kind"] for r in contents["audit_log"]] == ["enrolment"] * (2 * count)
        # Both writers appended to one unbroken chain.
        assert audit.verify_chain(store.db).ok
        operators = [r["operator"] for r in contents["audit_log"]]
        assert operators.count("P") == count and operators.count("Q") == count
