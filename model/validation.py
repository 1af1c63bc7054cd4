"""Validation during training, and fitting the score calibration at its end.

Both run the evaluation protocol of `model.evaluate` on validation writers held in
memory as canvases: the protocol's "paths" are simply row numbers of the canvas set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.evaluate import QueryScores, pooled, score_protocol, summarize
from model.metrics import eer
from model.scoring import (
    REFERENCE_CENTRING,
    Calibration,
    calibrated,
    choose_thresholds,
    fit_calibration,
    raw_similarity,
    self_similarity,
)
from model.training_data import CanvasSet

VALIDATION_REFS = 5
SCORE_K = 2  # best reference similarities averaged by the match score


@dataclass(frozen=True)
class _RowWriter:
    writer: str
    genuine: tuple[int, ...]
    forged: tuple[int, ...]


@dataclass(frozen=True)
class _RowDataset:
    writers: tuple[_RowWriter, ...]


def as_protocol_dataset(cset: CanvasSet) -> _RowDataset:
    """The canvas set as the protocol's data set, with row numbers for paths."""
    writers = []
    for w, name in enumerate(cset.writer_names):
        rows = np.flatnonzero(cset.writer == w)
        genuine = tuple(int(r) for r in rows if not cset.forged[r])
        forged = tuple(int(r) for r in rows if cset.forged[r])
        writers.append(_RowWriter(name, genuine, forged))
    return _RowDataset(tuple(writers))


@torch.inference_mode()
def embed_canvases(
    net: torch.nn.Module, canvases: np.ndarray, device: torch.device, batch: int = 128
) -> np.ndarray:
    """uint8 or float canvases (N, H, W) → embeddings (N, D) float32."""
    net.eval()
    out = []
    for i in range(0, len(canvases), batch):
        chunk = np.asarray(canvases[i : i + batch])
        x = torch.from_numpy(chunk.astype(np.float32) / (255.0 if chunk.dtype == np.uint8 else 1.0))
        with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            out.append(net(x[:, None].to(device)).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1), np.float32)


def raw_protocol_scores(net, cset: CanvasSet, device) -> tuple[QueryScores, float]:
    """The protocol's raw (centred, uncalibrated) scores, and the median similarity among
    a writer's references (what stands in for it when a customer has only one)."""
    emb = embed_canvases(net, cset.canvases, device)
    dataset = as_protocol_dataset(cset)
    own = [
        self_similarity(emb[list(w.genuine[:VALIDATION_REFS])])
        for w in dataset.writers
        if len(w.genuine) > VALIDATION_REFS
    ]
    typical = float(np.median([x for x in own if x is not None])) if own else 0.0
    scores = score_protocol(
        dataset,
        embed=lambda rows: emb[list(rows)],
        score=lambda refs, queries: raw_similarity(
            refs, queries, SCORE_K, REFERENCE_CENTRING, typical
        ),
        refs=VALIDATION_REFS,
        random_per_writer=60,
    )
    return scores, typical


def validate(net, cset: CanvasSet, device) -> dict:
    s, _ = raw_protocol_scores(net, cset, device)
    gen, sk, rnd = pooled(s.genuine), pooled(s.skilled), pooled(s.random)
    return {
        "eer_skilled": eer(gen, sk)[0] if len(sk) else float("nan"),
        "eer_random": eer(gen, rnd)[0],
    }


def calibrate_on(net, cset: CanvasSet, device):
    """Fit the logistic calibration and the thresholds on validation writers."""
    s, typical = raw_protocol_scores(net, cset, device)
    gen, sk, rnd = pooled(s.genuine), pooled(s.skilled), pooled(s.random)
    calibration = fit_calibration(gen, sk, rnd, SCORE_K, REFERENCE_CENTRING, typical)
    p = {
        name: {w: calibrated(v, calibration) for w, v in d.items()}
        for name, d in (("genuine", s.genuine), ("skilled", s.skilled), ("random", s.random))
    }
    thresholds = choose_thresholds(pooled(p["genuine"]), pooled(p["skilled"]), pooled(p["random"]))
    calibrated_scores = QueryScores(
        p["genuine"], p["skilled"], p["random"], refs=s.refs, n_skipped_writers=s.n_skipped_writers
    )
    metrics = summarize(calibrated_scores, thresholds.accept, thresholds.reject)
    return calibration, thresholds, metrics


__all__ = ["Calibration", "validate", "calibrate_on", "embed_canvases", "as_protocol_dataset"]
