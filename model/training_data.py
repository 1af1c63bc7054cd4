"""Training data in memory: every image preprocessed once into its canvas.

Preprocessing (~10 ms a scan) would otherwise dominate each CPU training epoch, so
data sets are turned once into a `CanvasSet` (uint8 canvases, writer index,
forgery flag), cached on disk under the preprocessing version and every image's
path, size and modification time: a change of preprocessing, or an image repaired or
replaced under its name, can never reuse stale canvases. A cache file that cannot be
read is made again, as if it were not there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.datasets import Dataset, WriterSamples
from model.errors import SigverifyError, os_reason
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
    # images of the data set left out as unusable: "<source>/<path in it>" -> why (only
    # of a whole data set's set: a subset or a concatenation does not carry them)
    unreadable: dict[str, str] = field(default_factory=dict)

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


def _canvas_of(path: Path) -> np.ndarray | str:
    """The image's canvas, or why it cannot be used."""
    try:
        return to_canvas_u8(load_gray(path))
    except SigverifyError as err:  # a blank or damaged scan in a data set: skip it
        log.warning("skipping %s: %s", path, err)
        return str(err)


def _cache_key(dataset: Dataset, writers: Sequence[WriterSamples]) -> str:
    """Of the preprocessing version and every image's path, size and modification time
    (one stat each): an image repaired or replaced under its name is read again."""
    h = hashlib.sha256(PREPROCESS_VERSION.encode())
    for w in writers:
        for p in (*w.genuine, *w.forged):
            h.update(str(p).encode())
            try:
                st = os.stat(p)
                h.update(f"|{st.st_size}|{st.st_mtime_ns}\n".encode())
            except OSError:  # gone since it was listed: reading it says so
                h.update(b"|missing\n")
    return h.hexdigest()[:16]


# What a damaged or cut-off cache file raises (np.load reads lazily, the arrays too)
_UNREADABLE_CACHE = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


def _read_cache(cache: Path) -> CanvasSet | None:
    """The cached set, or None when there is none or it cannot be read."""
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as data:
            cset = CanvasSet(
                canvases=data["canvases"],
                writer=data["writer"],
                forged=data["forged"],
                writer_names=[str(n) for n in data["writer_names"]],
                paths=[str(p) for p in data["paths"]],
                unreadable=dict(
                    zip(
                        map(str, data["unreadable_paths"]),
                        map(str, data["unreadable_reasons"]),
                        strict=True,
                    )
                ),
            )
    except _UNREADABLE_CACHE as err:
        log.warning("the cache file %s cannot be read (%r): preprocessing again", cache, err)
        return None
    for path, reason in cset.unreadable.items():  # the log lists them, as when read
        log.warning("skipping %s: %s", path, reason)
    return cset


def _write_cache(cache: Path, result: CanvasSet) -> None:
    """Write the cache file whole or not at all; one that cannot be written (a full
    disk) is left out with a warning in the log: it only saves time."""
    # of this process: under torchrun every process preprocesses and writes it
    tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            tmp,
            canvases=result.canvases,
            writer=result.writer,
            forged=result.forged,
            writer_names=np.asarray(result.writer_names, dtype=str),
            paths=np.asarray(result.paths, dtype=str),
            unreadable_paths=np.asarray(list(result.unreadable), dtype=str),
            unreadable_reasons=np.asarray(list(result.unreadable.values()), dtype=str),
        )
        tmp.replace(cache)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        log.warning("could not write the cache file %s: %s", cache, os_reason(err))


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
    cached = _read_cache(cache) if cache is not None else None
    if cached is not None:
        return cached
    jobs = [(wi, p, False) for wi, w in enumerate(writers) for p in w.genuine]
    jobs += [(wi, p, True) for wi, w in enumerate(writers) for p in w.forged]
    canvases, writer, forged, paths = [], [], [], []
    unreadable: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i, (canvas, (wi, path, is_forged)) in enumerate(
            zip(pool.map(_canvas_of, [j[1] for j in jobs]), jobs, strict=True)
        ):
            progress.update(i, len(jobs), f"preprocessing {source}")
            if isinstance(canvas, str):  # why it cannot be used
                within = Path(os.path.relpath(path, dataset.root)).as_posix()
                unreadable[f"{source}/{within}"] = canvas
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
        unreadable=unreadable,
    )
    if cache is not None:
        _write_cache(cache, result)
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
