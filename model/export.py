"""Exporting a checkpoint to the portable model (`model.portable`): needs torch and the
`onnx` package (a developer installation), never the app at run time.

The network is exported in its inference form (batch norm folded) with a free batch
size, then run once through OpenCV beside torch on random canvases: a model whose
two engines disagree is never written.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import load_checkpoint
from model.errors import ModelError
from model.network import build_network, for_inference
from model.portable import OpenCVEngine, PortableModel, write_portable

# Largest difference between the engines' embedding components that passes: both
# compute in float32, so they differ only by the order of additions (about 1e-6).
AGREEMENT_TOLERANCE = 1e-4
ONNX_OPSET = 17


def export_portable(checkpoint_path: Path, out_path: Path) -> PortableModel:
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
    except ImportError as err:
        raise ModelError(
            "Exporting needs the onnx package: pip install onnx (or sigverify[train])."
        ) from err
    ckpt = load_checkpoint(checkpoint_path)
    net = build_network(ckpt.config)
    net.load_state_dict(ckpt.state_dict)
    net = for_inference(net, torch.device("cpu")).to(memory_format=torch.contiguous_format)
    h, w = ckpt.config.canvas_hw
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's notes on its own deprecations
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(1, 1, h, w),),
            buffer,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed
            opset_version=ONNX_OPSET,
            input_names=["canvas"],
            output_names=["embedding"],
            dynamic_axes={"canvas": {0: "n"}, "embedding": {0: "n"}},
        )
    model = PortableModel(
        onnx=buffer.getvalue(),
        model_id=ckpt.model_id,
        embedding_dim=ckpt.config.output_dim,
        canvas_hw=(h, w),
        calibration=ckpt.calibration,
        thresholds=ckpt.thresholds,
        preprocess_version=ckpt.preprocess_version,
        card={"training": ckpt.training, "metrics": ckpt.metrics},
    )
    canvases = np.random.default_rng(0).random((5, 1, h, w), dtype=np.float32)
    with torch.inference_mode():
        expected = net(torch.from_numpy(canvases)).numpy()
    got = OpenCVEngine(model).embed(canvases)
    gap = float(np.abs(got - expected).max())
    if gap > AGREEMENT_TOLERANCE:
        raise ModelError(
            f"OpenCV's run of the exported network differs from torch's by {gap:.2g}; "
            "the model was not exported."
        )
    write_portable(out_path, model)
    return model
