"""Judge the parameters `train_digits` returned: the grader runs the network itself.

Runs in the grader's process (or in the notebook for `check()`). The returned
value is read as plain data only: a dict whose keys are exactly the catalog's
parameter names (`autograder.catalog.DIGITS_PARAMETERS`), each an ndarray of
real numbers of exactly its shape, every entry finite. Only then does
`conv_ref.cnn.predict` run the network on the held-out images, which never
left this process, and the accuracy decides.

Labels, a function, the training data, weights of another network: each is
refused with a sentence that says what was expected, per layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.catalog import DIGITS_PARAMETERS
from autograder.scoring.compare import Comparison
from autograder.scoring.compare import _describe as describe_value

_MISSING = object()
_SHOWN_EXTRA = 6  # unexpected keys named in a message
REAL_KINDS = "iuf"  # integer, unsigned or floating entries; bool and complex are refused


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


def _layer(name: str, expected: tuple[int, ...], value: Any) -> dict[str, Any]:
    """One parameter's check: its expected and received shape, and what is wrong with it."""
    row: dict[str, Any] = {"name": name, "expected": list(expected), "received": None,
                           "ok": False, "problem": ""}
    if value is _MISSING:
        row["problem"] = "missing"
        return row
    if not isinstance(value, np.ndarray):
        kind = type(value).__name__
        row["problem"] = f"a {kind}, not an ndarray"
        if isinstance(value, (list, tuple)):
            row["problem"] += " (wrap it in np.asarray)"
        return row
    row["received"] = list(value.shape)
    if value.dtype.kind not in REAL_KINDS:
        row["problem"] = f"dtype {value.dtype}, not real numbers"
    elif value.shape != expected:
        row["problem"] = f"shape {_shape(value.shape)}, expected {_shape(expected)}"
    elif not np.isfinite(value).all():
        bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        row["problem"] = f"{bad} of {value.size} entries are NaN or infinite"
    else:
        row["ok"] = True
    return row


def check_parameters(received: Any, shapes: dict[str, tuple[int, ...]] = DIGITS_PARAMETERS
                     ) -> tuple[list[dict[str, Any]], str]:
    """Every parameter's check, and a message when any fails ("" when all pass).

    Parameters
    ----------
    received : Any
        What `train_digits` returned.
    shapes : dict of str to tuple of int
        The parameters the network needs, by name.

    Returns
    -------
    layers : list of dict
        One per expected name, in order: ``name``, ``expected`` and
        ``received`` shapes (lists; ``received`` None when not an array),
        ``ok``, ``problem``.
    message : str

    Examples
    --------
    >>> layers, message = check_parameters({"w": np.zeros((2, 3))}, {"w": (2, 2)})
    >>> message
    'Parameters that do not fit the network: w: shape (2, 3), expected (2, 2).'
    """
    expected_names = ", ".join(f"{n} {_shape(s)}" for n, s in shapes.items())
    if not isinstance(received, dict):
        hint = ""
        if isinstance(received, np.ndarray) and received.ndim == 1:
            hint = (" It looks like predicted labels: return the trained parameters instead; "
                    "the grader runs the network on its own test images.")
        return [], (f"Expected a dict of the network's trained parameters ({expected_names}), "
                    f"got {_describe(received)}.{hint}")
    layers = [_layer(name, shape, received.get(name, _MISSING)) for name, shape in shapes.items()]
    missing = [row["name"] for row in layers if row["problem"] == "missing"]
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    problems += [f"{row['name']}: {row['problem']}" for row in layers
                 if not row["ok"] and row["name"] not in missing]
    extra = [k for k in received if k not in shapes]
    if extra:
        named = ", ".join(repr(k)[:40] for k in extra[:_SHOWN_EXTRA])
        more = f" and {len(extra) - _SHOWN_EXTRA} more" if len(extra) > _SHOWN_EXTRA else ""
        problems.append(f"keys the network does not have: {named}{more} "
                        f"(it has {', '.join(shapes)})")
    if not problems:
        return layers, ""
    return layers, "Parameters that do not fit the network: " + "; ".join(problems) + "."


def _describe(value: Any) -> str:
    """`compare`'s description of arrays and sequences; a hint for None; only the type else."""
    if value is None:
        return "None (did you forget the `return` statement?)"
    if isinstance(value, (np.ndarray, list, tuple)):
        return describe_value(value)
    return f"a {type(value).__name__}"


def compare_network(held_out, received: Any, threshold: float) -> Comparison:
    """Run the returned parameters on `held_out` and compare the accuracy with `threshold`.

    Parameters
    ----------
    held_out : HeldOut
        ``images``, ``labels`` and a ``description`` (`autograder.cases.backward.HeldOut`).
    received : Any
        What `train_digits` returned.
    threshold : float
        The accuracy that passes.

    Returns
    -------
    Comparison
        Stage ``"type"`` (not a dict), ``"shape"`` (a parameter missing, extra,
        misshapen, not real or not finite) or ``"values"`` (accuracy too low).
        Its details hold ``layers`` (every parameter's check) and, once the
        network ran, ``accuracy``, ``threshold`` and ``measured``, the
        sentence that says what was measured.
    """
    from conv_ref.cnn import predict  # here: the scoring package must load without it

    layers, problem = check_parameters(received)
    details: dict[str, Any] = {"layers": layers, "received": {"type": type(received).__name__}}
    if problem:
        return Comparison(False, "type" if not layers else "shape", problem, details=details)
    params = {name: np.asarray(received[name], dtype=np.float64) for name in DIGITS_PARAMETERS}
    with np.errstate(all="ignore"):  # huge weights overflow to inf scores: still a label each
        labels = predict(params, held_out.images)
    accuracy = float(np.mean(labels == held_out.labels))
    measured = (f"Accuracy {accuracy:.3f} on {held_out.description}; "
                f"{threshold:.2f} is needed.")
    details.update(accuracy=accuracy, threshold=threshold, measured=measured)
    if accuracy >= threshold:
        return Comparison(True, details=details)
    chance = " That is about chance (0.1): were the weights trained?" if accuracy < 0.2 else ""
    return Comparison(False, "values", measured + chance, details=details)
