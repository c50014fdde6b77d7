"""conv_ref.unfold: unfold/fold/im2col against PyTorch, conv2d_im2col against conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_conv import seed_input, seed_kernels
from tests.test_conv_ref_naive import assert_matches, naive_conv, t

CASES = [  # (kernel_size, dilation, padding, stride)
    (1, 1, 0, 1), (2, 1, 0, 1), ((2, 3), 1, 1, 2), (3, (2, 1), (1, 2), (1, 3)),
    ((1, 2), 1, 0, 4),
]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("kernel", "dilation", "padding", "stride"), CASES)
def test_unfold_fold_im2col_match_torch(kernel, dilation, padding, stride, batched):
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 7) if batched else (3, 6, 7))
    cols = conv_ref.unfold(x, kernel, dilation, padding, stride)
    assert_matches(cols, F.unfold(t(x), kernel, dilation, padding, stride))
    assert_matches(conv_ref.im2col(x, kernel, stride, padding, dilation), cols, who="unfold")
    assert_matches(conv_ref.fold(cols, (6, 7), kernel, dilation, padding, stride),
                   F.fold(t(cols), (6, 7), kernel, dilation, padding, stride))


def test_im2col_rows_in_c_i_j_order():
    x = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    cols = conv_ref.im2col(x, 2)
    # row (c*kH + i)*kW + j, column p*W_out + q reads x[c, p + i, q + j]
    for c, i, j, p, q in np.ndindex(2, 2, 2, 2, 2):
        assert cols[(c * 2 + i) * 2 + j, p * 2 + q] == x[c, p + i, q + j]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), ((1, 3), (2, 0))])
def test_conv2d_im2col_matches_torch_and_naive(stride, padding, batched):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 5, 6) if batched else (3, 5, 6))
    w, b = rng.normal(size=(4, 3, 2, 3)), rng.normal(size=4)
    ours = conv_ref.conv2d_im2col(x, w, b, stride, padding)
    assert_matches(ours, F.conv2d(t(x), t(w), t(b), stride, padding))
    naive = naive_conv(x if batched else x[None], w, b, stride, padding)
    assert_matches(ours, naive if batched else naive[0], who="naive")


def test_conv2d_im2col_worked_example():
    assert conv_ref.conv2d_im2col(seed_input(), seed_kernels())[0].tolist() == [
        [13, 21, 29], [19, 27, 35], [25, 33, 41]]


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.im2col(np.ones((3, 3)), 2), ValueError,
     r"im2col: x expects \(C, H, W\) or \(N, C, H, W\), got an array of shape \(3, 3\)"),
    (lambda: conv_ref.im2col(np.ones((1, 3, 3)), 4), ValueError,
     "im2col: kernel size 4 .* larger than the padded input size 3"),
    (lambda: conv_ref.unfold(np.ones((1, 3, 3)), 2, stride=0), ValueError,
     "unfold: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.fold(np.ones((4, 5)), (3, 3), 2), ValueError,
     r"fold: input expects 4 columns \(H_out\*W_out = 2\*2\), got 5"),
    (lambda: conv_ref.fold(np.ones((5, 4)), (3, 3), 2), ValueError,
     "fold: input expects a multiple of kH[*]kW=4 rows, got 5"),
    (lambda: conv_ref.fold(np.ones((4,)), (3, 3), 2), ValueError,
     r"fold: input expects \(C\*kH\*kW, L\) or \(N, C\*kH\*kW, L\)"),
    (lambda: conv_ref.conv2d_im2col(np.ones((2, 3, 3)), np.ones((1, 3, 2, 2))), ValueError,
     "conv2d_im2col: weight expects 3 input channels, got input with 2"),
    (lambda: conv_ref.conv2d_im2col(np.ones((3, 3, 3)), np.ones((1, 3, 2, 2)), np.ones(2)),
     ValueError, r"conv2d_im2col: bias expects shape \(1,\)"),
    (lambda: conv_ref.conv2d_im2col(np.ones((3, 3, 3)), np.ones((1, 3, 2, 2)), padding=-1),
     ValueError, "conv2d_im2col: padding expects integers >= 0"),
])
def test_unfold_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
