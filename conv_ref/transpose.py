"""Transposed convolution: `conv_transpose1d`, `conv_transpose2d` as ``torch.nn.functional``.

A transposed convolution is the adjoint of the convolution with the same
weight, stride, padding and dilation: every input entry spreads a copy of the
kernel, scaled by itself, onto the output at ``stride`` spacing, and overlaps add:
``y_padded[n, o, p*stride + i*dilation] += sum_c x[n, c, p] * weight[c, o, i]``,
then `padding` entries are cropped from each side. It is computed as one matrix
product ``weight^T @ x`` per sample and group, then a fold (`scatter_windows`).
"""

from __future__ import annotations

import math

import numpy as np

from conv_ref._checks import (
    _check_bias,
    _check_ndim,
    _check_nonempty,
    _check_types,
    _check_weight,
    _common_float,
    _int_arg,
    _tuple_arg,
)
from conv_ref.windows import scatter_windows

_LAYOUT = {
    1: ("(C_in, L) or (N, C_in, L)", "(C_in, C_out // groups, K)"),
    2: ("(C_in, H, W) or (N, C_in, H, W)", "(C_in, C_out // groups, kH, kW)"),
}


def _transposed_length(n, k, stride, padding, dilation, output_padding) -> int:
    """``(n - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``

    The inverse of `conv_output_length`: ``output_padding`` picks among the
    ``stride`` input lengths that a strided convolution maps to the same ``n``.
    """
    return (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


def _conv_transpose(fn, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    """Validate, then apply the transposed convolution over the last `nd` axes."""
    _check_types(fn, tuples={"stride": stride, "padding": padding,
                             "output_padding": output_padding, "dilation": dilation},
                 ints={"groups": groups})
    x, w, b = _common_float(fn, input=input, weight=weight, bias=bias)
    _check_ndim(x, fn, "input", (nd + 1, nd + 2), _LAYOUT[nd][0])
    _check_ndim(w, fn, "weight", (nd + 2,), _LAYOUT[nd][1])
    batched = x.ndim == nd + 2
    if not batched:
        x = x[None]
    c_in = x.shape[1]
    _check_weight(w, fn)
    _check_nonempty(x, fn, "input", 2)
    if w.shape[0] != c_in:
        raise ValueError(f"{fn}: weight expects {w.shape[0]} input channels, got input with {c_in}")
    groups = _int_arg(groups, fn, "groups", 1)
    if c_in % groups:
        raise ValueError(
            f"{fn}: groups={groups} expects to divide the input channels ({c_in})"
        )
    c_out = w.shape[1] * groups
    kernel = w.shape[2:]
    stride = _tuple_arg(stride, nd, fn, "stride", 1, one=True)
    padding = _tuple_arg(padding, nd, fn, "padding", 0, one=True)
    output_padding = _tuple_arg(output_padding, nd, fn, "output_padding", 0, one=True)
    dilation = _tuple_arg(dilation, nd, fn, "dilation", 1, one=True)
    for op, s, d in zip(output_padding, stride, dilation, strict=True):
        if op >= s and op >= d:
            raise ValueError(
                f"{fn}: output_padding {output_padding} expects values smaller than stride "
                f"{stride} or dilation {dilation}"
            )
    out = tuple(
        _transposed_length(n, k, s, p, d, op)
        for n, k, s, p, d, op in zip(x.shape[2:], kernel, stride, padding, dilation,
                                     output_padding, strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"{fn}: padding {padding} is too large for input size {x.shape[2:]} and kernel "
            f"{kernel}: output size {out}; expected every output size >= 1"
        )
    _check_bias(b, c_out, fn)

    n = x.shape[0]
    x_mat = x.reshape(n, groups, c_in // groups, math.prod(x.shape[2:]))  # (N, g, C_in/g, L_in)
    w_mat = w.reshape(groups, c_in // groups, -1)  # (g, C_in/g, C_out/g * K)
    cols = np.matmul(w_mat.transpose(0, 2, 1), x_mat)  # (N, g, C_out/g * K, L_in)
    cols = cols.reshape((n, c_out) + kernel + x.shape[2:])  # (N, C_out, *kernel, *in)
    y = scatter_windows(cols, out, stride, tuple((p, p) for p in padding), dilation)
    if b is not None:
        y += b.reshape((c_out,) + (1,) * nd)
    return y if batched else y[0]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    ``y_padded[n, o, p*stride + i*dilation] += sum_c x[n, c, p] * weight[c, o, i]``
    (``c`` over the input channels of ``o``'s group), `padding` cropped from both
    sides. For one channel, ``y == filter_matrix(h, L_out, stride, padding).T @ x``.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, L) or (C_in, L)
    weight : ndarray of shape (C_in, C_out // groups, K)
    bias : ndarray of shape (C_out,) or None
    stride, padding, output_padding, dilation : int or tuple of 1 int
        ``output_padding`` < stride or < dilation.
    groups : int

    Returns
    -------
    ndarray of shape (N, C_out, L_out) or (C_out, L_out)
        ``L_out = (L-1)*stride - 2*padding + dilation*(K-1) + output_padding + 1``.

    Examples
    --------
    >>> conv_transpose1d(np.arange(1, 4)[None], np.ones((1, 1, 2)), stride=2)
    array([[1., 1., 2., 2., 3., 3.]])
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    ``y_padded[n, o, p*sH + i*dH, q*sW + j*dW] += sum_c x[n, c, p, q] * weight[c, o, i, j]``,
    `padding` cropped from every side.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_in, C_out // groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    stride, padding, output_padding, dilation : int or tuple of 2 int
    groups : int

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        ``H_out = (H-1)*sH - 2*pH + dH*(kH-1) + output_padding_H + 1``, likewise ``W_out``.

    Examples
    --------
    >>> conv_transpose2d(np.arange(4).reshape(1, 2, 2), np.ones((1, 1, 2, 2)))
    array([[[0., 1., 1.],
            [2., 6., 4.],
            [2., 5., 3.]]])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
