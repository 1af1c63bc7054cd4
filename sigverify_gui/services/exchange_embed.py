"""An import's references, embedded here from their own images.

An export carries each reference's embedding, but nothing in the file ties that
embedding to the image beside it: the manifest's SHA-256s are unkeyed, so whoever
edits the file can recompute them. An embedding is what every verification rests on.
One swapped for the embedding of another person's signature would let that person's
hand pass as the customer's, while the teller is shown the customer's genuine image.
So an import takes only the images from the file: every active reference is
preprocessed and embedded here by the loaded model, as re-embedding after a model
update does, and its canvas (the picture the verification screen shows) is made here
too. Where the file's embedding was made by that same model, the two must agree, or
the file was altered, and nothing is imported.

Retired and replaced references are history that nothing compares: they keep what the
file says (the re-embedding after a model update leaves them alone too).

All of this is done before the import takes the store's write lock (`PreparedReferences`):
embedding takes some milliseconds a reference, and other workstations wait at most a few
seconds for the lock (`BUSY_TIMEOUT_S`) before their verification fails as busy, so a
branch's import of thousands of references, embedded under the lock, stopped the tellers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import ImageError
from model.progress import Progress
from sigverify_gui.services.captures import canvas_to_png, gray_from_png
from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.services.exchange_reader import ExportFile
from sigverify_gui.services.exchange_validate import embedding_of
from sigverify_gui.services.reembed import BATCH
from sigverify_gui.services.verifier_protocol import VerifierLike

# Cosine similarity between the file's embedding and this machine's, same model and
# same image: 1 up to rounding (a GPU's half precision moves it by about 1e-3), while
# two signatures of one writer seldom reach 0.97 (the median writer's references agree
# at 0.91-0.93). Anything lower was not made from that image.
AGREEMENT = 0.99

# Prepared references up to this many bytes stay in memory; beyond, a private file
# beside the store holds them (a branch's export can hold gigabytes of scans).
SPOOL_IN_MEMORY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Embedded:
    canvas_png: bytes
    embedding: np.ndarray
    model_id: str


def embedded_here(
    export: ExportFile, verifier: VerifierLike, name: str, progress: Progress
) -> Iterator[tuple[dict[str, Any], bytes, Embedded]]:
    """Each of the export's references with its capture's PNG and what to store:
    embedded here when active, as the file has it otherwise. Batched, with progress
    (which may cancel); raises `ExchangeError` before anything is yielded for a batch
    holding an unreadable or altered reference."""
    from model.preprocess import preprocess

    refs = export.references
    total = len(refs)
    progress.update(0, total, "embedding the imported references")
    for start in range(0, total, BATCH):
        batch = refs[start : start + BATCH]
        images = [export.read(ref["image"]) for ref in batch]
        active = [i for i, ref in enumerate(batch) if ref["active"]]
        canvases = []
        for i in active:
            try:
                canvases.append(preprocess(gray_from_png(images[i])).canvas)
            except ImageError as err:
                raise ExchangeError(
                    f"{_named(batch[i])} in '{name}' cannot be read by this model ({err}); "
                    "nothing was imported. Retire or replace it in the store it came "
                    "from, then export again."
                ) from err
        embeddings = verifier.embed_canvases(canvases) if canvases else []
        made = {
            i: Embedded(canvas_to_png(canvas), embedding, verifier.model_id)
            for i, canvas, embedding in zip(active, canvases, embeddings, strict=True)
        }
        for i in active:
            _refuse_altered(batch[i], made[i].embedding, verifier.model_id, name)
        for i, ref in enumerate(batch):
            yield ref, images[i], made.get(i) or _as_in_file(export, ref)
        progress.update(start + len(batch), total, "embedding the imported references")


class PreparedReferences:
    """The export's references ready to be written: each with its capture's PNG and what
    to store (`embedded_here`), all made before the write lock is taken, kept in a
    spooled file and read back, in the file's order, while the rows are written. The
    images are kept as they were embedded, not read from the zip again, so what is
    stored is what was checked."""

    def __init__(self, folder: Path) -> None:
        # Closed by __exit__: the object is itself the context manager.
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=folder)  # noqa: SIM115
        self._entries: list[tuple[dict[str, Any], int, int, int, str]] = []

    def add(self, ref: dict[str, Any], image_png: bytes, made: Embedded) -> None:
        vector = np.ascontiguousarray(made.embedding, dtype=np.float32)
        self._spool.seek(0, 2)  # the end: reading moves the position
        self._entries.append(
            (ref, len(image_png), len(made.canvas_png), vector.size, made.model_id)
        )
        for part in (image_png, made.canvas_png, vector.tobytes()):
            self._spool.write(part)

    def __iter__(self) -> Iterator[tuple[dict[str, Any], bytes, Embedded]]:
        self._spool.seek(0)
        for ref, image_size, canvas_size, dims, model_id in self._entries:
            image_png = self._spool.read(image_size)
            canvas_png = self._spool.read(canvas_size)
            vector = np.frombuffer(self._spool.read(4 * dims), dtype=np.float32)
            yield ref, image_png, Embedded(canvas_png, vector, model_id)

    def __enter__(self) -> PreparedReferences:
        return self

    def __exit__(self, *exc: object) -> None:
        self._spool.close()


def prepare_references(
    export: ExportFile, verifier: VerifierLike, name: str, progress: Progress, folder: Path
) -> PreparedReferences:
    """Every reference of the export embedded here (`embedded_here`), outside the store's
    write lock; `folder` (the store's) holds them when they outgrow memory."""
    prepared = PreparedReferences(folder)
    try:
        for ref, image_png, made in embedded_here(export, verifier, name, progress):
            prepared.add(ref, image_png, made)
    except BaseException:
        prepared.__exit__()
        raise
    return prepared


def _refuse_altered(ref: dict[str, Any], here: np.ndarray, model_id: str, name: str) -> None:
    if ref["model_id"] != model_id:
        return  # another model's embedding: nothing here to compare it with
    theirs = embedding_of(ref, _named(ref)).astype(np.float64)
    ours = here.astype(np.float64)
    agree = (
        len(theirs) == len(ours)
        and float(theirs @ ours / (np.linalg.norm(theirs) * np.linalg.norm(ours))) >= AGREEMENT
    )
    if not agree:
        raise ExchangeError(
            f"'{name}' was altered after it was exported: the embedding of {_named(ref)} "
            f"is not the one model {model_id} gives its image; nothing was imported."
        )


def _as_in_file(export: ExportFile, ref: dict[str, Any]) -> Embedded:
    return Embedded(export.read(ref["canvas"]), embedding_of(ref, _named(ref)), ref["model_id"])


def _named(ref: dict[str, Any]) -> str:
    return f"reference {ref['id']} of customer {ref['customer_id']}"
