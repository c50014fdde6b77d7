"""`conv1d`, `conv2d` as ``torch.nn.functional``, plus padding modes, and `conv2d_general`.

Deep-learning convolution is cross-correlation (no kernel flip). For output
channel ``o`` in group ``g`` and ``C = C_in // groups``:
``y[n, o, p] = bias[o] + sum_{c, i} weight[o, c, i] * x_pad[n, g*C + c, p*stride + i*dilation]``.
It is computed as one matrix product
per sample and group: the windows are gathered into an im2col buffer
``(C_in/groups * prod(kernel), L_out)`` and multiplied by the weight matrix
``(C_out/groups, C_in/groups * prod(kernel))``.

Speed (``bench/conv_ref.py``): the matrix product does nearly all the
arithmetic, so everything else is kept small. The im2col buffer holds one
image, or a few small images side by side so that the product is wide enough
to run near the BLAS peak. It is allocated and zeroed once and refilled for
each chunk of images (the zero padding is the same every time), by one slice
copy per kernel tap. A one-image product writes straight into the output; a
1x1 kernel with stride 1 needs no buffer at all.
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
    _check_nonempty,
    _check_types,
    _check_weight,
    _common_float,
    _tuple_arg,
)
from conv_ref.pad import _pad_trailing
from conv_ref.shape import _padding_pairs, conv_output_length
from conv_ref.windows import _gather_into

_LAYOUT = {
    1: ("(C_in, L) or (N, C_in, L)", "(C_out, C_in // groups, K)"),
    2: ("(C_in, H, W) or (N, C_in, H, W)", "(C_out, C_in // groups, kH, kW)"),
}
# nn.Conv*d's padding_mode -> pad mode.
_PAD_MODE = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}
# A matrix product with fewer columns than this runs below the BLAS peak (OpenBLAS,
# float64, 256 x 1152 weights: ~55 GFLOP/s at 196 columns, ~65 at 784, ~69 at 1568).
_MIN_COLUMNS = 1024


def _images_per_chunk(n, length, rows, c_out):
    """How many of the `n` images share one matrix product.

    An image with few output positions (`length`, e.g. after a stride) gives
    a narrow product; putting ``b`` images side by side makes ``b * length``
    columns. ``b`` divides `n`, so every chunk fills the same buffers, and the
    chunk's buffers (``b * rows * length`` window entries, ``b * c_out * length``
    product entries) stay within the whole batch's im2col buffer, ``n * rows * length``.

    Examples
    --------
    >>> _images_per_chunk(8, 14 * 14, 128 * 3 * 3, 256)  # a stride-2 layer: 4 * 196 columns
    4
    >>> _images_per_chunk(8, 56 * 56, 64 * 3 * 3, 64)  # 3136 columns already
    1
    """
    fits = [b for b in range(1, max(n, 1) + 1)
            if n % b == 0 and (b == 1 or b * (rows + c_out) <= n * rows)]
    wide = [b for b in fits if b * length >= _MIN_COLUMNS]
    return min(wide) if wide else max(fits)


def _matmul_windows(x, w, kernel, stride, pads, dilation, groups):
    """``y[n, g] = w[g] @ cols[n, g]``, filling the im2col buffer a chunk of images at a time.

    Parameters
    ----------
    x : ndarray of shape (N, C_in, *spatial)
    w : ndarray of shape (C_out, C_in // groups, *kernel)
    kernel, stride, dilation : tuple of nd int
    pads : tuple of nd (left, right) pairs
        Zero padding; the kernel fits.
    groups : int

    Returns
    -------
    ndarray of shape (N, C_out, *out)

    Examples
    --------
    Four images go in chunks of two; each image alone must give the same output:

    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((4, 6, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    >>> args = (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 2
    >>> y = _matmul_windows(x, w, *args)
    >>> all(np.allclose(y[i], _matmul_windows(x[i:i + 1], w, *args)[0]) for i in range(4))
    True
    """
    nd = len(kernel)
    n, c_in = x.shape[:2]
    c_out, depth = w.shape[0], math.prod(w.shape[1:])  # depth = C_in // groups * prod(kernel)
    out = tuple(
        conv_output_length(size + lo + hi, k, s, 0, d)
        for size, k, s, (lo, hi), d in zip(x.shape[2:], kernel, stride, pads, dilation,
                                           strict=True)
    )
    length = math.prod(out)
    w_mat = w.reshape(groups, c_out // groups, depth)
    y = np.empty((n, c_out) + out, dtype=x.dtype)
    padded = any(lo or hi for lo, hi in pads)
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not padded:
        # A 1x1 kernel's im2col buffer is the input itself: no copy at all.
        cols = x.reshape(n, groups, depth, length)
        np.matmul(w_mat, cols, out=y.reshape(n, groups, c_out // groups, length))
        return y

    chunk = _images_per_chunk(n, length, c_in * math.prod(kernel), c_out)
    # One buffer for all chunks: allocated (and its memory paged in) once, its
    # padding entries zeroed once, as no chunk writes them. Layout
    # (C_in, *kernel, chunk, *out): each group's rows are one contiguous
    # (depth, chunk * length) matrix, the chunk's images side by side, so the
    # product reads it as is.
    cols = (np.zeros if padded else np.empty)((c_in, *kernel, chunk) + out, dtype=x.dtype)
    # The same memory seen as (chunk, C_in, *kernel, *out): per image, _gather_into's layout.
    windows = np.moveaxis(cols, nd + 1, 0)
    cols = cols.reshape(groups, depth, chunk * length)
    if chunk > 1:
        product = np.empty((groups, c_out // groups, chunk * length), dtype=x.dtype)
    for start in range(0, n, chunk):
        # Image by image: one image's input stays in cache across the taps' copies.
        for i in range(chunk):
            _gather_into(windows[i], x[start + i], stride, pads, dilation)
        if chunk == 1:
            # The product's layout is the image's output: write it in place.
            np.matmul(w_mat, cols, out=y[start].reshape(groups, c_out // groups, length))
        else:
            np.matmul(w_mat, cols, out=product)
            # (C_out, chunk, *out) -> (chunk, C_out, *out): one copy of the chunk's outputs.
            y[start:start + chunk] = np.moveaxis(product.reshape((c_out, chunk) + out), 1, 0)
    return y


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Validate, then convolve over the last `nd` axes (shared by conv1d/conv2d)."""
    _check_types(fn, tuples={"stride": stride, "dilation": dilation,
                             **({} if isinstance(padding, str) else {"padding": padding})},
                 ints={"groups": groups})
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
    _check_weight(w, fn)
    _check_nonempty(x, fn, "input", 2)  # an empty batch or channel axis is fine
    stride = _tuple_arg(stride, nd, fn, "stride", 1, one=True)
    dilation = _tuple_arg(dilation, nd, fn, "dilation", 1, one=True)
    pads = _padding_pairs(padding, kernel, stride, dilation, fn)
    _check_mode(padding_mode, PADDING_MODES, fn, "padding_mode")
    _check_bias(b, c_out, fn)
    _check_fits(x.shape[2:], kernel, pads, dilation, fn)

    if padding_mode != "zeros" and any(lo or hi for lo, hi in pads):
        # nn.Conv*d pads with the mode first, then convolves without padding.
        x = _pad_trailing(x, pads, _PAD_MODE[padding_mode], 0.0, fn)
        pads = ((0, 0),) * nd
    y = _matmul_windows(x, w, kernel, stride, pads, dilation, groups)
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
