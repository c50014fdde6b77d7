"""Argument validation shared by every reference function.

Each helper takes the public function's name ``fn`` so that its error reads
like the public function's own, e.g.
``conv2d: stride expects integers >= 1, got (0, 1)``.
Errors are raised before any computation, with ``ValueError`` for a bad value
and ``TypeError`` for a bad type; never ``assert`` (stripped by ``python -O``).

The ``torch.nn.functional`` mirrors accept what PyTorch's argument parser and
shape checks accept, through one helper per kind of argument: `_tuple_arg`
(an int or a sequence of ints, with PyTorch's broadcasting of one element and
its "empty means default"), `_flag` (a bool), `_nonzero_int` (``divisor_override``),
`_pad_widths` (``pad``'s signed widths), `_check_nonempty` (the axes that may
not be empty: PyTorch allows an empty batch, rarely an empty channel or
spatial axis). `_check_types` runs first, as PyTorch's parser checks every
argument's type before any value.

Dtype rule: ops that only move or select entries (`pad`, `max_pool1d/2d`,
`unfold`) return the input's dtype, bools and integers included, as PyTorch
does where it has the kernel and as NumPy does (`numpy.pad`, `max`). Ops that
add or multiply (convolutions, average pooling, `fold`) return the inputs'
common floating dtype; integer and bool inputs are computed in float64.
PyTorch's integer kernels there either do not exist or wrap around on
overflow and truncate averages; float64 gives the exact answer instead.
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
    arr = _as_numeric(x, fn, name)
    return arr.astype(np.float64) if arr.dtype.kind in "biu" else arr


def _as_numeric(x, fn: str, name: str) -> np.ndarray:
    """`x` as an array of bools, integers or floats, in its own dtype (may share memory)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
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


def _is_int(value) -> bool:
    """A Python or NumPy integer, not a bool (PyTorch refuses ``True`` as a size)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _int_arg(value, fn: str, name: str, minimum: int) -> int:
    """`value` as a Python int ``>= minimum``; bools are rejected."""
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} expects an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} expects an integer >= {minimum}, got {value!r}")
    return int(value)


def _tuple_arg(value, n: int, fn: str, name: str, minimum: int | None, *, one: bool = False,
               empty: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """An int or a sequence of ints, each ``>= minimum``, as a tuple of `n` ints.

    An int stands for `n` copies of itself. With ``one`` a one-element sequence
    does too (PyTorch's convolutions and pools); with `empty` an empty sequence
    means `empty` (the pools' ``stride=()``, i.e. the kernel size).
    """
    if _is_int(value):
        values = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if not all(_is_int(v) for v in values):
            raise TypeError(
                f"{fn}: {name} expects an integer or a tuple of {n} integers, got {value!r}"
            )
        if not values and empty is not None:
            return empty
        if one and len(values) == 1:
            values *= n
        if len(values) != n:
            sizes = f"1 or {n}" if one and n != 1 else str(n)
            raise ValueError(
                f"{fn}: {name} expects an integer or a tuple of {sizes} integers, got {value!r}"
            )
    else:
        raise TypeError(
            f"{fn}: {name} expects an integer or a tuple of {n} integers, got {value!r}"
        )
    if minimum is not None and any(v < minimum for v in values):
        raise ValueError(f"{fn}: {name} expects integers >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def _check_types(fn: str, *, tuples=None, ints=None, flags=None) -> None:
    """Raise ``TypeError`` for the first argument of the wrong type, before any value check.

    PyTorch's argument parser checks every argument's type before any value, so
    an op calls this first: a wrong type is a ``TypeError`` whatever else is
    wrong. `tuples` hold int-or-sequence arguments, `ints` ints (None allowed:
    ``divisor_override``), `flags` bools.
    """
    for name, value in (tuples or {}).items():
        if not (_is_int(value) or (isinstance(value, Sequence) and not isinstance(value, str)
                                   and all(_is_int(v) for v in value))):
            raise TypeError(f"{fn}: {name} expects an integer or a tuple of integers, "
                            f"got {value!r}")
    for name, value in (ints or {}).items():
        if value is not None and not _is_int(value):
            raise TypeError(f"{fn}: {name} expects an integer, got {value!r}")
    for name, value in (flags or {}).items():
        _flag(value, fn, name)


def _flag(value, fn: str, name: str) -> bool:
    """`value` as a bool; PyTorch refuses ints and strings for its bool arguments."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} expects True or False, got {value!r}")
    return bool(value)


def _nonzero_int(value, fn: str, name: str) -> int:
    """`value` as a Python int other than 0 (``divisor_override`` may be negative)."""
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} expects a nonzero integer or None, got {value!r}")
    if value == 0:
        raise ValueError(f"{fn}: {name} expects a nonzero integer or None, got {value!r}")
    return int(value)


def _pad_widths(pad, ndim: int, fn: str) -> list[tuple[int, int]]:
    """``pad``'s ``(left, right)`` pairs in axis order, for the last ``len(pad) // 2`` axes.

    `pad` lists signed widths from the last axis backwards, as PyTorch; a
    negative width crops.
    """
    if not isinstance(pad, Sequence) or isinstance(pad, str):
        raise TypeError(f"{fn}: pad expects a tuple of integers, got {pad!r}")
    if not all(_is_int(p) for p in pad):
        raise TypeError(f"{fn}: pad expects a tuple of integers, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"{fn}: pad expects an even number of integers, got {tuple(pad)!r}")
    if len(pad) > 2 * ndim:
        raise ValueError(
            f"{fn}: pad {tuple(pad)} pads {len(pad) // 2} axes, expected at most "
            f"input.ndim={ndim}"
        )
    return [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)][::-1]


def _check_nonempty(x: np.ndarray, fn: str, name: str, first: int) -> None:
    """Raise if an axis from `first` on is empty (the axes before may be, e.g. the batch)."""
    if 0 in x.shape[first:]:
        raise ValueError(
            f"{fn}: {name} expects non-empty axes from axis {first} on (only the batch may "
            f"be empty), got an array of shape {x.shape}"
        )


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


def _check_weight(w: np.ndarray, fn: str) -> None:
    """Raise unless `w` has at least one filter and a kernel of size >= 1 (as PyTorch)."""
    if w.shape[0] == 0 or 0 in w.shape[2:]:
        raise ValueError(
            f"{fn}: weight expects at least one filter and a non-empty kernel, got shape {w.shape}"
        )


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
