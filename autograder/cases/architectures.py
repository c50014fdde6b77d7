"""Cases and known mistakes for 03_one_by_one's example architectures: network_stats.

Worked examples: the lecture outline's example architectures, as layer specs
(`conv_ref.architectures`): LeNet-5, a VGG-16 block, ResNet's basic block (with
and without downsampling) and bottleneck block, MobileNet's depthwise-separable
block and MobileNetV2's inverted residual.
"""

from __future__ import annotations

import copy

import numpy as np

from autograder.cases._core import Case, CaseSet, Mistake, bound, reference


def conv(out, kernel, stride=1, padding=0, groups=1, bias=True) -> dict:
    return {"type": "conv", "out": out, "kernel": kernel, "stride": stride, "padding": padding,
            "groups": groups, "bias": bias}


BN, RELU = {"type": "batchnorm"}, {"type": "relu"}


def _conv_bn(out, kernel, stride=1, padding=0, groups=1, relu=True) -> list[dict]:
    return [conv(out, kernel, stride, padding, groups, bias=False), BN] + ([RELU] if relu else [])


# name -> (layers, input shape): the same lists as in the notebook.
NETWORKS: dict[str, tuple[list[dict], tuple[int, int, int]]] = {
    "LeNet-5": ([conv(6, 5), RELU, {"type": "avgpool", "kernel": 2}, conv(16, 5), RELU,
                 {"type": "avgpool", "kernel": 2}, {"type": "flatten"},
                 {"type": "linear", "out": 120}, RELU, {"type": "linear", "out": 84}, RELU,
                 {"type": "linear", "out": 10}], (1, 32, 32)),
    "VGG-16 block 2": ([conv(128, 3, padding=1), RELU, conv(128, 3, padding=1), RELU,
                        {"type": "maxpool", "kernel": 2}], (64, 112, 112)),
    "ResNet basic block": ([{"type": "residual",
                             "body": _conv_bn(64, 3, padding=1) + _conv_bn(64, 3, padding=1,
                                                                           relu=False),
                             "shortcut": []}, RELU], (64, 56, 56)),
    "ResNet basic block, downsampling": (
        [{"type": "residual",
          "body": _conv_bn(128, 3, stride=2, padding=1) + _conv_bn(128, 3, padding=1,
                                                                   relu=False),
          "shortcut": _conv_bn(128, 1, stride=2, relu=False)}, RELU], (64, 56, 56)),
    "ResNet bottleneck block": ([{"type": "residual",
                                  "body": _conv_bn(64, 1) + _conv_bn(64, 3, padding=1)
                                  + _conv_bn(256, 1, relu=False),
                                  "shortcut": []}, RELU], (256, 56, 56)),
    "MobileNet block": (_conv_bn(32, 3, padding=1, groups=32) + _conv_bn(64, 1),
                        (32, 112, 112)),
    "MobileNetV2 inverted residual": (
        [{"type": "residual",
          "body": _conv_bn(144, 1) + _conv_bn(144, 3, padding=1, groups=144)
          + _conv_bn(24, 1, relu=False),
          "shortcut": []}], (24, 56, 56)),
}

NAMES = ("shapes", "params", "macs")


def _random_network(rng, depth: int) -> tuple[list[dict], tuple[int, int, int]]:
    c, size = int(rng.integers(1, 5)), int(rng.integers(8, 17))
    layers, channels = [], c
    for _ in range(depth):
        kind = rng.choice(["conv", "conv", "conv", "pool", "relu", "bn", "residual"])
        if kind == "conv":
            groups = int(rng.choice([1, 1, channels]))
            out = groups * int(rng.integers(1, 4))
            k = int(rng.integers(1, 4))
            layers.append(conv(out, k, int(rng.integers(1, 3)), int(rng.integers(0, k)),
                               groups, bool(rng.random() < 0.6)))
            channels = out
        elif kind == "pool":
            layers.append({"type": str(rng.choice(["maxpool", "avgpool"])), "kernel": 2})
        elif kind == "relu":
            layers.append(RELU)
        elif kind == "bn":
            layers.append(BN)
        else:
            layers.append({"type": "residual", "body": _conv_bn(channels, 3, padding=1),
                           "shortcut": []})
    return layers, (c, size, size)


def network_stats(cs: CaseSet, rng) -> None:
    for name, (layers, shape) in NETWORKS.items():
        cs.example(name, (layers, shape), output_names=NAMES)
    cs.example("a non-square kernel with padding (1, 2) and a flatten",
               ([conv(4, (3, 5), padding=(1, 2)), {"type": "flatten"},
                 {"type": "linear", "out": 3, "bias": False}], (2, 6, 7)), output_names=NAMES)
    for i in range(cs.n(2, 6)):
        for _ in range(20):  # random layers may not fit the shrinking image: draw again
            layers, shape = _random_network(rng, int(rng.integers(2, 6)))
            try:
                reference("network_stats", (layers, shape), {})
            except ValueError:
                continue
            break
        cs.random(f"random {i + 1}: {len(layers)} layers on {shape}", (layers, shape),
                  output_names=NAMES)
    cs.edge("one 1x1 convolution without bias", ([conv(5, 1, bias=False)], (3, 4, 4)),
            output_names=NAMES)
    cs.edge("global average pooling then a linear layer",
            ([{"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "out": 10}],
             (512, 7, 7)), output_names=NAMES)
    cs.edge("max pooling with stride 1 and padding 1",
            ([{"type": "maxpool", "kernel": 3, "stride": 1, "padding": 1}], (2, 5, 5)),
            output_names=NAMES)
    cs.error("unknown layer type 'dropout'", ([{"type": "dropout"}], (1, 4, 4)), public=True)
    cs.error("groups=2 on 3 input channels", ([conv(4, 3, groups=2)], (3, 8, 8)))
    cs.error("kernel 5 on a 4x4 input", ([conv(2, 5)], (1, 4, 4)))
    cs.error("linear layer on an unflattened input", ([{"type": "linear", "out": 2}], (1, 4, 4)))
    cs.error("residual whose body changes the channels",
             ([{"type": "residual", "body": [conv(8, 1)], "shortcut": []}], (4, 4, 4)))


# ----------------------------------------------------------------------------- mistakes


def _edit(layers: list, change) -> list:
    """A deep copy of `layers` with `change(spec)` applied to every spec, residual bodies too."""
    out = []
    for spec in copy.deepcopy(layers):
        if spec.get("type") == "residual":
            spec["body"] = _edit(spec["body"], change)
            spec["shortcut"] = _edit(spec.get("shortcut", []), change)
        out.append(change(spec))
    return out


def _variant(change):
    def fn(case: Case):
        b = bound(case)
        layers = _edit(b["layers"], change)
        if layers == b["layers"]:
            return None
        return reference("network_stats", (layers, b["input_shape"]), {})
    return fn


def _no_bias(spec):
    return {**spec, "bias": False} if spec["type"] in ("conv", "linear") else spec


def _groups_one(spec):
    return {**spec, "groups": 1} if spec["type"] == "conv" else spec


def _pool_stride_one(spec):
    if spec["type"] in ("maxpool", "avgpool") and spec.get("stride") is None:
        return {**spec, "stride": 1}
    return spec


def _macs_as_params(case: Case):
    shapes, params, macs = case.expected
    weights = _variant(_no_bias)(case)
    w = params if weights is None else weights[1]
    return None if np.array_equal(w, macs) else (shapes, params, w)


def _batchnorm_four(case: Case):
    shapes, params, macs = case.expected
    extra = np.array([2 * s[0] if spec.get("type") == "batchnorm" else 0
                      for spec, s in zip(bound(case)["layers"], shapes, strict=True)])
    return (shapes, params + extra, macs) if extra.any() else None


MISTAKES = {"network_stats": [
    Mistake("bias_ignored", "Your parameter counts leave out the biases.",
            "A conv or linear layer with bias=True has one bias per output channel or feature.",
            _variant(_no_bias)),
    Mistake("groups_ignored", "Your counts ignore `groups`.",
            "With groups=g each filter sees `C_in // g` input channels: a depthwise layer "
            "(groups = C_in) has `C * kH * kW` weights, not `C * C * kH * kW`.",
            _variant(_groups_one)),
    Mistake("pool_stride_one", "Your pooling layers move by 1 when no stride is given.",
            "As in PyTorch, a pooling layer's stride defaults to its kernel size.",
            _variant(_pool_stride_one)),
    Mistake("macs_are_weights", "Your MACs equal the weight counts.",
            "A weight is used once per output position: a conv layer's MACs are "
            "`C_out * H_out * W_out * (C_in // groups) * kH * kW`.", _macs_as_params),
    Mistake("batchnorm_running_stats", "Your batch norm counts 4 numbers per channel.",
            "Only the scale and the shift are learned; the running mean and variance are "
            "buffers, not parameters.", _batchnorm_four),
]}

GENERATORS = {"network_stats": network_stats}
