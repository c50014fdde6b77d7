"""The first exercises: single-feature correlation, 1x1 convolution, parameter counts."""

from __future__ import annotations

import numpy as np

from conv_ref._checks import (
    _check_bias,
    _check_fits,
    _check_groups,
    _check_ndim,
    _common_float,
    _int_arg,
    _tuple_arg,
)
from conv_ref.shape import _padding_pairs
from conv_ref.windows import gather_windows, sliding_windows


def corr1d(x, h):
    """Valid 1D cross-correlation of one feature with one kernel.

    ``y[i] = sum_j h[j] * x[i + j]`` for ``i in range(len(x) - len(h) + 1)``.

    Parameters
    ----------
    x : ndarray of shape (L,)
    h : ndarray of shape (K,)
        ``K <= L``.

    Returns
    -------
    ndarray of shape (L - K + 1,)

    Examples
    --------
    >>> corr1d(np.arange(1, 5), np.array([1, 0, -1]))
    array([-2., -2.])
    """
    fn = "corr1d"
    x, h = _common_float(fn, x=x, h=h)
    _check_ndim(x, fn, "x", (1,), "a 1D signal of shape (L,)")
    _check_ndim(h, fn, "h", (1,), "a 1D kernel of shape (K,)")
    _check_fits(x.shape, h.shape, ((0, 0),), (1,), fn)
    return sliding_windows(x, h.shape, (1,), (1,)) @ h  # (L_out, K) @ (K,)


def conv1d_single(x, h, bias=0.0, stride=1, padding=0):
    """One feature to one feature: 1D cross-correlation with bias, stride and zero padding.

    ``y[i] = bias + sum_j h[j] * x_padded[i*stride + j]``, ``x_padded`` with
    `padding` zeros on both sides (``"same"``: PyTorch's rule, stride 1 only).

    Parameters
    ----------
    x : ndarray of shape (L,)
    h : ndarray of shape (K,)
    bias : float
    stride : int
    padding : int, "valid" or "same"

    Returns
    -------
    ndarray of shape (L_out,)
        ``L_out = conv_output_length(L, K, stride, padding)``.

    Examples
    --------
    >>> conv1d_single(np.arange(2, 5), np.array([1, 10]), stride=2, padding=1)
    array([20., 43.])
    """
    fn = "conv1d_single"
    x, h = _common_float(fn, x=x, h=h)
    _check_ndim(x, fn, "x", (1,), "a 1D signal of shape (L,)")
    _check_ndim(h, fn, "h", (1,), "a 1D kernel of shape (K,)")
    stride = _tuple_arg(stride, 1, fn, "stride", 1)
    pads = _padding_pairs(padding, h.shape, stride, (1,), fn)
    _check_fits(x.shape, h.shape, pads, (1,), fn)
    if not np.isscalar(bias) and np.ndim(bias) != 0:
        raise TypeError(f"{fn}: bias expects a scalar, got an array of shape {np.shape(bias)}")
    cols = gather_windows(x, h.shape, stride, pads, (1,))  # (K, L_out): the data matrix
    return h @ cols + bias


def corr2d(X, K):
    """Valid 2D cross-correlation of one feature map with one kernel.

    ``Y[i, j] = sum_{a, b} K[a, b] * X[i + a, j + b]``.

    Parameters
    ----------
    X : ndarray of shape (H, W)
    K : ndarray of shape (kH, kW)
        No larger than `X` along either axis.

    Returns
    -------
    ndarray of shape (H - kH + 1, W - kW + 1)

    Examples
    --------
    >>> corr2d(np.arange(9).reshape(3, 3), np.array([[1, 0], [0, 1]]))
    array([[ 4.,  6.],
           [10., 12.]])
    """
    fn = "corr2d"
    X, K = _common_float(fn, X=X, K=K)
    _check_ndim(X, fn, "X", (2,), "a 2D feature map of shape (H, W)")
    _check_ndim(K, fn, "K", (2,), "a 2D kernel of shape (kH, kW)")
    _check_fits(X.shape, K.shape, ((0, 0), (0, 0)), (1, 1), fn)
    windows = sliding_windows(X, K.shape, (1, 1), (1, 1))  # (H_out, W_out, kH, kW)
    return np.tensordot(windows, K, axes=2)


def conv1x1(x, weight, bias=None):
    """1x1 convolution: the same channel-mixing matrix applied at every pixel.

    ``y[..., o, p, q] = bias[o] + sum_c weight[o, c] * x[..., c, p, q]``: one
    ``einsum``, no spatial mixing.

    Parameters
    ----------
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in, 1, 1) or (C_out, C_in)
    bias : ndarray of shape (C_out,) or None

    Returns
    -------
    ndarray of shape (N, C_out, H, W) or (C_out, H, W)

    Examples
    --------
    >>> conv1x1(np.arange(8).reshape(2, 2, 2), np.array([[1, 0], [0, 1], [1, -1]]))[2]
    array([[-4., -4.],
           [-4., -4.]])
    """
    fn = "conv1x1"
    x, w, b = _common_float(fn, x=x, weight=weight, bias=bias)
    _check_ndim(x, fn, "x", (3, 4), "(C_in, H, W) or (N, C_in, H, W)")
    _check_ndim(w, fn, "weight", (2, 4), "(C_out, C_in, 1, 1) or (C_out, C_in)")
    if w.ndim == 4:
        if w.shape[2:] != (1, 1):
            raise ValueError(
                f"{fn}: weight expects a 1x1 kernel (C_out, C_in, 1, 1), got shape {w.shape}"
            )
        w = w[:, :, 0, 0]
    if w.shape[1] != x.shape[-3]:
        raise ValueError(
            f"{fn}: weight expects {w.shape[1]} input channels, got input with {x.shape[-3]}"
        )
    _check_bias(b, w.shape[0], fn)
    y = np.einsum("oc,...chw->...ohw", w, x)
    if b is not None:
        y += b[:, None, None]
    return y


def conv2d_param_count(c_in, c_out, kernel_size, bias=True, groups=1) -> int:
    """Number of learnable parameters of a ``Conv2d`` layer.

    ``c_out * (c_in // groups) * kH * kW + (c_out if bias else 0)``

    Parameters
    ----------
    c_in, c_out : int
        Channel counts, each divisible by `groups`.
    kernel_size : int or tuple of 2 int
    bias : bool
    groups : int

    Returns
    -------
    int

    Examples
    --------
    >>> conv2d_param_count(64, 128, 3)
    73856
    >>> conv2d_param_count(32, 32, 3, bias=False, groups=32)
    288
    """
    fn = "conv2d_param_count"
    c_in = _int_arg(c_in, fn, "c_in", 1)
    c_out = _int_arg(c_out, fn, "c_out", 1)
    k_h, k_w = _tuple_arg(kernel_size, 2, fn, "kernel_size", 1)
    groups = _check_groups(groups, c_in, c_out, fn)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"{fn}: bias expects True or False, got {bias!r}")
    return c_out * (c_in // groups) * k_h * k_w + (c_out if bias else 0)

