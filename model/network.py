"""The embedding tower shared by both branches of the siamese network, and the
SigNet reference architecture it is measured against.

Why this architecture: a branch PC's CPU is the target, so the budget is CPU
milliseconds. The 224×448 canvas is first folded space-to-depth (each 2×2 block of
pixels becomes 4 channels of one cell: no detail lost, a quarter of the positions),
then a 5×5 stem at stride 2 and a max-pool bring it to 28×56 at once (a 5×5 window
still covers a whole pen stroke). Folding costs 14% more arithmetic than feeding the
stem a 112×224 canvas, and with the same schedule it brought the validation EER on
skilled forgeries from 16.3% to 12.8% (final epochs): fine stroke detail (tremor,
blunt starts and ends, pressure) is what tells a skilled forgery apart. Then four
residual stages (3×3 convolutions, batch norm) halve the resolution as they double the
width: 0.12 GMAC and 1.3M weights a signature, against SigNet's 0.60 GMAC and 15.8M weights
(most of them in its two 2048-wide fully connected layers, which this tower has not).
Global average + max pooling keep both "how much of this stroke shape" and "is it
anywhere"; a linear layer maps to a unit-length embedding, so that a dot product is
the cosine similarity.

A model may carry a second, much smaller tower beside it (`model.stroke`):
it sees only what strokes look like, not where they lie, and its unit vector follows
the shape network's, the two scaled so that the whole stays a unit vector whose
cosine mixes the two cosines by the fitted `stroke_share`.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from model.preprocess import CANVAS_HW
from model.stroke import StrokeTower

log = logging.getLogger("sigverify.network")


@dataclass(frozen=True)
class NetworkConfig:
    name: str = "sigres"
    widths: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (1, 1, 1, 1)
    embedding_dim: int = 128
    canvas_hw: tuple[int, int] = CANVAS_HW  # what `preprocess` makes
    unshuffle: int = 2  # space-to-depth factor before the stem (1: none)
    # The stroke tower beside it (`model.stroke`); no widths: none (models before it)
    stroke_widths: tuple[int, ...] = ()
    stroke_dim: int = 64

    @property
    def output_dim(self) -> int:
        """The length of the network's output: the shape embedding, then the stroke one."""
        return self.embedding_dim + (self.stroke_dim if self.stroke_widths else 0)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> NetworkConfig:
        d = {"unshuffle": 1} | d  # checkpoints from before folding fed the stem directly
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x), inplace=True)


class SignatureEmbedder(nn.Module):
    """Canvas batch (N, 1, H, W) in [0, 1] → L2-normalised embeddings (N, D)."""

    def __init__(self, config: NetworkConfig = NetworkConfig()) -> None:
        super().__init__()
        self.config = config
        w0 = config.widths[0]
        u = config.unshuffle
        self.stem = nn.Sequential(
            *([nn.PixelUnshuffle(u)] if u > 1 else []),
            nn.Conv2d(u * u, w0, 5, 2, 2, bias=False),
            nn.BatchNorm2d(w0),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        layers: list[nn.Module] = []
        c_in = w0
        for i, (width, n_blocks) in enumerate(zip(config.widths, config.blocks, strict=True)):
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(ResidualBlock(c_in, width, stride))
                c_in = width
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(2 * c_in, config.embedding_dim)
        self.stroke: StrokeTower | None = None
        if config.stroke_widths:
            if u != 2:
                raise ValueError("a stroke tower needs the canvas folded 2×2 (unshuffle 2)")
            self.stroke = StrokeTower(tuple(config.stroke_widths), config.stroke_dim)
            # The stroke cosine's share of the whole cosine, fitted on validation
            # writers. A buffer, so that it is part of the weights and of the model id.
            self.register_buffer("stroke_share", torch.tensor(0.0))

    def shape_embedding(self, x: torch.Tensor, folded: torch.Tensor | None = None) -> torch.Tensor:
        """`folded`, when given, is the canvas already folded 2×2 (the stem's first step)."""
        x = self.stages(self.stem(x) if folded is None else self.stem[1:](folded))
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        return F.normalize(self.head(pooled), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stroke is None:
            return self.shape_embedding(x)
        folded = fold_2x2(x)  # both towers start by folding: fold once
        shape, stroke = self.shape_embedding(x, folded), self.stroke(x, folded)
        # Two unit vectors scaled by the square roots of their shares: the result is a
        # unit vector whose dot product with another is the shares' mix of the two
        # cosines, so everything downstream still compares one unit vector.
        share = self.stroke_share
        return torch.cat([(1 - share).sqrt() * shape, share.sqrt() * stroke], dim=1)


def fold_2x2(x: torch.Tensor) -> torch.Tensor:
    """`F.pixel_unshuffle(x, 2)` of a one-channel batch, laid out channels-last.

    Why not pixel_unshuffle itself: its result is channels-first, which both towers'
    first convolutions then copied into channels-last again, each on its own; made
    here as one reshape and copy, the fold costs about a third of that.
    """
    n, _, h, w = x.shape
    cells = x.reshape(n, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3)
    return cells.reshape(n, 4, h // 2, w // 2).contiguous(memory_format=torch.channels_last)


class SigNetReference(nn.Module):
    """Hafemann et al. 2017's SigNet (input 150×220), random weights: the speed yardstick."""

    def __init__(self) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int, k: int, s: int = 1, p: int = 0) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, k, s, p, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.features = nn.Sequential(
            *conv(1, 96, 11, 4),
            nn.MaxPool2d(3, 2),
            *conv(96, 256, 5, 1, 2),
            nn.MaxPool2d(3, 2),
            *conv(256, 384, 3, 1, 1),
            *conv(384, 384, 3, 1, 1),
            *conv(384, 256, 3, 1, 1),
            nn.MaxPool2d(3, 2),
        )
        self.fc = nn.Sequential(
            nn.Linear(256 * 3 * 5, 2048, bias=False),
            nn.BatchNorm1d(2048),
            nn.ReLU(),
            nn.Linear(2048, 2048, bias=False),
            nn.BatchNorm1d(2048),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


def build_network(config: NetworkConfig) -> SignatureEmbedder:
    return SignatureEmbedder(config)


def _folded(layer: nn.Module, norm: nn.Module) -> nn.Module | None:
    if isinstance(layer, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
        return fuse_conv_bn_eval(layer, norm)
    if isinstance(layer, nn.Linear) and isinstance(norm, nn.BatchNorm1d):
        return fuse_linear_bn_eval(layer, norm)
    return None


def for_inference(net: nn.Module, device: torch.device) -> nn.Module:
    """A copy of a trained network made fast for inference, computing the same function.

    Every batch norm is folded into the convolution or linear layer before it (at
    inference it is a fixed per-channel scale and shift), and the weights are laid out
    channels-last, which oneDNN's CPU convolutions and CUDA's tensor cores both run
    faster: on this project's 2-core CPU a batch of 64 takes about half the time.
    """
    net = copy.deepcopy(net).eval()
    for module in list(net.modules()):
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                fused = _folded(module[i], module[i + 1])
                if fused is not None:
                    module[i], module[i + 1] = fused, nn.Identity()
        elif isinstance(module, ResidualBlock):
            for conv, norm in (("conv1", "bn1"), ("conv2", "bn2")):
                fused = fuse_conv_bn_eval(getattr(module, conv), getattr(module, norm))
                setattr(module, conv, fused)
                setattr(module, norm, nn.Identity())
    return net.to(device, memory_format=torch.channels_last)


def inference_network(net: nn.Module, device: torch.device, input_hw: tuple[int, int]) -> nn.Module:
    """What runs a trained network: on the CPU its frozen graph, on CUDA `for_inference`."""
    if device.type == "cpu":
        return frozen_for_cpu(net, input_hw)
    return for_inference(net, device)


def frozen_for_cpu(net: nn.Module, input_hw: tuple[int, int]) -> nn.Module:
    """`for_inference(net, cpu)` as a frozen TorchScript graph, computing the same function.

    Why: at a teller's batch of one, eager PyTorch spends about a fifth of the time
    outside the arithmetic (a Python call per layer, oneDNN re-laying the weights
    out on every call); a frozen graph packs the weights once and fuses each
    convolution with its ReLU (on this project's CPU: 5.2 -> 4.1 ms a signature, and
    about a tenth off a batch of 16). TorchScript is deprecated in favour of
    `torch.compile`, which needs a C++ compiler on the branch PC; where tracing is
    refused or gives another result, the eager network runs instead.
    """
    net = for_inference(net, torch.device("cpu"))
    example = torch.rand(2, 1, *input_hw, generator=torch.Generator().manual_seed(0))
    example = example.contiguous(memory_format=torch.channels_last)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", FutureWarning)  # the deprecation notice
            graph = torch.jit.freeze(torch.jit.trace(net, example, check_trace=False))
            same = torch.allclose(graph(example[:1]), net(example[:1]), atol=1e-5)
    except Exception as err:  # noqa: BLE001 - any failure only costs speed
        log.info("running the network eagerly: tracing failed (%s)", err)
        return net
    if not same:
        log.warning("running the network eagerly: its traced graph computes something else")
        return net
    return graph
