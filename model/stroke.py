"""The stroke tower: a small convolutional network that learns what the pen left in
the strokes, beside the shape network that learns the signature's shape.

Why: the hand-made stroke texture (`model.texture`) showed that a skilled forgery
betrays itself in the strokes (tremor, uneven pressure, blunt starts and ends) more
than in its shape. A network can learn such cues instead of counting fixed binary
patterns, but only if it cannot learn shape: its receptive field is a stroke's width
(about 18 canvas pixels), and its features are pooled over all the ink (their mean
and spread), so where a stroke lies is lost, only what strokes look like is kept.

It is trained apart from the shape network, with the same triplet loss and batches
(a writer's forgeries as the hardest negatives), on crops around the ink, each
changed as a capture may change it (blur, a lower resolution, another tone curve,
blocky compression noise): a cue that such a change erases is no cue at a branch
whose scanner differs from the one that took the references. The shape network's
embedding and the tower's are joined into one unit vector (`model.network`), so
that its cosine is the shape cosine and the stroke cosine weighted by
`stroke_share`, fitted on validation writers.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

INK = 40 / 255  # canvas level from which a pixel counts as ink (as `model.texture`)
CROP_HW = (112, 224)  # training crops: a quarter of the canvas, centred on some ink
FOLD = 4  # the tower's feature map is the canvas at a quarter of its resolution


def _conv(c_in: int, c_out: int, k: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class StrokeTower(nn.Module):
    """Canvas batch (N, 1, H, W) in [0, 1] → L2-normalised stroke embeddings (N, dim)."""

    def __init__(self, widths: tuple[int, int, int] = (8, 8, 16), dim: int = 64) -> None:
        super().__init__()
        self.widths = tuple(widths)
        a, b, c = widths
        self.body = nn.Sequential(
            nn.PixelUnshuffle(2),  # as the shape network: no detail lost
            *_conv(4, a, 3),
            *_conv(a, b, 3, stride=2),
            *_conv(b, c, 3),
            *_conv(c, 2 * c, 1),
        )
        self.head = nn.Linear(4 * c, dim)

    def forward(self, x: torch.Tensor, folded: torch.Tensor | None = None) -> torch.Tensor:
        """`folded`, when given, is `x` already folded 2×2 (the body's first step)."""
        features = self.body(x) if folded is None else self.body[1:](folded)
        return self.pool(features, x)

    def pool(self, features: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The features' mean and spread over the ink cells → the unit embedding."""
        if torch.is_autocast_enabled(features.device.type):
            # Half precision (CUDA's mixed precision) would lose the spread, a mean of
            # squares less a square, to cancellation: about 1e-3 on the embedding.
            with torch.autocast(features.device.type, enabled=False):
                return self.pool(features.float(), x.float())
        n, c, h, w = features.shape
        # (N, cells, C): a free view of channels-last memory, in which the network runs
        cells = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
        ink = ink_cells(x).to(features.dtype).reshape(n, 1, h * w)
        # Sums over the ink cells as matrix products: masking the whole feature map
        # elementwise first took as long as the convolutions themselves.
        weights = ink / ink.sum(dim=2, keepdim=True).clamp_min(1.0)
        mean = torch.matmul(weights, cells).squeeze(1)
        square = torch.matmul(weights, cells * cells).squeeze(1)
        spread = (square - mean * mean).clamp_min(1e-6).sqrt()
        return F.normalize(self.head(torch.cat([mean, spread], dim=1)), dim=1)


def ink_cells(x: torch.Tensor) -> torch.Tensor:
    """Canvas batch (N, 1, H, W) → (N, H/FOLD, W/FOLD) bool: the cells of the tower's
    feature map that hold ink (their brightest canvas pixel is ink).

    That is `max_pool2d(x, FOLD) > INK`, made as a reshape and two reductions, the rows
    of a cell first, then its columns: max_pool2d, and one reduction over both strided
    axes, each took about ten times as long.
    """
    n, _, h, w = x.shape
    brightest = x.reshape(n, h // FOLD, FOLD, w // FOLD, FOLD).amax(dim=2).amax(dim=3)
    return brightest > INK


def ink_crop(canvas: np.ndarray, rng: np.random.Generator, size=CROP_HW) -> np.ndarray:
    """A training crop of the canvas centred on a randomly chosen ink pixel."""
    h, w = size
    ys, xs = np.nonzero(canvas[::4, ::4] > INK * 255)
    if not len(ys):
        return canvas[:h, :w]
    i = rng.integers(len(ys))
    y = int(np.clip(ys[i] * 4 - h // 2, 0, canvas.shape[0] - h))
    x = int(np.clip(xs[i] * 4 - w // 2, 0, canvas.shape[1] - w))
    return canvas[y : y + h, x : x + w]


def capture_changes(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 crop → float32 in [0, 1], changed as another scanner or a JPEG would."""
    img = crop.astype(np.float32) / 255.0
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), 0.3 + 0.9 * rng.random())
    if rng.random() < 0.3:
        h, w = img.shape
        f = 0.55 + 0.4 * rng.random()
        size = (max(1, round(w * f)), max(1, round(h * f)))
        small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4:
        img = np.clip(img, 0.0, 1.0) ** (0.7 + 0.8 * rng.random())
    if rng.random() < 0.3:  # 8×8 blocks of noise on the ink, like JPEG's
        h, w = img.shape
        blocks = rng.normal(0.0, 0.02, (h // 8 + 1, w // 8 + 1)).astype(np.float32)
        img = img + np.kron(blocks, np.ones((8, 8), np.float32))[:h, :w] * (img > 0.15)
    return np.clip(img, 0.0, 1.0).astype(np.float32)
