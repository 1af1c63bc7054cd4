"""Write a synthetic data set in the generic layout that `model.datasets` reads.

    OUT/<writer_id>/genuine/<writer_id>_g_<nn>.png
    OUT/<writer_id>/forged/<writer_id>_f_<nn>.png   (no forged folder when forged == 0)

Every image has its own random stream, seeded by (seed, writer, kind, sample), so a
seed always gives byte-identical files, and asking for more samples keeps the
existing ones unchanged.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from model.errors import DatasetError, os_reason
from model.progress import NullProgress, Progress
from model.synth.render import render_forgery, render_genuine
from model.synth.writer import Writer, make_writer

_GENUINE, _FORGED = 0, 1


def writer_for(seed: int, number: int) -> Writer:
    """Writer `number` (1-based) of the data set drawn with `seed`, id "w0001" and so on."""
    writer_seed = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    return make_writer(writer_seed, writer_id=f"w{number:04d}")


def sample_rng(seed: int, number: int, forged: bool, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, number, _FORGED if forged else _GENUINE, index])


def write_dataset(
    out: Path,
    writers: int,
    genuine: int,
    forged: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[str]:
    """Render `writers` writers with `genuine` + `forged` scans each; returns the writer ids.

    `out` must not exist yet or be an empty folder. Raises `DatasetError` for bad
    counts or an unusable `out`; `CancelledError` from `progress` stops between images.
    """
    _check_arguments(out, writers, genuine, forged, seed)
    progress = progress if progress is not None else NullProgress()
    total = writers * (genuine + forged)
    done = 0
    progress.update(0, total, "")
    ids = []
    for number in range(1, writers + 1):
        writer = writer_for(seed, number)
        ids.append(writer.writer_id)
        for forged_kind, count in ((False, genuine), (True, forged)):
            if count == 0:
                continue
            folder = out / writer.writer_id / ("forged" if forged_kind else "genuine")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise DatasetError(
                    f"Could not create the folder {folder}: {os_reason(err)}."
                ) from err
            tag = "f" if forged_kind else "g"
            render = render_forgery if forged_kind else render_genuine
            for index in range(1, count + 1):
                image = render(writer, sample_rng(seed, number, forged_kind, index))
                path = folder / f"{writer.writer_id}_{tag}_{index:02d}.png"
                if not cv2.imwrite(str(path), image):
                    raise DatasetError(f"Could not write {path}; check the disk and permissions.")
                done += 1
                progress.update(done, total, writer.writer_id)
    return ids


# Far above the largest public sets (GPDS: 24,000 images), and a few gigabytes of PNGs:
# a typing slip (`--writers 100000000`) is refused rather than left to fill the disk.
MAX_IMAGES = 200_000


def _check_arguments(out: Path, writers: int, genuine: int, forged: int, seed: int) -> None:
    if writers * (genuine + max(forged, 0)) > MAX_IMAGES:
        raise DatasetError(
            f"That is {writers * (genuine + forged):,} images, more than a synthetic set "
            f"needs (at most {MAX_IMAGES:,}); ask for fewer writers or signatures."
        )
    if writers < 1:
        raise DatasetError("The number of writers must be at least 1.")
    if genuine < 1:
        raise DatasetError("Each writer needs at least 1 genuine signature.")
    if forged < 0:
        raise DatasetError("The number of forgeries cannot be negative.")
    if seed < 0:
        raise DatasetError("The seed must be zero or a positive whole number.")
    if out.is_file():
        raise DatasetError(f"{out} is a file; give a new or empty folder for the data set.")
    if out.is_dir() and any(out.iterdir()):
        raise DatasetError(f"{out} already holds files; give a new or empty folder.")
