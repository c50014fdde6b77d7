"""conv_ref.backward: conv2d_backward against torch.autograd, numeric_gradient against calculus."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from tests.test_conv_ref_naive import assert_matches, t


def torch_grads(dout, x, w, stride, padding, dilation=1, groups=1):
    xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    F.conv2d(xt, wt, bt, stride, padding, dilation, groups).backward(t(dout))
    return xt.grad, wt.grad, bt.grad


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(("shape", "kernel", "stride", "padding", "dilation", "groups"), [
    ((5, 5), (3, 3), 1, 0, 1, 1),
    ((6, 7), (2, 3), 2, 1, 1, 1),  # stride remainders: the last row/column are never read
    ((7, 6), (3, 2), (3, 2), (1, 0), 1, 2),
    ((8, 8), (3, 3), 2, 2, 2, 1),
    ((5, 6), (1, 1), 4, 0, 1, 4),  # stride larger than the kernel
])
def test_conv2d_backward_matches_autograd(shape, kernel, stride, padding, dilation, groups,
                                          batched):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4) + shape)
    w = rng.normal(size=(4, 4 // groups) + kernel)
    y = F.conv2d(t(x), t(w), None, stride, padding, dilation, groups)
    dout = rng.normal(size=tuple(y.shape))
    ref = torch_grads(dout, x, w, stride, padding, dilation, groups)
    if not batched:
        x, dout = x[0], dout[0]
        ref = torch_grads(dout[None], x[None], w, stride, padding, dilation, groups)
        ref = (ref[0][0], ref[1], ref[2])
    dx, dw, db = conv_ref.conv2d_backward(dout, x, w, stride, padding, dilation, groups)
    assert_matches(dx, ref[0])
    assert_matches(dw, ref[1])
    assert_matches(db, ref[2])


def test_conv2d_backward_dx_is_a_transposed_convolution():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3))
    dout = rng.normal(size=(1, 3, 3, 3))
    dx, _, _ = conv_ref.conv2d_backward(dout, x, w, stride=2, padding=1)
    # (6 + 2 - 3) % 2 = 1: one skipped row and column restored by output_padding.
    assert_matches(dx, conv_ref.conv_transpose2d(dout, w, stride=2, padding=1, output_padding=1),
                   who="conv_transpose2d")


def test_conv2d_backward_matches_numeric_gradient():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 2, 2, 2))
    dout = rng.normal(size=(2, 2, 4))  # H_out = (4 - 2)//2 + 1, W_out = 3 + 2 - 2 + 1

    def loss_x(v):
        return np.sum(conv_ref.conv2d(v, w, stride=(2, 1), padding=(0, 1)) * dout)

    def loss_w(v):
        return np.sum(conv_ref.conv2d(x, v, stride=(2, 1), padding=(0, 1)) * dout)

    dx, dw, _ = conv_ref.conv2d_backward(dout, x, w, (2, 1), (0, 1))
    np.testing.assert_allclose(dx, conv_ref.numeric_gradient(loss_x, x), atol=1e-7)
    np.testing.assert_allclose(dw, conv_ref.numeric_gradient(loss_w, w), atol=1e-7)


def test_numeric_gradient_against_calculus_and_inputs_untouched():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    a = np.array([[2.0, 1.0], [-1.0, 0.5]])
    grad = conv_ref.numeric_gradient(lambda v: np.sum(a * v ** 2), x)
    np.testing.assert_allclose(grad, 2 * a * x, atol=1e-6)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    np.testing.assert_array_equal(x, before)


def test_numeric_gradient_float32_and_int_inputs_become_float64():
    grad = conv_ref.numeric_gradient(lambda v: float(np.sum(v)), np.arange(3))
    np.testing.assert_allclose(grad, np.ones(3), atol=1e-6)
    grad32 = conv_ref.numeric_gradient(lambda v: float(np.sum(v ** 3)),
                                       np.array([1.0, 2.0], dtype=np.float32), h=1e-5)
    assert grad32.dtype == np.float64
    np.testing.assert_allclose(grad32, [3.0, 12.0], atol=1e-5)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.conv2d_backward(np.ones((1, 2, 2)), np.ones((2, 3, 3)),
                                      np.ones((1, 3, 2, 2))), ValueError,
     "conv2d_backward: weight expects 3 input channels, got x with 2"),
    (lambda: conv_ref.conv2d_backward(np.ones((1, 3, 3)), np.ones((1, 3, 3)),
                                      np.ones((1, 1, 2, 2))), ValueError,
     r"conv2d_backward: dout expects the output shape \(1, 2, 2\), got \(1, 3, 3\)"),
    (lambda: conv_ref.conv2d_backward(np.ones((1, 1, 1)), np.ones((1, 3, 3)),
                                      np.ones((1, 1, 4, 4))), ValueError,
     "conv2d_backward: kernel size 4 .* larger than the padded input size 3"),
    (lambda: conv_ref.conv2d_backward(np.ones((1, 2, 2)), np.ones((1, 3, 3)),
                                      np.ones((1, 1, 2, 2)), stride=0), ValueError,
     "conv2d_backward: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.conv2d_backward(np.ones((1, 3, 3)), np.ones((1, 3, 3)),
                                      np.ones((1, 1, 1, 1)), padding="same"), TypeError,
     "conv2d_backward: padding expects an integer or a tuple of 2 integers, got 'same'"),
    (lambda: conv_ref.numeric_gradient(3, np.ones(2)), TypeError,
     "numeric_gradient: f expects a function, got int"),
    (lambda: conv_ref.numeric_gradient(np.sum, np.ones(2), h=0), ValueError,
     "numeric_gradient: h expects a positive real step, got 0"),
    (lambda: conv_ref.numeric_gradient(lambda v: v, np.ones(2)), ValueError,
     r"numeric_gradient: f expects to return a scalar, got an array of shape \(2,\)"),
])
def test_backward_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
