"""Sliding windows over the trailing (spatial) axes, shared by conv, pooling and unfold.

Three forms of the same index map ``input[o*stride + i*dilation - left]``
(output position ``o``, kernel tap ``i``):

- `sliding_windows`: a read-only strided view, no copy (pooling);
- `gather_windows`: a contiguous copy in im2col layout with zero padding applied
  on the fly, so no padded copy of the input is ever made (conv, unfold);
- `scatter_windows`: the adjoint, summing windows back into an array (fold,
  transposed convolution, the input gradient).

The loops here run over kernel taps (``prod(kernel_size)`` iterations), never
over output positions: each iteration moves one strided block of every output.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from conv_ref.shape import conv_output_length


def sliding_windows(x, kernel_size, stride, dilation):
    """Read-only view of every window over the last ``len(kernel_size)`` axes.

    ``view[..., o_1, ..., o_d, i_1, ..., i_d] == x[..., o_1*s_1 + i_1*d_1, ...]``

    Parameters
    ----------
    x : ndarray of shape (..., n_1, ..., n_d)
        Already padded.
    kernel_size, stride, dilation : tuple of d int

    Returns
    -------
    ndarray of shape (..., out_1, ..., out_d, k_1, ..., k_d)
        ``out_j = conv_output_length(n_j, k_j, s_j, 0, d_j)``; a view of `x`.

    Examples
    --------
    >>> sliding_windows(np.arange(5), (2,), (2,), (1,))
    array([[0, 1],
           [2, 3]])
    """
    nd = len(kernel_size)
    spatial, steps = x.shape[x.ndim - nd:], x.strides[x.ndim - nd:]
    out = tuple(
        conv_output_length(n, k, s, 0, d)
        for n, k, s, d in zip(spatial, kernel_size, stride, dilation, strict=True)
    )
    shape = x.shape[: x.ndim - nd] + out + tuple(kernel_size)
    strides = (
        x.strides[: x.ndim - nd]
        + tuple(b * s for b, s in zip(steps, stride, strict=True))
        + tuple(b * d for b, d in zip(steps, dilation, strict=True))
    )
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def _tap_slices(tap, spatial, out, stride, padding, dilation):
    """Matching (input, output) slices of one kernel tap, or None if it never hits the input.

    Output position ``o`` reads input ``first + o*stride`` with
    ``first = i*dilation - left``; only ``0 <= first + o*stride < n`` is real
    input, the rest is zero padding.
    """
    src, dst = [], []
    for i, n, o, s, (left, _), d in zip(tap, spatial, out, stride, padding, dilation, strict=True):
        first = i * d - left
        lo = max(0, -(first // s))  # first o with first + o*s >= 0
        hi = min(o, (n - 1 - first) // s + 1)  # one past the last o with first + o*s < n
        if hi <= lo:
            return None
        src.append(slice(first + lo * s, first + (hi - 1) * s + 1, s))
        dst.append(slice(lo, hi))
    return tuple(src), tuple(dst)


def gather_windows(x, kernel_size, stride, padding, dilation):
    """Copy every zero-padded window into im2col layout, without padding `x` first.

    ``cols[..., i_1, ..., i_d, o_1, ..., o_d] == x_padded[..., o_1*s_1 + i_1*d_1, ...]``

    Memory: exactly the returned array, ``prod(leading) * prod(kernel) * prod(out)``
    elements; the layout puts output positions last so that
    ``cols.reshape(..., prod(kernel), prod(out))`` is the contiguous right-hand
    side of the convolution's matrix product.

    Parameters
    ----------
    x : ndarray of shape (..., n_1, ..., n_d)
    kernel_size, stride, dilation : tuple of d int
    padding : tuple of d (left, right) pairs
        Zero padding; the caller has checked that the kernel fits.

    Returns
    -------
    ndarray of shape (..., k_1, ..., k_d, out_1, ..., out_d)

    Examples
    --------
    >>> gather_windows(np.arange(1, 4), (2,), (2,), ((1, 1),), (1,))
    array([[0, 2],
           [1, 3]])
    """
    nd = len(kernel_size)
    lead, spatial = x.shape[: x.ndim - nd], x.shape[x.ndim - nd:]
    out = tuple(
        conv_output_length(n + lo + hi, k, s, 0, d)
        for n, k, s, (lo, hi), d in zip(spatial, kernel_size, stride, padding, dilation,
                                        strict=True)
    )
    padded = any(lo or hi for lo, hi in padding)
    # Zeros only where padding can be read; otherwise every entry is overwritten below.
    cols = (np.zeros if padded else np.empty)(lead + tuple(kernel_size) + out, dtype=x.dtype)
    _gather_into(cols, x, stride, padding, dilation)
    return cols


def _gather_into(cols, x, stride, padding, dilation):
    """Fill the input entries of `gather_windows`'s result into `cols`, leaving the padding alone.

    The body of `gather_windows`, for a buffer the caller reuses: `conv2d`
    zeroes its buffer once and refills it for every chunk of images, since the
    zero-padding entries are the same each time. `cols` may be any strided view
    of shape ``(..., k_1, ..., k_d, out_1, ..., out_d)``.
    """
    nd = len(stride)
    kernel_size, out = cols.shape[cols.ndim - 2 * nd: cols.ndim - nd], cols.shape[cols.ndim - nd:]
    spatial = x.shape[x.ndim - nd:]
    # One slice copy per tap: each moves a (strided) block of every output position at once.
    for tap in itertools.product(*(range(k) for k in kernel_size)):
        hit = _tap_slices(tap, spatial, out, stride, padding, dilation)
        if hit is not None:
            src, dst = hit
            cols[(..., *tap, *dst)] = x[(..., *src)]


def scatter_windows(cols, spatial, stride, padding, dilation):
    """Sum windows back into an array: the adjoint of `gather_windows`.

    ``out[..., o*s + i*d - left] += cols[..., i, o]`` for every tap ``i`` and
    position ``o`` that lands inside ``out`` (contributions to padding are dropped).

    Parameters
    ----------
    cols : ndarray of shape (..., k_1, ..., k_d, out_1, ..., out_d)
    spatial : tuple of d int
        Shape ``(n_1, ..., n_d)`` of the result's trailing axes.
    stride, dilation : tuple of d int
    padding : tuple of d (left, right) pairs

    Returns
    -------
    ndarray of shape (..., n_1, ..., n_d)

    Examples
    --------
    >>> scatter_windows(np.ones((2, 2)), (3,), (1,), ((0, 0),), (1,))
    array([1., 2., 1.])
    """
    nd = len(spatial)
    lead = cols.shape[: cols.ndim - 2 * nd]
    kernel_size = cols.shape[cols.ndim - 2 * nd: cols.ndim - nd]
    out = cols.shape[cols.ndim - nd:]
    result = np.zeros(lead + tuple(spatial), dtype=cols.dtype)
    for tap in itertools.product(*(range(k) for k in kernel_size)):
        hit = _tap_slices(tap, spatial, out, stride, padding, dilation)
        if hit is not None:
            src, dst = hit
            # Within one tap the input indices are distinct, so += is a plain add.
            result[(..., *src)] += cols[(..., *tap, *dst)]
    return result

