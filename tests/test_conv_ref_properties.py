"""Property tests (hypothesis) for the identities the course teaches, on small random shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import conv_ref

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def conv2d_case(draw):
    """A small valid conv2d configuration with its arrays."""
    k_h, k_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p_h, p_w = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    d_h, d_w = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(max(1, d_h * (k_h - 1) + 1 - 2 * p_h), 7))
    w = draw(st.integers(max(1, d_w * (k_w - 1) + 1 - 2 * p_w), 7))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    c_in, c_out, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(n, c_in, h, w))
    weight = rng.normal(size=(c_out, c_in, k_h, k_w))
    return x, weight, stride, (p_h, p_w), (d_h, d_w)


@SETTINGS
@given(conv2d_case())
def test_output_shape_is_the_formula(case):
    x, weight, stride, padding, dilation = case
    y = conv_ref.conv2d(x, weight, None, stride, padding, dilation)
    expected = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation,
                                 strict=True)
    )
    assert y.shape == x.shape[:1] + weight.shape[:1] + expected
    assert expected == tuple(
        conv_ref.conv_output_length(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation,
                                 strict=True)
    )


@SETTINGS
@given(conv2d_case())
def test_im2col_then_matmul_is_conv2d(case):
    x, weight, stride, padding, dilation = case
    y = conv_ref.conv2d(x, weight, None, stride, padding, dilation)
    cols = conv_ref.im2col(x, weight.shape[2:], stride, padding, dilation)  # (N, C*kH*kW, L)
    via_matmul = weight.reshape(weight.shape[0], -1) @ cols  # (N, C_out, L)
    np.testing.assert_allclose(via_matmul.reshape(y.shape), y, atol=1e-12)


@SETTINGS
@given(conv2d_case())
def test_conv2d_gradient_is_a_transposed_convolution(case):
    # <conv2d(x), y> == <x, conv2d_backward(y)[0]> and dx == conv_transpose2d(y).
    x, weight, stride, padding, dilation = case
    out = conv_ref.conv2d(x, weight, None, stride, padding, dilation)
    dout = np.random.default_rng(0).normal(size=out.shape)
    dx, dweight, _ = conv_ref.conv2d_backward(dout, x, weight, stride, padding, dilation)
    assert np.isclose(np.sum(out * dout), np.sum(x * dx))
    assert np.isclose(np.sum(out * dout), np.sum(weight * dweight))
    remainder = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation,
                                 strict=True)
    )
    transposed = conv_ref.conv_transpose2d(dout, weight, None, stride, padding, remainder, 1,
                                           dilation)
    np.testing.assert_allclose(dx, transposed, atol=1e-12)


@st.composite
def conv1d_case(draw):
    k = draw(st.integers(1, 5))
    same = draw(st.booleans())
    stride = 1 if same else draw(st.integers(1, 4))
    padding = "same" if same else draw(st.integers(0, 3))
    n = draw(st.integers(max(1, k - (k - 1 if same else 2 * padding)), 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=n), rng.normal(size=k), stride, padding


@SETTINGS
@given(conv1d_case())
def test_toeplitz_views_are_conv1d_single(case):
    x, h, stride, padding = case
    y = conv_ref.conv1d_single(x, h, 0.0, stride, padding)
    np.testing.assert_allclose(conv_ref.filter_matrix(h, len(x), stride, padding) @ x, y,
                               atol=1e-12)
    np.testing.assert_allclose(h @ conv_ref.data_matrix(x, len(h), stride, padding), y,
                               atol=1e-12)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 3), st.integers(0, 3),
       st.integers(0, 2**32 - 1))
def test_doubly_block_toeplitz_is_corr2d(k_h, k_w, extra_h, extra_w, seed):
    rng = np.random.default_rng(seed)
    K, X = rng.normal(size=(k_h, k_w)), rng.normal(size=(k_h + extra_h, k_w + extra_w))
    M = conv_ref.doubly_block_toeplitz(K, *X.shape)
    np.testing.assert_allclose(M @ X.ravel(), conv_ref.corr2d(X, K).ravel(), atol=1e-12)


@SETTINGS
@given(st.integers(1, 7), st.integers(1, 9), st.integers(-9, 9), st.integers(0, 2**32 - 1))
def test_circulant_commutes_with_shift(k, n, shift, seed):
    w = np.random.default_rng(seed).normal(size=k)
    C, S = conv_ref.circulant(w, n), conv_ref.shift_matrix(n, shift)
    np.testing.assert_allclose(C @ S, S @ C, atol=1e-12)
    # ... and a circulant is a weighted sum of shifts: C = sum_j w[j] S^(K//2 - j).
    by_shifts = sum(wj * conv_ref.shift_matrix(n, k // 2 - j) for j, wj in enumerate(w))
    np.testing.assert_allclose(C, by_shifts, atol=1e-12)
