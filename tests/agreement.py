"""Does a green `check()` mean the official grade agrees? Measured over many variants.

A *variant* is one answer to one graded function: a known mistake (every
entry of the diagnosis catalogue, plus the hand-written ones in
`tests/agreement_variants.py`) or a correct answer written another way
(loops, lists, other dtypes). Each runs twice, in this process:

- through `check()`, exactly as a notebook calls it (public cases, plus
  whatever rules `check()` enforces);
- through official grading: every case of ``generate_cases(name, seed,
  public=False)`` judged by `autograder.scoring.judge`, the call made with the
  tripwires installed, plus the static rules official grading applies to a
  notebook (`autograder.scoring.rules`, when present).

A variant *agrees* when both verdicts are the same. Run as a script to print
the numbers (``python tests/agreement.py``); `tests/test_agreement.py`
asserts them. The harness only uses interfaces that exist on older versions
too, so the same script measures the course before a change.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import inspect
import io
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder import catalog
from autograder.cases import Case, generate_cases, mistakes_for
from autograder.execution.outcome import CallOutcome
from autograder.scoring.judge import judge

check_module = importlib.import_module("autograder.check")
OFFICIAL_SEED = 987_654_321  # any seed other than the public one


@dataclass(frozen=True)
class Variant:
    """One answer to graded function `problem`; `correct` says which verdict it deserves."""

    problem: str
    name: str
    fn: Callable
    correct: bool


# ----------------------------------------------------------------------------- catalogue variants


def _key(args: tuple, kwargs: dict) -> str:
    """A digest of a call's inputs; a function argument counts by its value on the array input."""
    values = [*args, *(kwargs[k] for k in sorted(kwargs))]
    probe = next((v for v in values if isinstance(v, np.ndarray)), None)
    digest = hashlib.sha256()
    for value in values:
        if callable(value):
            value = np.asarray(value(probe.copy()))
        if isinstance(value, np.ndarray):
            digest.update(f"{value.shape}{value.dtype}".encode() + value.tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def catalogue_variant(problem: str, mistake) -> Variant:
    """The catalogue's `mistake` as a function: a table of its answers on every known case.

    The answers are computed here, before any check runs (they come from
    `conv_ref`, which graded code may not call); the function only looks its
    inputs up. Where the mistake cannot show on a case (its variant returns
    None) the function answers like a correct one.
    """
    table: dict[str, tuple[str, object]] = {}
    for public in (True, False):
        seed = _public_seed() if public else OFFICIAL_SEED
        for case in generate_cases(problem, seed, public=public):
            args, kwargs = case.materialize()
            key = _key(args, kwargs)
            if case.kind == "raises":
                table[key] = ("raise", case.expected)
                continue
            try:
                wrong = mistake.fn(case)
            except (ValueError, TypeError, IndexError):
                wrong = None
            table[key] = ("value", case.expected if wrong is None else wrong)

    return Variant(problem, f"catalogue: {mistake.id}", functools.partial(_look_up, table),
                   correct=False)


def _look_up(table: dict, *args, **kwargs):
    """The tabled answer to a call (given by `functools.partial`, whose source is not read:
    the table's own loops are not the answer's)."""
    how, value = table[_key(args, kwargs)]
    if how == "raise":
        raise ValueError("bad arguments")
    return value


def _public_seed() -> int:
    from autograder.cases import PUBLIC_SEED

    return PUBLIC_SEED


# ----------------------------------------------------------------------------- the two verdicts


def check_passes(variant: Variant) -> bool:
    """Whether `check()` accepts the variant (its output is swallowed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            check_module.check(variant.problem, variant.fn)
        except AssertionError:
            return False
    return True


def _official_call(case: Case, fn) -> CallOutcome:
    """`fn` on the case as the sandbox calls it: fresh inputs, the tripwires installed."""
    guard = getattr(check_module, "guarded_call", None)
    if guard is not None:
        return guard(case, fn)
    return _tripped_call(case, fn)


def _tripped_call(case: Case, fn) -> CallOutcome:
    """For versions without `guarded_call`: the call with the sandbox's tripwires around it."""
    from autograder.execution import tripwires

    patterns = [p for p in tripwires.DEFAULT_FORBIDDEN if p.split(".")[0] in sys.modules]
    sites = [(o, a, inspect.getattr_static(o, a), w) for o, a, w in tripwires.plan(patterns).sites]
    tripwires.TRIPPED.clear()
    try:
        for owner, attr, _, wire in sites:
            with contextlib.suppress(AttributeError, TypeError):
                setattr(owner, attr, wire)
        outcome = check_module._call(case, fn)
    except tripwires.ForbiddenCall:
        outcome = None
    finally:
        for owner, attr, original, _ in reversed(sites):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(owner, attr, original)
    if tripwires.TRIPPED or outcome is None:
        name = tripwires.TRIPPED[0] if tripwires.TRIPPED else "a forbidden function"
        return CallOutcome(case.problem, case.name, "forbidden", forbidden_call=name)
    return outcome


def _static_violations(variant: Variant) -> list:
    """What official grading's static rules say about the variant's source, if it has any."""
    if not (Path(check_module.__file__).parent / "scoring" / "rules.py").exists():
        return []  # older versions: no static rule costs points
    rules = importlib.import_module("autograder.scoring.rules")
    return rules.violations_of_function(variant.problem, variant.fn)


def official_passes(variant: Variant, seed: int = OFFICIAL_SEED) -> bool:
    """Whether official grading gives the variant full marks."""
    if _static_violations(variant):
        return False
    for case in generate_cases(variant.problem, seed, public=False):
        if not judge(case, _official_call(case, variant.fn), 1.0).passed:
            return False
    return True


# ----------------------------------------------------------------------------- the population


def all_variants() -> list[Variant]:
    """Every catalogue mistake of every graded function, then the hand-written variants."""
    variants = [catalogue_variant(p.name, mistake) for p in catalog.PROBLEMS
                for mistake in mistakes_for(p.name)]
    return variants + list(_sibling("agreement_variants").VARIANTS)


def _sibling(name: str):
    """A module next to this one, whether this one runs as ``tests.agreement`` or a script."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@dataclass(frozen=True)
class Verdict:
    variant: Variant
    check: bool
    official: bool

    @property
    def agrees(self) -> bool:
        return self.check == self.official

    @property
    def right(self) -> bool:
        """Both verdicts are the deserved one."""
        return self.check == self.official == self.variant.correct


def verdicts(variants: list[Variant]) -> list[Verdict]:
    return [Verdict(v, check_passes(v), official_passes(v)) for v in variants]


def report(results: list[Verdict]) -> str:
    agree = sum(r.agrees for r in results)
    right = sum(r.right for r in results)
    lines = [f"{len(results)} variants ({sum(not r.variant.correct for r in results)} mistakes, "
             f"{sum(r.variant.correct for r in results)} correct): check() agrees with official "
             f"grading on {agree} ({100 * agree / len(results):.1f}%); both verdicts right on "
             f"{right} ({100 * right / len(results):.1f}%)."]
    for r in results:
        if not r.right:
            lines.append(textwrap.shorten(
                f"  {r.variant.problem}: {r.variant.name}: check {'passes' if r.check else 'fails'}"
                f", official {'passes' if r.official else 'fails'}", 120))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(verdicts(all_variants())))
