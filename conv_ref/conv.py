"""`conv1d`, `conv2d` as ``torch.nn.functional``, plus padding modes, and `conv2d_general`.

Deep-learning convolution is cross-correlation (no kernel flip). For output
channel ``o`` in group ``g`` and ``C = C_in // groups``:
``y[n, o, p] = bias[o] + sum_{c, i} weight[o, c, i] * x_pad[n, g*C + c, p*stride + i*dilation]``.
It is computed as one matrix product
per sample and group: the windows are gathered once into an im2col buffer
``(C_in/groups * prod(kernel), L_out)`` and multiplied by the weight matrix
``(C_out/groups, C_in/groups * prod(kernel))``.
"""

from __future__ import annotations

import math

import numpy as np

from conv_ref._checks import (
    PADDING_MODES,
    _check_bias,
    _check_fits,
    _check_groups,
    _check_mode,
    _check_ndim,
    _common_float,
    _tuple_arg,
)
from conv_ref.pad import _pad_trailing
from conv_ref.shape import _padding_pairs
from conv_ref.windows import gather_windows

_LAYOUT = {
    1: ("(C_in, L) or (N, C_in, L)", "(C_out, C_in // groups, K)"),
    2: ("(C_in, H, W) or (N, C_in, H, W)", "(C_out, C_in // groups, kH, kW)"),
}
# nn.Conv*d's padding_mode -> pad mode.
_PAD_MODE = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Validate, then convolve over the last `nd` axes (shared by conv1d/conv2d)."""
    x, w, b = _common_float(fn, input=input, weight=weight, bias=bias)
    _check_ndim(x, fn, "input", (nd + 1, nd + 2), _LAYOUT[nd][0])
    _check_ndim(w, fn, "weight", (nd + 2,), _LAYOUT[nd][1])
    batched = x.ndim == nd + 2
    if not batched:
        x = x[None]
    c_in, c_out = x.shape[1], w.shape[0]
    groups = _check_groups(groups, c_in, c_out, fn)
    if w.shape[1] * groups != c_in:
        per_group = f" ({w.shape[1]} per group x {groups} groups)" if groups > 1 else ""
        raise ValueError(
            f"{fn}: weight expects {w.shape[1] * groups} input channels{per_group}, "
            f"got input with {c_in}"
        )
    kernel = w.shape[2:]
    stride = _tuple_arg(stride, nd, fn, "stride", 1)
    dilation = _tuple_arg(dilation, nd, fn, "dilation", 1)
    pads = _padding_pairs(padding, kernel, stride, dilation, fn)
    _check_mode(padding_mode, PADDING_MODES, fn, "padding_mode")
    _check_bias(b, c_out, fn)
    _check_fits(x.shape[2:], kernel, pads, dilation, fn)

    if padding_mode != "zeros" and any(lo or hi for lo, hi in pads):
        # nn.Conv*d pads with the mode first, then convolves without padding.
        x = _pad_trailing(x, pads, _PAD_MODE[padding_mode], 0.0, fn)
        pads = ((0, 0),) * nd
    n = x.shape[0]
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not any(
        lo or hi for lo, hi in pads
    ):
        # A 1x1 kernel's im2col buffer is the input itself: skip the copy.
        out = x.shape[2:]
        cols = x.reshape(n, c_in, math.prod(out))
    else:
        cols = gather_windows(x, kernel, stride, pads, dilation)  # (N, C_in, *kernel, *out)
        out = cols.shape[cols.ndim - nd:]
    cols = cols.reshape(n, groups, -1, math.prod(out))  # (N, g, C_in/g * K, L)
    w_mat = w.reshape(groups, c_out // groups, -1)  # (g, C_out/g, C_in/g * K)
    y = np.matmul(w_mat, cols).reshape((n, c_out, *out))  # (N, C_out, *out)
    if b is not None:
        y += b.reshape((c_out,) + (1,) * nd)
    return y if batched else y[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """1D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    ``y[n, o, p] = bias[o] + sum_{c, i} weight[o, c, i] * x_padded[n, c, p*stride + i*dilation]``
    (channels ``c`` of output channel ``o``'s group). `padding_mode` is
    ``nn.Conv1d``'s: the input is padded with that mode first.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, L) or (C_in, L)
    weight : ndarray of shape (C_out, C_in // groups, K)
    bias : ndarray of shape (C_out,) or None
    stride, dilation : int or tuple of 1 int
    padding : int, tuple of 1 int, "valid" or "same"
        ``"same"`` needs stride 1; total ``dilation*(K-1)``, odd extra on the right.
    groups : int
        Divides ``C_in`` and ``C_out``.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}

    Returns
    -------
    ndarray of shape (N, C_out, L_out) or (C_out, L_out)
        ``L_out = conv_output_length(L, K, stride, padding, dilation)``; the
        inputs' common floating dtype.

    Examples
    --------
    >>> conv1d(np.arange(1, 5)[None], np.array([[[1, 0, -1]]]))
    array([[-2., -2.]])
    >>> conv1d(np.arange(6).reshape(2, 3), np.ones((1, 2, 2)), padding=1)
    array([[ 3.,  8., 12.,  7.]])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups,
                 padding_mode)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """2D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    ``y[n, o, p, q] = bias[o] + sum_{c, i, j} weight[o, c, i, j]
    * x_padded[n, c, p*sH + i*dH, q*sW + j*dW]`` (channels ``c`` of output
    channel ``o``'s group). `padding_mode` is ``nn.Conv2d``'s: the input is
    padded with that mode first.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in // groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    stride, dilation : int or tuple of 2 int
    padding : int, tuple of 2 int, "valid" or "same"
        ``"same"`` needs stride 1; total ``dilation*(k-1)`` per dim, odd extra
        on the bottom/right.
    groups : int
        Divides ``C_in`` and ``C_out``; ``groups == C_in`` is depthwise.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        ``H_out = conv_output_length(H, kH, sH, pH, dH)``, likewise ``W_out``;
        the inputs' common floating dtype.

    Examples
    --------
    >>> conv2d(np.arange(9).reshape(1, 3, 3), np.ones((1, 1, 2, 2)))
    array([[[ 8., 12.],
            [20., 24.]]])
    >>> conv2d(np.arange(9).reshape(1, 3, 3), np.ones((1, 1, 2, 2)), padding="same").shape
    (1, 3, 3)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups,
                 padding_mode)


def conv2d_general(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """`conv2d` with all of ``torch.nn.functional.conv2d``'s arguments (exercise 06).

    Parameters
    ----------
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in // groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    stride, dilation : int or tuple of 2 int
    padding : int, tuple of 2 int, "valid" or "same"
    groups : int

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Examples
    --------
    >>> conv2d_general(np.arange(8).reshape(2, 2, 2), np.ones((2, 1, 1, 1)), groups=2)
    array([[[0., 1.],
            [2., 3.]],
    <BLANKLINE>
           [[4., 5.],
            [6., 7.]]])
    """
    return _conv("conv2d_general", 2, x, weight, bias, stride, padding, dilation, groups, "zeros")
