"""conv_ref.basics: corr1d, conv1d_single, corr2d, conv1x1, conv2d_param_count."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, naive_conv, t


def naive_corr1d(x, h):
    return np.array([sum(h[j] * x[i + j] for j in range(len(h)))
                     for i in range(len(x) - len(h) + 1)], dtype=float)


def test_corr1d_worked_example():
    assert conv_ref.corr1d(np.array([1, 2, 3, 4]), np.array([1, 0, -1])).tolist() == [-2, -2]


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 1), (5, 5), (8, 3)])
def test_corr1d_matches_naive_and_torch(n, k):
    rng = np.random.default_rng(n * 10 + k)
    x, h = rng.normal(size=n), rng.normal(size=k)
    ours = conv_ref.corr1d(x, h)
    assert_matches(ours, naive_corr1d(x, h), who="naive")
    assert_matches(ours, F.conv1d(t(x)[None, None], t(h)[None, None])[0, 0])


@pytest.mark.parametrize(("k", "stride", "padding", "windows"), [
    (1, 1, 0, [(2,), (3,), (4,)]),
    (2, 1, 0, [(2, 3), (3, 4)]),
    (2, 2, 0, [(2, 3)]),
    (2, 2, 1, [(0, 2), (3, 4)]),
])
def test_conv1d_single_blog_cases(k, stride, padding, windows):
    h = 10.0 ** np.arange(k)[::-1]  # weights 10, 1: each output spells its window
    y = conv_ref.conv1d_single(np.array([2, 3, 4]), h, 0.25, stride, padding)
    assert y.tolist() == [float("".join(map(str, win))) + 0.25 for win in windows]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2), (1, "same"),
                                                 (4, "valid")])
def test_conv1d_single_matches_torch(stride, padding):
    rng = np.random.default_rng(2)
    x, h = rng.normal(size=9), rng.normal(size=4)
    ref = F.conv1d(t(x)[None, None], t(h)[None, None], torch.tensor([0.5], dtype=torch.float64),
                   stride, padding)[0, 0]
    assert_matches(conv_ref.conv1d_single(x, h, 0.5, stride, padding), ref)


def test_corr2d_worked_example_and_naive():
    a = np.array([[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]])
    assert conv_ref.corr2d(a, np.eye(2)).tolist() == [[7, 15, 23], [9, 17, 25], [11, 19, 27]]
    rng = np.random.default_rng(3)
    X, K = rng.normal(size=(5, 7)), rng.normal(size=(3, 2))
    assert_matches(conv_ref.corr2d(X, K), naive_conv(X[None, None], K[None, None])[0, 0],
                   who="naive")


def test_conv1x1_worked_example():
    x = np.array([[[1, 2], [3, 4]], [[10, 20], [30, 40]]])
    w = np.array([[1, 0], [0, 1], [1, -1]])
    y = conv_ref.conv1x1(x, w)
    assert y.tolist() == [[[1, 2], [3, 4]], [[10, 20], [30, 40]], [[-9, -18], [-27, -36]]]
    assert_matches(conv_ref.conv1x1(x, w.reshape(3, 2, 1, 1)), y, who="2D weight")


@pytest.mark.parametrize("batched", [True, False])
def test_conv1x1_matches_torch(batched):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4, 5) if batched else (3, 4, 5))
    w, b = rng.normal(size=(6, 3, 1, 1)), rng.normal(size=6)
    assert_matches(conv_ref.conv1x1(x, w, b), F.conv2d(t(x), t(w), t(b)))


@pytest.mark.parametrize(("c_in", "c_out", "k", "bias", "groups"), [
    (64, 128, 3, True, 1), (3, 16, (5, 3), False, 1), (32, 32, 3, True, 32), (8, 4, 1, True, 2),
])
def test_conv2d_param_count_matches_torch(c_in, c_out, k, bias, groups):
    layer = torch.nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups)
    expected = sum(p.numel() for p in layer.parameters())
    assert conv_ref.conv2d_param_count(c_in, c_out, k, bias, groups) == expected


def test_conv2d_param_count_worked_example():
    # The 4x4x2 -> 3 channels layer with 2x2 kernels and no bias: 3*2*2*2 weights.
    assert conv_ref.conv2d_param_count(2, 3, 2, bias=False) == 24
    assert conv_ref.conv2d_param_count(2, 3, 1) == 9  # the 1x1 example with bias


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.corr1d(np.ones(2), np.ones(3)), ValueError,
     "corr1d: kernel size 3 .* larger than the padded input size 2"),
    (lambda: conv_ref.corr1d(np.ones((2, 2)), np.ones(1)), ValueError,
     r"corr1d: x expects a 1D signal of shape \(L,\), got an array of shape \(2, 2\)"),
    (lambda: conv_ref.corr1d(np.ones(3), np.ones((1, 1))), ValueError,
     r"corr1d: h expects a 1D kernel of shape \(K,\)"),
    (lambda: conv_ref.conv1d_single(np.ones(3), np.ones(2), stride=0), ValueError,
     "conv1d_single: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.conv1d_single(np.ones(3), np.ones(5), padding=0), ValueError,
     "conv1d_single: kernel size 5 .* larger than the padded input size 3"),
    (lambda: conv_ref.conv1d_single(np.ones(3), np.ones(2), bias=np.ones(2)), TypeError,
     r"conv1d_single: bias expects a scalar, got an array of shape \(2,\)"),
    (lambda: conv_ref.conv1d_single(np.ones(3), np.ones(2), stride=2, padding="same"),
     ValueError, "conv1d_single: padding='same' expects stride 1"),
    (lambda: conv_ref.corr2d(np.ones((2, 4)), np.ones((3, 1))), ValueError,
     "corr2d: kernel size 3 .* larger than the padded input size 2 along spatial dim 0"),
    (lambda: conv_ref.corr2d(np.ones(4), np.ones((1, 1))), ValueError,
     r"corr2d: X expects a 2D feature map of shape \(H, W\)"),
    (lambda: conv_ref.conv1x1(np.ones((2, 3, 3)), np.ones((4, 3))), ValueError,
     "conv1x1: weight expects 3 input channels, got input with 2"),
    (lambda: conv_ref.conv1x1(np.ones((2, 3, 3)), np.ones((4, 2, 3, 3))), ValueError,
     r"conv1x1: weight expects a 1x1 kernel \(C_out, C_in, 1, 1\), got shape \(4, 2, 3, 3\)"),
    (lambda: conv_ref.conv1x1(np.ones((2, 3, 3)), np.ones((4, 2)), np.ones(3)), ValueError,
     r"conv1x1: bias expects shape \(4,\)"),
    (lambda: conv_ref.conv2d_param_count(3, 4, 3, groups=2), ValueError,
     r"conv2d_param_count: groups=2 expects to divide the input channels \(3\)"),
    (lambda: conv_ref.conv2d_param_count(0, 4, 3), ValueError,
     "conv2d_param_count: c_in expects an integer >= 1, got 0"),
    (lambda: conv_ref.conv2d_param_count(3, 4, 3, bias="no"), TypeError,
     "conv2d_param_count: bias expects True or False, got 'no'"),
])
def test_basics_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
