"""The types every case module shares: `Case`, `Mistake` and the `CaseSet` builder.

A case is one call of a graded function with its expected answer. Expected
values are computed here, in the grader's own process, by the NumPy reference
`conv_ref`; only `Case.call()` (inputs, never the answer) crosses into the
student's process.
"""

from __future__ import annotations

import ast
import copy
import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import conv_ref
from autograder import catalog
from autograder.execution.functions import build_function
from autograder.execution.outcome import Call, FunctionSpec

# How `autograder.scoring.judge` compares a received value with `Case.expected`.
KINDS = (
    "allclose",  # numbers and arrays within a tolerance derived from the dtype and magnitudes
    "exact",  # integers (and tuples of integers): exact equality
    "raises",  # bad arguments: `expected` names the exception the function must raise
    "network",  # parameters: `expected` holds a held-out set, passes at `threshold` accuracy
    "answer",  # a self-test question: compared without the answer ever being shown
)


@dataclass(frozen=True)
class Case:
    """One call of a graded function and its expected answer.

    Attributes
    ----------
    problem : str
        The graded function's catalog name.
    name : str
        Human-readable and unique within the problem, e.g. ``"worked example: ..."``.
    args : tuple
    kwargs : dict
        The inputs, plain data only: arrays, numbers, strings, tuples, `FunctionSpec`.
    public : bool
        Whether `check()` runs this case in the student's notebook.
    expected : Any
        The reference answer. Never sent to the student's process.
    kind : str
        One of `KINDS`.
    timeout : float or None
        Seconds for this call; None means the execution layer's default.
    atol : float or None
        Absolute tolerance for answers that are approximate by nature (finite
        differences); None derives it from the dtype and the magnitudes.
    threshold : float
        The accuracy on the held-out set a ``"network"`` case needs.
    output_names : tuple of str
        Names of the items when the answer is a tuple, e.g. ``("dx", "dweight", "dbias")``.
    """

    problem: str
    name: str
    args: tuple
    kwargs: dict
    public: bool
    expected: Any
    kind: str = "allclose"
    timeout: float | None = None
    atol: float | None = None
    threshold: float = 0.95
    output_names: tuple[str, ...] = ()

    def call(self) -> Call:
        """The part of the case that crosses the sandbox boundary."""
        return Call(self.problem, self.name, self.args, dict(self.kwargs), self.timeout)

    def materialize(self) -> tuple[tuple, dict]:
        """Fresh copies of the inputs with every `FunctionSpec` built into a function.

        Copies, so that a function that writes into its inputs cannot change
        the case for the next call.
        """
        def build(value):
            if isinstance(value, FunctionSpec):
                return build_function(value)
            return copy.deepcopy(value)

        return tuple(build(a) for a in self.args), {k: build(v) for k, v in self.kwargs.items()}


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: what a common misunderstanding computes.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"flipped_kernel"`` (`CaseResult.diagnosis`).
    title : str
        What the received value equals, in plain words.
    hint : str
        What to look at to fix it.
    fn : callable
        ``fn(case) -> value``: the wrong answer on this case, or None when the
        mistake cannot be told apart on it (e.g. no padding to put on one side).
    shape : callable, optional
        ``shape(case) -> tuple``: the shape of the wrong answer, for cases on
        which `fn` cannot recompute its values but the shape alone shows the
        mistake (e.g. a weight read as ``(C_in, C_out, K)`` gives ``C_in``
        output channels); None when the shape does not tell.
    """

    id: str
    title: str
    hint: str
    fn: Callable[[Case], Any]
    shape: Callable[[Case], tuple[int, ...] | None] | None = None


def rng_for(problem: str, seed: int) -> np.random.Generator:
    """A generator that depends on the seed and the problem, stable across runs.

    `zlib.crc32` rather than `hash`, which Python randomises per process.
    """
    return np.random.default_rng([int(seed), zlib.crc32(problem.encode())])


def randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Standard-normal float64 values rounded to 3 decimals, so that they print short."""
    return np.round(rng.standard_normal(shape), 3)


def fixed(seed: int, *shape: int) -> np.ndarray:
    """Values like `randn`'s from a fixed seed: worked examples that are the same in every run.

    The public cases use them to exercise every argument and branch an
    exercise promises whatever the public seed draws.
    """
    return randn(np.random.default_rng(seed), *shape)


def reference(problem: str, args: tuple, kwargs: dict) -> Any:
    """The answer of `conv_ref`'s function of the same name, on copies of the inputs."""
    fn = getattr(conv_ref, problem)
    args, kwargs = Case(problem, "", args, kwargs, False, None).materialize()
    return fn(*args, **kwargs)


@dataclass
class CaseSet:
    """Collects one problem's cases; expected values come from `conv_ref`.

    ``official`` is the grading run (secret seed, edge cases, error cases);
    otherwise only the cases `check()` shows are built.
    """

    problem: str
    official: bool
    cases: list[Case] = field(default_factory=list)

    def n(self, public: int, official: int) -> int:
        """How many random cases to draw: few for `check()`, more for grading."""
        return official if self.official else public

    def example(self, name: str, args: tuple, kwargs: dict | None = None, **options) -> None:
        """A worked example from the course material: public in both runs."""
        self._add(name, args, kwargs or {}, public=True, **options)

    def random(self, name: str, args: tuple, kwargs: dict | None = None, **options) -> None:
        """A case drawn from the seed: public in `check()`, secret in grading."""
        self._add(name, args, kwargs or {}, public=not self.official, **options)

    def edge(self, name: str, args: tuple, kwargs: dict | None = None, **options) -> None:
        """A boundary case (kernel of size 1, batch of 1, large padding...): grading only."""
        if self.official:
            self._add(name, args, kwargs or {}, public=False, **options)

    def error(self, name: str, args: tuple, kwargs: dict | None = None,
              public: bool = False) -> None:
        """Bad arguments: the function must raise ValueError.

        ``public=True`` also shows it in `check()`, so students meet the
        requirement before grading.
        """
        if public or self.official:
            case = Case(self.problem, name, args, kwargs or {}, public, "ValueError", kind="raises")
            self.append(case)

    def _add(self, name: str, args: tuple, kwargs: dict, public: bool, **options) -> None:
        expected = reference(self.problem, args, kwargs)
        self.append(Case(self.problem, name, args, kwargs, public, expected, **options))

    def append(self, case: Case) -> None:
        """Add a case built by hand (its expected value not from `conv_ref`)."""
        if any(c.name == case.name for c in self.cases):
            raise ValueError(f"CaseSet: duplicate case name {case.name!r} for {self.problem}")
        self.cases.append(case)


@functools.cache
def signature(problem: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Argument names and defaults of a graded function, read from the catalog."""
    node = ast.parse(f"def {catalog.problem(problem).signature}: pass").body[0].args
    names = tuple(a.arg for a in node.args)
    defaults = dict(zip(names[len(names) - len(node.defaults):],
                        (ast.literal_eval(d) for d in node.defaults), strict=True))
    return names, defaults


def bound(case: Case) -> dict[str, Any]:
    """Every argument of the case by name, defaults filled in."""
    names, defaults = signature(case.problem)
    return {**defaults, **dict(zip(names, case.args, strict=False)), **case.kwargs}


def rerun(case: Case, **changes) -> Any:
    """The reference answer with some arguments changed, e.g. ``rerun(case, stride=1)``."""
    names, defaults = signature(case.problem)
    values = {**bound(case), **changes}
    # Required arguments by position (the reference may name them differently,
    # e.g. `input`), the others by name (it may have extra ones in between).
    required = tuple(values[n] for n in names if n not in defaults)
    return reference(case.problem, required, {n: values[n] for n in defaults})
