"""im2col: `unfold`/`fold` as ``torch.nn.functional``, `im2col`, `conv2d_im2col`.

``unfold`` lays every (zero-padded) window out as a column:
``cols[n, (c*kH + i)*kW + j, p*W_out + q] = x_padded[n, c, p*sH + i*dH, q*sW + j*dW]``,
so that a convolution is one matrix product ``weight.reshape(C_out, -1) @ cols``.
``fold`` is its adjoint: it sums the columns back, overlapping entries added.
"""

from __future__ import annotations

import math

import numpy as np

from conv_ref._checks import (
    _as_float,
    _as_numeric,
    _check_bias,
    _check_fits,
    _check_ndim,
    _check_nonempty,
    _check_types,
    _common_float,
    _tuple_arg,
)
from conv_ref.shape import conv_output_length
from conv_ref.windows import gather_windows, scatter_windows


def _unfold(fn, name, x, kernel_size, dilation, padding, stride, one=True):
    """Shared body of `unfold`, `im2col` and `conv2d_im2col`; `name` is the input's argument.

    `x` is already an array; ``one=False`` refuses one-element tuples, as
    ``torch.nn.functional.unfold`` does.
    """
    _check_types(fn, tuples={"kernel_size": kernel_size, "dilation": dilation,
                             "padding": padding, "stride": stride})
    _check_ndim(x, fn, name, (3, 4), "(C, H, W) or (N, C, H, W)")
    _check_nonempty(x, fn, name, x.ndim - 3)
    kernel = _tuple_arg(kernel_size, 2, fn, "kernel_size", 1, one=one)
    dilation = _tuple_arg(dilation, 2, fn, "dilation", 1, one=one)
    pads = tuple((p, p) for p in _tuple_arg(padding, 2, fn, "padding", 0, one=one))
    stride = _tuple_arg(stride, 2, fn, "stride", 1, one=one)
    _check_fits(x.shape[-2:], kernel, pads, dilation, fn)
    cols = gather_windows(x, kernel, stride, pads, dilation)  # (..., C, kH, kW, H_out, W_out)
    lead = x.shape[:-3]
    return cols.reshape(lead + (x.shape[-3] * math.prod(kernel), math.prod(cols.shape[-2:])))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding windows as columns, as ``torch.nn.functional.unfold``.

    ``cols[n, (c*kH + i)*kW + j, p*W_out + q] = x_padded[n, c, p*sH + i*dH, q*sW + j*dW]``

    Memory: the result, ``C*kH*kW * H_out*W_out`` entries per sample.

    Parameters
    ----------
    input : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C*kH*kW, L) or (C*kH*kW, L)
        ``L = H_out * W_out`` with ``H_out = conv_output_length(H, kH, sH, pH, dH)``;
        in the input's dtype (bools and integers included).

    Examples
    --------
    >>> unfold(np.arange(9).reshape(1, 3, 3), 2)
    array([[0, 1, 3, 4],
           [1, 2, 4, 5],
           [3, 4, 6, 7],
           [4, 5, 7, 8]])
    """
    x = _as_numeric(input, "unfold", "input")
    return _unfold("unfold", "input", x, kernel_size, dilation, padding, stride, one=False)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns back into an image, as ``torch.nn.functional.fold`` (adjoint of `unfold`).

    ``y_padded[n, c, p*sH + i*dH, q*sW + j*dW] += cols[n, (c*kH + i)*kW + j, p*W_out + q]``,
    then the padding is cropped.

    Parameters
    ----------
    input : ndarray of shape (N, C*kH*kW, L) or (C*kH*kW, L)
    output_size : int or tuple of 2 int
        ``(H, W)`` of the result.
    kernel_size, dilation, padding, stride : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C, H, W) or (C, H, W)

    Examples
    --------
    >>> fold(np.ones((4, 4)), (3, 3), 2)
    array([[[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]]])
    """
    fn = "fold"
    _check_types(fn, tuples={"output_size": output_size, "kernel_size": kernel_size,
                             "dilation": dilation, "padding": padding, "stride": stride})
    cols = _as_float(input, fn, "input")
    _check_ndim(cols, fn, "input", (2, 3), "(C*kH*kW, L) or (N, C*kH*kW, L)")
    _check_nonempty(cols, fn, "input", cols.ndim - 2)
    size = _tuple_arg(output_size, 2, fn, "output_size", 1)
    kernel = _tuple_arg(kernel_size, 2, fn, "kernel_size", 1)
    dilation = _tuple_arg(dilation, 2, fn, "dilation", 1)
    padding = _tuple_arg(padding, 2, fn, "padding", 0)
    stride = _tuple_arg(stride, 2, fn, "stride", 1)
    pads = tuple((p, p) for p in padding)
    _check_fits(size, kernel, pads, dilation, fn)
    out = tuple(
        conv_output_length(n, k, s, p, d)
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation, strict=True)
    )
    k_total = math.prod(kernel)
    if cols.shape[-2] % k_total:
        raise ValueError(
            f"{fn}: input expects a multiple of kH*kW={k_total} rows, got {cols.shape[-2]}"
        )
    if cols.shape[-1] != math.prod(out):
        raise ValueError(
            f"{fn}: input expects {math.prod(out)} columns (H_out*W_out = {out[0]}*{out[1]}), "
            f"got {cols.shape[-1]}"
        )
    lead = cols.shape[:-2]
    cols = cols.reshape(lead + (cols.shape[-2] // k_total,) + kernel + out)
    return scatter_windows(cols, size, stride, pads, dilation)


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """The 2D data matrix: `unfold` with the course's argument order.

    ``cols[..., (c*kH + i)*kW + j, p*W_out + q] = x_padded[..., c, p*sH + i*dH, q*sW + j*dW]``;
    rows in ``(c, i, j)`` C order, equal to ``torch.nn.functional.unfold``.

    Memory: the result, ``C*kH*kW * H_out*W_out`` entries per sample.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding, dilation : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C*kH*kW, L) or (C*kH*kW, L)

    Examples
    --------
    >>> im2col(np.arange(8).reshape(2, 2, 2), 1)
    array([[0., 1., 2., 3.],
           [4., 5., 6., 7.]])
    """
    return _unfold("im2col", "x", _as_float(x, "im2col", "x"), kernel_size, dilation, padding,
                   stride)


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    """``conv2d`` as one matrix product with `im2col`.

    ``y = weight.reshape(C_out, -1) @ im2col(x, (kH, kW), stride, padding)``,
    reshaped to ``(..., C_out, H_out, W_out)``, plus bias.

    Parameters
    ----------
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in, kH, kW)
    bias : ndarray of shape (C_out,) or None
    stride, padding : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Examples
    --------
    >>> conv2d_im2col(np.arange(9).reshape(1, 3, 3), np.ones((1, 1, 2, 2)))
    array([[[ 8., 12.],
            [20., 24.]]])
    """
    fn = "conv2d_im2col"
    x, w, b = _common_float(fn, x=x, weight=weight, bias=bias)
    _check_ndim(x, fn, "x", (3, 4), "(C_in, H, W) or (N, C_in, H, W)")
    _check_ndim(w, fn, "weight", (4,), "(C_out, C_in, kH, kW)")
    if w.shape[1] != x.shape[-3]:
        raise ValueError(
            f"{fn}: weight expects {w.shape[1]} input channels, got input with {x.shape[-3]}"
        )
    _check_bias(b, w.shape[0], fn)
    cols = _unfold(fn, "x", x, w.shape[2:], 1, padding, stride)  # (..., C_in*kH*kW, L)
    stride = _tuple_arg(stride, 2, fn, "stride", 1)
    padding = _tuple_arg(padding, 2, fn, "padding", 0)
    out = tuple(
        conv_output_length(n, k, s, p)
        for n, k, s, p in zip(x.shape[-2:], w.shape[2:], stride, padding, strict=True)
    )
    y = np.matmul(w.reshape(w.shape[0], -1), cols)  # (C_out, C_in*kH*kW) @ (..., C_in*kH*kW, L)
    y = y.reshape(y.shape[:-1] + out)
    if b is not None:
        y += b[:, None, None]
    return y
