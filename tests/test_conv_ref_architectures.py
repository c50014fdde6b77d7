"""network_stats against PyTorch: modules built from the same layer specs give the shapes and
parameter counts, and forward hooks that count multiply-accumulates give the MACs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases
from autograder.cases.architectures import NETWORKS


class Residual(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


def build(layers: list[dict], channels: int, features: int | None = None) -> nn.Sequential:
    """The PyTorch modules of `layers` on an input with `channels` channels."""
    modules = []
    for spec in layers:
        kind = spec["type"]
        if kind == "conv":
            modules.append(nn.Conv2d(channels, spec["out"], spec["kernel"],
                                     spec.get("stride", 1), spec.get("padding", 0),
                                     groups=spec.get("groups", 1), bias=spec.get("bias", True)))
            channels = spec["out"]
        elif kind in ("maxpool", "avgpool"):
            pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
            modules.append(pool(spec["kernel"], spec.get("stride"), spec.get("padding", 0)))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "batchnorm":
            modules.append(nn.BatchNorm2d(channels))
        elif kind == "global_avgpool":
            modules.append(nn.AdaptiveAvgPool2d(1))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "linear":
            modules.append(nn.LazyLinear(spec["out"], bias=spec.get("bias", True)))
        elif kind == "residual":
            body = build(spec["body"], channels)
            modules.append(Residual(body, build(spec.get("shortcut", []), channels)))
            convs = [s for s in spec["body"] if s["type"] == "conv"]
            channels = convs[-1]["out"] if convs else channels
        else:
            raise AssertionError(kind)
    return nn.Sequential(*modules)


def torch_stats(layers, input_shape):
    """(shapes, params, macs) of the PyTorch network, MACs counted by forward hooks."""
    net = build(layers, input_shape[0])
    x = torch.zeros((1, *input_shape))  # a batch of one
    macs: dict[nn.Module, int] = {}

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * int(np.prod(module.kernel_size))
            macs[module] = output.numel() * per_output
        elif isinstance(module, nn.Linear):
            macs[module] = output.shape[0] * module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in net.modules()]
    shapes = []
    with torch.no_grad():
        net.eval()
        for top in net:
            x = top(x)
            shapes.append(tuple(x.shape[1:]))
    for h in hooks:
        h.remove()
    params = [sum(p.numel() for p in top.parameters()) for top in net]
    layer_macs = [sum(macs.get(m, 0) for m in top.modules()) for top in net]
    return tuple(shapes), params, layer_macs


def value_cases():
    cases = generate_cases("network_stats", PUBLIC_SEED, public=True) + generate_cases(
        "network_stats", 777, public=False)
    return [c for c in cases if c.kind != "raises"]


@pytest.mark.parametrize("case", value_cases(), ids=lambda c: c.name)
def test_network_stats_equals_pytorch(case):
    layers, shape = case.args
    shapes, params, macs = conv_ref.network_stats(layers, shape)
    t_shapes, t_params, t_macs = torch_stats(layers, shape)
    assert shapes == t_shapes
    assert params.tolist() == t_params
    assert macs.tolist() == t_macs
    assert params.dtype == macs.dtype == np.int64


def test_the_lecture_networks_have_their_known_sizes():
    # LeNet-5's 61,706 parameters; the bottleneck's 3 convolutions replace the basic block's 2
    # at a similar cost on 4x the channels.
    _, params, _ = conv_ref.network_stats(*NETWORKS["LeNet-5"])
    assert params.sum() == 61706
    _, p_basic, m_basic = conv_ref.network_stats(*NETWORKS["ResNet basic block"])
    _, p_neck, m_neck = conv_ref.network_stats(*NETWORKS["ResNet bottleneck block"])
    assert p_neck.sum() < p_basic.sum() and m_neck.sum() < m_basic.sum()
    shapes, params, macs = conv_ref.network_stats(*NETWORKS["MobileNet block"])
    assert params[0] == 32 * 9 and macs[0] == 32 * 9 * 112 * 112


@pytest.mark.parametrize("layers, shape, match", [
    ([{"type": "dropout"}], (1, 4, 4), "layer 0 expects a dict with 'type'"),
    ([{"type": "conv", "kernel": 3}], (1, 4, 4), "expects the key"),
    ([{"type": "conv", "out": 4, "kernel": 3, "groups": 2}], (3, 8, 8), "groups=2 must divide"),
    ([{"type": "conv", "out": 2, "kernel": 5}], (1, 4, 4), "larger than the padded input"),
    ([{"type": "linear", "out": 2}], (1, 4, 4), "add a flatten layer"),
    ([{"type": "residual", "body": [{"type": "conv", "out": 8, "kernel": 1}]}], (4, 4, 4),
     "expected equal shapes"),
    ([], (1, 4, 4), "non-empty list"),
    ([{"type": "relu"}], (1, 0, 4), "input_shape expects"),
])
def test_network_stats_errors_name_the_problem(layers, shape, match):
    with pytest.raises(ValueError, match=f"network_stats: .*{match}"):
        conv_ref.network_stats(layers, shape)
    # PyTorch refuses the same networks, except the empty one (the identity) and a linear layer
    # on an image (applied to its last axis): this course asks for a flatten first.
    if layers and layers[0].get("type") not in ("dropout", "linear") and shape[1]:
        with pytest.raises((RuntimeError, ValueError, KeyError)):
            torch_stats(layers, shape)


def test_network_stats_leaves_the_specs_unchanged():
    layers, shape = NETWORKS["ResNet basic block, downsampling"]
    before = repr(layers)
    conv_ref.network_stats(layers, shape)
    assert repr(layers) == before
