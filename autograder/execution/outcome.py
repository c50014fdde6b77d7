"""What crosses the sandbox boundary, as plain data.

The grader sends `Call`s (a graded function's name and a case's inputs) into
the student's process and gets `CallOutcome`s back. Neither carries code or
expected values: arguments and results are arrays, numbers, strings, tuples,
lists, dicts of those, and `FunctionSpec`s (a named NumPy function rebuilt on
the other side by `autograder.execution.functions.build_function`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FunctionSpec:
    """A function argument given by name and parameters, never by code.

    Examples: ``FunctionSpec("circular_conv", {"w": w})`` for ``equivariance_gap``,
    ``FunctionSpec("weighted_square_sum", {"a": a})`` for ``numeric_gradient``.
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """Call graded function `problem` on one case's inputs."""

    problem: str
    case: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None  # seconds; None means the default per-call limit


@dataclass
class CallOutcome:
    """What happened when the student's function was called on one case.

    status is one of `autograder.results.STATUSES`. `value` is set only when
    status is "ok": the decoded return value, plain data only.
    """

    problem: str
    case: str
    status: str
    value: Any = None
    exc_type: str = ""
    message: str = ""
    traceback: str = ""
    seconds: float = 0.0
    forbidden_call: str = ""  # e.g. "numpy.convolve", when status is "forbidden"
    # The input arrays the call modified, by parameter name ("x", "weight[0]"; "arg 2" when the
    # function has no signature to name it by), in argument order.
    mutated: list[str] = field(default_factory=list)
    returned_view: bool = False  # an array it returned shares memory with an input array
