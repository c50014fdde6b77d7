"""conv_ref.transpose: conv_transpose1d/2d against PyTorch, a naive scatter loop, the adjoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, naive_conv_transpose, t

CASES_2D = [
    # (c_in, c_out, kernel, stride, padding, output_padding, groups, dilation)
    (2, 3, (2, 2), 1, 0, 0, 1, 1),
    (2, 3, (3, 2), (2, 3), (1, 0), (1, 2), 1, 1),
    (4, 2, (2, 3), 3, 1, (2, 0), 2, 1),
    (4, 4, (3, 3), 2, 2, 1, 4, (2, 1)),
    (2, 2, (1, 1), 4, 0, 3, 1, 1),  # stride larger than the kernel: gaps of zeros
    (3, 3, (2, 2), 1, 0, 1, 1, 2),  # output_padding < dilation
]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("c_in", "c_out", "kernel", "stride", "padding", "output_padding",
                          "groups", "dilation"), CASES_2D)
def test_conv_transpose2d_matches_torch(c_in, c_out, kernel, stride, padding, output_padding,
                                        groups, dilation, batched):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, c_in, 3, 4) if batched else (c_in, 3, 4))
    w, b = rng.normal(size=(c_in, c_out // groups) + kernel), rng.normal(size=c_out)
    ours = conv_ref.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    ref = F.conv_transpose2d(t(x), t(w), t(b), stride, padding, output_padding, groups, dilation)
    assert_matches(ours, ref)


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("k", "stride", "padding", "output_padding", "groups", "dilation"), [
    (3, 1, 0, 0, 1, 1), (2, 2, 1, 1, 1, 1), (3, 3, 1, 2, 2, 1), (2, 1, 0, 1, 2, 3),
    (1, 5, 0, 4, 1, 1),
])
def test_conv_transpose1d_matches_torch(k, stride, padding, output_padding, groups, dilation,
                                        batched):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 5) if batched else (4, 5))
    w, b = rng.normal(size=(4, 3, k)), rng.normal(size=3 * groups)
    ours = conv_ref.conv_transpose1d(x, w, b, stride, padding, output_padding, groups, dilation)
    ref = F.conv_transpose1d(t(x), t(w), t(b), stride, padding, output_padding, groups, dilation)
    assert_matches(ours, ref)


def test_conv_transpose2d_matches_naive_loop():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 3, 2)), rng.normal(size=(4, 1, 2, 3))
    ours = conv_ref.conv_transpose2d(x, w, None, (2, 1), (0, 1), (1, 0), 2, (1, 2))
    assert_matches(ours, naive_conv_transpose(x, w, (2, 1), (0, 1), (1, 0), (1, 2), 2),
                   who="naive")


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 0), (2, 1), (3, 2)])
def test_conv_transpose1d_is_filter_matrix_transposed(stride, padding):
    h, n = np.array([1.0, -2.0, 3.0]), 9
    out = conv_ref.conv_output_length(n, 3, stride, padding)
    y = np.random.default_rng(3).normal(size=out)
    T = conv_ref.filter_matrix(h, n, stride, padding)
    back = conv_ref.conv_transpose1d(y[None], h.reshape(1, 1, 3), stride=stride, padding=padding,
                                     output_padding=(n + 2 * padding - 3) % stride)
    assert_matches(back[0], T.T @ y, who="filter_matrix.T @ y")


def test_conv_transpose2d_is_adjoint_of_conv2d():
    # <conv2d(x), y> == <x, conv_transpose2d(y)> for the same weight, stride, padding.
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(1, 2, 8, 6)), rng.normal(size=(3, 2, 3, 2))
    y = rng.normal(size=conv_ref.conv2d(x, w, stride=2, padding=1).shape)
    back = conv_ref.conv_transpose2d(y, w, stride=2, padding=1, output_padding=(1, 0))
    assert back.shape == x.shape
    assert np.isclose(np.sum(conv_ref.conv2d(x, w, stride=2, padding=1) * y), np.sum(x * back))


def test_conv_transpose1d_worked_example():
    # Each input entry stamps the kernel at stride spacing; overlaps add.
    y = conv_ref.conv_transpose1d(np.array([[1, 2, 3]]), np.array([[[1, 10, 100]]]), stride=2)
    assert y.tolist() == [[1, 10, 102, 20, 203, 30, 300]]


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.conv_transpose2d(np.ones((3, 2, 2)), np.ones((2, 1, 2, 2))), ValueError,
     "conv_transpose2d: weight expects 2 input channels, got input with 3"),
    (lambda: conv_ref.conv_transpose2d(np.ones((3, 2, 2)), np.ones((3, 1, 2, 2)), groups=2),
     ValueError, r"conv_transpose2d: groups=2 expects to divide the input channels \(3\)"),
    (lambda: conv_ref.conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 2, 2)),
                                       output_padding=1), ValueError,
     r"conv_transpose2d: output_padding \(1, 1\) expects values smaller than stride \(1, 1\) "
     r"or dilation \(1, 1\)"),
    (lambda: conv_ref.conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 2, 2)), padding=2),
     ValueError, r"conv_transpose2d: padding \(2, 2\) is too large for input size \(2, 2\)"),
    (lambda: conv_ref.conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 2, 2)), stride=0),
     ValueError, "conv_transpose2d: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 2, 2)),
                                       np.ones(2)), ValueError,
     r"conv_transpose2d: bias expects shape \(1,\)"),
    (lambda: conv_ref.conv_transpose2d(np.ones((2, 2)), np.ones((1, 1, 2, 2))), ValueError,
     r"conv_transpose2d: input expects \(C_in, H, W\) or \(N, C_in, H, W\)"),
    (lambda: conv_ref.conv_transpose1d(np.ones((1, 3)), np.ones((1, 1, 2, 2))), ValueError,
     r"conv_transpose1d: weight expects \(C_in, C_out // groups, K\)"),
])
def test_conv_transpose_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
