"""conv_ref.variants: dilate_kernel, depthwise_separable_conv2d, receptive_field."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, t


@pytest.mark.parametrize(("shape", "dilation"), [((2, 3), 2), ((3, 3), (1, 3)),
                                                 ((2, 3, 2, 2), (3, 2)), ((1, 1), 4)])
def test_dilate_kernel_definition(shape, dilation):
    w = np.random.default_rng(0).normal(size=shape)
    d_h, d_w = (dilation, dilation) if isinstance(dilation, int) else dilation
    out = conv_ref.dilate_kernel(w, dilation)
    k_h, k_w = shape[-2:]
    assert out.shape == shape[:-2] + (d_h * (k_h - 1) + 1, d_w * (k_w - 1) + 1)
    for idx in np.ndindex(out.shape):
        i, j = idx[-2:]
        on_tap = i % d_h == 0 and j % d_w == 0
        assert out[idx] == (w[idx[:-2] + (i // d_h, j // d_w)] if on_tap else 0.0)


def test_dilated_kernel_equals_dilated_convolution():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 3, 9, 8)), rng.normal(size=(4, 3, 2, 3))
    assert_matches(conv_ref.conv2d(x, conv_ref.dilate_kernel(w, (3, 2))),
                   F.conv2d(t(x), t(w), dilation=(3, 2)))


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (1, "same")])
def test_depthwise_separable_matches_torch(stride, padding, batched):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 6, 7) if batched else (3, 6, 7))
    dw, pw = rng.normal(size=(3, 1, 3, 3)), rng.normal(size=(5, 3, 1, 1))
    ref = F.conv2d(F.conv2d(t(x), t(dw), stride=stride, padding=padding, groups=3), t(pw))
    assert_matches(conv_ref.depthwise_separable_conv2d(x, dw, pw, stride, padding), ref)


@pytest.mark.parametrize(("layers", "expected"), [
    ([], (1, 1)),
    ([(3, 1, 1)], (3, 1)),
    ([(3, 1, 1), (3, 1, 1)], (5, 1)),
    ([(3, 1, 1)] * 3, (7, 1)),
    ([(2, 2, 1), (2, 2, 1)], (4, 4)),
    ([(3, 1, 1), (3, 1, 2), (3, 1, 4)], (15, 1)),  # dilations 1, 2, 4: exponential growth
    ([(7, 2, 1), (3, 2, 1), (3, 1, 2)], (27, 4)),
])
def test_receptive_field(layers, expected):
    assert conv_ref.receptive_field(layers) == expected


def _input_support(layers, n, out_index):
    """Input positions whose gradient reaches output `out_index` of a stack of ones-kernels."""
    lengths = [n]
    for k, s, d in layers:
        lengths.append(conv_ref.conv_output_length(lengths[-1], k, s, 0, d))
    grad = np.zeros((1, 1, lengths[-1]))
    grad[0, 0, out_index] = 1.0
    for (k, s, d), n_in in zip(reversed(layers), reversed(lengths[:-1]), strict=True):
        grad = conv_ref.conv_transpose1d(grad, np.ones((1, 1, k)), stride=s, dilation=d,
                                         output_padding=(n_in - d * (k - 1) - 1) % s)
    return np.flatnonzero(grad[0, 0])


@pytest.mark.parametrize("layers", [[(3, 2, 1), (2, 1, 2), (3, 2, 1)], [(5, 1, 1), (3, 3, 2)]])
def test_receptive_field_matches_gradient_support(layers):
    # The input entries that reach one output are those with a nonzero gradient;
    # the jump is how far that window moves between neighbouring outputs.
    size, jump = conv_ref.receptive_field(layers)
    first, second = _input_support(layers, 60, 1), _input_support(layers, 60, 2)
    assert first[-1] - first[0] + 1 == size
    assert second[0] - first[0] == jump


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.dilate_kernel(np.ones(3), 2), ValueError,
     r"dilate_kernel: w expects at least 2 dimensions \(..., kH, kW\), got shape \(3,\)"),
    (lambda: conv_ref.dilate_kernel(np.ones((2, 2)), 0), ValueError,
     "dilate_kernel: dilation expects integers >= 1, got 0"),
    (lambda: conv_ref.depthwise_separable_conv2d(np.ones((3, 4, 4)), np.ones((2, 1, 3, 3)),
                                                 np.ones((4, 3, 1, 1))), ValueError,
     r"depthwise_separable_conv2d: depthwise expects shape \(3, 1, kH, kW\) for input with 3 "
     r"channels, got \(2, 1, 3, 3\)"),
    (lambda: conv_ref.depthwise_separable_conv2d(np.ones((3, 4, 4)), np.ones((3, 1, 3, 3)),
                                                 np.ones((4, 2, 1, 1))), ValueError,
     r"depthwise_separable_conv2d: pointwise expects shape \(C_out, 3, 1, 1\)"),
    (lambda: conv_ref.depthwise_separable_conv2d(np.ones((4, 4)), np.ones((3, 1, 3, 3)),
                                                 np.ones((4, 3, 1, 1))), ValueError,
     r"depthwise_separable_conv2d: x expects \(C, H, W\) or \(N, C, H, W\)"),
    (lambda: conv_ref.receptive_field([(3, 1)]), ValueError,
     r"receptive_field: layers\[0\] expects a \(kernel, stride, dilation\) triple, got \(3, 1\)"),
    (lambda: conv_ref.receptive_field([(3, 1, 1), (3, 0, 1)]), ValueError,
     r"receptive_field: layers\[1\] stride expects an integer >= 1, got 0"),
])
def test_variants_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
