"""How libraries compute convolution fast: counting the work, FFT and Winograd (exercise 08).

``conv_work`` counts what each algorithm does for one layer; ``fft_conv2d`` is
the convolution theorem of 05 made linear (zero padding removes the
wrap-around); ``winograd_f23``, ``winograd_tile`` and ``winograd_conv2d`` are
Lavin & Gray's minimal filtering F(2, 3) and F(2x2, 3x3) (Lavin and Gray,
"Fast Algorithms for Convolutional Neural Networks", CVPR 2016). All of them
compute cross-correlation, as ``conv2d`` does.
"""

from __future__ import annotations

import numbers

import numpy as np

from conv_ref._checks import _as_float, _check_bias, _check_fits, _check_ndim, _tuple_arg
from conv_ref.shape import conv_output_length

# Lavin & Gray's F(2, 3) for cross-correlation: y = A^T [(G g) * (B^T d)].
WINOGRAD_BT = np.array([[1.0, 0.0, -1.0, 0.0],
                        [0.0, 1.0, 1.0, 0.0],
                        [0.0, -1.0, 1.0, 0.0],
                        [0.0, 1.0, 0.0, -1.0]])  # (4, 4): data transform
WINOGRAD_G = np.array([[1.0, 0.0, 0.0],
                       [0.5, 0.5, 0.5],
                       [0.5, -0.5, 0.5],
                       [0.0, 0.0, 1.0]])  # (4, 3): filter transform
WINOGRAD_AT = np.array([[1.0, 1.0, 1.0, 0.0],
                        [0.0, 1.0, -1.0, -1.0]])  # (2, 4): output transform

WORK_NAMES = ("direct_macs", "im2col_elements", "fft_products", "winograd_mults", "min_traffic")


def _shape_arg(value, fn: str, name: str, ndims: tuple[int, ...]) -> tuple[int, ...]:
    """A shape: a tuple of ints >= 1 with one of the lengths `ndims`."""
    if not isinstance(value, (tuple, list)) or len(value) not in ndims or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value):
        raise ValueError(f"{fn}: {name} expects a tuple of {' or '.join(map(str, ndims))} "
                         f"integers >= 1, got {value!r}")
    return tuple(int(v) for v in value)


def conv_work(x_shape, w_shape, stride=1, padding=0):
    """The work of one ``conv2d`` layer under each algorithm, counted in elements.

    With ``x_shape = (N, C_in, H, W)`` (or ``(C_in, H, W)``, N = 1),
    ``w_shape = (C_out, C_in, kH, kW)``, ``Hp = H + 2*pH``, ``Wp = W + 2*pW``:

    - ``direct_macs = N * C_out * C_in * kH * kW * H_out * W_out``: multiply-adds
      of the direct loop (and of im2col + GEMM, which does the same products);
    - ``im2col_elements = C_in * kH * kW * H_out * W_out``: the im2col buffer of
      one image, ``(C_in*kH*kW, H_out*W_out)``;
    - ``fft_products = N * C_out * C_in * Hf * (Wf // 2 + 1)`` with
      ``Hf = Hp + kH - 1``, ``Wf = Wp + kW - 1``: complex multiply-adds of the
      spectra, ``np.fft.rfft2`` of size ``(Hf, Wf)`` (big enough for a linear,
      not circular, result; a strided layer computes every stride-1 output);
    - ``winograd_mults = N * C_out * C_in * 16 * ceil(H_out/2) * ceil(W_out/2)``
      for a 3x3 kernel with stride 1 (F(2x2, 3x3): 16 products per 2x2 output
      tile instead of 36), else 0 (the algorithm does not apply);
    - ``min_traffic = N*C_in*H*W + C_out*C_in*kH*kW + N*C_out*H_out*W_out``:
      elements read and written if each is moved once.

    Parameters
    ----------
    x_shape : tuple of 4 (or 3) int
    w_shape : tuple of 4 int
    stride, padding : int or tuple of 2 int

    Returns
    -------
    tuple of 5 int
        In the order of `WORK_NAMES`.

    Examples
    --------
    >>> conv_work((1, 1, 4, 4), (1, 1, 3, 3))
    (36, 36, 24, 16, 29)
    """
    fn = "conv_work"
    x_shape = _shape_arg(x_shape, fn, "x_shape", (3, 4))
    c_out, c_w, kh, kw = _shape_arg(w_shape, fn, "w_shape", (4,))
    n, c_in, h, w = (1, *x_shape) if len(x_shape) == 3 else x_shape
    if c_w != c_in:
        raise ValueError(f"{fn}: w_shape expects {c_in} input channels (x_shape's), got {c_w}")
    (sh, sw) = _tuple_arg(stride, 2, fn, "stride", 1)
    (ph, pw) = _tuple_arg(padding, 2, fn, "padding", 0)
    _check_fits((h, w), (kh, kw), ((ph, ph), (pw, pw)), (1, 1), fn)
    h_out, w_out = conv_output_length(h, kh, sh, ph), conv_output_length(w, kw, sw, pw)
    hf, wf = h + 2 * ph + kh - 1, w + 2 * pw + kw - 1
    winograd = 0
    if (kh, kw, sh, sw) == (3, 3, 1, 1):
        winograd = n * c_out * c_in * 16 * (-(-h_out // 2)) * (-(-w_out // 2))
    return (n * c_out * c_in * kh * kw * h_out * w_out,
            c_in * kh * kw * h_out * w_out,
            n * c_out * c_in * hf * (wf // 2 + 1),
            winograd,
            n * c_in * h * w + c_out * c_in * kh * kw + n * c_out * h_out * w_out)


def _batched(x: np.ndarray, fn: str) -> tuple[np.ndarray, bool]:
    _check_ndim(x, fn, "x", (3, 4), "(N, C_in, H, W) or (C_in, H, W)")
    return (x, True) if x.ndim == 4 else (x[None], False)


def _prepare(fn, x, weight, bias, padding, kernel=None):
    """Float arrays, batched x (N, C, H, W), checked weight and bias, the padded input."""
    x, weight = _as_float(x, fn, "x"), _as_float(weight, fn, "weight")
    x4, batched = _batched(x, fn)
    _check_ndim(weight, fn, "weight", (4,), "(C_out, C_in, kH, kW)")
    if weight.shape[1] != x4.shape[1]:
        raise ValueError(f"{fn}: weight expects {x4.shape[1]} input channels (x's), got "
                         f"weight of shape {weight.shape}")
    if kernel is not None and weight.shape[2:] != kernel:
        raise ValueError(f"{fn}: weight expects kernels of size {kernel}, got {weight.shape[2:]}")
    bias = None if bias is None else _as_float(bias, fn, "bias")
    _check_bias(bias, weight.shape[0], fn)
    ph, pw = _tuple_arg(padding, 2, fn, "padding", 0)
    _check_fits(x4.shape[2:], weight.shape[2:], ((ph, ph), (pw, pw)), (1, 1), fn)
    xp = np.pad(x4, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return xp, weight, bias, batched


def _finish(y: np.ndarray, bias, batched: bool, dtype) -> np.ndarray:
    if bias is not None:
        y = y + bias[:, None, None]
    y = y.astype(dtype, copy=False)
    return y if batched else y[0]


def fft_conv2d(x, weight, bias=None, stride=1, padding=0):
    """``conv2d`` (cross-correlation) computed with ``np.fft.rfft2``.

    The padded input ``(Hp, Wp)`` and the kernel are zero-padded to
    ``(Hf, Wf) = (Hp + kH - 1, Wp + kW - 1)``, so the circular correlation of
    the spectra equals the linear one where the kernel fits:
    ``y = irfft2(sum_c X[c] * conj(K[o, c]))[:Hp - kH + 1:sH, :Wp - kW + 1:sW]``
    (the conjugate is what makes it a correlation, not a convolution; the
    stride subsamples the stride-1 output).

    Parameters
    ----------
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in, kH, kW)
    bias : ndarray of shape (C_out,) or None
    stride, padding : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        As ``conv2d``, to within the FFT's rounding (about ``eps * log2(Hf*Wf)``
        relative to ``sum |x| |w|``).

    Examples
    --------
    >>> np.round(fft_conv2d(np.arange(9.0).reshape(1, 3, 3), np.ones((1, 1, 2, 2))), 10)
    array([[[ 8., 12.],
            [20., 24.]]])
    """
    fn = "fft_conv2d"
    xp, weight, bias, batched = _prepare(fn, x, weight, bias, padding)
    sh, sw = _tuple_arg(stride, 2, fn, "stride", 1)
    dtype = np.result_type(xp, weight, *(() if bias is None else (bias,)))
    kh, kw = weight.shape[2:]
    hp, wp = xp.shape[2:]
    size = (hp + kh - 1, wp + kw - 1)
    spectra_x = np.fft.rfft2(xp, s=size)  # (N, C_in, Hf, Wf//2+1)
    spectra_w = np.fft.rfft2(weight, s=size)  # (C_out, C_in, Hf, Wf//2+1)
    # One (N, C_in) @ (C_in, C_out) product per frequency: the channel sum on the spectra.
    product = (spectra_x.transpose(2, 3, 0, 1)
               @ spectra_w.conj().transpose(2, 3, 1, 0)).transpose(2, 3, 0, 1)
    full = np.fft.irfft2(product, s=size)  # (N, C_out, Hf, Wf): lag (p, q) at [p, q]
    y = full[:, :, :hp - kh + 1:sh, :wp - kw + 1:sw]
    return _finish(y, bias, batched, dtype)


def winograd_f23(x, g):
    """1D cross-correlation of `x` with a 3-tap `g` by Winograd's F(2, 3).

    Each pair of outputs ``y[2t], y[2t+1]`` comes from the four inputs
    ``d = x[2t : 2t+4]`` with 4 multiplications instead of 6:
    ``A^T @ ((G @ g) * (B^T @ d))``; an odd output length pads ``x`` with one
    zero and drops the extra output.

    Parameters
    ----------
    x : ndarray of shape (L,), L >= 3
    g : ndarray of shape (3,)

    Returns
    -------
    ndarray of shape (L - 2,)

    Examples
    --------
    >>> winograd_f23(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0]))
    array([-2., -2.])
    """
    fn = "winograd_f23"
    x, g = _as_float(x, fn, "x"), _as_float(g, fn, "g")
    _check_ndim(x, fn, "x", (1,), "a 1D signal (L,)")
    if g.shape != (3,):
        raise ValueError(f"{fn}: g expects shape (3,), got {g.shape}")
    if x.shape[0] < 3:
        raise ValueError(f"{fn}: x expects at least 3 samples (the kernel's), got {x.shape[0]}")
    dtype = np.result_type(x, g)
    n_out = x.shape[0] - 2
    tiles = -(-n_out // 2)
    xp = np.concatenate([x, np.zeros(2 * tiles + 2 - x.shape[0], dtype)])
    d = np.stack([xp[2 * t:2 * t + 4] for t in range(tiles)])  # (tiles, 4)
    m = (d @ WINOGRAD_BT.T) * (WINOGRAD_G @ g)  # (tiles, 4): the 4 products of each tile
    return (m @ WINOGRAD_AT.T).reshape(-1)[:n_out].astype(dtype, copy=False)


def winograd_tile(d, g):
    """One F(2x2, 3x3) tile: a 4x4 input `d` and a 3x3 kernel `g` give 2x2 outputs.

    ``Y = A^T [(G g G^T) * (B^T d B)] A``: 16 multiplications (the elementwise
    product) instead of the 36 of the direct 2x2 x 3x3 sum.

    Parameters
    ----------
    d : ndarray of shape (4, 4)
    g : ndarray of shape (3, 3)

    Returns
    -------
    ndarray of shape (2, 2)
        ``Y[i, j] = sum_{a, b} g[a, b] * d[i + a, j + b]``.

    Examples
    --------
    >>> winograd_tile(np.arange(16.0).reshape(4, 4), np.ones((3, 3)))
    array([[45., 54.],
           [81., 90.]])
    """
    fn = "winograd_tile"
    d, g = _as_float(d, fn, "d"), _as_float(g, fn, "g")
    if d.shape != (4, 4):
        raise ValueError(f"{fn}: d expects shape (4, 4), got {d.shape}")
    if g.shape != (3, 3):
        raise ValueError(f"{fn}: g expects shape (3, 3), got {g.shape}")
    dtype = np.result_type(d, g)
    u = WINOGRAD_G @ g @ WINOGRAD_G.T  # (4, 4)
    v = WINOGRAD_BT @ d @ WINOGRAD_BT.T  # (4, 4)
    return (WINOGRAD_AT @ (u * v) @ WINOGRAD_AT.T).astype(dtype, copy=False)


def winograd_conv2d(x, weight, bias=None, padding=0):
    """``conv2d`` with a 3x3 kernel and stride 1 by F(2x2, 3x3) tiles.

    The padded input is cut into 4x4 tiles that overlap by 2 (tile ``(s, t)``
    starts at ``(2s, 2t)``); each gives the 2x2 outputs starting at ``(2s, 2t)``.
    An odd output size pads the bottom/right with zeros and crops. The filter
    transform ``G g G^T`` is done once per (output, input) channel pair, and the
    sum over input channels happens in the transformed domain.

    Parameters
    ----------
    x : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in, 3, 3)
    bias : ndarray of shape (C_out,) or None
    padding : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
        ``conv2d(x, weight, bias, padding=padding)`` to within rounding.

    Examples
    --------
    >>> winograd_conv2d(np.arange(16.0).reshape(1, 4, 4), np.ones((1, 1, 3, 3)))
    array([[[45., 54.],
            [81., 90.]]])
    """
    fn = "winograd_conv2d"
    xp, weight, bias, batched = _prepare(fn, x, weight, bias, padding, kernel=(3, 3))
    dtype = np.result_type(xp, weight, *(() if bias is None else (bias,)))
    n, c_in, hp, wp = xp.shape
    h_out, w_out = hp - 2, wp - 2
    th, tw = -(-h_out // 2), -(-w_out // 2)
    xp = np.pad(xp, ((0, 0), (0, 0), (0, 2 * th + 2 - hp), (0, 2 * tw + 2 - wp)))
    c_out = weight.shape[0]
    # (N, C_in, th, tw, 4, 4): overlapping tiles, tile (s, t) = xp[..., 2s:2s+4, 2t:2t+4]
    rows = np.stack([xp[:, :, 2 * s:2 * s + 4] for s in range(th)], axis=2)
    tiles = np.stack([rows[..., 2 * t:2 * t + 4] for t in range(tw)], axis=3)
    v = WINOGRAD_BT @ tiles @ WINOGRAD_BT.T  # (N, C_in, th, tw, 4, 4)
    u = WINOGRAD_G @ weight @ WINOGRAD_G.T  # (C_out, C_in, 4, 4)
    # One (N*th*tw, C_in) @ (C_in, C_out) product per tile position: 16 per tile and pair.
    m = (v.transpose(4, 5, 0, 2, 3, 1).reshape(16, -1, c_in)
         @ u.transpose(2, 3, 1, 0).reshape(16, c_in, c_out))
    m = m.reshape(4, 4, n, th, tw, c_out).transpose(2, 5, 3, 4, 0, 1)  # (N, C_out, th, tw, 4, 4)
    y = WINOGRAD_AT @ m @ WINOGRAD_AT.T  # (N, C_out, th, tw, 2, 2)
    # (N, C_out, th, 2, tw, 2) -> (N, C_out, 2*th, 2*tw), then the odd extra cropped
    y = y.transpose(0, 1, 2, 4, 3, 5).reshape(n, c_out, 2 * th, 2 * tw)[:, :, :h_out, :w_out]
    return _finish(y, bias, batched, dtype)
