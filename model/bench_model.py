"""Speed figures of the network and of one verification end to end.

`reference_signet_per_s` times Hafemann et al.'s SigNet (random weights, its own
150×220 input) in the same run, so `throughput_ratio` compares the two on the
same machine under the same load. The reference needs torch: an installation
without it (the executable's CPU flavour, which runs the portable model) reports
its own figures and leaves these two out.
"""

from __future__ import annotations

from model.bench import benchmark, cheque_scan, median_ms, signature_capture

BATCH = 64
VERIFY_REFERENCES = 10


def signature_capture_png(seed: int = 1) -> bytes:
    from model.imageio import encode_png

    return encode_png(signature_capture(seed))


def _per_second(work, n_items: int, repeat: int) -> float:
    ms = median_ms(work, max(3, repeat // 5), warmup=1)
    return round(n_items / (ms / 1000.0), 1)


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
        "embed_per_s": _per_second(lambda: verifier.embed_canvases(batch), BATCH, repeat),
    }
    if torch_available():
        figures["reference_signet_per_s"] = _signet_per_s(verifier.device, repeat)
        figures["throughput_ratio"] = round(
            figures["embed_per_s"] / figures["reference_signet_per_s"], 2
        )
    return figures


def _signet_per_s(device_type: str, repeat: int) -> float:
    import torch

    from model.network import SigNetReference, for_inference

    # The reference gets the same inference treatment (batch norm folded, channels
    # last) on the same device, so that the ratio compares architectures, not tricks;
    # and as the verifier runs a batch in slices of ENGINE_BATCH, the reference is timed
    # both ways and keeps the faster (usually the whole batch at once).
    from model.verifier import ENGINE_BATCH

    device = torch.device(device_type)
    signet = for_inference(SigNetReference(), device)
    x = torch.rand(BATCH, 1, 150, 220).to(device, memory_format=torch.channels_last)

    def signet_batch(size: int) -> None:
        with torch.inference_mode():
            for start in range(0, BATCH, size):
                signet(x[start : start + size])

    return max(
        _per_second(lambda size=size: signet_batch(size), BATCH, repeat)
        for size in (BATCH, ENGINE_BATCH)
    )
