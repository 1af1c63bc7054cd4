"""The embedding tower and its inference form."""

import pytest
import torch

from model.network import NetworkConfig, SigNetReference, build_network, for_inference


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
