"""Argument validation shared by every reference function.

Each helper takes the public function's name ``fn`` so that its error reads
like the public function's own, e.g.
``conv2d: stride expects integers >= 1, got (0, 1)``.
Errors are raised before any computation, with ``ValueError`` for a bad value
and ``TypeError`` for a bad type; never ``assert`` (stripped by ``python -O``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _as_float(x, fn: str, name: str) -> np.ndarray:
    """`x` as an array in its floating dtype; bools and integers become float64.

    The result may share memory with `x`: callers never write into it.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{fn}: {name} expects a real numeric array, got dtype {arr.dtype}"
        )
    return arr


def _common_float(fn: str, **arrays) -> list[np.ndarray]:
    """Convert each named array with `_as_float`, then to their common float dtype.

    ``None`` entries (an absent bias) pass through unchanged.
    """
    converted = {k: None if v is None else _as_float(v, fn, k) for k, v in arrays.items()}
    dtype = np.result_type(*[v.dtype for v in converted.values() if v is not None])
    return [None if v is None else v.astype(dtype, copy=False) for v in converted.values()]


def _check_ndim(x: np.ndarray, fn: str, name: str, allowed: Sequence[int], layout: str) -> None:
    """Raise unless ``x.ndim`` is one of `allowed`; `layout` names the expected shapes."""
    if x.ndim not in allowed:
        raise ValueError(
            f"{fn}: {name} expects {layout}, got an array of shape {x.shape} ({x.ndim}D)"
        )


def _int_arg(value, fn: str, name: str, minimum: int) -> int:
    """`value` as a Python int ``>= minimum``; bools are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} expects an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} expects an integer >= {minimum}, got {value!r}")
    return int(value)


def _tuple_arg(value, n: int, fn: str, name: str, minimum: int) -> tuple[int, ...]:
    """An int or a length-`n` sequence of ints, each ``>= minimum``, as a tuple of `n` ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (value,) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        values = tuple(value)
    else:
        raise TypeError(
            f"{fn}: {name} expects an integer or a tuple of {n} integers, got {value!r}"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(
                f"{fn}: {name} expects an integer or a tuple of {n} integers, got {value!r}"
            )
        if v < minimum:
            raise ValueError(f"{fn}: {name} expects integers >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def _check_mode(mode, allowed: Sequence[str], fn: str, name: str) -> None:
    """Raise unless `mode` is one of the `allowed` strings."""
    if not isinstance(mode, str) or mode not in allowed:
        raise ValueError(
            f"{fn}: {name} expects one of {', '.join(repr(m) for m in allowed)}, got {mode!r}"
        )


def _check_fits(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    fn: str,
) -> None:
    """Raise unless the dilated kernel fits in the padded input along every spatial dim."""
    for axis, (n, k, (lo, hi), d) in enumerate(zip(spatial, kernel, pads, dilation, strict=True)):
        extent = d * (k - 1) + 1
        if extent > n + lo + hi:
            raise ValueError(
                f"{fn}: kernel size {k} (dilation {d}, extent {extent}) is larger than the "
                f"padded input size {n + lo + hi} along spatial dim {axis}; expected a kernel "
                f"that fits (input {n}, padding {lo}+{hi})"
            )


def _check_groups(groups, c_in: int, c_out: int, fn: str) -> int:
    """`groups` as an int that divides both channel counts."""
    groups = _int_arg(groups, fn, "groups", 1)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups={groups} expects to divide the input channels ({c_in}) and the "
            f"output channels ({c_out})"
        )
    return groups


def _check_bias(bias: np.ndarray | None, c_out: int, fn: str) -> None:
    """Raise unless `bias` is ``None`` or has shape ``(c_out,)``."""
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(
            f"{fn}: bias expects shape ({c_out},) (one per output channel), got {bias.shape}"
        )


def _check_callable(f, fn: str, name: str) -> None:
    """Raise ``TypeError`` unless `f` can be called."""
    if not callable(f):
        raise TypeError(f"{fn}: {name} expects a function, got {type(f).__name__}")
