"""conv_ref.conv: conv1d, conv2d, conv2d_general against PyTorch, a naive loop and the documents."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, naive_conv, t


def ro(a):
    """A read-only copy: any write into an input would raise."""
    a = np.array(a)
    a.flags.writeable = False
    return a


KERNELS = [(1, 1), (2, 3), (3, 3)]
STRIDES = [1, (2, 3), 4]  # 4 is larger than every kernel here
PADDINGS = [0, (1, 2), "valid", "same"]
DILATIONS = [1, (2, 1)]


def _grid():
    for kernel, stride, padding, dilation in itertools.product(KERNELS, STRIDES, PADDINGS,
                                                               DILATIONS):
        if padding == "same" and stride != 1:
            continue
        yield kernel, stride, padding, dilation


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"), list(_grid()))
def test_conv2d_matches_torch(kernel, stride, padding, dilation, batched):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 8) if batched else (3, 7, 8))
    w, b = rng.normal(size=(4, 3) + kernel), rng.normal(size=4)
    ours = conv_ref.conv2d(ro(x), ro(w), ro(b), stride, padding, dilation)
    assert_matches(ours, F.conv2d(t(x), t(w), t(b), stride, padding, dilation))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_small_images_share_one_product(groups):
    """A batch of small outputs is computed a chunk of images at a time (side by side)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 4, 9, 9))
    w, b = rng.normal(size=(6, 4 // groups, 3, 3)), rng.normal(size=6)
    ours = conv_ref.conv2d(ro(x), ro(w), ro(b), stride=2, padding=1, groups=groups)
    assert_matches(ours, F.conv2d(t(x), t(w), t(b), stride=2, padding=1, groups=groups))
    assert ours.flags.c_contiguous


@pytest.mark.parametrize(("c_in", "c_out", "groups"), [(4, 6, 2), (4, 4, 4), (3, 6, 3),
                                                       (6, 3, 3)])
@pytest.mark.parametrize("padding", [0, 1, "same"])
def test_conv2d_groups_match_torch(c_in, c_out, groups, padding):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, c_in, 5, 6))
    w, b = rng.normal(size=(c_out, c_in // groups, 3, 2)), rng.normal(size=c_out)
    ours = conv_ref.conv2d(x, w, b, 1, padding, (1, 2), groups)
    assert_matches(ours, F.conv2d(t(x), t(w), t(b), 1, padding, (1, 2), groups))
    assert_matches(conv_ref.conv2d_general(x, w, b, 1, padding, (1, 2), groups), ours,
                   who="conv2d")


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(("padding", "stride"), [(1, 1), ((2, 1), (2, 3)), ("same", 1), (0, 2)])
@pytest.mark.parametrize("batched", [True, False])
def test_conv2d_padding_modes_match_torch_module(mode, padding, stride, batched):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 5, 6) if batched else (2, 5, 6))
    w, b = rng.normal(size=(3, 2, 3, 4)), rng.normal(size=3)
    layer = torch.nn.Conv2d(2, 3, (3, 4), stride, padding, padding_mode=mode).double()
    with torch.no_grad():
        layer.weight.copy_(t(w))
        layer.bias.copy_(t(b))
        ref = layer(t(x))
    assert_matches(conv_ref.conv2d(x, w, b, stride, padding, padding_mode=mode), ref)


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("k", "stride", "padding", "dilation", "groups"), [
    (1, 1, 0, 1, 1), (3, 1, "same", 2, 1), (2, 3, 1, 1, 2), (4, 1, "same", 1, 1),
    (3, 5, (2,), (1,), 2), (2, 2, "valid", 1, 4),
])
def test_conv1d_matches_torch(k, stride, padding, dilation, groups, batched):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 9) if batched else (4, 9))
    w, b = rng.normal(size=(4, 4 // groups, k)), rng.normal(size=4)
    ours = conv_ref.conv1d(ro(x), ro(w), ro(b), stride, padding, dilation, groups)
    assert_matches(ours, F.conv1d(t(x), t(w), t(b), stride, padding, dilation, groups))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_padding_modes_match_torch_module(mode):
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(1, 2, 6)), rng.normal(size=(3, 2, 3))
    layer = torch.nn.Conv1d(2, 3, 3, 2, 2, padding_mode=mode, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(t(w))
        ref = layer(t(x))
    assert_matches(conv_ref.conv1d(x, w, stride=2, padding=2, padding_mode=mode), ref)


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), [
    (1, 0, 1, 1), ((2, 1), (1, 0), 1, 2), (3, 2, (1, 2), 1), (1, "same", 2, 2),
])
def test_conv2d_matches_naive_loop(stride, padding, dilation, groups):
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 4, 6, 5)), rng.normal(size=(2, 4 // groups, 3, 2)), rng.normal(
        size=2)
    ours = conv_ref.conv2d(x, w, b, stride, padding, dilation, groups)
    if padding == "same":  # PyTorch's rule: total d*(k-1), the odd extra on the bottom/right
        totals = [dilation * (k - 1) for k in w.shape[2:]]
        padding = tuple((total // 2, total - total // 2) for total in totals)
    assert_matches(ours, naive_conv(x, w, b, stride, padding, dilation, groups), who="naive")


def test_conv1d_matches_naive_loop():
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 3, 3))
    assert_matches(conv_ref.conv1d(x, w, None, 2, 1, 2), naive_conv(x, w, None, 2, 1, 2),
                   who="naive")


def test_conv1d_worked_example():
    y = conv_ref.conv1d(np.array([[1, 2, 3, 4]]), np.array([[[1, 0, -1]]]))
    assert y.tolist() == [[-2.0, -2.0]]


@pytest.mark.parametrize(("k", "stride", "padding", "windows"), [
    (1, 1, 0, [(2,), (3,), (4,)]),
    (2, 1, 0, [(2, 3), (3, 4)]),
    (2, 2, 0, [(2, 3)]),
    (2, 2, 1, [(0, 2), (3, 4)]),
])
def test_conv1d_blog_cases(k, stride, padding, windows):
    # The blog's input [2, 3, 4]: with weights 1, 10, 100... each output spells its window.
    w, bias = 10.0 ** np.arange(k)[::-1], 0.5
    y = conv_ref.conv1d(np.array([[2, 3, 4]]), w.reshape(1, 1, k), np.array([bias]), stride,
                        padding)
    expected = [sum(v * 10.0 ** (k - 1 - i) for i, v in enumerate(win)) + bias for win in windows]
    assert y[0].tolist() == expected


def seed_input():
    """The 4x4x2 input of the 2D worked example (channels first)."""
    a = np.array([[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]])
    b = np.repeat(np.arange(1, 5)[:, None], 4, axis=1)
    return np.stack([a, b])


def seed_kernels():
    """The three 2x2 kernels of the 2D worked example: (3, 2, 2, 2)."""
    return np.array([
        [[[1, 0], [0, 1]], [[1, 1], [1, 1]]],
        [[[0, 1], [1, 0]], [[0, 0], [0, 1]]],
        [[[1, 1], [1, 1]], [[-1, -1], [-1, -1]]],
    ])


def test_conv2d_worked_example():
    y = conv_ref.conv2d(seed_input(), seed_kernels())
    assert y.shape == (3, 3, 3)
    assert y[0].tolist() == [[13, 21, 29], [19, 27, 35], [25, 33, 41]]
    assert conv_ref.conv2d(seed_input()[:1], seed_kernels()[:1, :1]).tolist() == [
        [[7, 15, 23], [9, 17, 25], [11, 19, 27]]]
    assert_matches(y, F.conv2d(t(seed_input()), t(seed_kernels())))


def test_conv2d_1x1_worked_example():
    x = np.array([[[1, 2], [3, 4]], [[10, 20], [30, 40]]])
    w = np.array([[1, 0], [0, 1], [1, -1]]).reshape(3, 2, 1, 1)
    y = conv_ref.conv2d(x, w)
    assert y[2].tolist() == [[-9, -18], [-27, -36]]
    assert y[1].tolist() == [[10, 20], [30, 40]]


@pytest.mark.parametrize(("dtype", "expected"), [(np.float32, np.float32),
                                                 (np.int64, np.float64), (bool, np.float64)])
def test_conv2d_dtype(dtype, expected):
    x = np.arange(2 * 4 * 4).reshape(2, 4, 4).astype(dtype)
    w = np.ones((1, 2, 3, 3), dtype=dtype)
    y = conv_ref.conv2d(x, w, padding=1)
    assert y.dtype == expected
    np.testing.assert_allclose(y, conv_ref.conv2d(x.astype(np.float64), w.astype(np.float64),
                                                  padding=1), rtol=1e-6)


def test_conv2d_non_contiguous_input():
    x = np.random.default_rng(7).normal(size=(2, 3, 8, 6)).transpose(0, 1, 3, 2)[..., ::2]
    w = np.ones((2, 3, 1, 1))
    assert_matches(conv_ref.conv2d(x, w), F.conv2d(t(np.ascontiguousarray(x)), t(w)))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.conv2d(np.ones((7, 5, 5)), np.ones((2, 3, 3, 3))), ValueError,
     "conv2d: weight expects 3 input channels, got input with 7"),
    (lambda: conv_ref.conv2d(np.ones((4, 5, 5)), np.ones((2, 3, 3, 3)), groups=2), ValueError,
     r"conv2d: weight expects 6 input channels \(3 per group x 2 groups\), got input with 4"),
    (lambda: conv_ref.conv2d(np.ones((3, 5, 5)), np.ones((2, 1, 3, 3)), groups=3), ValueError,
     r"conv2d: groups=3 expects to divide the input channels \(3\) and the output channels"),
    (lambda: conv_ref.conv2d(np.ones((3, 5, 5)), np.ones((2, 3, 3, 3)), groups=0), ValueError,
     "conv2d: groups expects an integer >= 1, got 0"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 5, 3))), ValueError,
     "conv2d: kernel size 5 .* larger than the padded input size 4 along spatial dim 0"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), dilation=2),
     ValueError, r"conv2d: kernel size 3 \(dilation 2, extent 5\) is larger"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0), ValueError,
     r"conv2d: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), stride=(1, 2, 3)),
     ValueError,
     r"conv2d: stride expects an integer or a tuple of 1 or 2 integers, got \(1, 2, 3\)"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), padding=-1),
     ValueError, "conv2d: padding expects integers >= 0, got -1"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2,
                                    padding="same"),
     ValueError, r"conv2d: padding='same' expects stride 1, got stride \(2, 2\)"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), padding="full"),
     ValueError, "conv2d: padding expects an integer, a tuple, 'valid' or 'same', got 'full'"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), padding_mode="mirror"),
     ValueError, "conv2d: padding_mode expects one of 'zeros', 'reflect', 'replicate', "
                 "'circular', got 'mirror'"),
    (lambda: conv_ref.conv2d(np.ones((4, 4)), np.ones((1, 1, 3, 3))), ValueError,
     r"conv2d: input expects \(C_in, H, W\) or \(N, C_in, H, W\), got an array of shape"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((1, 3, 3))), ValueError,
     r"conv2d: weight expects \(C_out, C_in // groups, kH, kW\), got an array of shape"),
    (lambda: conv_ref.conv2d(np.ones((1, 4, 4)), np.ones((2, 1, 3, 3)), np.ones(3)),
     ValueError, r"conv2d: bias expects shape \(2,\) \(one per output channel\), got \(3,\)"),
    (lambda: conv_ref.conv2d(np.array([["a"]]), np.ones((1, 1, 1, 1))), TypeError,
     "conv2d: input expects a real numeric array, got dtype <U1"),
    (lambda: conv_ref.conv1d(np.ones((2, 5)), np.ones((1, 3, 2))), ValueError,
     "conv1d: weight expects 3 input channels, got input with 2"),
    (lambda: conv_ref.conv1d(np.ones((2, 5)), np.ones((1, 2, 2)), padding=(1, 1)), ValueError,
     "conv1d: padding expects an integer or a tuple of 1 integers"),
    (lambda: conv_ref.conv2d_general(np.ones((3, 5, 5)), np.ones((2, 2, 3, 3))), ValueError,
     "conv2d_general: weight expects 2 input channels, got input with 3"),
])
def test_conv_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
