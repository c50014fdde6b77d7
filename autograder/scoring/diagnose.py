"""Name the mistake a wrong answer matches.

Each graded function keeps a list of known mistakes next to its case
generators (``autograder/cases/<assignment>.py``): variants of the reference
with one misunderstanding built in. A wrong answer that equals a variant's
value on the case, at the same tolerance as the real comparison, is named; so
is one whose shape is the shape a mistake gives when its values cannot be
recomputed (`Mistake.shape`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.cases import Case, Mistake, mistakes_for
from autograder.scoring.compare import compare

# Variants recompute the reference on altered inputs; an alteration that makes
# no sense for a case (axes that cannot be swapped, ...) makes the reference
# reject it, which only means "not this mistake".
_NOT_APPLICABLE = (ValueError, TypeError, IndexError)

# A mistake -> the one named instead when both match: left-only padding that only drops
# the last position gives what a strided output cut short gives, and the hint of
# `missing_plus_one` names both causes.
_AMBIGUOUS = {"padding_left_only": "missing_plus_one"}


def _matches(case: Case, expected: Any, received: Any) -> bool:
    return compare(expected, received, kind=case.kind, atol=case.atol).passed


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape `value` has as an array; None for ragged sequences."""
    try:
        return np.shape(value)
    except ValueError:
        return None


def _value_matches(case: Case, mistake: Mistake, received: Any) -> bool:
    try:
        wrong = mistake.fn(case)
    except _NOT_APPLICABLE:
        return False
    # A variant that gives the right answer on this case proves nothing.
    if wrong is None or _matches(case, case.expected, wrong):
        return False
    return _matches(case, wrong, received)


def _shape_matches(case: Case, mistake: Mistake, received: Any) -> bool:
    if mistake.shape is None:
        return False
    try:
        wrong = mistake.shape(case)
    except _NOT_APPLICABLE:
        return False
    # Only a shape other than the right one tells the mistake apart.
    if wrong is None or tuple(wrong) == _shape(case.expected):
        return False
    return _shape(received) == tuple(wrong)


def diagnose(case: Case, received: Any) -> Mistake | None:
    """The first known mistake whose answer on `case` equals `received`.

    A mistake matches when its variant's value equals `received` or, for a
    mistake that declares one, when `received` has the wrong shape the mistake
    gives. Cases that expect an exception or a trained network have no variants.

    Parameters
    ----------
    case : Case
    received : Any
        What the student's function returned.

    Returns
    -------
    Mistake or None
    """
    if case.kind not in ("allclose", "exact", "answer"):
        return None
    known = mistakes_for(case.problem)
    for mistake in known:
        if _value_matches(case, mistake, received) or _shape_matches(case, mistake, received):
            other = next((m for m in known if m.id == _AMBIGUOUS.get(mistake.id)), None)
            if other is not None and _value_matches(case, other, received):
                return other
            return mistake
    return None
