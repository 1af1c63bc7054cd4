"""The evaluation protocol: how a model is scored on a data set, and the report.

Per writer, the first `refs` genuine signatures (in the data set's natural file
order) stand in for what a customer gives at enrolment; everything else is a
query against them:
- genuine queries: that writer's remaining genuine signatures;
- skilled forgeries: the forgeries of that writer's signature;
- random forgeries: genuine *query* images of other writers (never their
  references, so no image is both a reference and a random forgery of the same
  model run), optionally subsampled per writer to keep large sets tractable.

The model is reached only through two callables, so this module needs no torch:
`embed(paths) -> (N, D)` is called with every distinct image once, EMBED_CHUNK at a
time (the caller batches), and `score(E_refs, E_queries) -> (Q,)` is the model's match
score in [0, 1], higher = same writer.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

import numpy as np

from model import metrics
from model.datasets import WriterSamples
from model.errors import DatasetError, ImageError, SigverifyError
from model.progress import Progress

EMBED_CHUNK = 256  # images per call of `embed`


class WriterLike(Protocol):
    """What the protocol reads of `model.datasets.WriterSamples`."""

    writer: str
    genuine: Sequence[Path]
    forged: Sequence[Path]


class DatasetLike(Protocol):
    """What the protocol reads of `model.datasets.Dataset`."""

    writers: Sequence[WriterLike]


@dataclass
class QueryScores:
    """Every score the protocol produced, by the writer whose references were used."""

    genuine: dict[str, np.ndarray]  # writer -> scores of its genuine queries
    skilled: dict[str, np.ndarray]  # writer -> scores of its skilled forgeries
    random: dict[str, np.ndarray]  # writer -> other writers' genuine queries vs its refs
    refs: int = 5
    n_skipped_writers: int = 0  # writers with too few genuine images for refs + 1
    skipped_writers: list[str] = field(default_factory=list)
    # images that could not be read or held no signature -> why; left out of the protocol
    unreadable: dict[Path, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _WriterPlan:
    writer: str
    refs: tuple[Path, ...]
    genuine: tuple[Path, ...]
    skilled: tuple[Path, ...]
    random: tuple[Path, ...]


def _random_queries(
    writer: str, pool: list[tuple[str, Path]], limit: int | None, seed: int
) -> tuple[Path, ...]:
    others = [path for owner, path in pool if owner != writer]
    if limit is None or limit >= len(others):
        return tuple(others)
    # One generator per writer, seeded by its name: a writer's draw does not depend
    # on the order writers are visited in or on how many were drawn before it.
    rng = np.random.default_rng([seed, zlib.crc32(writer.encode("utf-8"))])
    picked = np.sort(rng.choice(len(others), size=limit, replace=False))
    return tuple(others[i] for i in picked)


def _plan(
    dataset: DatasetLike, refs: int, random_per_writer: int | None, seed: int
) -> tuple[list[_WriterPlan], list[str]]:
    eligible = [ws for ws in dataset.writers if len(ws.genuine) >= refs + 1]
    skipped = [ws.writer for ws in dataset.writers if len(ws.genuine) < refs + 1]
    pool = [(ws.writer, path) for ws in eligible for path in tuple(ws.genuine)[refs:]]
    plans = [
        _WriterPlan(
            writer=ws.writer,
            refs=tuple(ws.genuine)[:refs],
            genuine=tuple(ws.genuine)[refs:],
            skilled=tuple(ws.forged),
            random=_random_queries(ws.writer, pool, random_per_writer, seed),
        )
        for ws in eligible
    ]
    return plans, skipped


def score_protocol(
    dataset: DatasetLike,
    embed: Callable[[list[Path]], np.ndarray],
    score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    refs: int = 5,
    random_per_writer: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> QueryScores:
    """Run the protocol above and return every score, grouped by reference writer."""
    if refs < 1:
        raise ValueError(f"refs must be at least 1, got {refs}.")
    if random_per_writer is not None and random_per_writer < 0:
        raise ValueError(f"random_per_writer must not be negative, got {random_per_writer}.")
    # An image that cannot be used (damaged, blank) is left out as if it were not in the
    # data set: the writer's next genuine image becomes a reference, and so on. Leaving
    # one out can bring images into the plan that were not read yet, hence the loop.
    embedded: dict[Path, np.ndarray] = {}
    unreadable: dict[Path, str] = {}
    while True:
        plans, skipped = _plan(_without(dataset, unreadable), refs, random_per_writer, seed)
        if not plans:
            readable = f" ({len(unreadable)} images could not be used)" if unreadable else ""
            raise DatasetError(
                f"No writer in this data set has at least {refs + 1} genuine signatures"
                f"{readable}, so there is nothing to evaluate."
            )
        if not any(p.skilled or p.random for p in plans):  # every figure would be n/a
            why = (
                "no random forgeries were asked for"
                if random_per_writer == 0
                else "it has one writer to use, whose signatures cannot be another's"
            )
            raise DatasetError(
                "There is no forgery to measure an error rate on: the data set has no "
                f"forgeries, and {why}."
            )
        # dict keeps first-seen order: the embed calls are deterministic for a data set.
        planned = dict.fromkeys(
            path for p in plans for path in (*p.refs, *p.genuine, *p.skilled, *p.random)
        )
        needed = [path for path in planned if path not in embedded]
        if not needed:
            break
        embedded.update(_embed_all(needed, embed, progress, unreadable))
    paths = list(planned)
    embeddings = np.stack([embedded[path] for path in paths])
    row = {path: i for i, path in enumerate(paths)}

    def rows(group: Sequence[Path]) -> np.ndarray:
        return embeddings[[row[path] for path in group]]

    result = QueryScores(
        {},
        {},
        {},
        refs=refs,
        n_skipped_writers=len(skipped),
        skipped_writers=skipped,
        unreadable=unreadable,
    )
    for done, p in enumerate(plans):
        if progress is not None:
            progress.update(done, len(plans), p.writer)
        # One call per writer with every query: the score function is vectorised.
        queries = (*p.genuine, *p.skilled, *p.random)
        scores = np.asarray(score(rows(p.refs), rows(queries)))
        if scores.shape != (len(queries),):
            raise ValueError(
                f"score returned shape {scores.shape} for {len(queries)} queries; "
                "expected one score per query."
            )
        g, s = len(p.genuine), len(p.skilled)
        result.genuine[p.writer] = scores[:g]
        result.skilled[p.writer] = scores[g : g + s]
        result.random[p.writer] = scores[g + s :]
    if progress is not None:
        progress.update(len(plans), len(plans), "done")
    return result


def _without(dataset: DatasetLike, unreadable: dict[Path, str]) -> DatasetLike:
    if not unreadable:
        return dataset
    writers = [
        WriterSamples(
            w.writer,
            tuple(p for p in w.genuine if p not in unreadable),
            tuple(p for p in w.forged if p not in unreadable),
        )
        for w in dataset.writers
    ]
    return SimpleNamespace(writers=writers)


def _embed_all(
    paths: list[Path],
    embed: Callable[[list[Path]], np.ndarray],
    progress: Progress | None,
    unreadable: dict[Path, str],
) -> dict[Path, np.ndarray]:
    """Each usable image's embedding, EMBED_CHUNK images to a call: reading takes most
    of the time, and a call's canvases are held in memory (400 kB each: a data set of
    50,000 images at once would need 20 GB). A chunk that fails on an image is read
    again one image at a time; the images that fail alone go into `unreadable`."""
    found: dict[Path, np.ndarray] = {}
    for start in range(0, len(paths), EMBED_CHUNK):
        if progress is not None:
            progress.update(start, len(paths), "reading the images")
        chunk = paths[start : start + EMBED_CHUNK]
        try:
            found.update(zip(chunk, _embedded(embed, chunk), strict=True))
        except ImageError:
            for path in chunk:
                try:
                    found[path] = _embedded(embed, [path])[0]
                except ImageError as err:
                    unreadable[path] = str(err)
    return found


def _embedded(embed: Callable[[list[Path]], np.ndarray], chunk: list[Path]) -> np.ndarray:
    rows = np.asarray(embed(chunk))
    if rows.ndim != 2 or rows.shape[0] != len(chunk):
        raise ValueError(
            f"embed returned shape {rows.shape} for {len(chunk)} images; "
            "expected one row per image."
        )
    return rows


def pooled(by_writer: dict[str, np.ndarray]) -> np.ndarray:
    arrays = [np.asarray(a) for a in by_writer.values() if np.size(a) > 0]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def summarize(scores: QueryScores, t_accept: float, t_reject: float) -> dict:
    """The evaluation report as a JSON-ready dict (plain floats and ints, None = n/a).

    `t_accept`: at or above it a signature is accepted automatically;
    `t_reject`: below it, rejected outright; in between it goes to a person.
    """
    if t_reject > t_accept:
        raise ValueError(f"t_reject ({t_reject}) must not exceed t_accept ({t_accept}).")
    genuine = pooled(scores.genuine)
    report: dict = {
        "n_writers": len(scores.genuine),
        "n_skipped_writers": scores.n_skipped_writers,
        "n_unreadable": len(scores.unreadable),
        "refs": scores.refs,
        "n_genuine": int(genuine.size),
        "n_skilled": int(pooled(scores.skilled).size),
        "n_random": int(pooled(scores.random).size),
        "t_accept": float(t_accept),
        "t_reject": float(t_reject),
        "frr": metrics.frr_at(genuine, t_reject),
        "frr_accept": metrics.frr_at(genuine, t_accept),
    }
    for kind, by_writer in (("skilled", scores.skilled), ("random", scores.random)):
        impostor = pooled(by_writer)
        keys = (f"eer_{kind}", f"eer_threshold_{kind}", f"eer_{kind}_user")
        keys += (f"auc_{kind}", f"far_{kind}", f"eer_{kind}_ci95")
        if impostor.size == 0:  # no forgeries in the set, or a single writer
            report.update(dict.fromkeys(keys, None))
            continue
        rate, threshold = metrics.eer(genuine, impostor)
        values = (rate, threshold, metrics.per_writer_eer(scores.genuine, by_writer))
        values += (metrics.auc(genuine, impostor), metrics.far_at(impostor, t_accept))
        # How far the EER could move with other writers like these (resampling them):
        # with a few dozen writers, a point or two either way is no real difference.
        interval = metrics.eer_interval(scores.genuine, by_writer)
        values += (list(interval) if interval else None,)
        report.update(zip(keys, values, strict=True))
    return report


# Error rates shown on the DET plot: from 1 in 1000 to 3 in 4.
_DET_LIMITS = (1e-3, 0.75)
_DET_TICKS = (0.001, 0.01, 0.05, 0.1, 0.2, 0.5)


def plot(
    scores: QueryScores,
    out_path: Path,
    title: str = "",
    *,
    t_accept: float | None = None,
    t_reject: float | None = None,
) -> None:
    """Write a PNG: DET curves (skilled, random) and the three score histograms.

    EER points and thresholds are always marked; `t_accept` / `t_reject` are drawn
    too when given.
    """
    # Object-oriented Agg canvas, no pyplot: it never touches the process-wide
    # backend, so it is safe inside the Qt app as well as headless.
    try:  # a training extra: the teller executable ships without matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
    except ImportError as err:
        raise SigverifyError(
            "Plots need matplotlib, which comes with a developer install "
            "(pip install -e '.[train]'); run without --plot."
        ) from err

    genuine = pooled(scores.genuine)
    impostors = {
        "skilled": (pooled(scores.skilled), "tab:red"),
        "random": (pooled(scores.random), "tab:orange"),
    }
    impostors = {k: v for k, v in impostors.items() if v[0].size > 0}

    fig = Figure(figsize=(13, 5), layout="constrained")
    FigureCanvasAgg(fig)
    det_ax, hist_ax = fig.subplots(1, 2)

    # DET: both error rates on logit axes, so the low-error corner a bank runs in is
    # spread out instead of squeezed against the ROC's edges. Rates of exactly 0 or 1
    # have no logit; they are clipped to the axes' edge.
    det_ax.set_xscale("logit", nonpositive="clip")
    det_ax.set_yscale("logit", nonpositive="clip")
    diagonal = np.array([_DET_LIMITS[0], _DET_LIMITS[1]])
    det_ax.plot(diagonal, diagonal, color="0.75", lw=0.8, label="FAR = FRR")
    for kind, (impostor, color) in impostors.items():
        far, frr, _ = metrics.roc_curve(genuine, impostor)
        rate, _ = metrics.eer(genuine, impostor)
        area = metrics.auc(genuine, impostor)
        det_ax.plot(far, frr, drawstyle="steps-post", color=color, label=f"{kind} (AUC {area:.3f})")
        det_ax.plot([rate], [rate], "o", color=color, label=f"EER {kind} {rate:.2%}")
        if t_accept is not None:
            op_far, op_frr = metrics.far_frr_at(genuine, impostor, t_accept)
            det_ax.plot([op_far], [op_frr], "s", mfc="none", mew=1.5, color=color)
    det_ax.set(
        xlabel="false acceptance rate (FAR)",
        ylabel="false rejection rate (FRR)",
        xlim=_DET_LIMITS,
        ylim=_DET_LIMITS,
        title="DET (squares: at t_accept)" if t_accept is not None else "DET",
    )
    for axis in (det_ax.xaxis, det_ax.yaxis):
        axis.set_major_locator(FixedLocator(_DET_TICKS))
        axis.set_major_formatter(
            FixedFormatter([f"{t:.1%}".replace(".0%", "%") for t in _DET_TICKS])
        )
        axis.set_minor_formatter(NullFormatter())
    det_ax.grid(True, which="major", color="0.9")
    det_ax.legend(loc="upper right", fontsize="small")

    every = np.concatenate([genuine, *(imp for imp, _ in impostors.values())])
    bins = np.linspace(min(0.0, every.min()), max(1.0, every.max()), 41)
    hist_ax.hist(genuine, bins=bins, density=True, alpha=0.5, color="tab:green", label="genuine")
    for kind, (impostor, color) in impostors.items():
        hist_ax.hist(impostor, bins=bins, density=True, alpha=0.5, color=color, label=kind)
        _, threshold = metrics.eer(genuine, impostor)
        hist_ax.axvline(threshold, color=color, ls=":", label=f"EER threshold {kind}")
    for value, name, style in ((t_reject, "t_reject", "--"), (t_accept, "t_accept", "-")):
        if value is not None:
            hist_ax.axvline(value, color="black", ls=style, label=f"{name} = {value:.3f}")
    hist_ax.set(xlabel="match score", ylabel="density", title="Score distributions")
    hist_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")

    if title:
        fig.suptitle(title)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=100)
