"""Convolution variants: dilated kernels, depthwise-separable convolution, receptive fields."""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_ndim, _int_arg, _tuple_arg
from conv_ref.conv import conv2d


def dilate_kernel(w, dilation):
    """Insert ``dilation - 1`` zeros between the taps of the last two axes.

    ``out[..., i*dH, j*dW] = w[..., i, j]``, zeros elsewhere; a convolution with
    ``out`` equals one with ``w`` and ``dilation``.

    Parameters
    ----------
    w : ndarray of shape (..., kH, kW)
        E.g. a kernel (kH, kW) or a weight (C_out, C_in, kH, kW).
    dilation : int or tuple of 2 int

    Returns
    -------
    ndarray of shape (..., dH*(kH-1) + 1, dW*(kW-1) + 1)

    Examples
    --------
    >>> dilate_kernel(np.arange(1, 5).reshape(2, 2), 2)
    array([[1., 0., 2.],
           [0., 0., 0.],
           [3., 0., 4.]])
    """
    fn = "dilate_kernel"
    w = _as_float(w, fn, "w")
    if w.ndim < 2:
        raise ValueError(
            f"{fn}: w expects at least 2 dimensions (..., kH, kW), got shape {w.shape}"
        )
    d_h, d_w = _tuple_arg(dilation, 2, fn, "dilation", 1)
    k_h, k_w = w.shape[-2:]
    out = np.zeros(w.shape[:-2] + (d_h * (k_h - 1) + 1, d_w * (k_w - 1) + 1), dtype=w.dtype)
    out[..., ::d_h, ::d_w] = w
    return out


def depthwise_separable_conv2d(x, depthwise, pointwise, stride=1, padding=0):
    """A depthwise convolution (one filter per channel) followed by a 1x1 convolution.

    ``conv2d(conv2d(x, depthwise, stride=stride, padding=padding, groups=C), pointwise)``:
    ``C*kH*kW + C_out*C`` weights instead of ``C_out*C*kH*kW``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W) or (C, H, W)
    depthwise : ndarray of shape (C, 1, kH, kW)
    pointwise : ndarray of shape (C_out, C, 1, 1)
    stride : int or tuple of 2 int
    padding : int, tuple of 2 int, "valid" or "same"

    Returns
    -------
    ndarray of shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out)

    Examples
    --------
    >>> depthwise_separable_conv2d(np.arange(8).reshape(2, 2, 2), np.ones((2, 1, 2, 2)),
    ...                            np.array([1, -1]).reshape(1, 2, 1, 1))
    array([[[-16.]]])
    """
    fn = "depthwise_separable_conv2d"
    x = _as_float(x, fn, "x")
    depthwise = _as_float(depthwise, fn, "depthwise")
    pointwise = _as_float(pointwise, fn, "pointwise")
    _check_ndim(x, fn, "x", (3, 4), "(C, H, W) or (N, C, H, W)")
    _check_ndim(depthwise, fn, "depthwise", (4,), "(C, 1, kH, kW)")
    _check_ndim(pointwise, fn, "pointwise", (4,), "(C_out, C, 1, 1)")
    c = x.shape[-3]
    if depthwise.shape[:2] != (c, 1):
        raise ValueError(
            f"{fn}: depthwise expects shape ({c}, 1, kH, kW) for input with {c} channels, "
            f"got {depthwise.shape}"
        )
    if pointwise.shape[1:] != (c, 1, 1):
        raise ValueError(
            f"{fn}: pointwise expects shape (C_out, {c}, 1, 1) for input with {c} channels, "
            f"got {pointwise.shape}"
        )
    per_channel = conv2d(x, depthwise, stride=stride, padding=padding, groups=c)
    return conv2d(per_channel, pointwise)


def receptive_field(layers):
    """Receptive field size and jump (input step between neighbouring outputs) of a stack.

    Starting from ``size, jump = 1, 1``, each layer ``(kernel, stride, dilation)`` does
    ``size += dilation*(kernel - 1)*jump; jump *= stride``.

    Parameters
    ----------
    layers : sequence of (int, int, int)
        ``(kernel, stride, dilation)`` per layer, input side first.

    Returns
    -------
    tuple of (int, int)
        ``(size, jump)`` of the last layer; ``(1, 1)`` for no layers.

    Examples
    --------
    >>> receptive_field([(3, 1, 1), (3, 1, 1)])
    (5, 1)
    >>> receptive_field([(7, 2, 1), (3, 2, 1), (3, 1, 2)])
    (27, 4)
    """
    fn = "receptive_field"
    size, jump = 1, 1
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 3:
            raise ValueError(
                f"{fn}: layers[{index}] expects a (kernel, stride, dilation) triple, got {layer!r}"
            )
        kernel = _int_arg(layer[0], fn, f"layers[{index}] kernel", 1)
        stride = _int_arg(layer[1], fn, f"layers[{index}] stride", 1)
        dilation = _int_arg(layer[2], fn, f"layers[{index}] dilation", 1)
        size += dilation * (kernel - 1) * jump
        jump *= stride
    return size, jump
