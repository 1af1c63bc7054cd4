"""Speed figures of the network and of one verification end to end.

`reference_signet_per_s` times Hafemann et al.'s SigNet (random weights, its own
150×220 input) in the same run, so `throughput_ratio` compares the two on the
same machine under the same load. The reference needs torch: an installation
without it (the executable's CPU flavour, which runs the portable model) reports
its own figures and leaves these two out.
"""

from __future__ import annotations

import statistics
import time

from model.bench import benchmark, cheque_scan, median_ms, signature_capture

BATCH = 64
VERIFY_REFERENCES = 10


def signature_capture_png(seed: int = 1) -> bytes:
    from model.imageio import encode_png

    return encode_png(signature_capture(seed))


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@benchmark("model")
def _model_figures(repeat: int, options: dict) -> dict:
    from model.imageio import load_gray
    from model.texture import stroke_texture
    from model.verifier import Verifier, torch_available

    verifier = Verifier.load(options.get("weights"), device=options.get("device", "auto"))
    canvas = verifier.preprocess(cheque_scan()).canvas
    batch = [canvas] * BATCH
    png = signature_capture_png()
    refs = verifier.embed_canvases([canvas] * VERIFY_REFERENCES)

    def verify_once() -> None:  # load + preprocess + embed + compare with 10 references
        query = verifier.embed_canvases([verifier.preprocess(load_gray(png)).canvas])[0]
        verifier.decide(verifier.score(refs, query))

    # The one-signature latencies first: the batch runs below fill the caches with
    # their own data, which a teller's single verification would not find there.
    figures: dict = {
        "device": verifier.device,
        "device_name": verifier.device_name,
        "engine": verifier.engine,
        "model_id": verifier.model_id,
        "embed_ms": median_ms(lambda: verifier.embed_canvases([canvas]), repeat),
        # the stroke-texture histogram alone (part of embed_ms when the model uses it)
        "texture_ms": median_ms(lambda: stroke_texture(canvas), repeat),
        "verify_ms": median_ms(verify_once, repeat),
    }
    embed_batch = lambda: verifier.embed_canvases(batch)  # noqa: E731
    if not torch_available():
        figures["embed_per_s"] = _rate([_seconds(embed_batch) for _ in _rounds(repeat)])
        return figures
    signet_seconds = _signet_seconds(verifier.device)
    embed_batch()  # warm-up
    # Alternate rounds of the two, so that a burst of load on a shared machine slows
    # both alike: the ratio is the median of each round's own ratio, not of figures
    # measured minutes apart.
    ours, reference = [], []
    for _ in _rounds(repeat):
        ours.append(_seconds(embed_batch))
        reference.append(signet_seconds())
    figures["embed_per_s"] = _rate(ours)
    figures["reference_signet_per_s"] = _rate(reference)
    figures["throughput_ratio"] = paired_ratio(ours, reference)
    return figures


def paired_ratio(ours: list[float], reference: list[float]) -> float:
    """How many times faster ours ran than the reference: the median of each round's
    own ratio (seconds of the reference over ours), so that a burst of load that
    slowed one round slows both sides of it alike."""
    return round(statistics.median(r / o for o, r in zip(ours, reference, strict=True)), 2)


def _rounds(repeat: int) -> range:
    return range(max(3, repeat // 3))


def _rate(seconds: list[float]) -> float:
    """Signatures per second of the median batch."""
    return round(BATCH / statistics.median(seconds), 1)


def _signet_seconds(device_type: str):
    """A function timing SigNet on a batch of BATCH: the seconds of the faster way."""
    import torch

    from model.network import SigNetReference, inference_network
    from model.verifier import ENGINE_BATCH

    # The reference gets the same inference treatment (batch norm folded, channels
    # last, a frozen graph on the CPU) on the same device, so that the ratio compares
    # architectures, not tricks; and as the verifier runs a batch in slices of
    # ENGINE_BATCH, the reference is timed both ways and keeps the faster.
    device = torch.device(device_type)
    signet = inference_network(SigNetReference().eval(), device, (150, 220))
    x = torch.rand(BATCH, 1, 150, 220).to(device, memory_format=torch.channels_last)

    def in_slices(size: int):
        def run() -> None:
            # in the verifier's precision: mixed on CUDA (model/engine_torch.py)
            cuda = device.type == "cuda"
            with torch.inference_mode(), torch.autocast(device.type, torch.float16, enabled=cuda):
                for start in range(0, BATCH, size):
                    signet(x[start : start + size])
            if device.type == "cuda":  # CUDA runs asynchronously: wait for the result
                torch.cuda.synchronize(device)

        return run

    runs = [in_slices(size) for size in (BATCH, ENGINE_BATCH)]
    for run in runs:  # warm-up: oneDNN prepares each shape once
        run()
    return lambda: min(_seconds(run) for run in runs)
