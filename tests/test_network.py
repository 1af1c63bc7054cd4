"""The embedding tower and its inference form."""

import pytest
import torch

from model.network import (
    NetworkConfig,
    SigNetReference,
    build_network,
    fold_2x2,
    for_inference,
    frozen_for_cpu,
)


def _trained_looking(net: torch.nn.Module) -> torch.nn.Module:
    """Give every batch norm non-trivial statistics, as training would."""
    generator = torch.Generator().manual_seed(0)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(n, generator=generator) * 0.1)
    return net.eval()


@pytest.mark.parametrize(
    "net, shape",
    [
        (build_network(NetworkConfig()), (3, 1, *NetworkConfig().canvas_hw)),
        (SigNetReference(), (3, 1, 150, 220)),
    ],
    ids=["embedder", "signet"],
)
def test_inference_form_computes_the_same_function_without_batch_norm(net, shape):
    net = _trained_looking(net)
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(1))
    fast = for_inference(net, torch.device("cpu"))
    with torch.inference_mode():
        expected = net(x)
        got = fast(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(got, expected, atol=1e-4)
    kinds = {type(m) for m in fast.modules()}
    assert not kinds & {torch.nn.BatchNorm1d, torch.nn.BatchNorm2d}
    # the original is untouched: training may go on with it
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_embeddings_are_unit_vectors_of_the_configured_size():
    net = build_network(NetworkConfig(embedding_dim=32)).eval()
    with torch.inference_mode():
        e = net(torch.rand(2, 1, *NetworkConfig().canvas_hw))
    assert e.shape == (2, 32)
    assert torch.allclose(e.norm(dim=1), torch.ones(2), atol=1e-5)


@pytest.mark.parametrize(
    "net, hw",
    [
        (build_network(NetworkConfig(stroke_widths=(4, 4, 8), stroke_dim=8)), (224, 448)),
        (SigNetReference(), (150, 220)),
    ],
    ids=["embedder-with-stroke-tower", "signet"],
)
def test_frozen_graph_computes_the_same_function_at_any_batch_size(net, hw):
    net = _trained_looking(net)
    graph = frozen_for_cpu(net, hw)
    assert isinstance(graph, torch.jit.ScriptModule)
    for n in (1, 3, 16):  # traced at 2: the batch size must not be baked in
        x = torch.rand(n, 1, *hw, generator=torch.Generator().manual_seed(n))
        with torch.inference_mode():
            expected = net(x)
            got = graph(x.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_a_network_that_cannot_be_traced_runs_eagerly(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("tracing removed in this torch")

    monkeypatch.setattr(torch.jit, "trace", refuse)
    net = _trained_looking(build_network(NetworkConfig()))
    fallback = frozen_for_cpu(net, (224, 448))
    assert not isinstance(fallback, torch.jit.ScriptModule)
    x = torch.rand(2, 1, 224, 448, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        torch.testing.assert_close(
            fallback(x.contiguous(memory_format=torch.channels_last)), net(x), atol=1e-4, rtol=1e-4
        )


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_the_fold_is_pixel_unshuffle_laid_out_channels_last(layout):
    x = torch.rand(3, 1, 224, 448, generator=torch.Generator().manual_seed(3))
    folded = fold_2x2(x.contiguous(memory_format=layout))
    assert torch.equal(folded, torch.nn.functional.pixel_unshuffle(x, 2))
    assert folded.is_contiguous(memory_format=torch.channels_last)


def test_the_stroke_towers_ink_cells_are_the_canvas_max_pooled():
    from model.stroke import FOLD, INK, ink_cells

    x = torch.rand(2, 1, 224, 448, generator=torch.Generator().manual_seed(4)) ** 6
    expected = torch.nn.functional.max_pool2d(x, FOLD)[:, 0] > INK
    got = ink_cells(x.contiguous(memory_format=torch.channels_last))
    assert torch.equal(got, expected)
    assert 0 < int(expected.sum()) < expected.numel()  # both kinds of cell were tested
