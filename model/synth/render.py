"""Render one genuine signature or one skilled forgery of a writer as a scanned crop.

Both return uint8 grey (h, w), dark ink on light paper, or with `color=True` an RGB
(h, w, 3) scan in the pen's ink colour (blue or black). A given `rng` state always
gives the same image; the grey and colour renderings of one state show the same
strokes.
"""

from __future__ import annotations

import numpy as np

from model.synth.forgery import add_hesitations, add_tremor, forger_hand, forger_ink, lift_pen
from model.synth.ink import genuine_hand, ink_path
from model.synth.scan import draw_ink, frame, scan
from model.synth.trajectory import (
    FORGER,
    GENUINE,
    keypoint_arrays,
    pen_paths,
    sample_geometry,
    vary_keypoints,
)
from model.synth.writer import Writer, make_writer


def render_genuine(writer: Writer, rng: np.random.Generator, color: bool = False) -> np.ndarray:
    """The writer signing once more: their shape with natural variation, their own pen."""
    edges = np.asarray(writer.letter_edges)
    strokes = vary_keypoints(keypoint_arrays(writer), edges, GENUINE, rng)
    geo = sample_geometry(writer, GENUINE, rng)
    paths = pen_paths(strokes, writer, geo, GENUINE.speed, rng)
    hand = genuine_hand(writer, rng)
    inked = [ink_path(p, hand, rng) for p in paths]
    hw = frame(inked, rng)
    return scan(draw_ink(inked, hw), writer.ink_rgb, rng, color)


def render_forgery(writer: Writer, rng: np.random.Generator, color: bool = False) -> np.ndarray:
    """A skilled forgery: one genuine specimen copied slowly by another hand."""
    edges = np.asarray(writer.letter_edges)
    specimen = vary_keypoints(keypoint_arrays(writer), edges, GENUINE, rng)
    copy = vary_keypoints(specimen, edges, FORGER, rng)
    geo = sample_geometry(writer, FORGER, rng)
    paths = pen_paths(copy, writer, geo, FORGER.speed, rng)
    add_tremor(paths, rng)
    paths = lift_pen(paths, rng)
    hand = forger_hand(writer, rng)
    inked = [ink_path(p, hand, rng) for p in paths]
    add_hesitations(inked, rng)
    hw = frame(inked, rng)
    return scan(draw_ink(inked, hw), forger_ink(writer, rng), rng, color)


def render_samples(
    writer_seed: int, count: int, first: int = 0, forged: bool = False
) -> list[np.ndarray]:
    """`count` grey scans of synthetic writer `writer_seed`, samples first..first+count-1.

    Sample i always comes from its own random stream, so the same (writer, i) is the
    same image everywhere: in the demo store and in tests.
    """
    writer = make_writer(writer_seed)
    render = render_forgery if forged else render_genuine
    return [
        render(writer, np.random.default_rng([writer_seed, int(forged), i]))
        for i in range(first, first + count)
    ]
