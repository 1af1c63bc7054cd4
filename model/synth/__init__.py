"""Synthetic offline signatures: writers, genuine samples and skilled forgeries as scans.

The repository carries no real signatures; tests, the demo and the synthetic
writers mixed into training all draw theirs here. A `Writer` is a plan of a
cursive signature plus the habits of a hand (`writer.py`, `letters.py`); each
rendering varies the shape like a person does (`trajectory.py`), inks it with
pressure and speed (`ink.py`), and a forgery adds a copying hand's tell-tales
(`forgery.py`) before the strokes are drawn and "scanned" (`scan.py`).

`render_genuine(writer, rng)` and `render_forgery(writer, rng)` return uint8 grey
scans, dark ink on light paper; pass `color=True` for an RGB scan in the pen's ink
colour (blue or black). `write_dataset` writes the generic folder layout.
"""

from model.synth.dataset import write_dataset
from model.synth.render import render_forgery, render_genuine, render_samples
from model.synth.writer import Writer, make_writer

__all__ = [
    "Writer",
    "make_writer",
    "render_forgery",
    "render_genuine",
    "render_samples",
    "write_dataset",
]
