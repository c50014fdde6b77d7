"""Name the mistake a wrong answer matches.

Each graded function keeps a list of known mistakes next to its case
generators (``autograder/cases/<assignment>.py``): variants of the reference
with one misunderstanding built in. A wrong answer that equals a variant's
value on the case, at the same tolerance as the real comparison, is named.
"""

from __future__ import annotations

from typing import Any

from autograder.cases import Case, Mistake, mistakes_for
from autograder.compare import compare

# Variants recompute the reference on altered inputs; an alteration that makes
# no sense for a case (axes that cannot be swapped, ...) makes the reference
# reject it, which only means "not this mistake".
_NOT_APPLICABLE = (ValueError, TypeError, IndexError)


def _matches(case: Case, expected: Any, received: Any) -> bool:
    return compare(expected, received, kind=case.kind, atol=case.atol).passed


def diagnose(case: Case, received: Any) -> Mistake | None:
    """The first known mistake whose answer on `case` equals `received`.

    A variant that gives the right answer on this case proves nothing and is
    skipped. Cases that expect an exception or an accuracy have no variants.
    """
    if case.kind not in ("allclose", "exact"):
        return None
    for mistake in mistakes_for(case.problem):
        try:
            wrong = mistake.fn(case)
        except _NOT_APPLICABLE:
            continue
        if wrong is None or _matches(case, case.expected, wrong):
            continue
        if _matches(case, wrong, received):
            return mistake
    return None
