"""Case generators: worked examples, random cases from a seed, edge and error cases.

``generate_cases(problem, seed, public=True)`` gives what `check()` runs in the
notebook (worked examples and a few random cases from `PUBLIC_SEED`);
``public=False`` is official grading: the same generators with the grader's
seed, plus edge cases, error cases and more random shapes. Cases are
deterministic given ``(problem, seed, public)``; expected values come from
`conv_ref` in the grader's process.

One module per assignment holds its generators and its known mistakes
(`autograder.scoring.diagnose` reads those).
"""

from __future__ import annotations

import importlib

from autograder import catalog
from autograder.cases._core import KINDS, Case, CaseSet, Mistake, rng_for

__all__ = ["KINDS", "PUBLIC_SEED", "Case", "Mistake", "generate_cases", "mistakes_for"]

PUBLIC_SEED: int = 20240401

# assignment -> modules whose GENERATORS and MISTAKES cover its problems
_MODULES = {
    "01_conv1d": ("conv1d", "lti", "questions"),
    "02_conv2d": ("conv2d", "questions"),
    "03_one_by_one": ("one_by_one", "architectures", "questions"),
    "04_toeplitz": ("toeplitz",),
    "05_equivariance": ("equivariance", "questions"),
    "06_variants": ("variants", "transposed", "pooling", "questions"),
    "07_backward": ("backward",),
    "08_fast_conv": ("fast_conv",),
}


def _module(problem: str):
    """The case module that holds a problem, imported on first use."""
    for name in _MODULES[catalog.problem(problem).assignment]:
        module = importlib.import_module(f"autograder.cases.{name}")
        if problem in module.GENERATORS:
            return module
    raise LookupError(f"generate_cases: no case generator for {problem!r}")


def generate_cases(problem: str, seed: int, public: bool) -> list[Case]:
    """All cases of one graded function.

    Parameters
    ----------
    problem : str
        A catalog name, e.g. ``"conv1d"``.
    seed : int
        `PUBLIC_SEED` for `check()`; the grader's secret seed for grading.
    public : bool
        True: the public cases only. False: the official set.

    Returns
    -------
    list of Case
        In a fixed order: worked examples, random cases, edge cases, error cases.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"generate_cases: seed expects a non-negative int, got {seed!r}")
    cases = CaseSet(problem, official=not public)
    _module(problem).GENERATORS[problem](cases, rng_for(problem, seed))
    return cases.cases


def mistakes_for(problem: str) -> list[Mistake]:
    """The known mistakes of one graded function (may be empty)."""
    return list(_module(problem).MISTAKES.get(problem, ()))
