"""Pooling: `max_pool1d/2d`, `avg_pool1d/2d` as ``torch.nn.functional``.

A window sweep like convolution, reduced with max or mean instead of a dot
product. Max pooling pads with ``-inf`` (padding never wins); average pooling
pads with zeros and divides by the window size counted with or without the
padding (`count_include_pad`). With ``ceil_mode`` a last, partial window is
kept if it starts inside the input or the left padding (PyTorch's rule).
"""

from __future__ import annotations

import math

import numpy as np

from conv_ref._checks import (
    _as_float,
    _as_numeric,
    _check_ndim,
    _check_nonempty,
    _check_types,
    _flag,
    _nonzero_int,
    _tuple_arg,
)
from conv_ref.pad import _pad_trailing
from conv_ref.windows import sliding_windows

_LAYOUT = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)"}


def _pool_length(n, k, stride, padding, dilation, ceil_mode) -> int:
    """Number of pooling windows along one axis, as PyTorch (may be < 1: the caller checks).

    ``(n + 2*padding - dilation*(k - 1) - 1) // stride + 1``; with ``ceil_mode``
    the division rounds up (``n`` grows by ``stride - 1``), then a window that
    would start past the input and the left padding is dropped:
    ``if (out - 1)*stride >= n + padding: out -= 1``.
    """
    span = n + 2 * padding - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1
    return out


def _setup(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode, as_array,
           extra_flags=None, ints=None):
    """Validate the arguments; return input, kernel, stride, padding, dilation, out."""
    _check_types(fn, tuples={"kernel_size": kernel_size, "padding": padding,
                             "dilation": dilation,
                             **({} if stride is None else {"stride": stride})},
                 flags={"ceil_mode": ceil_mode, **(extra_flags or {})}, ints=ints)
    x = as_array(input, fn, "input")
    _check_ndim(x, fn, "input", (nd + 1, nd + 2), _LAYOUT[nd])
    _check_nonempty(x, fn, "input", x.ndim - nd - 1)
    kernel = _tuple_arg(kernel_size, nd, fn, "kernel_size", 1, one=True)
    # PyTorch's default stride (None or ()) is the kernel size: non-overlapping windows.
    stride = kernel if stride is None else _tuple_arg(stride, nd, fn, "stride", 1, one=True,
                                                      empty=kernel)
    padding = _tuple_arg(padding, nd, fn, "padding", 0, one=True)
    dilation = _tuple_arg(dilation, nd, fn, "dilation", 1, one=True)
    ceil_mode = _flag(ceil_mode, fn, "ceil_mode")
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(
            f"{fn}: padding {padding} expects at most half the kernel_size {kernel}"
        )
    spatial = x.shape[x.ndim - nd:]
    out = tuple(
        _pool_length(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"{fn}: kernel_size {kernel} (dilation {dilation}) is larger than the padded input "
            f"size {tuple(n + 2 * p for n, p in zip(spatial, padding, strict=True))}: output "
            f"size {out}; expected a window that fits"
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


def _lowest(dtype: np.dtype):
    """The padding of a max pool: a value no entry of `dtype` is below."""
    if dtype.kind == "f":
        return -np.inf
    return False if dtype.kind == "b" else np.iinfo(dtype).min


def _max_pool(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, kernel, stride, padding, dilation, out = _setup(
        fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode, _as_numeric
    )
    view = _windows(fn, x, kernel, stride, padding, dilation, out, _lowest(x.dtype))
    values = view.max(axis=tuple(range(-nd, 0)))
    # PyTorch's return_indices is any truthy value (its Python-level dispatch).
    if not return_indices:
        return values
    # Each window's first maximum (PyTorch's scan order), as a flat index into its
    # (unpadded) plane: the same windows over the plane's index map, -1 as padding.
    spatial = x.shape[x.ndim - nd:]
    plane = np.arange(math.prod(spatial), dtype=np.int64).reshape(spatial)
    where = _windows(fn, plane, kernel, stride, padding, dilation, out, -1).reshape(out + (-1,))
    entries = view.reshape(view.shape[:x.ndim] + (math.prod(kernel),))
    hit = (entries == values[..., None]) & (where >= 0)
    first = hit.argmax(axis=-1)[..., None]
    indices = np.take_along_axis(np.broadcast_to(where, hit.shape), first, axis=-1)[..., 0]
    return values, indices


def _avg_pool(fn, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, kernel, stride, padding, dilation, out = _setup(
        fn, nd, input, kernel_size, stride, padding, 1, ceil_mode, _as_float,
        extra_flags={"count_include_pad": count_include_pad},
        ints={"divisor_override": divisor_override},
    )
    count_include_pad = _flag(count_include_pad, fn, "count_include_pad")
    if divisor_override is not None:
        divisor_override = _nonzero_int(divisor_override, fn, "divisor_override")
    view = _windows(fn, x, kernel, stride, padding, dilation, out, 0.0)
    sums = view.sum(axis=tuple(range(-nd, 0)))
    if divisor_override is not None:
        return sums / sums.dtype.type(divisor_override)
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


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1D max pooling, as ``torch.nn.functional.max_pool1d``.

    ``y[..., o] = max_i x_padded[..., o*stride + i*dilation]``, padded with ``-inf``.

    Parameters
    ----------
    input : ndarray of shape (N, C, L) or (C, L)
    kernel_size : int or tuple of 1 int
    stride : int, tuple of 1 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 1 int
        At most half the kernel size.
    dilation : int or tuple of 1 int
    ceil_mode : bool
    return_indices : bool
        Also return where each maximum is: its index along the input's last axis.

    Returns
    -------
    ndarray of shape (N, C, L_out) or (C, L_out)
        In the input's dtype (bools and integers included).
    ndarray of int64, same shape
        Only with `return_indices`: the first maximum of each window.

    Examples
    --------
    >>> max_pool1d(np.arange(5.0)[None], 2)
    array([[1., 3.]])
    >>> max_pool1d(np.arange(5)[None], 2, ceil_mode=True, return_indices=True)
    (array([[1, 3, 4]]), array([[1, 3, 4]]))
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2D max pooling, as ``torch.nn.functional.max_pool2d``.

    ``y[..., p, q] = max_{i, j} x_padded[..., p*sH + i*dH, q*sW + j*dW]``, padded with ``-inf``.

    Parameters
    ----------
    input : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 int
    stride : int, tuple of 2 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 2 int
        At most half the kernel size.
    dilation : int or tuple of 2 int
    ceil_mode : bool
    return_indices : bool
        Also return where each maximum is: its flat index ``h * W + w`` in its
        ``(H, W)`` plane, as ``torch.nn.functional.max_pool2d``.

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out) or (C, H_out, W_out)
        In the input's dtype (bools and integers included).
    ndarray of int64, same shape
        Only with `return_indices`: the first maximum of each window, in scan order.

    Examples
    --------
    >>> max_pool2d(np.arange(16.0).reshape(1, 4, 4), 2)
    array([[[ 5.,  7.],
            [13., 15.]]])
    >>> max_pool2d(np.arange(16).reshape(1, 4, 4), 3, 1, return_indices=True)[1]
    array([[[10, 11],
            [14, 15]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling, as ``torch.nn.functional.avg_pool1d``.

    ``y[..., o] = sum_i x_padded[..., o*stride + i] / divisor[o]``, zero padding;
    ``divisor`` counts the window's entries inside the padded input
    (`count_include_pad`) or inside the input only.

    Parameters
    ----------
    input : ndarray of shape (N, C, L) or (C, L)
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
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2D average pooling, as ``torch.nn.functional.avg_pool2d``.

    ``y[..., p, q] = sum_{i, j} x_padded[..., p*sH + i, q*sW + j] / divisor[p, q]``;
    ``divisor`` is `divisor_override` if given, else the window's entries inside
    the padded input (`count_include_pad`) or inside the input only.

    Parameters
    ----------
    input : ndarray of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 int
    stride : int, tuple of 2 int or None
        Defaults to `kernel_size`.
    padding : int or tuple of 2 int
        At most half the kernel size.
    ceil_mode, count_include_pad : bool
    divisor_override : int or None
        Any nonzero integer (negative flips the sign, as in PyTorch).

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out) or (C, H_out, W_out)

    Examples
    --------
    >>> avg_pool2d(np.arange(16).reshape(1, 4, 4), 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)
