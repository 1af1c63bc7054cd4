"""`sigverify dataset-info DIR`: what a data set folder holds, before training on it.

Shows the layout that was detected (or refused), how many writers and signatures it
has, and per-writer counts, so that a missing forgery folder or a misfiled batch is
seen before hours of training rather than after.
"""

from __future__ import annotations

import shutil

from model.datasets import LAYOUT_DESCRIPTIONS, LAYOUTS, Dataset, open_dataset
from sigverify_gui.cli.output import add_json_flag, emit

_COLUMN_GAP = "   "
_MAX_WIDTH = 120


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dataset-info",
        help="count the writers and signatures in a data set folder",
        description=(
            "Read a signature data set folder (CEDAR, BHSig260, SigComp 2011 / sign_data, "
            "or the generic <writer>/genuine, <writer>/forged layout) and report what it holds."
        ),
    )
    p.add_argument("folder", metavar="DIR", help="the data set's top folder")
    p.add_argument(
        "--layout",
        choices=("auto", *LAYOUTS),
        default="auto",
        help="the layout the folder must have (default: detect it)",
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    dataset = open_dataset(args.folder, args.layout)
    emit(args, dataset_summary(dataset), _human_report(dataset))
    return 0


def dataset_summary(dataset: Dataset) -> dict:
    """The JSON document `--json` prints."""
    return {
        "root": str(dataset.root),
        "layout": dataset.layout,
        "n_writers": len(dataset.writers),
        "n_genuine": dataset.n_genuine,
        "n_forged": dataset.n_forged,
        "writers": [
            {"writer": w.writer, "genuine": len(w.genuine), "forged": len(w.forged)}
            for w in dataset.writers
        ],
        "warnings": list(dataset.warnings),
    }


def _per_writer_range(counts: list[int]) -> str:
    low, high = min(counts), max(counts)
    return f"{low} per writer" if low == high else f"{low}-{high} per writer"


def _human_report(dataset: Dataset) -> str:
    genuine = [len(w.genuine) for w in dataset.writers]
    forged = [len(w.forged) for w in dataset.writers]
    lines = [
        f"Data set  {dataset.root}",
        f"Layout    {dataset.layout}: {LAYOUT_DESCRIPTIONS[dataset.layout]}",
        f"Writers   {len(dataset.writers):,}",
        f"Genuine   {dataset.n_genuine:,} ({_per_writer_range(genuine)})",
        f"Forged    {dataset.n_forged:,} ({_per_writer_range(forged)})",
        "",
        *_writer_table(dataset),
    ]
    if dataset.warnings:
        lines += ["", "Warnings:", *(f"  - {warning}" for warning in dataset.warnings)]
    return "\n".join(lines)


def _writer_table(dataset: Dataset) -> list[str]:
    """Per-writer counts in as many side-by-side columns as the terminal fits.

    Filled column by column, like `ls`, so that writer ids read downwards in order.
    """
    id_width = max(len("writer"), *(len(w.writer) for w in dataset.writers))
    cells = [
        f"{w.writer:<{id_width}} {len(w.genuine):>7} {len(w.forged):>6}" for w in dataset.writers
    ]
    header = f"{'writer':<{id_width}} {'genuine':>7} {'forged':>6}"
    width = min(shutil.get_terminal_size().columns, _MAX_WIDTH)
    n_columns = max(1, (width + len(_COLUMN_GAP)) // (len(header) + len(_COLUMN_GAP)))
    n_rows = -(-len(cells) // n_columns)  # ceiling division
    n_columns = -(-len(cells) // n_rows)  # no empty columns at the right
    columns = [cells[i * n_rows : (i + 1) * n_rows] for i in range(n_columns)]
    rows = [_COLUMN_GAP.join([header] * n_columns)]
    for r in range(n_rows):
        rows.append(_COLUMN_GAP.join(col[r] for col in columns if r < len(col)).rstrip())
    return rows
