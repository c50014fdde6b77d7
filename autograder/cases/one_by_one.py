"""Cases and known mistakes for 03_one_by_one: conv1x1, conv2d_param_count.

Worked example: the worked-examples document's 1x1 convolution of ``A=[[1,2],[3,4]]``,
``B=[[10,20],[30,40]]`` with weights ``[[1,0],[0,1],[1,-1]]``, whose third
output channel is ``Y3=[[-9,-18],[-27,-36]]``.
"""

from __future__ import annotations

import numpy as np

from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn

X_WORKED = np.array([[[1.0, 2.0], [3.0, 4.0]], [[10.0, 20.0], [30.0, 40.0]]])  # (2, 2, 2)
W_WORKED = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])  # (C_out=3, C_in=2)

# ----------------------------------------------------------------------------- conv1x1


def conv1x1(cs: CaseSet, rng) -> None:
    cs.example("worked examples: weight of shape (3, 2, 1, 1)",
               (X_WORKED, W_WORKED[:, :, None, None]))
    cs.example("worked examples: weight of shape (3, 2)", (X_WORKED, W_WORKED))
    cs.example("worked examples with bias [1, -1, 0.5], as a batch of 2",
               (np.stack([X_WORKED, -X_WORKED]), W_WORKED, np.array([1.0, -1.0, 0.5])))
    cs.example("3 input channels, 3x2 image, 4 output channels", (fixed(31, 3, 3, 2),
                                                                  fixed(32, 4, 3, 1, 1),
                                                                  fixed(33, 4)))
    for i in range(cs.n(2, 6)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        c_in, c_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        H, W = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        w = randn(rng, c_out, c_in) if rng.random() < 0.5 else randn(rng, c_out, c_in, 1, 1)
        bias = randn(rng, c_out) if rng.random() < 0.7 else None
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*batch, c_in, H, W)))}, weight "
                  f"{'x'.join(map(str, w.shape))}, {'with' if bias is not None else 'no'} bias",
                  (randn(rng, *batch, c_in, H, W), w, bias))
    cs.edge("one input channel", (randn(rng, 1, 3, 3), randn(rng, 4, 1, 1, 1), randn(rng, 4)))
    cs.edge("batch of 1, one pixel", (randn(rng, 1, 3, 1, 1), randn(rng, 2, 3), None))
    cs.edge("as many input as output channels", (randn(rng, 2, 3, 2, 3), randn(rng, 3, 3),
                                                 randn(rng, 3)))


CONV1X1_MISTAKES = [
    m.weight_axes_swapped("(C_out, C_in, 1, 1)` or `(C_out, C_in)", 2), m.bias_ignored(),
    m.bias_per_input_channel(),
]

# ----------------------------------------------------------------------------- parameter count


def conv2d_param_count(cs: CaseSet, rng) -> None:
    cs.example("worked examples: Conv2d(2, 3, kernel_size=2, bias=False)", (2, 3, 2),
               {"bias": False}, kind="exact")
    cs.example("worked examples: Conv2d(2, 3, kernel_size=1)", (2, 3, 1), kind="exact")
    cs.example("Conv2d(4, 6, kernel_size=(3, 2), groups=2)", (4, 6, (3, 2)), {"groups": 2},
               kind="exact")
    for i in range(cs.n(2, 5)):
        groups = int(rng.choice([1, 1, 2, 4]))
        c_in, c_out = groups * int(rng.integers(1, 9)), groups * int(rng.integers(1, 9))
        k = int(rng.integers(1, 6)) if rng.random() < 0.6 else (
            int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        bias = bool(rng.random() < 0.6)
        cs.random(f"random {i + 1}: c_in={c_in}, c_out={c_out}, kernel_size={k}, bias={bias}, "
                  f"groups={groups}", (c_in, c_out, k), {"bias": bias, "groups": groups},
                  kind="exact")
    cs.edge("depthwise: groups = c_in = c_out = 32", (32, 32, 3),
            {"bias": False, "groups": 32}, kind="exact")
    cs.edge("non-square kernel (1, 7)", (16, 8, (1, 7)), kind="exact")
    cs.edge("VGG layer: 64 -> 128, 3x3", (64, 128, 3), kind="exact")


def _count(c_in, c_out, kernel_size, bias=True, groups=1) -> int:
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


def _count_variant(change):
    def fn(case: Case):
        b = bound(case)
        return change(b, _count(**b))
    return fn


def _kernel_once(b, right):
    k = b["kernel_size"]
    return right - b["c_out"] * (b["c_in"] // b["groups"]) * k * (k - 1) if isinstance(
        k, int) else None


PARAM_MISTAKES = [
    Mistake("bias_ignored", "Your count leaves out the biases.",
            "With bias=True there is one bias per output channel: add `c_out`.",
            _count_variant(lambda b, right: right - b["c_out"] if b["bias"] else None)),
    Mistake("bias_always_counted", "Your count includes biases although bias=False.",
            "Add the `c_out` biases only when bias is True.",
            _count_variant(lambda b, right: None if b["bias"] else right + b["c_out"])),
    Mistake("bias_per_input_channel", "Your count has one bias per input channel.",
            "There is one bias per OUTPUT channel.",
            _count_variant(lambda b, right: right - b["c_out"] + b["c_in"] if b["bias"] else None)),
    Mistake("groups_ignored", "Your count ignores the groups.",
            "With groups=g each filter sees only `c_in // g` input channels.",
            _count_variant(lambda b, right: _count(**{**b, "groups": 1}))),
    Mistake("kernel_not_squared", "Your count uses `kernel_size` once instead of `kH * kW`.",
            "An int kernel_size k means a k x k kernel: `k*k` weights per input channel.",
            _count_variant(_kernel_once)),
]

GENERATORS = {"conv1x1": conv1x1, "conv2d_param_count": conv2d_param_count}
MISTAKES = {"conv1x1": CONV1X1_MISTAKES, "conv2d_param_count": PARAM_MISTAKES}
