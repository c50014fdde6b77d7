"""Turn what happened on a case (`CallOutcome`) into a verdict (`CaseResult`) and a score.

Used by official grading on outcomes from the sandbox, and by `check()` on
outcomes of in-process calls, so both give the same verdicts and messages.
Official grading also knows where each graded function is defined
(`Definition`): a call that ran out of time or crashed names that place.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from autograder.cases import Case
from autograder.cases._core import signature
from autograder.catalog import Problem
from autograder.execution.outcome import CallOutcome
from autograder.results import CaseResult, ProblemResult
from autograder.scoring.compare import Comparison, compare, summarize
from autograder.scoring.diagnose import diagnose
from autograder.scoring.network import compare_network
from autograder.scoring.rules import Cell, Violation, forbidden_message, violations

# Graded functions whose exercise says "return a new array (not a view of x)".
NEW_ARRAY = frozenset({"data_matrix"})

# Flags a problem's result carries for the TA when any of its cases had this status.
_FLAGGED = {"forbidden": "forbidden_call", "timeout": "timeout", "crashed": "crashed",
            "invalid_output": "invalid_output"}


# Statuses of a call that started and did not return: the place of its `def` is shown.
_STOPPED = ("timeout", "crashed")


@dataclass(frozen=True)
class Definition:
    """Where a graded function is defined in the notebook.

    Attributes
    ----------
    cell : int
        The cell's number as a student counts it (1-based, markdown cells included).
    line : int
        Line of the ``def`` in that cell (1-based).
    source : str
        The ``def`` line as written, e.g. ``"def corr1d(x, h):"``.
    """

    cell: int
    line: int
    source: str

    def details(self) -> dict:
        """The keys the feedback reads to show the place (`autograder.outputs.feedback.view`)."""
        return {"cell": self.cell, "line": self.line, "source": self.source}


def _inputs(case: Case) -> dict:
    names, _ = signature(case.problem)
    named = {**dict(zip(names, case.args, strict=False)), **case.kwargs}
    return {name: summarize(value, limit=64) for name, value in named.items()}


def _status_message(case: Case, outcome: CallOutcome, where: Definition | None = None) -> str:
    """The message for a call that did not return normally."""
    fn = f"`{case.problem}`"
    if where is not None and outcome.status in _STOPPED:
        fn += f" (cell {where.cell}, line {where.line})"
    limit = f"{case.timeout:g} s" if case.timeout else "the time limit"
    return {
        "not_implemented": f"{fn} is not implemented yet: replace `raise NotImplementedError` "
                           "with your code.",
        "missing": f"{fn} is not defined in the notebook: was its cell deleted, or the function "
                   "renamed?",
        # The sandbox's reason, when it gives one, says which limit stopped the run.
        "timeout": f"{fn} did not finish: {outcome.message or f'it took longer than {limit}'}.",
        "crashed": f"The process running {fn} died: "
                   f"{outcome.message or 'it stopped without saying why'}.",
        "forbidden": forbidden_message(case.problem, outcome.forbidden_call)
        if outcome.forbidden_call else f"{fn} called a function that is not allowed in graded "
                                       "code: write the computation with NumPy indexing.",
        "invalid_output": f"{fn} returned something that is not plain array data "
                          f"({outcome.message or 'unreadable'}). Return NumPy arrays or numbers.",
        # Never called: the message says what ended the run, and where.
        "not_run": f"{fn} was not run on this case: "
                   f"{outcome.message or 'the run ended before it'}.",
    }.get(outcome.status, f"{fn} did not return normally (status {outcome.status!r}).")


def _raised(case: Case, outcome: CallOutcome) -> tuple[bool, str]:
    """Verdict on a call that raised an exception other than NotImplementedError."""
    if case.kind == "raises":
        if outcome.exc_type == case.expected:
            return True, ""
        return False, (f"These arguments are invalid ({case.name}); expected {case.expected}, "
                       f"got {outcome.exc_type}: {outcome.message}. Check the arguments at the "
                       f"top of the function and raise {case.expected} with a message naming "
                       "the argument.")
    expected = ""
    if case.kind in ("exact", "allclose") and np.size(case.expected) <= 8:
        expected = f" These arguments are valid: the expected answer is {_short(case.expected)}."
    layout = ""
    if case.problem in ("conv_transpose1d", "conv_transpose2d"):
        layout = (" If you read the weight as `(C_out, C_in, ...)`: transposed-convolution "
                  "weights are `(C_in, C_out, ...)`, as PyTorch's, so `weight.shape[0]` is the "
                  "input's channel count.")
    return False, (f"Your function raised {outcome.exc_type}: {outcome.message}.{expected}"
                   f"{layout} Read the traceback from the bottom: the last line of your code it "
                   "shows is where it failed.")


def _short(value) -> str:
    """A small expected value as the student would type it."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, separator=", ")
    return repr(value.item() if isinstance(value, np.generic) else value)


# The comparison speaks of any convolution; these graded functions have no padding or stride.
_SIZE_FORMULA = "the output-size formula floor((n + 2*p - d*(k-1) - 1) / s) + 1"
_OWN_SIZE = {"corr1d": "the output size `len(x) - len(h) + 1` (no padding, stride 1)",
             "corr2d": "the output size `(H - kH + 1, W - kW + 1)` (no padding, stride 1)"}
_PADDING_HINT = " Only entries next to the border differ: look at how you pad."
# What each axis of a matrix-valued answer counts, where "the output-size formula" misleads.
_AXES = {"filter_matrix": ("the output length `L_out = (n + 2*p - len(h)) // stride + 1`",
                           "`n`: one column per entry of the unpadded input (padding adds none)"),
         "data_matrix": ("`k`: one row per kernel tap",
                         "the output length `L_out = (n + 2*p - k) // stride + 1`")}
_ONE_AXIS = re.compile(r"Only axis (\d+) differs \((\d+) vs (\d+)\): for a spatial axis.*?"
                       r"gives that size\.")


def _worded(case: Case, message: str) -> str:
    """The comparison's message with the hints that do not apply to this function reworded."""
    if case.problem in _OWN_SIZE:
        message = message.replace(_SIZE_FORMULA, _OWN_SIZE[case.problem])
    if "padding" not in signature(case.problem)[0]:
        message = message.replace(_PADDING_HINT, "")
    if case.problem in _AXES:
        def axis(match: re.Match) -> str:
            i = int(match.group(1))
            return (f"Only axis {i} differs ({match.group(2)} vs {match.group(3)}): axis {i} is "
                    f"{_AXES[case.problem][i]}.") if i < 2 else match.group(0)
        message = _ONE_AXIS.sub(axis, message)
    return message


def _returned(case: Case, outcome: CallOutcome) -> Comparison:
    """Verdict on a call that returned a value."""
    if case.kind == "raises":
        return Comparison(False, "status", (
            f"These arguments are invalid ({case.name}); expected {case.expected}, but your "
            f"function returned a value. Check the arguments at the top of the function and "
            f"raise {case.expected} with a message naming the argument."),
            details={"expected": {"type": "exception", "values": case.expected},
                     "received": summarize(outcome.value)})
    if case.kind == "network":
        return compare_network(case.expected, outcome.value, case.threshold)
    return compare(case.expected, outcome.value, kind=case.kind, atol=case.atol,
                   names=case.output_names)


def _side_effect(case: Case, outcome: CallOutcome) -> str:
    """Why a returned value is refused whatever it is: inputs modified, a view returned."""
    fn = f"`{case.problem}`"
    if outcome.mutated:
        names = ", ".join(f"`{n}`" for n in outcome.mutated)
        return (f"{fn} modified its input {names}: the caller's arrays must stay as they were. "
                "Work on a copy (`x = np.array(x, dtype=float)`) or build a new array.")
    if outcome.returned_view and case.problem in NEW_ARRAY:
        return (f"{fn} returned a view of its input (an array that shares its memory): the "
                "exercise asks for a new array. Add `.copy()` (or build the result with "
                "`np.zeros` and fill it).")
    return ""


def judge(case: Case, outcome: CallOutcome, points: float,
          where: Definition | None = None) -> CaseResult:
    """The verdict on one case.

    Parameters
    ----------
    case : Case
    outcome : CallOutcome
        What the student's function did on ``case.call()``.
    points : float
        This case's share of the problem's points.
    where : Definition, optional
        Where the function is defined; a call that timed out or crashed names
        it in its message and its details (``cell``, ``line``, ``source``).
    """
    result = CaseResult(name=case.name, passed=False, score=0.0, max_score=points,
                        status=outcome.status, public=case.public, seconds=outcome.seconds)
    details: dict = {"stage": "status", "inputs": _inputs(case)}
    side_effect = _side_effect(case, outcome) if outcome.status == "ok" else ""
    if side_effect:
        result.message = side_effect
        details["stage"] = "rule"
    elif outcome.status == "ok":
        verdict = _returned(case, outcome)
        result.passed = verdict.passed
        result.message = _worded(case, verdict.message)
        details.update(verdict.details, stage=verdict.stage or "values")
        if verdict.notes:
            details["notes"] = verdict.notes
        if not verdict.passed and verdict.stage in ("shape", "values", "type"):
            mistake = diagnose(case, outcome.value)
            if mistake is not None:
                result.diagnosis, result.hint = mistake.id, f"{mistake.title} {mistake.hint}"
    elif outcome.status == "raised":
        result.passed, result.message = _raised(case, outcome)
        details.update(stage="exception", exception={
            "type": outcome.exc_type, "message": outcome.message, "traceback": outcome.traceback})
        if case.kind in ("exact", "allclose"):
            details["expected"] = summarize(case.expected)
    else:
        result.message = _status_message(case, outcome, where)
        if where is not None and outcome.status in _STOPPED:
            details.update(where.details())
    if result.passed:
        result.score, result.message = points, ""
    result.details = details
    return result


def score_problem(problem: Problem, cases: list[Case], outcomes: list[CallOutcome],
                  where: Definition | None = None, cells: list | None = None) -> ProblemResult:
    """Judge every case of one problem; the points are split evenly over its cases.

    Outcomes are matched to cases by case name; a case without an outcome
    (the worker stopped before it) counts as crashed. `where` is passed to `judge`.
    With the notebook's `cells` (`autograder.intake.extract.SourceCell`), the static
    rules apply too (`autograder.scoring.rules`): a proven forbidden call or a
    forbidden loop in the function or its helpers scores it 0.
    """
    by_name = {o.case: o for o in outcomes}
    share = problem.points / len(cases) if cases else 0.0
    results = []
    for case in cases:
        outcome = by_name.get(case.name) or CallOutcome(
            problem.name, case.name, "crashed", message="no result came back for this case")
        results.append(judge(case, outcome, share, where))
    flags = sorted({_FLAGGED[r.status] for r in results if r.status in _FLAGGED})
    score = round(sum(r.score for r in results), 9)
    result = ProblemResult(problem.name, score, float(problem.points), flags, results)
    if cells is None:
        return result
    found = _violations(tuple((c.index, c.source) for c in cells), problem.assignment)
    return apply_violations(result, list(found.get(problem.name, ())))


@functools.lru_cache(maxsize=8)
def _violations(cells: tuple[tuple[int, str], ...], assignment: str) -> dict:
    # Cached: every problem of a submission asks about the same cells.
    return violations([Cell(i, s) for i, s in cells], assignment)


# A proven forbidden call is flagged for the TA like a run-time trip; a loop is only graded.
_RULE_FLAGS = {"forbidden_call": "forbidden_call"}


def apply_violations(result: ProblemResult, violations: list[Violation]) -> ProblemResult:
    """A problem's result with the static rules it breaks applied: 0 points, the reason shown.

    `violations` come from `autograder.scoring.rules` (a proven forbidden call, a loop
    the exercise forbids). Every case then fails with the first violation's
    message, whatever the call returned; the other violations are notes.
    """
    if not violations:
        return result
    first = violations[0]
    for case in result.cases:
        case.passed, case.score, case.message = False, 0.0, first.message
        case.diagnosis, case.hint = None, ""
        if first.rule == "forbidden_call":
            case.status = "forbidden"
        case.details = {**case.details, "stage": "rule",
                        "notes": [v.message for v in violations[1:]]}
    flags = sorted({*result.flags, *(_RULE_FLAGS[v.rule] for v in violations
                                     if v.rule in _RULE_FLAGS)})
    return ProblemResult(result.name, 0.0, result.max_score, flags, result.cases)
