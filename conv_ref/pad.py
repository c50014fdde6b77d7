"""Padding: `pad` as ``torch.nn.functional.pad`` and the course's `pad2d`."""

from __future__ import annotations

import numbers

import numpy as np

from conv_ref._checks import (
    _as_float,
    _as_numeric,
    _check_mode,
    _check_nonempty,
    _int_arg,
    _pad_widths,
    _tuple_arg,
)

# PyTorch mode name -> numpy.pad mode name.
_NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}
# pad2d speaks of "zeros" as nn.Conv2d's padding_mode does.
_PAD2D_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
               "circular": "circular"}


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop) the last ``len(pad) // 2`` axes, as ``torch.nn.functional.pad``.

    ``pad = (left_last, right_last, left_second_last, right_second_last, ...)``:
    the last axis comes first, as in PyTorch; a negative width crops. Modes
    ``"constant"`` (fill with `value`, default 0; any number of axes),
    ``"reflect"`` (mirror without repeating the edge: each width < the axis
    length), ``"replicate"`` (repeat the edge) and ``"circular"`` (wrap around:
    each width <= the axis length left after a crop, which comes first). The last
    three pad 1 to 3 axes of an input with one or two axes more (batch and
    channel) and, like PyTorch, refuse empty non-batch axes (circular excepted).

    Parameters
    ----------
    input : ndarray of shape (..., n_1, ..., n_d)
    pad : tuple of 2*d int
    mode : {"constant", "reflect", "replicate", "circular"}
    value : float or None
        Fill value for ``"constant"`` (other modes take only None or 0).

    Returns
    -------
    ndarray of shape (..., n_1 + pad[-2] + pad[-1], ..., n_d + pad[0] + pad[1])
        In the input's dtype (bools and integers included); `value` is cast to
        it like PyTorch, truncated towards zero for integers.

    Examples
    --------
    >>> pad(np.arange(4), (2, 1))
    array([0, 0, 0, 1, 2, 3, 0])
    >>> pad(np.arange(4.0)[None], (2, -1), mode="reflect")
    array([[2., 1., 0., 1., 2.]])
    >>> pad(np.arange(4)[None], (1, 1), mode="circular")
    array([[3, 0, 1, 2, 3, 0]])
    """
    fn = "pad"
    x = _as_numeric(input, fn, "input")
    if value is not None and not isinstance(value, numbers.Real):  # a type error comes first
        raise TypeError(f"{fn}: value expects a number or None, got {value!r}")
    pairs = _pad_widths(pad, x.ndim, fn)
    _check_mode(mode, tuple(_NUMPY_MODE), fn, "mode")
    d = len(pairs)
    if mode == "constant":
        fill = _fill_value(0 if value is None else value, x.dtype, fn)
    else:
        if value is not None and value != 0:
            raise ValueError(f"{fn}: value expects None for mode {mode!r}, got {value!r}")
        if not 1 <= d <= 3 or x.ndim not in (d + 1, d + 2):
            raise ValueError(
                f"{fn}: mode {mode!r} pads 1 to 3 axes of an input with 1 or 2 axes more, "
                f"got pad {tuple(pad)} for an input of shape {x.shape}"
            )
        if mode != "circular":
            _check_nonempty(x, fn, "input", x.ndim - d - 1)
    spatial = x.shape[x.ndim - d:]
    if mode in ("reflect", "replicate") and all(
            n + lo + hi == 0 for n, (lo, hi) in zip(spatial, pairs, strict=True)):
        # PyTorch's reflect and replicate kernels want one padded axis left non-empty.
        raise ValueError(f"{fn}: pad {tuple(pad)} empties every padded axis of an input of "
                         f"shape {x.shape}; expected one to keep an entry for mode {mode!r}")
    for axis, n, (lo, hi) in zip(range(x.ndim - d, x.ndim), spatial, pairs, strict=True):
        # Constant and circular crop first, then pad: the crop must leave >= 0 entries.
        kept = n + min(lo, 0) + min(hi, 0)
        if n + lo + hi < 0 or (mode in ("constant", "circular") and kept < 0):
            raise ValueError(
                f"{fn}: pad {tuple(pad)} makes axis {axis} of size {n} {n + lo + hi} long; "
                "expected a size >= 0"
            )
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(
                f"{fn}: reflect padding ({lo}, {hi}) expects each pad < the size {n} of axis {axis}"
            )
        # Circular wraps the cropped axis no more than once around.
        if mode == "circular" and (max(lo, hi) > n or max(lo, hi) > kept):
            raise ValueError(
                f"{fn}: circular padding ({lo}, {hi}) expects each pad <= the size {kept} "
                f"of axis {axis} (after cropping)"
            )
    grow = [(0, 0)] * (x.ndim - d) + [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode in ("reflect", "replicate"):
        # These modes pad from the full axis, then crop (what PyTorch computes).
        return _crop(np.pad(x, grow, mode=_NUMPY_MODE[mode]), pairs)
    cropped = _crop(x, pairs)
    if mode == "constant":
        return np.pad(cropped, grow, mode="constant", constant_values=fill)
    return np.pad(cropped, grow, mode="wrap")


def _crop(x: np.ndarray, pairs) -> np.ndarray:
    """`x` without ``-left`` / ``-right`` entries of the last axes where a width is negative."""
    spatial = x.shape[x.ndim - len(pairs):]
    return x[(Ellipsis, *(slice(max(-lo, 0), n - max(-hi, 0))
                          for n, (lo, hi) in zip(spatial, pairs, strict=True)))]


def _fill_value(value, dtype: np.dtype, fn: str):
    """The real number `value` cast to `dtype` as PyTorch casts a fill value: truncated,
    never wrapped."""
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        if not np.isfinite(value) or not (np.iinfo(dtype).min <= int(value) <= np.iinfo(dtype).max):
            raise ValueError(f"{fn}: value {value!r} does not fit in the input's dtype {dtype}")
        return int(value)
    return value


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
