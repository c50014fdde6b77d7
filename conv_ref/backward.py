"""Gradients of `conv2d`, and the central-difference check that validates them."""

from __future__ import annotations

import numbers

import numpy as np

from conv_ref._checks import (
    _as_float,
    _check_callable,
    _check_groups,
    _check_ndim,
    _common_float,
    _tuple_arg,
)
from conv_ref.shape import conv_output_length
from conv_ref.transpose import conv_transpose2d
from conv_ref.windows import gather_windows


def conv2d_backward(dout, x, weight, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of ``y = conv2d(x, weight, bias, stride, padding, dilation, groups)``.

    With ``dout = dL/dy``:

    - ``dx = conv_transpose2d(dout, weight, stride=stride, padding=padding,
      output_padding=r, groups=groups, dilation=dilation)`` where
      ``r = (H + 2*pH - dH*(kH-1) - 1) % sH`` (likewise for W) restores the last
      rows/columns that the stride skipped; they get zero gradient.
    - ``dweight[o, c, i, j] = sum_{n, p, q} dout[n, o, p, q]
      * x_padded[n, c', p*sH + i*dH, q*sW + j*dW]`` (``c'`` the ``c``-th input
      channel of ``o``'s group): ``dout`` times the transposed im2col matrix.
    - ``dbias[o] = dout[:, o].sum()``.

    Parameters
    ----------
    dout : ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in // groups, kH, kW)
    stride, padding, dilation : int or tuple of 2 int
    groups : int

    Returns
    -------
    dx : ndarray of shape x.shape
    dweight : ndarray of shape weight.shape
    dbias : ndarray of shape (C_out,)

    Examples
    --------
    >>> dx, dw, db = conv2d_backward(np.ones((1, 2, 2)), np.arange(9).reshape(1, 3, 3),
    ...                              np.ones((1, 1, 2, 2)))
    >>> dx[0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dw[0, 0], db
    (array([[ 8., 12.],
           [20., 24.]]), array([4.]))
    """
    fn = "conv2d_backward"
    dout, x, w = _common_float(fn, dout=dout, x=x, weight=weight)
    _check_ndim(x, fn, "x", (3, 4), "(C_in, H, W) or (N, C_in, H, W)")
    _check_ndim(w, fn, "weight", (4,), "(C_out, C_in // groups, kH, kW)")
    batched = x.ndim == 4
    if not batched:
        x, dout = x[None], dout[None]
    c_in, c_out = x.shape[1], w.shape[0]
    groups = _check_groups(groups, c_in, c_out, fn)
    if w.shape[1] * groups != c_in:
        raise ValueError(
            f"{fn}: weight expects {w.shape[1] * groups} input channels, got x with {c_in}"
        )
    kernel = w.shape[2:]
    stride = _tuple_arg(stride, 2, fn, "stride", 1)
    padding = _tuple_arg(0 if padding == "valid" else padding, 2, fn, "padding", 0)
    dilation = _tuple_arg(dilation, 2, fn, "dilation", 1)
    for axis, (n, k, p, d) in enumerate(zip(x.shape[2:], kernel, padding, dilation,
                                            strict=True)):
        if d * (k - 1) + 1 > n + 2 * p:
            raise ValueError(
                f"{fn}: kernel size {k} (dilation {d}) is larger than the padded input size "
                f"{n + 2 * p} along spatial dim {axis}; expected a kernel that fits"
            )
    out = tuple(
        conv_output_length(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True)
    )
    expected = (x.shape[0], c_out) + out
    if dout.shape != expected:
        shown = expected if batched else expected[1:]
        got = dout.shape if batched else dout.shape[1:]
        raise ValueError(f"{fn}: dout expects the output shape {shown}, got {got}")

    remainder = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True)
    )
    dx = conv_transpose2d(dout, w, None, stride, padding, remainder, groups, dilation)

    n_batch, length = x.shape[0], out[0] * out[1]
    cols = gather_windows(x, kernel, stride, tuple((p, p) for p in padding), dilation)
    cols = cols.reshape(n_batch, groups, -1, length)  # (N, g, C_in/g * kH*kW, L)
    dout_mat = dout.reshape(n_batch, groups, c_out // groups, length)  # (N, g, C_out/g, L)
    dweight = np.matmul(dout_mat, cols.swapaxes(-1, -2)).sum(axis=0)  # (g, C_out/g, C_in/g*K)
    dbias = dout.sum(axis=(0, 2, 3))
    return (dx if batched else dx[0]), dweight.reshape(w.shape), dbias


def numeric_gradient(f, x, h=1e-6):
    """Central-difference gradient of a scalar function at every entry of `x`.

    ``g[idx] = (f(x + h*e_idx) - f(x - h*e_idx)) / (2*h)``, one pair of calls per
    entry (the definition, so a loop over entries). `x` is never modified: `f`
    receives fresh float64 copies.

    Parameters
    ----------
    f : callable
        Maps an ndarray of x's shape to a scalar.
    x : ndarray of any shape
    h : float
        Step, > 0.

    Returns
    -------
    ndarray of x's shape, float64

    Examples
    --------
    >>> np.round(numeric_gradient(lambda v: np.sum(v ** 2), np.arange(3.0)), 6)
    array([0., 2., 4.])
    """
    fn = "numeric_gradient"
    _check_callable(f, fn, "f")
    x = _as_float(x, fn, "x").astype(np.float64)  # a private copy, also for float32 input
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not h > 0:
        raise ValueError(f"{fn}: h expects a positive real step, got {h!r}")
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        values = []
        for step in (h, -h):
            probe = x.copy()
            probe[idx] += step
            value = f(probe)
            if np.ndim(value) != 0:
                raise ValueError(
                    f"{fn}: f expects to return a scalar, got an array of shape {np.shape(value)}"
                )
            values.append(float(value))
        grad[idx] = (values[0] - values[1]) / (2 * h)
    return grad
