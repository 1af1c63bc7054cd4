"""The model served by a child process answers exactly as `model.Verifier` does.

One child (a tiny, untrained network: the numbers only need to be compared, not to
be good) serves most tests: spawning one imports torch, which takes seconds.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from model.checkpoint import Checkpoint, save_checkpoint
from model.errors import BlankImageError, ImageTooLargeError, ModelError
from model.imageio import encode_png
from model.network import NetworkConfig, build_network
from model.preprocess import CANVAS_HW
from model.scoring import Calibration, Thresholds
from model.verifier import Verifier
from sigverify_gui.services import model_process
from sigverify_gui.services.model_process import ModelProcessVerifier
from sigverify_gui.services.verifier_protocol import VerifierLike

REPO = Path(__file__).resolve().parents[1]
TINY = NetworkConfig(widths=(8, 16, 16, 32), embedding_dim=16)


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    torch.manual_seed(7)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    save_checkpoint(
        path,
        Checkpoint(
            state_dict=build_network(TINY).state_dict(),
            config=TINY,
            calibration=Calibration(a=12.0, b=-8.5, k=2),
            thresholds=Thresholds(accept=0.8, reject=0.35),
            training={"data": {"sources": ["synthetic"]}},
            metrics={"eer": 0.5},
        ),
    )
    return path


@pytest.fixture(scope="module")
def reference(weights) -> Verifier:
    return Verifier.load(weights, device="cpu")


@pytest.fixture(scope="module")
def proxy(weights):
    served = ModelProcessVerifier(weights, device="cpu")
    yield served
    served.close()


def _scan(seed: int) -> np.ndarray:
    """A white page with a random dark scrawl on it."""
    rng = np.random.default_rng(seed)
    page = np.full((300, 640), 235, np.uint8)
    points = np.cumsum(rng.integers(-40, 41, size=(12, 2)), axis=0) + (320, 150)
    cv2.polylines(page, [points.astype(np.int32)], False, 30, thickness=4)
    return page


def _canvases(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random(CANVAS_HW, dtype=np.float32) for _ in range(n)]


def test_it_describes_the_same_model(proxy, reference):
    assert isinstance(proxy, VerifierLike)
    assert proxy.model_id == reference.model_id
    assert (proxy.device, proxy.device_name) == (reference.device, reference.device_name)
    assert proxy.gpu_available == reference.gpu_available
    assert proxy.embedding_dim == reference.embedding_dim == 16
    assert proxy.calibration == reference.calibration
    assert proxy.thresholds == reference.thresholds
    assert (proxy.t_accept, proxy.t_reject) == (0.8, 0.35)
    assert proxy.card == reference.card


def test_embeddings_equal_the_in_process_verifiers(proxy, reference, tmp_path):
    canvases = _canvases(3)
    canvases.append((canvases[0] * 255).astype(np.uint8))  # uint8 canvases are scaled
    np.testing.assert_allclose(
        proxy.embed_canvases(canvases), reference.embed_canvases(canvases), atol=1e-5
    )
    # Paths are read and preprocessed in the parent; more than 8 go through its pool.
    scans: list = [_scan(seed) for seed in range(9)]
    scans[0] = tmp_path / "scan.png"
    scans[0].write_bytes(encode_png(_scan(0)))
    got = proxy.embed(scans)
    assert got.shape == (9, 16) and got.dtype == np.float32
    np.testing.assert_allclose(got, reference.embed(scans), atol=1e-5)
    np.testing.assert_array_equal(
        proxy.preprocess(scans[1]).canvas, Verifier.preprocess(scans[1]).canvas
    )
    assert proxy.embed_canvases([]).shape == (0, 16)
    assert proxy.embed([]).shape == (0, 16)


def test_images_are_read_a_chunk_at_a_time_as_in_process(proxy, reference, monkeypatch):
    import model.verifier as mv

    read = []
    whole = mv.canvases_of
    monkeypatch.setattr(mv, "READ_CHUNK", 2)
    monkeypatch.setattr(mv, "canvases_of", lambda images: read.append(len(images)) or whole(images))
    scans = [_scan(seed) for seed in range(5)]
    got = proxy.embed(scans)
    assert read == [2, 2, 1]
    np.testing.assert_allclose(got, reference.embed(scans), atol=1e-5)


def test_large_requests_are_split_into_whole_batches(proxy, reference, monkeypatch):
    monkeypatch.setattr(model_process, "MAX_CANVASES_PER_MESSAGE", 2)
    canvases = _canvases(5, seed=1)
    np.testing.assert_allclose(
        proxy.embed_canvases(canvases, batch_size=2),
        reference.embed_canvases(canvases, batch_size=2),
        atol=1e-5,
    )


def test_scores_and_decisions_equal_the_in_process_verifiers(proxy, reference):
    refs = reference.embed_canvases(_canvases(4, seed=2))
    queries = reference.embed_canvases(_canvases(4, seed=3))[:2]
    np.testing.assert_array_equal(proxy.scores(refs, queries), reference.scores(refs, queries))
    assert proxy.score(refs, queries[0]) == reference.score(refs, queries[0])
    np.testing.assert_array_equal(
        proxy.reference_scores(refs, queries[0]), reference.reference_scores(refs, queries[0])
    )
    np.testing.assert_array_equal(
        proxy.raw_similarity(refs, queries), reference.raw_similarity(refs, queries)
    )
    for score in (0.1, 0.35, 0.5, 0.8, 0.95):
        assert proxy.decide(score) == reference.decide(score)
        assert proxy.decide(score, 0.9, None) == reference.decide(score, 0.9, None)
        assert proxy.decide(score, None, 0.2) == reference.decide(score, None, 0.2)
    with pytest.raises(ModelError, match="no reference signatures"):
        proxy.scores(np.zeros((0, 16), np.float32), queries)


def test_calls_from_several_threads_each_get_their_own_answer(proxy, reference):
    batches = [_canvases(4, seed=10 + i) for i in range(4)]
    results: dict[int, np.ndarray] = {}

    def embed(i: int) -> None:
        results[i] = proxy.embed_canvases(batches[i])

    threads = [threading.Thread(target=embed, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for i, batch in enumerate(batches):
        np.testing.assert_allclose(results[i], reference.embed_canvases(batch), atol=1e-5)


def test_an_unexpected_failure_in_the_child_is_logged_and_reported(proxy, caplog):
    # Far too small for the network's pooling: torch raises a RuntimeError in the child.
    with pytest.raises(ModelError) as caught:
        proxy.embed_canvases([np.zeros((2, 2), np.float32)])
    assert str(caught.value) == model_process.FAILED_MESSAGE
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    assert proxy.embed_canvases(_canvases(1)).shape == (1, 16)  # the child carries on


def test_a_child_that_dies_is_reported_and_the_next_call_restarts_it(proxy, reference):
    pid = proxy.child_pid
    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    deadline = time.monotonic() + 10
    while pid in [p.pid for p in multiprocessing.active_children()]:
        assert time.monotonic() < deadline, "the child did not die"
        time.sleep(0.02)
    with pytest.raises(ModelError, match="stopped unexpectedly"):
        proxy.embed_canvases(_canvases(1))
    assert proxy.child_pid is None
    canvases = _canvases(4, seed=4)
    np.testing.assert_allclose(
        proxy.embed_canvases(canvases), reference.embed_canvases(canvases), atol=1e-5
    )
    assert proxy.child_pid not in (None, pid)


def test_a_load_error_comes_back_as_the_same_class_and_message(weights, tmp_path):
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(ModelError) as expected:
        Verifier.load(damaged, device="cpu")
    before = {p.pid for p in multiprocessing.active_children()}  # the shared proxy's
    with pytest.raises(ModelError) as got:
        ModelProcessVerifier(damaged, device="cpu")
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)
    assert {p.pid for p in multiprocessing.active_children()} <= before  # it is gone


@pytest.mark.parametrize("cls", [ModelError, BlankImageError, ImageTooLargeError])
def test_domain_errors_are_rebuilt_by_name_and_others_become_model_errors(cls, caplog):
    # What the child sends for an error: its class's name, message and traceback.
    rebuilt = model_process._rebuild_error(cls.__name__, "One sentence.", "Traceback: ...")
    assert type(rebuilt) is cls and str(rebuilt) == "One sentence."
    assert not caplog.records
    for name in ("RuntimeError", "Path", "SigverifyErrorX"):
        other = model_process._rebuild_error(name, "CUDA out of memory", "Traceback: here")
        assert type(other) is ModelError and str(other) == model_process.FAILED_MESSAGE
    assert "Traceback: here" in caplog.text


# Run in a fresh interpreter: this test module itself imports torch.
_TORCH_FREE_PARENT = """
import json, multiprocessing, sys
import numpy as np
from model.errors import BlankImageError, ImageTooLargeError, ModelError
from model.preprocess import CANVAS_HW
from sigverify_gui.services.model_process import ModelProcessVerifier

verifier = ModelProcessVerifier(sys.argv[1], device="cpu")
embeddings = verifier.embed([sys.argv[2]])
score = verifier.score(embeddings, embeddings[0])
decision = verifier.decide(score)
verifier.close()
verifier.close()
try:
    verifier.embed_canvases([np.zeros(CANVAS_HW, np.float32)])
    refused = ""
except ModelError as err:
    refused = str(err)
print(json.dumps({
    "torch": "torch" in sys.modules,
    "embeddings": embeddings.tolist(),
    "score": score,
    "decision": decision,
    "children": len(multiprocessing.active_children()),
    "refused": refused,
}))
"""


def test_the_parent_never_imports_torch_and_close_stops_the_child(weights, reference, tmp_path):
    scan = tmp_path / "scan.png"
    scan.write_bytes(encode_png(_scan(5)))
    result = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE_PARENT, str(weights), str(scan)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["torch"] is False
    expected = reference.embed([scan])
    np.testing.assert_allclose(np.array(out["embeddings"], np.float32), expected, atol=1e-5)
    assert out["score"] == pytest.approx(reference.score(expected, expected[0]), abs=1e-5)
    assert out["decision"] == reference.decide(out["score"])
    assert out["children"] == 0  # close() stopped the child, and twice did no harm
    assert out["refused"] == model_process.CLOSED_MESSAGE
