"""Training the stroke tower (`model.stroke`) beside a trained shape network, and
joining the two into one network.

The shape network's weights stay as they are: the tower is trained alone, by
`model.train`'s loop (same batches, loss, schedule, validation and resuming), on
crops around the ink changed as captures change. Then the two are joined
(`join_towers`): the stroke cosine's share of the joined cosine is fitted on the
validation writers by the same logistic regression that weighs the hand-made stroke
texture, and the joined network is calibrated as any other.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from model.calibration import fit_texture_weight
from model.checkpoint import Checkpoint
from model.evaluate import pooled
from model.network import SignatureEmbedder, build_network
from model.stroke import StrokeTower, capture_changes, ink_crop
from model.training_data import CanvasSet
from model.validation import protocol_terms


def stroke_batch(train_set: CanvasSet, rows: np.ndarray, rng: np.random.Generator):
    """Images (N, 1, h, w) and triplet labels of one batch, for the stroke tower."""
    crops = [capture_changes(ink_crop(train_set.canvases[r], rng), rng) for r in rows]
    w = train_set.writer[rows].astype(np.int64)
    labels = np.where(train_set.forged[rows], -1 - w, w)
    return torch.from_numpy(np.stack(crops)[:, None]), torch.from_numpy(labels)


def stroke_share(shape_net, tower: StrokeTower, val_set: CanvasSet, device) -> float:
    """The stroke cosine's share of the joined cosine: w / (1 + w), where w is the
    ratio of the two terms' slopes in a logistic regression on validation writers."""
    shape, _, _ = protocol_terms(shape_net, val_set, device, texture=False)
    stroke, _, _ = protocol_terms(tower, val_set, device, texture=False)
    columns = [
        np.column_stack([pooled(getattr(shape, kind)), pooled(getattr(stroke, kind))])
        for kind in ("genuine", "skilled", "random")
    ]
    weight = fit_texture_weight(*columns)
    return weight / (1.0 + weight)


def join_towers(
    base: Checkpoint, tower: StrokeTower, val_set: CanvasSet, device
) -> SignatureEmbedder:
    """The base checkpoint's shape network with the trained tower beside it."""
    shape_net = build_network(base.config)
    shape_net.load_state_dict(base.state_dict)
    shape_net = shape_net.to(device)
    share = stroke_share(shape_net, tower, val_set, device)
    config = replace(
        base.config,
        stroke_widths=tuple(tower.widths),
        stroke_dim=tower.head.out_features,
    )
    joined = build_network(config)
    state = dict(base.state_dict)
    state |= {f"stroke.{k}": v.detach().cpu() for k, v in tower.state_dict().items()}
    state["stroke_share"] = torch.tensor(share)
    joined.load_state_dict(state)
    return joined.to(device)
