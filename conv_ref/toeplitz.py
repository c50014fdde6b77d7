"""Matrix-multiplication views of convolution (the slides' Views I and II).

View I turns the filter into a Toeplitz (diagonal-constant) matrix that
multiplies the signal; View II turns the signal into a Toeplitz data matrix
that the filter multiplies. These are the package's only dense Toeplitz
builders: they exist to be looked at, and each states its memory cost.
"""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_fits, _check_ndim, _int_arg, _tuple_arg
from conv_ref.shape import _padding_pairs, conv_output_length
from conv_ref.windows import gather_windows


def filter_matrix(h, n, stride=1, padding=0):
    """View I: the Toeplitz matrix ``T`` with ``T @ x == conv1d_single(x, h, 0, stride, padding)``.

    ``T[i, t] = h[t + left - i*stride]`` where ``0 <= t + left - i*stride < len(h)``,
    else 0 (``left`` = left padding; padded entries are zeros, so their columns drop
    out). With odd ``len(h)`` and ``padding="same"`` this is the slides' centred
    matrix: ``h[len(h)//2]`` on the main diagonal.

    Memory: ``L_out * n`` floats, mostly zeros when ``n >> len(h)``.

    Parameters
    ----------
    h : ndarray of shape (K,)
    n : int
        Signal length.
    stride : int
    padding : int, "valid" or "same"

    Returns
    -------
    ndarray of shape (L_out, n)
        ``L_out = conv_output_length(n, K, stride, padding)`` (``n`` for ``"same"``).

    Examples
    --------
    >>> filter_matrix(np.arange(1, 4), 4, padding="same")
    array([[2., 3., 0., 0.],
           [1., 2., 3., 0.],
           [0., 1., 2., 3.],
           [0., 0., 1., 2.]])
    """
    fn = "filter_matrix"
    h = _as_float(h, fn, "h")
    _check_ndim(h, fn, "h", (1,), "a 1D kernel of shape (K,)")
    n = _int_arg(n, fn, "n", 1)
    stride = _tuple_arg(stride, 1, fn, "stride", 1)
    pads = _padding_pairs(padding, h.shape, stride, (1,), fn)
    _check_fits((n,), h.shape, pads, (1,), fn)
    (left, right), (s,), k = pads[0], stride, h.shape[0]
    out = conv_output_length(n + left + right, k, s)
    tap = np.arange(n)[None, :] + left - s * np.arange(out)[:, None]  # (L_out, n)
    inside = (tap >= 0) & (tap < k)
    return np.where(inside, h[np.clip(tap, 0, k - 1)], 0).astype(h.dtype, copy=False)


def data_matrix(x, k, stride=1, padding=0):
    """View II: the data matrix ``X`` with ``h @ X == conv1d_single(x, h, 0, stride, padding)``.

    ``X[j, i] = x_padded[i*stride + j]``: column ``i`` is the ``i``-th window.

    Memory: ``k * L_out`` floats, about ``k`` copies of the signal.

    Parameters
    ----------
    x : ndarray of shape (L,)
    k : int
        Kernel size.
    stride : int
    padding : int, "valid" or "same"

    Returns
    -------
    ndarray of shape (k, L_out)

    Examples
    --------
    >>> data_matrix(np.arange(1, 5), 3)
    array([[1., 2.],
           [2., 3.],
           [3., 4.]])
    """
    fn = "data_matrix"
    x = _as_float(x, fn, "x")
    _check_ndim(x, fn, "x", (1,), "a 1D signal of shape (L,)")
    k = _int_arg(k, fn, "k", 1)
    stride = _tuple_arg(stride, 1, fn, "stride", 1)
    pads = _padding_pairs(padding, (k,), stride, (1,), fn)
    _check_fits(x.shape, (k,), pads, (1,), fn)
    return gather_windows(x, (k,), stride, pads, (1,))


def doubly_block_toeplitz(K, H, W):
    """The matrix ``M`` of valid 2D correlation: ``M @ X.ravel() == corr2d(X, K).ravel()``.

    ``M[p*W_out + q, r*W + c] = K[r - p, c - q]`` where both differences are valid
    kernel indices, else 0. Seen as ``H_out x H`` blocks of shape ``(W_out, W)``,
    block ``(p, r)`` is the Toeplitz matrix of kernel row ``r - p``, and the
    blocks themselves are constant along diagonals: doubly block Toeplitz.

    Memory: ``H_out*W_out * H*W`` floats, e.g. 28x28 with 3x3 is 676 x 784.

    Parameters
    ----------
    K : ndarray of shape (kH, kW)
    H, W : int
        Input height and width, at least the kernel's.

    Returns
    -------
    ndarray of shape (H_out*W_out, H*W)
        ``H_out = H - kH + 1``, ``W_out = W - kW + 1``.

    Examples
    --------
    >>> doubly_block_toeplitz(np.arange(1, 3)[None], 2, 2)
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    fn = "doubly_block_toeplitz"
    K = _as_float(K, fn, "K")
    _check_ndim(K, fn, "K", (2,), "a 2D kernel of shape (kH, kW)")
    H = _int_arg(H, fn, "H", 1)
    W = _int_arg(W, fn, "W", 1)
    _check_fits((H, W), K.shape, ((0, 0), (0, 0)), (1, 1), fn)
    k_h, k_w = K.shape
    h_out, w_out = H - k_h + 1, W - k_w + 1
    M = np.zeros((h_out, w_out, H, W), dtype=K.dtype)
    p, q, a, b = np.ix_(np.arange(h_out), np.arange(w_out), np.arange(k_h), np.arange(k_w))
    M[p, q, p + a, q + b] = K[a, b]  # output (p, q) reads input (p + a, q + b) with K[a, b]
    return M.reshape(h_out * w_out, H * W)
