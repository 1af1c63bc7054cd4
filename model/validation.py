"""Validation during training, and fitting the score calibration at its end.

Both run the evaluation protocol of `model.evaluate` on validation writers held in
memory as canvases: the protocol's "paths" are simply row numbers of the canvas set.
The epochs are compared by the network's own part of the score (its shape term); the
stroke texture's weight beside it is fitted with the calibration, on the final weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from model.calibration import choose_thresholds, fit_calibration, fit_texture_weight
from model.evaluate import QueryScores, pooled, score_protocol, summarize
from model.metrics import eer
from model.scoring import (
    REFERENCE_CENTRING,
    Calibration,
    calibrated,
    score_terms,
    self_similarity,
    split_embeddings,
    texture_spread,
)
from model.texture import TEXTURE_DIMS, TEXTURE_VERSION, stroke_textures
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


def _typical(values: list[float | None]) -> float:
    known = [x for x in values if x is not None]
    return float(np.median(known)) if known else 0.0


def protocol_terms(
    net, cset: CanvasSet, device, texture: bool
) -> tuple[QueryScores, QueryScores | None, Calibration]:
    """The protocol's shape terms and texture terms (None without texture), and the
    uncalibrated Calibration they were computed with: centring, and the typical spread
    among a writer's references (what stands in for it when a customer has only one)."""
    emb = embed_canvases(net, cset.canvases, device)
    if texture:
        emb = np.hstack([emb, stroke_textures(cset.canvases)])
    dataset = as_protocol_dataset(cset)
    shapes = [
        split_embeddings(emb[list(w.genuine[:VALIDATION_REFS])], TEXTURE_DIMS if texture else 0)
        for w in dataset.writers
        if len(w.genuine) > VALIDATION_REFS
    ]
    base = Calibration(
        k=SCORE_K,
        centre=REFERENCE_CENTRING,
        typical_self_similarity=_typical([self_similarity(s) for s, _ in shapes]),
        texture=TEXTURE_VERSION if texture else "",
        typical_texture_distance=_typical([texture_spread(t) for _, t in shapes])
        if texture
        else 0.0,
    )

    def term(column: int) -> QueryScores:
        return score_protocol(
            dataset,
            embed=lambda rows: emb[list(rows)],
            score=lambda r, q: score_terms(r, q, base)[:, column],
            refs=VALIDATION_REFS,
            random_per_writer=60,
        )

    return term(0), term(1) if texture else None, base


def validate(net, cset: CanvasSet, device) -> dict:
    s, _, _ = protocol_terms(net, cset, device, texture=False)
    gen, sk, rnd = pooled(s.genuine), pooled(s.skilled), pooled(s.random)
    return {
        "eer_skilled": eer(gen, sk)[0] if len(sk) else float("nan"),
        "eer_random": eer(gen, rnd)[0],
    }


def _combined(shape: QueryScores, texture: QueryScores | None, weight: float) -> QueryScores:
    if texture is None:
        return shape

    def add(a: dict, b: dict) -> dict:
        return {w: a[w] + weight * b[w] for w in a}

    return replace(
        shape,
        genuine=add(shape.genuine, texture.genuine),
        skilled=add(shape.skilled, texture.skilled),
        random=add(shape.random, texture.random),
    )


def calibrate_on(net, cset: CanvasSet, device, texture: bool = True):
    """Fit the texture weight, the logistic calibration and the thresholds on
    validation writers."""
    shape, tex, base = protocol_terms(net, cset, device, texture)
    weight = 0.0
    if tex is not None:
        weight = fit_texture_weight(
            *(
                np.column_stack([pooled(getattr(shape, kind)), pooled(getattr(tex, kind))])
                for kind in ("genuine", "skilled", "random")
            )
        )
    s = _combined(shape, tex, weight)
    gen, sk, rnd = pooled(s.genuine), pooled(s.skilled), pooled(s.random)
    fitted = fit_calibration(
        gen, sk, rnd, SCORE_K, REFERENCE_CENTRING, base.typical_self_similarity
    )
    calibration = replace(
        fitted,
        texture=base.texture,
        texture_weight=weight,
        typical_texture_distance=base.typical_texture_distance,
    )
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
