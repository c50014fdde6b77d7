"""Every argument form torch.nn.functional documents for the mirrored ops, against PyTorch.

One row per form: one-element tuples, ``stride=()``, lists, NumPy integers,
``return_indices``, ``divisor_override``, ``ceil_mode`` with padding and
dilation, negative (cropping) pads in every mode, empty batches, integer and
bool inputs; then the forms PyTorch refuses, with conv_ref's message.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_torch_props import check_against_torch

RNG = np.random.default_rng(15)
X1 = RNG.standard_normal((2, 3, 9))
X2 = RNG.standard_normal((2, 3, 7, 6))
INTS = RNG.integers(-3, 4, size=(2, 3, 7, 6))  # many ties for return_indices
BOOLS = RNG.random((2, 3, 5, 6)) < 0.5
W1, W2 = RNG.standard_normal((4, 3, 3)), RNG.standard_normal((4, 3, 3, 2))
WT1, WT2 = RNG.standard_normal((3, 2, 3)), RNG.standard_normal((3, 2, 2, 3))
B4, B2 = RNG.standard_normal(4), RNG.standard_normal(2)
EMPTY1, EMPTY2 = np.zeros((0, 3, 9)), np.zeros((0, 3, 7, 6))

VALID = [
    # conv: one-element tuples broadcast, lists, NumPy ints, padding strings, empty batch
    ("conv1d", (X1, W1), {"stride": (2,), "padding": [1], "dilation": np.int64(2)}),
    ("conv1d", (X1, W1, B4), {"padding": "same", "dilation": (2,)}),
    ("conv1d", (EMPTY1, W1, B4), {"padding": 1}),
    ("conv1d", (X1[0], W1), {"padding": "valid"}),
    ("conv1d", (INTS[..., 0], W1.round()), {}),
    ("conv2d", (X2, W2, B4), {"stride": (2,), "padding": (1,), "dilation": [1, 2]}),
    ("conv2d", (X2, W2), {"padding": "same", "stride": [1]}),
    ("conv2d", (EMPTY2, W2), {"stride": 2}),
    ("conv2d", (BOOLS, W2 > 0), {"padding": 1}),
    ("conv2d", (X2, np.ones((4, 3, 1, 1)), B4), {"groups": np.int64(1)}),
    # conv_transpose: the same forms, output_padding as a one-element tuple
    ("conv_transpose1d", (X1, WT1, B2), {"stride": (2,), "output_padding": (1,)}),
    ("conv_transpose1d", (EMPTY1, WT1), {"padding": [1]}),
    ("conv_transpose2d", (X2, WT2, B2), {"stride": (2,), "padding": (1,), "dilation": (2, 1)}),
    ("conv_transpose2d", (X2, WT2), {"stride": [3, 2], "output_padding": [2, 1]}),
    ("conv_transpose2d", (EMPTY2, WT2, B2), {}),
    ("conv_transpose2d", (INTS, WT2.round()), {"stride": 2}),
    # max pools: (k,), stride () and [], return_indices, ceil_mode with padding and dilation
    ("max_pool1d", (X1, (3,)), {"stride": (), "padding": (1,), "return_indices": True}),
    ("max_pool1d", (X1, 3), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True,
                             "return_indices": True}),
    ("max_pool1d", (EMPTY1, 2), {"return_indices": True}),
    ("max_pool1d", (X1[0], [2]), {"stride": [], "return_indices": 1}),
    ("max_pool2d", (X2, (2,)), {"stride": (), "padding": (1,), "return_indices": True}),
    ("max_pool2d", (X2, 3), {"stride": (2, 1), "padding": 1, "dilation": 2, "ceil_mode": True,
                             "return_indices": True}),
    ("max_pool2d", (X2, (3, 2)), {"stride": 2, "padding": (1, 0), "dilation": (1, 3),
                                  "ceil_mode": True}),
    ("max_pool2d", (INTS, 3), {"stride": 1, "padding": 1, "return_indices": True}),
    ("max_pool2d", (INTS, 2), {"ceil_mode": True, "return_indices": True}),
    ("max_pool2d", (BOOLS, 2), {"stride": 1, "padding": 1}),
    ("max_pool2d", (EMPTY2, 2), {"return_indices": True}),
    ("max_pool2d", (X2[0], np.int64(2)), {"stride": None, "return_indices": False}),
    # average pools: the same forms, divisor_override (negative too), ceil_mode with padding
    ("avg_pool1d", (X1, (3,)), {"stride": (), "padding": (1,), "ceil_mode": True,
                                "count_include_pad": False}),
    ("avg_pool1d", (EMPTY1, 2), {}),
    ("avg_pool1d", (INTS[..., 0], 2), {"ceil_mode": True}),
    ("avg_pool2d", (X2, (2,)), {"stride": (), "padding": (1,)}),
    ("avg_pool2d", (X2, 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                             "count_include_pad": False}),
    ("avg_pool2d", (X2, (3, 2)), {"stride": (2,), "padding": [1, 0], "ceil_mode": True,
                                  "divisor_override": 4}),
    ("avg_pool2d", (X2, 2), {"divisor_override": -3}),
    ("avg_pool2d", (INTS, 2), {"padding": 1}),
    ("avg_pool2d", (EMPTY2, 2), {}),
    # pad: negative widths crop, in every mode; lists; integer and bool inputs
    ("pad", (X2, (-1, 2)), {}),
    ("pad", (X2, (-2, -1, 3, -4)), {"value": 2.5}),
    ("pad", (X2, [-1, 2, 1, -2]), {"mode": "reflect"}),
    ("pad", (X1, (-2, 4)), {"mode": "reflect"}),
    ("pad", (X2, (-6, 0, 0, 0)), {"mode": "reflect"}),  # one padded axis may become empty
    ("pad", (X2, (-3, 5, 0, -6)), {"mode": "replicate"}),
    ("pad", (X2, (-1, 2, 3, -2)), {"mode": "circular"}),
    ("pad", (X1, (-6, 0)), {"mode": "circular"}),
    ("pad", (X2, (0, -6, 1, 1, 1, 1)), {}),
    ("pad", (X1, (1, 1)), {"mode": "reflect", "value": 0}),
    ("pad", (X2, ()), {}),
    ("pad", (INTS, (1, -1, 2, 0)), {"value": -2.7}),
    ("pad", (INTS, (2, 1, 0, 3)), {"mode": "reflect"}),
    ("pad", (BOOLS, (1, 1, 1, 1)), {"value": True}),
    ("pad", (BOOLS, (2, -1, 0, 0)), {"mode": "circular"}),
    ("pad", (EMPTY2, (1, 2, 3, 4)), {"mode": "replicate"}),
    # unfold / fold: lists, NumPy ints, empty batch, bool input
    ("unfold", (X2, [2, 3]), {"dilation": np.int64(2), "padding": (1, 0), "stride": [2, 1]}),
    ("unfold", (EMPTY2, 2), {}),
    ("unfold", (BOOLS, 2), {"padding": 1}),
    ("unfold", (X2[0], 3), {"stride": 2}),
    ("fold", (RNG.standard_normal((2, 12, 30)), [7, 6], [2, 2]), {}),
    ("fold", (np.zeros((0, 12, 30)), (7, 6), 2), {}),
    ("fold", (RNG.standard_normal((6, 8)), 4, (2, 3)), {"stride": [2, 1], "padding": (0, 1)}),
]


@pytest.mark.parametrize(("op", "args", "kwargs"), VALID,
                         ids=[f"{i}-{row[0]}" for i, row in enumerate(VALID)])
def test_argument_form_agrees_with_torch(op, args, kwargs):
    assert check_against_torch(op, args, kwargs) == "answered"


@pytest.mark.parametrize(("op", "args", "kwargs"), [
    ("max_pool2d", (INTS, 3), {"stride": 1, "padding": 1, "return_indices": True}),
    ("max_pool2d", (INTS.astype(np.uint8), 2), {"ceil_mode": True}),
    ("pad", (INTS, (1, -1, 2, 0)), {"value": -2.7}),
    ("pad", (INTS.astype(np.int32), (2, 1, 1, 0)), {"mode": "replicate"}),
    ("pad", (BOOLS, (1, 1, 1, 1)), {"value": True}),
    ("unfold", (BOOLS, 2), {"padding": 1}),
])
def test_integer_and_bool_inputs_match_torchs_own_kernels(op, args, kwargs):
    # Where PyTorch has an integer or bool kernel, its answer is conv_ref's, dtype included.
    ours = getattr(conv_ref, op)(*args, **kwargs)
    ref = getattr(F, op)(torch.from_numpy(args[0]), *args[1:], **kwargs)
    for a, b in zip(ours if isinstance(ours, tuple) else (ours,),
                    ref if isinstance(ref, tuple) else (ref,), strict=True):
        assert a.dtype == b.numpy().dtype
        np.testing.assert_array_equal(a, b.numpy())


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.conv2d(X2, W2, stride=()), ValueError,
     r"conv2d: stride expects an integer or a tuple of 1 or 2 integers, got \(\)"),
    (lambda: conv_ref.conv1d(X1, W1, dilation=[1, 1]), ValueError,
     r"conv1d: dilation expects an integer or a tuple of 1 integers, got \[1, 1\]"),
    (lambda: conv_ref.conv2d(X2, W2, stride=True), TypeError,
     "conv2d: stride expects an integer or a tuple of integers, got True"),
    (lambda: conv_ref.conv2d(X2, W2, groups=1.0), TypeError,
     "conv2d: groups expects an integer, got 1.0"),
    (lambda: conv_ref.conv2d(X2[:, :, :0], W2, padding=2), ValueError,
     r"conv2d: input expects non-empty axes from axis 2 on .*got an array of shape \(2, 3, 0, 6\)"),
    (lambda: conv_ref.conv2d(X2, np.ones((0, 3, 1, 1))), ValueError,
     r"conv2d: weight expects at least one filter and a non-empty kernel, got shape "
     r"\(0, 3, 1, 1\)"),
    (lambda: conv_ref.conv_transpose2d(X2, WT2, padding="same"), TypeError,
     "conv_transpose2d: padding expects an integer or a tuple of integers, got 'same'"),
    (lambda: conv_ref.conv_transpose1d(X1, WT1, output_padding=-1), ValueError,
     "conv_transpose1d: output_padding expects integers >= 0, got -1"),
    (lambda: conv_ref.max_pool1d(X1, (2, 2)), ValueError,
     r"max_pool1d: kernel_size expects an integer or a tuple of 1 integers, got \(2, 2\)"),
    (lambda: conv_ref.max_pool2d(X2, ()), ValueError,
     r"max_pool2d: kernel_size expects an integer or a tuple of 1 or 2 integers, got \(\)"),
    (lambda: conv_ref.max_pool2d(X2, 2.0), TypeError,
     "max_pool2d: kernel_size expects an integer or a tuple of integers, got 2.0"),
    (lambda: conv_ref.max_pool2d(X2, 3, padding=2, dilation=2), ValueError,
     r"max_pool2d: padding \(2, 2\) expects at most half the kernel_size \(3, 3\)"),
    (lambda: conv_ref.max_pool2d(X2, 2, ceil_mode=1), TypeError,
     "max_pool2d: ceil_mode expects True or False, got 1"),
    (lambda: conv_ref.max_pool2d(X2[:, :0], 2), ValueError,
     r"max_pool2d: input expects non-empty axes from axis 1 on"),
    (lambda: conv_ref.avg_pool2d(X2, 2, divisor_override=2.0), TypeError,
     "avg_pool2d: divisor_override expects an integer, got 2.0"),
    (lambda: conv_ref.avg_pool2d(X2, 2, divisor_override=True), TypeError,
     "avg_pool2d: divisor_override expects an integer, got True"),
    (lambda: conv_ref.avg_pool1d(X1, 2, count_include_pad="yes"), TypeError,
     "avg_pool1d: count_include_pad expects True or False, got 'yes'"),
    (lambda: conv_ref.avg_pool2d(X2, 8), ValueError,
     r"avg_pool2d: kernel_size \(8, 8\) \(dilation \(1, 1\)\) is larger than the padded input"),
    (lambda: conv_ref.pad(X1, (1, 1, 1, 1, 1, 1, 1, 1)), ValueError,
     r"pad: pad \(1, 1, 1, 1, 1, 1, 1, 1\) pads 4 axes, expected at most input.ndim=3"),
    (lambda: conv_ref.pad(X1, (-6, -4)), ValueError,
     r"pad: pad \(-6, -4\) makes axis 2 of size 9 -1 long"),
    (lambda: conv_ref.pad(X1, (-5, -4), mode="reflect"), ValueError,
     r"pad: pad \(-5, -4\) empties every padded axis of an input of shape \(2, 3, 9\)"),
    (lambda: conv_ref.pad(X1[0, 0], (1, 1), mode="circular"), ValueError,
     r"pad: mode 'circular' pads 1 to 3 axes of an input with 1 or 2 axes more"),
    (lambda: conv_ref.pad(X1, (True, 1)), TypeError,
     r"pad: pad expects a tuple of integers, got \(True, 1\)"),
    (lambda: conv_ref.pad(X1, (1, 1), mode="wrap"), ValueError,
     "pad: mode expects one of 'constant', 'reflect', 'replicate', 'circular', got 'wrap'"),
    (lambda: conv_ref.unfold(X2, (2,)), ValueError,
     r"unfold: kernel_size expects an integer or a tuple of 2 integers, got \(2,\)"),
    (lambda: conv_ref.unfold(X2[:, :, :0], 1, padding=1), ValueError,
     "unfold: input expects non-empty axes from axis 1 on"),
    (lambda: conv_ref.unfold(X2[0, 0], 2), ValueError,
     r"unfold: input expects \(C, H, W\) or \(N, C, H, W\)"),
    (lambda: conv_ref.fold(np.zeros((2, 12, 0)), 5, 2), ValueError,
     r"fold: input expects non-empty axes from axis 1 on .*got an array of shape \(2, 12, 0\)"),
    (lambda: conv_ref.fold(np.zeros((2, 12, 16)), (5,), 2), ValueError,
     r"fold: output_size expects an integer or a tuple of 2 integers, got \(5,\)"),
])
def test_refused_forms_name_function_argument_and_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_refused_forms_are_refused_by_torch_too():
    # The refusals above are PyTorch's: the same calls raise there.
    for call in [lambda: F.conv2d(t(X2), t(W2), stride=()),
                 lambda: F.max_pool1d(t(X1), (2, 2)),
                 lambda: F.max_pool2d(t(X2), 3, padding=2, dilation=2),
                 lambda: F.pad(t(X1), (-5, -4), mode="reflect"),
                 lambda: F.unfold(t(X2), (2,)),
                 lambda: F.fold(torch.zeros(2, 12, 0), 5, 2)]:
        with pytest.raises((RuntimeError, NotImplementedError)):
            call()


def t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))
