"""Compare a received value with the expected one, in stages: type, shape, values.

Runs in the grader's process (or in the notebook for `check()`), never
trusting the received value: it is only read as plain numbers.

Decisions a student may meet:

- Array-likes (lists, tuples of numbers) are accepted where an array is
  expected: they are converted with `np.asarray` and a note says so.
- Integer arrays are accepted where floats are expected when the values match.
- Tolerance follows the expected dtype (float64 for the course's cases), with
  slack for a different summation order: ``rtol = min(1e-3, 256 * eps)`` and
  ``atol = rtol * max(1, max|expected|)``. The one allowance for the received
  dtype is single precision, deep learning's own (`SINGLE_RTOL`, the rounding
  of float32 and complex64 with the same slack); half precision is held to
  the expected precision, since its 1e-3 would let answers wrong by 0.05 %
  pass. A lower-precision answer gets a note that says so.
- Integer answers (``kind="exact"``: output sizes, parameter counts) must be
  integers and equal; ``2.0`` is not ``2``.
- NaN equals NaN, ``inf`` equals ``inf`` of the same sign; anything else
  against NaN or inf differs.

`Comparison.details` is JSON-able and follows the layout feedback rendering
reads: ``expected``/``received`` summaries and ``mismatch``. Non-finite
numbers are written as the strings ``"nan"``, ``"inf"``, ``"-inf"`` and
complex numbers as strings like ``"1.5-2j"``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.execution.outcome import FunctionSpec

INPUT_VALUES_LIMIT = 64  # entries shown for an input
OUTPUT_VALUES_LIMIT = 400  # entries shown for an expected or received value
DIFF_MAP_SIZE = 32  # the |diff| map of a large output is at most 32 x 32


@dataclass
class Comparison:
    """The verdict of `compare` and its evidence.

    Attributes
    ----------
    passed : bool
    stage : str
        ``""`` when passed, else where it failed: ``"type"``, ``"shape"``, ``"values"``.
    message : str
        For the student: what was expected, what came back, where to look.
    notes : list of str
        Remarks on an accepted answer (e.g. a list converted to an array).
    details : dict
        ``expected``, ``received`` and, at the values stage, ``mismatch``.
    """

    passed: bool
    stage: str = ""
    message: str = ""
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- summaries


def _number_text(v) -> str:
    """One number for a sentence: shortest round-trip digits, ``-2`` rather than ``-2.0``.

    >>> _number_text(np.float64(-2.0)), _number_text(0.1 + 0.2), _number_text(np.int64(7))
    ('-2', '0.30000000000000004', '7')
    """
    v = _scalar(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return str(v)


def _scalar(v) -> Any:
    """One number as JSON: int, float, or a string for nan/inf/complex."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
        return f"{v.real:g}{v.imag:+g}j"
    v = float(v)
    if np.isfinite(v):
        return v
    return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")


def jsonable(a: np.ndarray) -> Any:
    """An array as nested lists of JSON numbers (see `_scalar`)."""
    if a.ndim == 0:
        return _scalar(a[()])
    return [jsonable(row) for row in a]


def summarize(value: Any, limit: int = OUTPUT_VALUES_LIMIT) -> dict[str, Any]:
    """Type, shape, dtype and (when at most `limit` entries) the values of `value`."""
    if isinstance(value, np.ndarray):
        values = jsonable(value) if value.size <= limit and value.dtype.kind in "biufc" else None
        return {"type": "ndarray", "shape": list(value.shape), "dtype": str(value.dtype),
                "values": values}
    if isinstance(value, FunctionSpec):
        return {"type": "function", "values": value.kind,
                "params": {k: summarize(v, limit) for k, v in value.params.items()}}
    if isinstance(value, (bool, np.bool_, numbers.Number)):
        kind = "bool" if isinstance(value, (bool, np.bool_)) else type(value).__name__
        return {"type": kind, "shape": [], "dtype": kind, "values": _scalar(value)}
    if isinstance(value, (tuple, list)):
        if all(isinstance(v, numbers.Number) for v in value) and len(value) <= limit:
            return {"type": type(value).__name__, "shape": [len(value)],
                    "values": [_scalar(v) for v in value]}
        return {"type": type(value).__name__, "length": len(value),
                "items": [summarize(v, limit) for v in value[:8]]}
    if isinstance(value, str) or value is None:
        return {"type": type(value).__name__, "values": value}
    return {"type": type(value).__name__, "values": repr(value)[:80]}


# ----------------------------------------------------------------------------- tolerance


# float32's rounding with 64 ulps of slack: 7.6e-6, far below a real mistake's error.
SINGLE_RTOL = 64 * float(np.finfo(np.float32).eps)


def tolerance(expected: np.ndarray, received: np.ndarray) -> tuple[float, float]:
    """``(atol, rtol)`` for comparing `received` with `expected`.

    The precision is the expected dtype's (float64 for integers). 256 ulps
    leave room for another summation order over the few hundred products of a
    case. A single-precision answer (float32, complex64) is allowed its own
    rounding, `SINGLE_RTOL`; nothing else the student returns loosens the
    tolerance (a float16 answer would otherwise pass at 1e-3).
    """
    dtype = expected.dtype if expected.dtype.kind in "fc" else np.dtype(np.float64)
    rtol = min(1e-3, 256 * float(np.finfo(dtype).eps))
    if received.dtype in (np.float32, np.complex64):
        rtol = max(rtol, SINGLE_RTOL)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    return rtol * scale, rtol


# ----------------------------------------------------------------------------- stages


def _type_fail(message: str, expected: Any, received: Any) -> Comparison:
    return Comparison(False, "type", message, details={
        "expected": summarize(expected), "received": summarize(received)})


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {value!r:.60}"


def _as_array(expected: np.ndarray, received: Any) -> tuple[np.ndarray | None, list[str], str]:
    """`received` as a numeric array, the notes on the conversion, or why it is not one."""
    notes: list[str] = []
    if received is None:
        return None, notes, "Your function returned None: did you forget the `return` statement?"
    if isinstance(received, (list, tuple)):
        try:
            arr = np.asarray(received)
        except ValueError:
            arr = np.asarray(received, dtype=object)
        if arr.dtype.kind not in "biufc":
            return None, notes, (f"Expected an ndarray, got {_describe(received)} that is not a "
                                 "regular grid of numbers.")
        notes.append(f"Your function returned a {type(received).__name__}; it was converted "
                     "with np.asarray. Return an ndarray.")
        return arr, notes, ""
    if isinstance(received, (numbers.Number, np.generic)) and not isinstance(received, str):
        received = np.asarray(received)
    if not isinstance(received, np.ndarray) or received.dtype.kind not in "biufc":
        return None, notes, f"Expected an ndarray of numbers, got {_describe(received)}."
    if expected.dtype.kind in "fc" and received.dtype.kind in "biu":
        notes.append(f"Your function returned {received.dtype} values; expected "
                     f"{expected.dtype}. Integers cannot hold results like 0.5: start from "
                     "np.zeros(..., dtype=float).")
    if expected.dtype.kind in "fc" and received.dtype.kind in "fc" \
            and np.finfo(received.dtype).eps > np.finfo(expected.dtype).eps:
        single = received.dtype in (np.float32, np.complex64)
        precision = "single precision's rounding" if single else f"{expected.dtype} precision"
        notes.append(f"Your function returned {received.dtype} values; expected "
                     f"{expected.dtype}, and they are compared at {precision}. "
                     "Compute in float64: start from np.zeros(..., dtype=float).")
    return received, notes, ""


def _shape_message(e: tuple, r: tuple) -> str:
    msg = f"shape mismatch: expected {e}, got {r}."
    if r == e[::-1] and len(e) > 1:
        msg += " The axes are in the reverse order: is the result transposed?"
    elif r == (1, *e):
        msg += " An unbatched input gives an unbatched output: drop the batch axis you added."
    elif int(np.prod(e)) == int(np.prod(r)):
        msg += " Same number of entries, arranged differently: check your reshape or transpose."
    elif len(e) == len(r) and sum(a != b for a, b in zip(e, r, strict=True)) == 1:
        axis = next(i for i, (a, b) in enumerate(zip(e, r, strict=True)) if a != b)
        # Spatial axes come from the output-size formula, batch and channel
        # axes from an argument's shape: the comparison cannot tell which.
        msg += (f" Only axis {axis} differs ({e[axis]} vs {r[axis]}): for a spatial axis, check "
                "the output-size formula floor((n + 2*p - d*(k-1) - 1) / s) + 1; for a batch "
                "or channel axis, check which argument (and which of its axes) gives that size.")
    return msg


def _downsample(diff: np.ndarray) -> list:
    """Block maxima of a 1D/2D |diff| map, at most `DIFF_MAP_SIZE` per axis."""
    d2 = diff.reshape(1, -1) if diff.ndim == 1 else diff
    rows = np.array_split(np.arange(d2.shape[0]), min(DIFF_MAP_SIZE, d2.shape[0]))
    cols = np.array_split(np.arange(d2.shape[1]), min(DIFF_MAP_SIZE, d2.shape[1]))
    out = np.array([[d2[np.ix_(r, c)].max() for c in cols] for r in rows])
    return jsonable(out[0] if diff.ndim == 1 else out)


def _pattern_hint(e: np.ndarray, r: np.ndarray, bad: np.ndarray) -> str:
    """A pointer for common patterns in which entries differ."""
    if bad.all() and e.dtype.kind != "c" and e.size >= 4:
        offset = r - e
        if np.allclose(offset, offset.flat[0]):
            return (f" Every entry is off by the same amount ({float(offset.flat[0]):.4g}): "
                    "look at the bias.")
    if e.ndim >= 1 and not bad.all():
        inner = bad[..., 1:-1] if e.ndim == 1 or e.shape[-2] <= 2 else bad[..., 1:-1, 1:-1]
        if e.shape[-1] > 2 and not inner.any():
            return " Only entries next to the border differ: look at how you pad."
    return ""


def _compare_values(expected: np.ndarray, r: np.ndarray, atol: float | None) -> Comparison:
    e = expected
    default_atol, rtol = tolerance(e, r)
    atol = default_atol if atol is None else atol
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(r.astype(np.result_type(r, e, np.float64)) - e)
        same = (r == e) | (np.isnan(r) & np.isnan(e))
        # an infinite expected value only matches itself (rtol * inf would accept anything)
        bad = ~(same | (np.isfinite(e) & (diff <= atol + rtol * np.abs(e))))
    if not bad.any():
        return Comparison(True)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    bad_diff = diff[bad]
    nonzero = bad & (np.abs(e) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        max_rel = float(np.max(diff[nonzero] / np.abs(e[nonzero]))) if nonzero.any() else None
    small = e.ndim in (1, 2) and e.size <= OUTPUT_VALUES_LIMIT
    mismatch = {
        "count": int(bad.sum()), "total": int(e.size),
        "max_abs": _scalar(np.nanmax(bad_diff) if not np.isnan(bad_diff).all() else np.nan),
        "max_rel": None if max_rel is None else _scalar(max_rel),
        "first_index": list(first), "atol": float(atol), "rtol": float(rtol),
        "differs": bad.tolist() if small else None,
        "abs_diff_map": _downsample(np.nan_to_num(diff, nan=np.inf))
        if e.ndim in (1, 2) and not small else None,
    }
    # The index as the student would type it, x[2, 3]; numbers as Python prints them.
    where = f" at index [{', '.join(map(str, first))}]" if e.ndim else ""
    largest = mismatch["max_abs"]
    message = (f"{mismatch['count']} of {e.size} entries differ; the first{where}: expected "
               f"{_number_text(e[first])}, got {_number_text(r[first])}"
               + (f" (largest difference {largest:.3g})." if isinstance(largest, float) else "."))
    if e.ndim == 0:
        message = f"Expected {_number_text(e[()])}, got {_number_text(r[()])}."
    message += _pattern_hint(e, r, bad)
    return Comparison(False, "values", message, details={"mismatch": mismatch})


def _compare_array(expected: Any, received: Any, atol: float | None) -> Comparison:
    e = np.asarray(expected)
    r, notes, problem = _as_array(e, received)
    if r is None:
        return _type_fail(problem, e, received)
    details = {"expected": summarize(e), "received": summarize(r)}
    if r.shape != e.shape:
        if e.ndim == 0:
            message = f"Expected a single number, got {_describe(r)}."
            return Comparison(False, "type", message, notes, details)
        return Comparison(False, "shape", _shape_message(e.shape, r.shape), notes, details)
    result = _compare_values(e, r, atol)
    result.notes = notes
    result.details = {**details, **result.details}
    if result.passed:
        result.details = {}
    return result


def _compare_int(expected: int, received: Any) -> Comparison:
    if isinstance(received, (numbers.Integral, np.integer)) and not isinstance(
        received, (bool, np.bool_)
    ):
        if int(received) == expected:
            return Comparison(True)
        return Comparison(False, "values", f"Expected {expected}, got {int(received)}.",
                          details={"expected": summarize(expected),
                                   "received": summarize(int(received))})
    extra = ""
    if isinstance(received, (float, np.floating)):
        extra = " Use // (floor division), which keeps integers, and return an int."
    return _type_fail(f"Expected an int, got {_describe(received)}.{extra}", expected, received)


def _compare_tuple(expected: tuple, received: Any, kind: str, atol: float | None,
                   names: tuple[str, ...]) -> Comparison:
    labels = names or tuple(f"item {i}" for i in range(len(expected)))
    what = f"a tuple of {len(expected)} values ({', '.join(labels)})"
    if not isinstance(received, (tuple, list)):
        return _type_fail(f"Expected {what}, got {_describe(received)}.", expected, received)
    if len(received) != len(expected):
        return _type_fail(f"Expected {what}, got {len(received)} values.", expected, received)
    notes = [] if isinstance(received, tuple) else [
        "Your function returned a list; a tuple is expected (it was accepted)."]
    for label, e, r in zip(labels, expected, received, strict=True):
        result = compare(e, r, kind=kind, atol=atol)
        notes += [f"{label}: {n}" for n in result.notes]
        if not result.passed:
            result.message = f"{label}: {result.message}"
            result.details["item"] = label
            result.notes = notes
            return result
    return Comparison(True, notes=notes)


def compare(expected: Any, received: Any, kind: str = "allclose", atol: float | None = None,
            names: tuple[str, ...] = ()) -> Comparison:
    """Compare `received` with `expected`; the first failing stage decides.

    Parameters
    ----------
    expected : ndarray, number or tuple
        The reference answer.
    received : Any
        What the student's function returned (plain data).
    kind : {"allclose", "exact", "answer"}
    atol : float, optional
        Overrides the absolute tolerance (finite differences).
    names : tuple of str
        Names of the items of a tuple answer, for the messages.

    Examples
    --------
    >>> compare(np.array([1.0, 2.0]), [1.0, 2.0]).passed
    True
    >>> compare(np.zeros((2, 3)), np.zeros((2, 4))).message  # doctest: +ELLIPSIS
    'shape mismatch: expected (2, 3), got (2, 4). Only axis 1 differs (3 vs 4): ...'
    """
    if kind == "answer":
        return compare_answer(expected, received)
    if isinstance(expected, tuple):
        return _compare_tuple(expected, received, kind, atol, names)
    if kind == "exact" and isinstance(expected, numbers.Integral):
        return _compare_int(int(expected), received)
    return _compare_array(expected, received, atol)


# ----------------------------------------------------------------------------- question answers


def _choices(value: Any) -> frozenset[str] | None:
    """A multiple-choice answer as a set of upper-case letters: "ac", "A, C", ["A", "C"]."""
    if isinstance(value, str):
        parts = [c for c in value.upper() if c not in " ,;"]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        parts = [c for v in value for c in v.upper() if c not in " ,;"]
    else:
        return None
    return frozenset(parts) if all(c.isalpha() and c.isascii() for c in parts) else None


def _integer(value: Any) -> int | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return None


def _integers(value: Any, n: int) -> tuple[int, ...] | None:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) != n:
        return None
    items = tuple(_integer(v) for v in value)
    return None if None in items else items


def _answer_form(expected: Any) -> str:
    if isinstance(expected, str):
        return "a string of the letters you choose, e.g. \"AC\""
    if isinstance(expected, tuple):
        return f"a tuple of {len(expected)} ints"
    return "an int"


def compare_answer(expected: Any, received: Any) -> Comparison:
    """Compare a self-test answer without revealing the expected one.

    `expected` is an int, a tuple of ints, or a string of the right letters of
    a multiple-choice question (order, case, spaces and commas do not matter).
    The verdict's message and details never contain `expected`.

    Examples
    --------
    >>> compare_answer("ACD", "d, a, c").passed
    True
    >>> compare_answer((4, 1, 2), [4, 1, 2]).passed
    True
    >>> "7" in compare_answer(7, 8).message
    False
    """
    if isinstance(expected, str):
        got, right = _choices(received), _choices(expected)
    elif isinstance(expected, tuple):
        got, right = _integers(received, len(expected)), expected
    else:
        got, right = _integer(received), int(expected)
    details = {"received": summarize(received)}
    if got is None:
        return Comparison(False, "type", f"Answer with {_answer_form(expected)}; got "
                          f"{_describe(received)}.", details=details)
    if got != right:
        shown = "".join(sorted(got)) if isinstance(got, frozenset) else got
        return Comparison(False, "values", f"{shown!r} is not the right answer. Re-read the "
                          "section above the question and try again.", details=details)
    return Comparison(True)
