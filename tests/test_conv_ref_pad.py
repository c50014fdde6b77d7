"""conv_ref.pad: pad and pad2d against torch.nn.functional.pad, with their checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, t

MODES = ["constant", "reflect", "replicate", "circular"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("shape", "widths"), [
    ((2, 5), (2, 1)),
    ((1, 2, 5), (0, 3)),
    ((2, 3, 4), (1, 2, 2, 0)),
    ((1, 2, 3, 4), (3, 1, 2, 2)),
    ((2, 3, 4, 5), (0, 0, 1, 0)),
])
def test_pad_matches_torch(mode, shape, widths):
    x = np.random.default_rng(0).normal(size=shape)
    assert_matches(conv_ref.pad(x, widths, mode=mode), F.pad(t(x), widths, mode=mode))


def test_pad_constant_value():
    x = np.arange(6).reshape(2, 3)
    # An integer input stays integer, the fill value truncated towards zero, as in PyTorch.
    ours = conv_ref.pad(x, (1, 0, 0, 1), value=-1.5)
    assert_matches(ours, F.pad(torch.from_numpy(x), (1, 0, 0, 1), value=-1.5))
    assert_matches(conv_ref.pad(x * 1.0, (1, 0, 0, 1), value=-1.5),
                   F.pad(t(x), (1, 0, 0, 1), value=-1.5))


def test_pad_keeps_float32_and_does_not_modify_input():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = x.copy()
    y = conv_ref.pad(x, (1, 1), mode="reflect")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(("padding", "torch_pad"), [
    (1, (1, 1, 1, 1)), ((2, 1), (1, 1, 2, 2)), ((0, 2, 1, 0), (0, 2, 1, 0)),
])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (2, 2, 3, 4)])
def test_pad2d_matches_torch(mode, padding, torch_pad, shape):
    x = np.random.default_rng(1).normal(size=shape)
    torch_mode = "constant" if mode == "zeros" else mode
    # torch's non-constant modes want a batch/channel axis in front of (H, W).
    ref = F.pad(t(x).reshape((-1,) + shape[-2:])[None], torch_pad, mode=torch_mode)
    ref = ref.reshape(shape[:-2] + tuple(ref.shape[-2:]))
    assert_matches(conv_ref.pad2d(x, padding, mode), ref)


def test_pad2d_worked_example():
    # "mirror" padding of the slides is reflect: the edge is not repeated.
    x = np.arange(1, 5).reshape(2, 2)
    assert conv_ref.pad2d(x, (0, 1), "reflect").tolist() == [[2, 1, 2, 1], [4, 3, 4, 3]]
    assert conv_ref.pad2d(x, 1).tolist() == [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.pad(np.ones(3), (1,)), ValueError,
     r"pad: pad expects an even number of integers, got \(1,\)"),
    (lambda: conv_ref.pad(np.ones(3), (1, 1, 1, 1)), ValueError,
     r"pad: pad \(1, 1, 1, 1\) pads 2 axes, expected at most input.ndim=1"),
    (lambda: conv_ref.pad(np.ones(3), (-2, -2)), ValueError,
     r"pad: pad \(-2, -2\) makes axis 0 of size 3 -1 long; expected a size >= 0"),
    (lambda: conv_ref.pad(np.ones(3), (1.0, 1)), TypeError,
     r"pad: pad expects a tuple of integers, got \(1.0, 1\)"),
    (lambda: conv_ref.pad(np.ones(3), 1), TypeError, "pad: pad expects a tuple of integers, got 1"),
    (lambda: conv_ref.pad(np.ones(3), (1, 1), mode="reflect"), ValueError,
     r"pad: mode 'reflect' pads 1 to 3 axes of an input with 1 or 2 axes more, got pad \(1, 1\) "
     r"for an input of shape \(3,\)"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (-3, 0), mode="replicate"), ValueError,
     r"pad: pad \(-3, 0\) empties every padded axis of an input of shape \(1, 3\)"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (-1, 3), mode="circular"), ValueError,
     r"pad: circular padding \(-1, 3\) expects each pad <= the size 2 of axis 1"),
    (lambda: conv_ref.pad(np.ones((1, 3), np.uint8), (1, 1), value=-1), ValueError,
     "pad: value -1 does not fit in the input's dtype uint8"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (1, 1), value="x"), TypeError,
     "pad: value expects a number or None, got 'x'"),
    (lambda: conv_ref.pad(np.ones(3), (1, 1), mode="wrap"), ValueError,
     "pad: mode expects one of 'constant', 'reflect', 'replicate', 'circular', got 'wrap'"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (3, 0), mode="reflect"), ValueError,
     r"pad: reflect padding \(3, 0\) expects each pad < the size 3 of axis 1"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (0, 4), mode="circular"), ValueError,
     r"pad: circular padding \(0, 4\) expects each pad <= the size 3 of axis 1"),
    (lambda: conv_ref.pad(np.ones((2, 0)), (1, 0), mode="replicate"), ValueError,
     r"pad: input expects non-empty axes from axis 0 on \(only the batch may be empty\)"),
    (lambda: conv_ref.pad(np.ones((1, 3)), (1, 1), mode="reflect", value=2.0), ValueError,
     "pad: value expects None for mode 'reflect', got 2.0"),
    (lambda: conv_ref.pad2d(np.ones(3), 1), ValueError,
     r"pad2d: x expects at least 2 dimensions \(..., H, W\), got shape \(3,\)"),
    (lambda: conv_ref.pad2d(np.ones((2, 2)), (1, 2, 3)), ValueError,
     r"pad2d: padding expects an int, \(pH, pW\) or \(left, right, top, bottom\), got \(1, 2, 3\)"),
    (lambda: conv_ref.pad2d(np.ones((2, 2)), 1.5), TypeError,
     "pad2d: padding expects an integer >= 0, got 1.5"),
    (lambda: conv_ref.pad2d(np.ones((2, 2)), (1, -1)), ValueError,
     "pad2d: padding expects integers >= 0, got"),
    (lambda: conv_ref.pad2d(np.ones((2, 2)), 1, mode="constant"), ValueError,
     "pad2d: mode expects one of 'zeros', 'reflect', 'replicate', 'circular', got 'constant'"),
    (lambda: conv_ref.pad2d(np.ones((2, 2)), 2, mode="reflect"), ValueError,
     r"pad2d: reflect padding \(2, 2\) expects each pad < the size 2 of axis 0"),
])
def test_pad_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
