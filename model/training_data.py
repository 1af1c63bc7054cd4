"""Training data in memory: every image preprocessed once into its canvas.

Preprocessing (~10 ms a scan) would otherwise dominate each CPU training epoch, so
data sets are turned once into a `CanvasSet` (uint8 canvases, writer index,
forgery flag), cached on disk under the preprocessing version: a change of
preprocessing can never reuse stale canvases.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.datasets import Dataset, WriterSamples
from model.errors import SigverifyError
from model.imageio import load_gray
from model.preprocess import CANVAS_HW, PREPROCESS_VERSION, preprocess
from model.progress import NullProgress, Progress

log = logging.getLogger("sigverify.training")


@dataclass
class CanvasSet:
    canvases: np.ndarray  # (N, H, W) uint8, ink bright
    writer: np.ndarray  # (N,) int32 index into `writer_names`
    forged: np.ndarray  # (N,) bool
    writer_names: list[str]  # "<source>/<writer id>", unique across sources
    paths: list[str]  # one per canvas ("" for synthetic images)

    def __len__(self) -> int:
        return len(self.writer)

    def subset_writers(self, keep: Sequence[int]) -> CanvasSet:
        """The samples of the given writer indices, re-indexed 0..len(keep)-1."""
        keep = list(keep)
        remap = np.full(len(self.writer_names), -1, np.int64)
        remap[keep] = np.arange(len(keep))
        rows = np.flatnonzero(remap[self.writer] >= 0)
        return CanvasSet(
            canvases=self.canvases[rows],
            writer=remap[self.writer[rows]].astype(np.int32),
            forged=self.forged[rows],
            writer_names=[self.writer_names[i] for i in keep],
            paths=[self.paths[i] for i in rows],
        )

    @staticmethod
    def concat(parts: Sequence[CanvasSet]) -> CanvasSet:
        offsets = np.cumsum([0] + [len(p.writer_names) for p in parts[:-1]])
        return CanvasSet(
            canvases=np.concatenate([p.canvases for p in parts]),
            writer=np.concatenate([p.writer + o for p, o in zip(parts, offsets, strict=True)]),
            forged=np.concatenate([p.forged for p in parts]),
            writer_names=[n for p in parts for n in p.writer_names],
            paths=[x for p in parts for x in p.paths],
        )


def to_canvas_u8(gray: np.ndarray) -> np.ndarray:
    return (preprocess(gray).canvas * 255.0 + 0.5).astype(np.uint8)


def _canvas_of(path: Path) -> np.ndarray | None:
    try:
        return to_canvas_u8(load_gray(path))
    except SigverifyError as err:  # a blank or damaged scan in a data set: skip it
        log.warning("skipping %s: %s", path, err)
        return None


def _cache_key(dataset: Dataset, writers: Sequence[WriterSamples]) -> str:
    h = hashlib.sha256(PREPROCESS_VERSION.encode())
    for w in writers:
        for p in (*w.genuine, *w.forged):
            h.update(str(p).encode())
    return h.hexdigest()[:16]


def canvases_from_dataset(
    dataset: Dataset,
    source: str,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> CanvasSet:
    """Preprocess every image of `dataset` (threads: OpenCV releases the GIL)."""
    progress = progress or NullProgress()
    writers = dataset.writers
    cache = cache_dir / f"{source}-{_cache_key(dataset, writers)}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return CanvasSet(
            canvases=data["canvases"],
            writer=data["writer"],
            forged=data["forged"],
            writer_names=list(data["writer_names"]),
            paths=list(data["paths"]),
        )
    jobs = [(wi, p, False) for wi, w in enumerate(writers) for p in w.genuine]
    jobs += [(wi, p, True) for wi, w in enumerate(writers) for p in w.forged]
    canvases, writer, forged, paths = [], [], [], []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i, (canvas, (wi, path, is_forged)) in enumerate(
            zip(pool.map(_canvas_of, [j[1] for j in jobs]), jobs, strict=True)
        ):
            progress.update(i, len(jobs), f"preprocessing {source}")
            if canvas is None:
                continue
            canvases.append(canvas)
            writer.append(wi)
            forged.append(is_forged)
            paths.append(str(path))
    progress.update(len(jobs), len(jobs), f"preprocessing {source}")
    result = CanvasSet(
        canvases=np.stack(canvases) if canvases else np.zeros((0, *CANVAS_HW), np.uint8),
        writer=np.asarray(writer, np.int32),
        forged=np.asarray(forged, bool),
        writer_names=[f"{source}/{w.writer}" for w in writers],
        paths=paths,
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # of this process: under torchrun every process preprocesses and writes it
        tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            canvases=result.canvases,
            writer=result.writer,
            forged=result.forged,
            writer_names=np.asarray(result.writer_names),
            paths=np.asarray(result.paths),
        )
        tmp.replace(cache)
    return result


def synthetic_canvases(
    n_writers: int, genuine: int, forged: int, seed: int, progress: Progress | None = None
) -> CanvasSet:
    """Synthetic writers rendered in memory (no files), for mixing into training."""
    from model.synth import make_writer, render_forgery, render_genuine

    progress = progress or NullProgress()
    rng = np.random.default_rng(seed)
    canvases, writer, is_forged = [], [], []
    total = n_writers * (genuine + forged)
    for wi in range(n_writers):
        w = make_writer(seed * 100_003 + wi)
        for j in range(genuine + forged):
            progress.update(wi * (genuine + forged) + j, total, "rendering synthetic writers")
            fake = j >= genuine
            scan = render_forgery(w, rng) if fake else render_genuine(w, rng)
            try:
                canvases.append(to_canvas_u8(scan))
            except SigverifyError:
                continue
            writer.append(wi)
            is_forged.append(fake)
    return CanvasSet(
        canvases=np.stack(canvases),
        writer=np.asarray(writer, np.int32),
        forged=np.asarray(is_forged, bool),
        writer_names=[f"synthetic/{seed}-{i}" for i in range(n_writers)],
        paths=[""] * len(writer),
    )
