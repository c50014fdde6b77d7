"""conv_ref.pool: max/avg pooling against PyTorch (ceil_mode, padding, count_include_pad)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, naive_pool2d, t

GRID_2D = [
    (kernel, stride, padding, ceil_mode)
    for kernel, stride, padding, ceil_mode in itertools.product(
        [1, 2, 3, (2, 3)], [None, 1, 2, (3, 2)], [0, 1, (1, 0)], [False, True])
    if all(2 * p <= k for p, k in zip(np.broadcast_to(padding, 2), np.broadcast_to(kernel, 2),
                                      strict=True))
]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode"), GRID_2D)
def test_max_pool2d_matches_torch(kernel, stride, padding, ceil_mode, batched):
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 7) if batched else (3, 5, 7))
    for dilation in (1, 2):
        ours = conv_ref.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
        assert_matches(ours, F.max_pool2d(t(x), kernel, stride, padding, dilation, ceil_mode))


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode"), GRID_2D)
def test_avg_pool2d_matches_torch(kernel, stride, padding, ceil_mode, batched):
    x = np.random.default_rng(1).normal(size=(2, 3, 6, 5) if batched else (3, 6, 5))
    for include, divisor in itertools.product([True, False], [None, 5]):
        ours = conv_ref.avg_pool2d(x, kernel, stride, padding, ceil_mode, include, divisor)
        ref = F.avg_pool2d(t(x), kernel, stride, padding, ceil_mode, include, divisor)
        assert_matches(ours, ref)


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), [
    (2, None, 0, 1, False), (2, None, 0, 1, True), (3, 2, 1, 1, True), (3, 2, 1, 2, True),
    (4, 3, 2, 1, True), (2, 4, 1, 1, False), (3, 3, 0, 2, True),
])
@pytest.mark.parametrize("batched", [True, False])
def test_pool1d_matches_torch(kernel, stride, padding, dilation, ceil_mode, batched):
    x = np.random.default_rng(2).normal(size=(2, 3, 10) if batched else (3, 10))
    assert_matches(conv_ref.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode),
                   F.max_pool1d(t(x), kernel, stride, padding, dilation, ceil_mode))
    if 2 * padding <= kernel:
        for include in (True, False):
            assert_matches(conv_ref.avg_pool1d(x, kernel, stride, padding, ceil_mode, include),
                           F.avg_pool1d(t(x), kernel, stride, padding, ceil_mode, include))


def test_ceil_mode_drops_a_window_that_starts_in_the_right_padding():
    # n=5, k=2, s=2, p=1, ceil: the rounded-up count is 4, but window 3 would start at
    # padded index 6 = n + p, i.e. in the right padding only, so PyTorch keeps 3.
    x = np.arange(5.0)[None]
    assert conv_ref.max_pool1d(x, 2, 2, 1, ceil_mode=True).shape == (1, 3)
    assert F.max_pool1d(t(x), 2, 2, 1, ceil_mode=True).shape == (1, 3)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool2d_matches_naive_loop(ceil_mode):
    x = np.random.default_rng(3).normal(size=(1, 2, 6, 7))
    args = ((3, 2), (2, 3), (1, 1))
    assert_matches(conv_ref.max_pool2d(x, *args, (2, 1), ceil_mode),
                   naive_pool2d(x, *args, (2, 1), ceil_mode, "max"), who="naive")
    for include in (True, False):
        assert_matches(conv_ref.avg_pool2d(x, *args, ceil_mode, include),
                       naive_pool2d(x, *args, (1, 1), ceil_mode, "avg", include), who="naive")


def test_pool_worked_example():
    x = np.arange(16).reshape(1, 4, 4)
    assert conv_ref.max_pool2d(x, 2).tolist() == [[[5, 7], [13, 15]]]
    assert conv_ref.avg_pool2d(x, 2).tolist() == [[[2.5, 4.5], [10.5, 12.5]]]


def test_max_pool_keeps_float32_and_ignores_padding_for_negative_inputs():
    x = -np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3)
    y = conv_ref.max_pool2d(x, 3, 1, 1)
    assert y.dtype == np.float32
    assert y.max() < 0  # the -inf padding never wins


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.max_pool2d(np.ones((1, 4, 4)), 2, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) expects at most half the kernel_size \(2, 2\)"),
    (lambda: conv_ref.avg_pool2d(np.ones((1, 4, 4)), 3, padding=2), ValueError,
     r"avg_pool2d: padding \(2, 2\) expects at most half the kernel_size \(3, 3\)"),
    (lambda: conv_ref.max_pool2d(np.ones((1, 2, 4)), 3), ValueError,
     r"max_pool2d: kernel_size \(3, 3\) \(dilation \(1, 1\)\) is larger than the padded "
     r"input size \(2, 4\)"),
    (lambda: conv_ref.max_pool2d(np.ones((1, 4, 4)), 2, stride=0), ValueError,
     "max_pool2d: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.max_pool2d(np.ones((4, 4)), 2), ValueError,
     r"max_pool2d: input expects \(C, H, W\) or \(N, C, H, W\), got an array of shape \(4, 4\)"),
    (lambda: conv_ref.max_pool1d(np.ones(4), 2), ValueError,
     r"max_pool1d: input expects \(C, L\) or \(N, C, L\)"),
    (lambda: conv_ref.max_pool2d(np.ones((1, 4, 4)), 2, ceil_mode=1), TypeError,
     "max_pool2d: ceil_mode expects True or False, got 1"),
    (lambda: conv_ref.avg_pool2d(np.ones((1, 4, 4)), 2, count_include_pad="yes"), TypeError,
     "avg_pool2d: count_include_pad expects True or False, got 'yes'"),
    (lambda: conv_ref.avg_pool2d(np.ones((1, 4, 4)), 2, divisor_override=0), ValueError,
     "avg_pool2d: divisor_override expects a nonzero integer or None, got 0"),
    (lambda: conv_ref.max_pool2d(np.ones((1, 4, 4)), 0), ValueError,
     "max_pool2d: kernel_size expects integers >= 1, got 0"),
])
def test_pool_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
