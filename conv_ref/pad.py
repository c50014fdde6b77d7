"""Padding: `pad` as ``torch.nn.functional.pad`` and the course's `pad2d`."""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_mode, _int_arg, _tuple_arg

# PyTorch mode name -> numpy.pad mode name.
_NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}
# pad2d speaks of "zeros" as nn.Conv2d's padding_mode does.
_PAD2D_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
               "circular": "circular"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` axes, as ``torch.nn.functional.pad``.

    ``pad = (left_last, right_last, left_second_last, right_second_last, ...)``:
    the last axis comes first, as in PyTorch. Modes ``"constant"`` (fill with
    `value`, default 0), ``"reflect"`` (mirror without repeating the edge, so each
    pad must be < the axis length), ``"replicate"`` (repeat the edge) and
    ``"circular"`` (wrap around, each pad <= the axis length). Unlike PyTorch,
    negative (cropping) pads are rejected, and the non-constant modes accept any
    number of leading axes.

    Parameters
    ----------
    input : ndarray of shape (..., n_1, ..., n_d)
    pad : tuple of 2*d int
    mode : {"constant", "reflect", "replicate", "circular"}
    value : float or None
        Fill value for ``"constant"``.

    Returns
    -------
    ndarray of shape (..., n_1 + pad[-2] + pad[-1], ..., n_d + pad[0] + pad[1])
        In the input's floating dtype (integers become float64).

    Examples
    --------
    >>> pad(np.arange(4), (2, 1))
    array([0., 0., 0., 1., 2., 3., 0.])
    >>> pad(np.arange(4), (2, 1), mode="reflect")
    array([2., 1., 0., 1., 2., 3., 2.])
    >>> pad(np.arange(4), (1, 1), mode="circular")
    array([3., 0., 1., 2., 3., 0.])
    """
    fn = "pad"
    x = _as_float(input, fn, "input")
    _check_mode(mode, tuple(_NUMPY_MODE), fn, "mode")
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or not pad:
        raise ValueError(f"{fn}: pad expects a tuple of an even number of integers, got {pad!r}")
    d = len(pad) // 2
    if d > x.ndim:
        raise ValueError(
            f"{fn}: pad {tuple(pad)} pads {d} axes, expected at most input.ndim={x.ndim}"
        )
    pads = _tuple_arg(tuple(pad), len(pad), fn, "pad", 0)
    if value is not None and mode != "constant":
        raise ValueError(f"{fn}: value expects None for mode {mode!r}, got {value!r}")
    # pad lists (left, right) from the last axis backwards; numpy.pad wants axis order.
    pairs = [(pads[2 * i], pads[2 * i + 1]) for i in range(d)][::-1]
    return _pad_trailing(x, pairs, mode, 0 if value is None else value, fn)


def _pad_trailing(x: np.ndarray, pairs, mode: str, value: float, fn: str) -> np.ndarray:
    """Pad the last ``len(pairs)`` axes of `x` by ``(left, right)`` pairs in axis order."""
    d = len(pairs)
    for axis, (lo, hi) in zip(range(x.ndim - d, x.ndim), pairs, strict=True):
        n = x.shape[axis]
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(
                f"{fn}: reflect padding ({lo}, {hi}) expects each pad < the size {n} of axis {axis}"
            )
        if mode == "replicate" and max(lo, hi) > 0 and n == 0:
            raise ValueError(f"{fn}: replicate padding expects a non-empty axis {axis}")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(
                f"{fn}: circular padding ({lo}, {hi}) expects each pad <= the size {n} "
                f"of axis {axis}"
            )
    width = [(0, 0)] * (x.ndim - d) + list(pairs)
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=value)
    return np.pad(x, width, mode=_NUMPY_MODE[mode])


def pad2d(x, padding, mode="zeros"):
    """Pad the last two axes of `x`.

    `padding` is an int (all four sides), ``(pH, pW)`` (top/bottom, left/right),
    or ``(left, right, top, bottom)`` in ``torch.nn.functional.pad`` order.
    Modes ``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"`` equal PyTorch's.

    Parameters
    ----------
    x : ndarray of shape (..., H, W)
    padding : int or tuple of 2 or 4 int
    mode : {"zeros", "reflect", "replicate", "circular"}

    Returns
    -------
    ndarray of shape (..., H + top + bottom, W + left + right)

    Examples
    --------
    >>> pad2d(np.arange(4).reshape(2, 2), (1, 0, 0, 1))
    array([[0., 0., 1.],
           [0., 2., 3.],
           [0., 0., 0.]])
    >>> pad2d(np.arange(4).reshape(2, 2), 1, mode="replicate")
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]])
    """
    fn = "pad2d"
    arr = _as_float(x, fn, "x")
    if arr.ndim < 2:
        raise ValueError(
            f"{fn}: x expects at least 2 dimensions (..., H, W), got shape {arr.shape}"
        )
    _check_mode(mode, tuple(_PAD2D_MODE), fn, "mode")
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        sides = _tuple_arg(tuple(padding), 4, fn, "padding", 0)
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        p_h, p_w = _tuple_arg(tuple(padding), 2, fn, "padding", 0)
        sides = (p_w, p_w, p_h, p_h)
    elif isinstance(padding, (tuple, list)):
        raise ValueError(
            f"{fn}: padding expects an int, (pH, pW) or (left, right, top, bottom), "
            f"got {padding!r}"
        )
    else:
        sides = (_int_arg(padding, fn, "padding", 0),) * 4
    left, right, top, bottom = sides
    return _pad_trailing(arr, [(top, bottom), (left, right)], _PAD2D_MODE[mode], 0.0, fn)
