"""Arrays from the grader's case details, laid out for people to read.

The engine reports expected and received values as nested lists (only when
small) plus a mask of the entries that differ. Here they become short number
strings and a `Grid`: expected and received side by side, entry by entry, with
the differing entries marked. Numbers are printed with as few digits as tell
the two sides apart, so ``0.3`` and ``0.30000001`` never both read ``0.3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# 1D outputs longer than this are wrapped into rows of `ROW_LENGTH` entries.
ROW_LENGTH = 10


@dataclass
class Grid:
    """Expected and received values of a 1D or 2D output, entry by entry.

    Attributes
    ----------
    row_labels : list of str of length R
    col_labels : list of str of length C
    expected, received : list of list of str of shape (R, C)
        Formatted entries; ``""`` pads the last row of a wrapped 1D output.
    differs : list of list of bool of shape (R, C)
    """

    row_labels: list[str]
    col_labels: list[str]
    expected: list[list[str]]
    received: list[list[str]]
    differs: list[list[bool]]


def format_number(v: Any, digits: int | None = 4) -> str:
    """A number in few characters: integral floats without decimals.

    ``digits=None`` gives Python's shortest representation that reads back exactly.

    >>> format_number(13.0), format_number(-0.333333), format_number(2.5e-9), format_number(True)
    ('13', '-0.3333', '2.5e-09', 'True')
    """
    if isinstance(v, bool | np.bool_ | str) or v is None:
        return str(v)
    if isinstance(v, complex | np.complexfloating):
        re, im = format_number(v.real, digits), format_number(abs(v.imag), digits)
        return f"{re}{'-' if v.imag < 0 else '+'}{im}j"
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if np.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if digits is None else f"{v:.{digits}g}"


def format_pair(expected: Any, received: Any) -> tuple[str, str]:
    """Both numbers with just enough digits to show that they differ.

    >>> format_pair(0.3, 0.30000001)
    ('0.3', '0.30000001')
    """
    for digits in (4, 6, 9, 12, None):
        e, r = format_number(expected, digits), format_number(received, digits)
        if e != r or expected == received:
            return e, r
    return e, r


def format_values(values: Any, max_chars: int = 240) -> str:
    """Nested lists or a scalar as NumPy prints them, cut at `max_chars`.

    >>> format_values([[1, 2], [3, 4]])
    '[[1, 2], [3, 4]]'
    """
    if not isinstance(values, list | tuple):
        return format_number(values)
    text = "[" + ", ".join(format_values(v, max_chars) for v in values) + "]"
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def decode(values: Any) -> Any:
    """Nested lists from JSON with the engine's spellings of special numbers decoded.

    JSON has no NaN, infinity or complex numbers, so the engine writes them as
    ``"nan"``, ``"inf"``, ``"-inf"`` and ``"1.5-2j"``.

    >>> decode([1, "nan", "-inf", "1.5-2j"])
    [1, nan, -inf, (1.5-2j)]
    """
    if isinstance(values, list):
        return [decode(v) for v in values]
    if isinstance(values, str):
        try:
            return float(values) if values in ("nan", "inf", "-inf") else complex(values)
        except ValueError:
            return values
    return values


def as_array(side: dict[str, Any] | None) -> np.ndarray | None:
    """The ``values`` of an ``expected``/``received`` record as a numeric array.

    Returns None when the values were not sent (too large), are not numbers, or
    do not have the declared shape (ragged lists).
    """
    if not side or side.get("values") is None:
        return None
    try:
        arr = np.asarray(decode(side["values"]))
    except ValueError:  # ragged nested lists
        return None
    shape = side.get("shape")
    if arr.dtype.kind not in "biufc" or (shape is not None and list(arr.shape) != list(shape)):
        return None
    return arr


def differs_mask(
    expected: np.ndarray, received: np.ndarray, mismatch: dict[str, Any]
) -> np.ndarray:
    """Which entries differ: the engine's mask when sent, else the same tolerance test.

    The fallback uses the tolerances the engine reports (``atol``, ``rtol``), so
    it marks the entries the engine counted.
    """
    sent = mismatch.get("differs")
    if sent is not None and list(np.shape(sent)) == list(expected.shape):
        return np.asarray(sent, dtype=bool)
    atol, rtol = float(mismatch.get("atol", 0.0)), float(mismatch.get("rtol", 0.0))
    with np.errstate(invalid="ignore"):
        return ~np.isclose(received, expected, rtol=rtol, atol=atol, equal_nan=True)


def build_grid(expected: np.ndarray, received: np.ndarray, differs: np.ndarray) -> Grid | None:
    """Lay a 1D or 2D comparison out as rows; None for other ranks or unequal shapes."""
    if expected.shape != received.shape or expected.ndim not in (1, 2) or expected.size == 0:
        return None
    if expected.ndim == 1:
        return _wrapped_1d(expected, received, differs)
    rows, cols = expected.shape
    cells = [[format_pair(e, r) for e, r in zip(*pair, strict=True)]
             for pair in zip(expected.tolist(), received.tolist(), strict=True)]
    return Grid(
        row_labels=[str(i) for i in range(rows)],
        col_labels=[str(j) for j in range(cols)],
        expected=[[e for e, _ in row] for row in cells],
        received=[[r for _, r in row] for row in cells],
        differs=differs.tolist(),
    )


def _wrapped_1d(expected: np.ndarray, received: np.ndarray, differs: np.ndarray) -> Grid:
    """A 1D comparison in rows of `ROW_LENGTH`, each row labelled by its first index."""
    n = expected.size
    width = n if n <= ROW_LENGTH + 2 else ROW_LENGTH
    starts = range(0, n, width)
    pairs = [format_pair(e, r) for e, r in zip(expected.tolist(), received.tolist(), strict=True)]
    pad = width * len(starts) - n

    def rows(column: int | None) -> list[list[Any]]:
        flat = [p[column] for p in pairs] if column is not None else differs.tolist()
        flat = flat + ([""] * pad if column is not None else [False] * pad)
        return [flat[s : s + width] for s in starts]

    return Grid(
        row_labels=[str(s) for s in starts] if len(starts) > 1 else [""],
        col_labels=[f"+{j}" if len(starts) > 1 else str(j) for j in range(width)],
        expected=rows(0),
        received=rows(1),
        differs=rows(None),
    )
