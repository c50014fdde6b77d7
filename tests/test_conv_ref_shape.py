"""conv_ref.shape: the output-size formula, PyTorch's "same" padding, and their checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref


@pytest.mark.parametrize(("n", "k", "stride", "padding", "dilation"), [
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product([1, 4, 7], [1, 2, 3], [1, 2, 5], [0, 1, 2], [1, 2])
    if n + 2 * p >= d * (k - 1) + 1
])
def test_conv_output_length_matches_torch(n, k, stride, padding, dilation):
    out = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=stride, padding=padding,
                   dilation=dilation)
    assert conv_ref.conv_output_length(n, k, stride, padding, dilation) == out.shape[-1]


@pytest.mark.parametrize(("args", "expected"), [
    ((4, 3), 2),  # x = [1, 2, 3, 4], h = [1, 0, -1] -> [-2, -2]
    ((3, 1), 3), ((3, 2), 2), ((3, 2, 2), 1), ((3, 2, 2, 1), 2),  # the blog's [2, 3, 4] cases
    ((4, 2), 3),  # the 4x4 input with 2x2 kernels -> 3x3
    ((56, 3, 2, 1), 28), ((5, 3, 1, 0, 2), 1),
])
def test_conv_output_length_worked_examples(args, expected):
    assert conv_ref.conv_output_length(*args) == expected


def test_conv_output_length_accepts_numpy_integers():
    out = conv_ref.conv_output_length(np.int64(9), np.int32(3), stride=np.int64(2))
    assert out == 4
    assert type(out) is int


@pytest.mark.parametrize(("args", "error", "message"), [
    ((2, 3), ValueError, r"conv_output_length: kernel of extent 3 \(k=3, dilation=1\) does not "
                         r"fit in input length n=2 with padding=0: output length 0 < 1"),
    ((3, 2, 1, 0, 3), ValueError, "kernel of extent 4 .* output length 0 < 1"),
    ((0, 1), ValueError, "conv_output_length: n expects an integer >= 1, got 0"),
    ((4, 0), ValueError, "conv_output_length: k expects an integer >= 1, got 0"),
    ((4, 2, 0), ValueError, "conv_output_length: stride expects an integer >= 1, got 0"),
    ((4, 2, 1, -1), ValueError, "conv_output_length: padding expects an integer >= 0, got -1"),
    ((4, 2, 1, 0, 0), ValueError, "conv_output_length: dilation expects an integer >= 1, got 0"),
    ((4.0, 2), TypeError, "conv_output_length: n expects an integer >= 1, got 4.0"),
    ((4, True), TypeError, "conv_output_length: k expects an integer >= 1, got True"),
])
def test_conv_output_length_errors(args, error, message):
    with pytest.raises(error, match=message):
        conv_ref.conv_output_length(*args)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("k", "dilation"), list(itertools.product([1, 2, 3, 4, 5], [1, 2, 3])))
def test_same_padding_matches_torch(k, dilation):
    left, right = conv_ref.same_padding(k, dilation)
    assert left + right == dilation * (k - 1)
    x = torch.arange(7.0).reshape(1, 1, 7)
    w = torch.zeros(1, 1, k)
    w[0, 0, 0] = 1.0  # picks x_padded[i]: reveals the left padding
    y = F.conv1d(x, w, padding="same", dilation=dilation)
    expected = torch.cat([torch.zeros(left), x[0, 0]])[:7]
    assert torch.equal(y[0, 0], expected)


def test_same_padding_errors():
    with pytest.raises(ValueError, match="same_padding: k expects an integer >= 1, got 0"):
        conv_ref.same_padding(0)
    with pytest.raises(ValueError, match="same_padding: dilation expects an integer >= 1, got 0"):
        conv_ref.same_padding(3, 0)
