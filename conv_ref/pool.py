"""Pooling: `max_pool1d/2d`, `avg_pool1d/2d` as ``torch.nn.functional``.

A window sweep like convolution, reduced with max or mean instead of a dot
product. Max pooling pads with ``-inf`` (padding never wins); average pooling
pads with zeros and divides by the window size counted with or without the
padding (`count_include_pad`). With ``ceil_mode`` a last, partial window is
kept if it starts inside the input or the left padding (PyTorch's rule).
"""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_ndim, _int_arg, _tuple_arg
from conv_ref.pad import _pad_trailing
from conv_ref.shape import conv_output_length
from conv_ref.windows import sliding_windows

_LAYOUT = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)"}


def _pool_length(n, k, stride, padding, dilation, ceil_mode) -> int:
    """Number of pooling windows along one axis, as PyTorch.

    ``conv_output_length(n, k, stride, padding, dilation)``; with ``ceil_mode``
    the division rounds up (``n`` grows by ``stride - 1``), then a window that
    would start past the input and the left padding is dropped:
    ``if (out - 1)*stride >= n + padding: out -= 1``.
    """
    if not ceil_mode:
        return conv_output_length(n, k, stride, padding, dilation)
    out = conv_output_length(n + stride - 1, k, stride, padding, dilation)
    if (out - 1) * stride >= n + padding:
        out -= 1
    return out


def _setup(fn, nd, x, kernel_size, stride, padding, dilation, ceil_mode, pad_limit):
    """Validate the arguments; return x (batched), kernel, stride, padding, dilation, out."""
    x = _as_float(x, fn, "x")
    _check_ndim(x, fn, "x", (nd + 1, nd + 2), _LAYOUT[nd])
    kernel = _tuple_arg(kernel_size, nd, fn, "kernel_size", 1)
    # PyTorch's default stride is the kernel size (non-overlapping windows).
    stride = kernel if stride is None else _tuple_arg(stride, nd, fn, "stride", 1)
    padding = _tuple_arg(padding, nd, fn, "padding", 0)
    dilation = _tuple_arg(dilation, nd, fn, "dilation", 1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{fn}: ceil_mode expects True or False, got {ceil_mode!r}")
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if 2 * p > pad_limit(k, d):
            raise ValueError(
                f"{fn}: padding {padding} expects at most half the kernel extent "
                f"{pad_limit(k, d)} (kernel_size {kernel}, dilation {dilation})"
            )
    spatial = x.shape[x.ndim - nd:]
    for axis, (n, k, s, p, d) in enumerate(zip(spatial, kernel, stride, padding, dilation,
                                               strict=True)):
        # ceil_mode lets one window overhang the padded input by up to stride - 1.
        room = n + 2 * p + (s - 1 if ceil_mode else 0)
        if d * (k - 1) + 1 > room:
            raise ValueError(
                f"{fn}: kernel_size {k} (dilation {d}) is larger than the padded input size "
                f"{n + 2 * p} along spatial dim {axis}; expected a window that fits"
            )
    out = tuple(
        _pool_length(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    )
    return x, kernel, stride, padding, dilation, out


def _windows(fn, x, kernel, stride, padding, dilation, out, fill):
    """View (..., *out, *kernel) of the windows of `x` padded with `fill`.

    The right side gets extra `fill` when ``ceil_mode`` lets the last window
    hang past the padded input.
    """
    spatial = x.shape[x.ndim - len(kernel):]
    pairs = [
        (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
        for n, k, s, p, d, o in zip(spatial, kernel, stride, padding, dilation, out, strict=True)
    ]
    padded = _pad_trailing(x, pairs, "constant", fill, fn)
    view = sliding_windows(padded, kernel, stride, dilation)
    return view[(..., *(slice(0, o) for o in out), *(slice(None),) * len(kernel))]


def _max_pool(fn, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    x, kernel, stride, padding, dilation, out = _setup(
        fn, nd, x, kernel_size, stride, padding, dilation, ceil_mode,
        pad_limit=lambda k, d: d * (k - 1) + 1,
    )
    view = _windows(fn, x, kernel, stride, padding, dilation, out, -np.inf)
    return view.max(axis=tuple(range(-nd, 0)))


def _avg_pool(fn, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, kernel, stride, padding, dilation, out = _setup(
        fn, nd, x, kernel_size, stride, padding, 1, ceil_mode, pad_limit=lambda k, d: k
    )
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(
            f"{fn}: count_include_pad expects True or False, got {count_include_pad!r}"
        )
    if divisor_override is not None:
        divisor_override = _int_arg(divisor_override, fn, "divisor_override", 1)
    view = _windows(fn, x, kernel, stride, padding, dilation, out, 0.0)
    sums = view.sum(axis=tuple(range(-nd, 0)))
    if divisor_override is not None:
        return sums / divisor_override
    # The divisor factorises over axes: the window's length along each axis, clipped
    # to the padded input (include pad) or to the input itself (exclude pad).
    spatial = x.shape[x.ndim - nd:]
    divisor = np.ones(out)
    for axis, (n, k, s, p, o) in enumerate(zip(spatial, kernel, stride, padding, out,
                                                strict=True)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        shape = [1] * nd
        shape[axis] = o
        divisor = divisor * (end - start).reshape(shape)
    return sums / divisor.astype(sums.dtype)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """1D max pooling, as ``torch.nn.functional.max_pool1d``.

    ``y[..., o] = max_i x_padded[..., o*stride + i*dilation]``, padded with ``-inf``.

    Parameters
    ----------
    x : ndarray of shape (N, C, L) or (C, L)
    kernel_size : int or tuple of 1 int
    stride : int, tuple of 1 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 1 int
        At most half the dilated kernel extent.
    dilation : int or tuple of 1 int
    ceil_mode : bool

    Returns
    -------
    ndarray of shape (N, C, L_out) or (C, L_out)

    Examples
    --------
    >>> max_pool1d(np.arange(5)[None], 2)
    array([[1., 3.]])
    >>> max_pool1d(np.arange(5)[None], 2, ceil_mode=True)
    array([[1., 3., 4.]])
    """
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """2D max pooling, as ``torch.nn.functional.max_pool2d``.

    ``y[..., p, q] = max_{i, j} x_padded[..., p*sH + i*dH, q*sW + j*dW]``, padded with ``-inf``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 int
    stride : int, tuple of 2 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 2 int
        At most half the dilated kernel extent.
    dilation : int or tuple of 2 int
    ceil_mode : bool

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out) or (C, H_out, W_out)

    Examples
    --------
    >>> max_pool2d(np.arange(16).reshape(1, 4, 4), 2)
    array([[[ 5.,  7.],
            [13., 15.]]])
    """
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling, as ``torch.nn.functional.avg_pool1d``.

    ``y[..., o] = sum_i x_padded[..., o*stride + i] / divisor[o]``, zero padding;
    ``divisor`` counts the window's entries inside the padded input
    (`count_include_pad`) or inside the input only.

    Parameters
    ----------
    x : ndarray of shape (N, C, L) or (C, L)
    kernel_size : int or tuple of 1 int
    stride : int, tuple of 1 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 1 int
        At most half the kernel size.
    ceil_mode, count_include_pad : bool

    Returns
    -------
    ndarray of shape (N, C, L_out) or (C, L_out)

    Examples
    --------
    >>> avg_pool1d(np.arange(4)[None], 2, padding=1)
    array([[0. , 1.5, 1.5]])
    >>> avg_pool1d(np.arange(4)[None], 2, padding=1, count_include_pad=False)
    array([[0. , 1.5, 3. ]])
    """
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2D average pooling, as ``torch.nn.functional.avg_pool2d``.

    ``y[..., p, q] = sum_{i, j} x_padded[..., p*sH + i, q*sW + j] / divisor[p, q]``;
    ``divisor`` is `divisor_override` if given, else the window's entries inside
    the padded input (`count_include_pad`) or inside the input only.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 int
    stride : int, tuple of 2 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 2 int
        At most half the kernel size.
    ceil_mode, count_include_pad : bool
    divisor_override : int or None

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out) or (C, H_out, W_out)

    Examples
    --------
    >>> avg_pool2d(np.arange(16).reshape(1, 4, 4), 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    """
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)
