"""The view model behind every feedback format.

`build_view` turns a `SubmissionResult` into plain dataclasses of ready-to-print
strings: the score per function and, for each function, its FIRST failing case
in full (inputs, then type, shape and values, the recognised mistake, the
traceback or the place in the notebook) and the other failing cases by name and
verdict only. Showing one case in full is deliberate: the official grading
seed's other inputs stay private.

The engine's ``details`` may lack any key; every reader here has a default.
Besides the documented keys (``stage``, ``inputs``, ``expected``, ``received``,
``mismatch``, ``traceback``) it reads the optional ``cell``, ``line``, ``call``
(or ``forbidden_call``) and ``source`` keys that locate a timeout or a forbidden
call in the notebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autograder import catalog
from autograder.cases import mistakes_for
from autograder.outputs.feedback import words
from autograder.outputs.feedback.arrays import (
    Grid,
    as_array,
    build_grid,
    differs_mask,
    format_number,
    format_pair,
    format_values,
)
from autograder.outputs.points import points
from autograder.results import CaseResult, ProblemResult, SubmissionResult

STAGES = ("type", "shape", "values")
# Statuses that say the same about every case: one line stands for all of them.
SAME_FOR_EVERY_CASE = ("not_implemented", "missing")
# Statuses whose short lines are merged in "Other failing cases" (the case names add nothing).
MERGED_IN_SHORT = ("not_implemented", "missing", "not_run", "forbidden")
# Places as the engine writes them: cells counted from 1, markdown cells included, which
# JupyterLab does not show. Feedback names the cell by the function it defines instead.
_CELL_LINE_IN = re.compile(r"\bcell (\d+), line (\d+) in `([^`]+)`")
_BARE_CELL = re.compile(r"\bcell (\d+)\b(?!,? line| \()")
_CRASH_NOTE = "The notebook's process died:"


@dataclass
class InputView:
    """One argument of a case: its values when small, its shape otherwise."""

    name: str
    text: str


@dataclass
class CheckView:
    """One comparison stage of a failing case.

    ``state`` is ``"ok"``, ``"failed"`` or ``"skipped"`` (not compared because an
    earlier stage failed).
    """

    stage: str
    state: str
    expected: str
    received: str


@dataclass
class CaseView:
    """A failing case, everything a student needs to reproduce and fix it."""

    name: str
    verdict: str
    status: str
    public: bool
    score: str
    max_score: str
    message: str
    mistake: str | None
    mistake_detail: str
    hint: str
    next_step: str
    inputs: list[InputView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    differences: str = ""
    tolerance: str = ""
    grid: Grid | None = None
    diff_map: list | None = None
    output_shape: list[int] | None = None
    item: str = ""
    notes: list[str] = field(default_factory=list)
    traceback: str = ""
    where: str = ""
    code: str = ""


@dataclass
class CaseLine:
    """A case summarised by name and verdict."""

    name: str
    verdict: str
    passed: bool
    public: bool
    count: int = 1  # cases this line stands for (merged lines say "3 other cases")


@dataclass
class ProblemView:
    """One graded function: score, first failing case, other failures."""

    name: str
    signature: str
    score: str
    max_score: str
    passed: bool
    n_cases: int
    n_passed: int
    flags: list[str]
    first_failure: CaseView | None
    other_failures: list[CaseLine]
    summary: str = ""  # one line for cases that all failed the same way, e.g. not implemented
    summary_next_step: str = ""
    # What the grader measured on cases that passed, e.g. a network's accuracy on held-out data.
    measured: list[str] = field(default_factory=list)

    @property
    def n_other_failures(self) -> int:
        return sum(c.count for c in self.other_failures)


@dataclass
class FeedbackView:
    """A whole submission."""

    student: str
    assignment: str
    score: str
    max_score: str
    percent: float
    error: str | None
    flags: list[str]
    notes: list[str]
    problems: list[ProblemView]


def shape_text(shape: Any) -> str:
    """A shape as Python prints a tuple.

    >>> shape_text([3, 4]), shape_text([5]), shape_text([])
    ('(3, 4)', '(5,)', '()')
    """
    if shape is None:
        return "unknown"
    return str(tuple(int(s) for s in shape))


def index_text(index: Any) -> str:
    """An index as the student would write it: ``[0, 2]``."""
    if isinstance(index, list | tuple):
        return "[" + ", ".join(str(i) for i in index) + "]"
    return f"[{index}]"


def student_label(result: SubmissionResult) -> str:
    """The student as shown: an LMS's number with the name it came with, ``smithjohn (12346)``."""
    if result.origin and result.name and result.name != result.student:
        return f"{result.name} ({result.student})"
    return result.student


def build_view(result: SubmissionResult) -> FeedbackView:
    """The view of one submission, functions in notebook order."""
    known = {p.name: i for i, p in enumerate(catalog.PROBLEMS)}
    names = sorted(result.problems, key=lambda n: (known.get(n, len(known)), n))
    return FeedbackView(
        student=student_label(result),
        assignment=result.assignment,
        score=points(result.score),
        max_score=points(result.max_score),
        percent=100.0 * result.score / result.max_score if result.max_score else 0.0,
        error=result.error,
        flags=[words.flag_sentence(f) for f in dict.fromkeys(result.flags)],
        notes=notes_view(result.notes),
        problems=[build_problem_view(result.problems[n]) for n in names],
    )


def build_problem_view(
    problem: ProblemResult, cases: list[CaseResult] | None = None
) -> ProblemView:
    """The view of one function, over all its cases or the given subset."""
    if cases is None:
        cases, score, max_score = problem.cases, problem.score, problem.max_score
    else:
        score, max_score = sum(c.score for c in cases), sum(c.max_score for c in cases)
    failing = [c for c in cases if not c.passed]
    try:
        signature = catalog.problem(problem.name).signature
    except ValueError:  # a function outside the catalog still gets its feedback
        signature = problem.name
    view = ProblemView(
        name=problem.name,
        signature=signature,
        score=points(score),
        max_score=points(max_score),
        passed=bool(cases) and not failing,
        n_cases=len(cases),
        n_passed=len(cases) - len(failing),
        flags=[words.flag_sentence(f) for f in problem.flags],
        first_failure=None,
        other_failures=[],
        measured=[str(c.details["measured"]) for c in cases
                  if c.passed and (c.details or {}).get("measured")],
    )
    statuses = {c.status for c in failing}
    if len(statuses) == 1 and failing[0].status in SAME_FOR_EVERY_CASE:
        every = "all" if len(failing) == len(cases) else f"{len(failing)} of"
        verdict = words.VERDICTS[failing[0].status].split(" (")[0]  # without its aside
        view.summary = f"{verdict} ({every} {len(cases)} cases)"
        view.summary_next_step = words.next_step(failing[0].status, None, failing[0].message)
        return view
    if failing:
        # A worked example (public in grading) that failed explains the most: show it first.
        first = next((c for c in failing if c.public), failing[0])
        view.first_failure = build_case_view(first, problem.name)
        view.other_failures = short_lines([c for c in failing if c is not first])
    return view


def short_lines(cases: list[CaseResult]) -> list[CaseLine]:
    """One line per case, but one line for all cases that failed the same uninformative way."""
    lines: list[CaseLine] = []
    merged: dict[tuple[str, str], CaseLine] = {}
    for c in cases:
        verdict = _verdict(c)
        key = (c.status, verdict)
        if c.status in MERGED_IN_SHORT and key in merged:
            merged[key].count += 1
            merged[key].name = f"{merged[key].count} cases"
            continue
        line = CaseLine(c.name, verdict, c.passed, c.public)
        if c.status in MERGED_IN_SHORT:
            merged[key] = line
        lines.append(line)
    return lines


def notes_view(notes: list[str]) -> list[str]:
    """The submission's notes, each said once, with cells named as a student finds them.

    A crash is told by "The notebook's process died: ..." and again, with what it
    cost, by "N of M cases were not run ...: the process died (...)": only the
    second is kept.

    >>> notes_view(["The notebook's process died: called os._exit(0) in cell 40.",
    ...             "3 of 5 cases were not run, and score 0: the process died (x)."])
    ['3 of 5 cases were not run, and score 0: the process died (x).']
    >>> notes_view(["Flagged for review: cell 33, line 7 in `conv1d`: `torch.conv1d`"])
    ['Flagged for review: line 7 of the cell that defines `conv1d`: `torch.conv1d`']
    """
    told_elsewhere = any("the process died" in n for n in notes)
    return [cell_words(n) for n in notes if not (told_elsewhere and n.startswith(_CRASH_NOTE))]


def cell_words(text: str) -> str:
    """Cells named by the function they define, or counted as a student counts them.

    >>> cell_words("cell 13, line 2 in `corr1d` calls x")
    'line 2 of the cell that defines `corr1d` calls x'
    >>> cell_words("called os._exit(0) in cell 40.")
    'called os._exit(0) in cell 40 (counting from the top, text cells included).'
    """
    text = _CELL_LINE_IN.sub(r"line \2 of the cell that defines `\3`", text)
    return _BARE_CELL.sub(r"cell \1 (counting from the top, text cells included)", text,
                          count=1)


def _stage(case: CaseResult) -> str | None:
    stage = case.details.get("stage")
    if stage or case.status != "ok":
        return stage
    expected, received = case.details.get("expected") or {}, case.details.get("received") or {}
    if expected.get("type") != received.get("type"):
        return "type"
    if expected.get("shape") != received.get("shape"):
        return "shape"
    return "values"


def _verdict(case: CaseResult) -> str:
    return words.verdict(case.status, _stage(case), case.passed)


def mistake_detail(problem: str, diagnosis: str) -> str:
    """What a recognised mistake computes, in the engine's words.

    "" when the id is unknown, or names several variants of the function (a
    case result carries only the id, and the wrong sentence would mislead).
    """
    try:
        known = mistakes_for(problem)
    except (ValueError, ImportError):
        # Results read back from disk may name functions or case modules this
        # grader no longer has; the short name of the mistake still shows.
        return ""
    titles = {m.title for m in known if m.id == diagnosis}
    return titles.pop() if len(titles) == 1 else ""


def build_case_view(case: CaseResult, problem: str = "") -> CaseView:
    """Everything shown about one failing case of the function `problem`."""
    details = case.details or {}
    stage = _stage(case)
    expected, received = details.get("expected") or {}, details.get("received") or {}
    detail = mistake_detail(problem, case.diagnosis) if case.diagnosis else ""
    exception = details.get("exception") or {}
    view = CaseView(
        name=case.name,
        verdict=_verdict(case),
        status=case.status,
        public=case.public,
        score=points(case.score),
        max_score=points(case.max_score),
        message=_without_cell_number(case.message, details),
        mistake=words.mistake_title(case.diagnosis) if case.diagnosis else None,
        mistake_detail=detail,
        hint=case.hint,
        # The engine's hint starts with the mistake's sentence, shown above it already.
        next_step=(case.hint.removeprefix(detail).strip()
                   or words.next_step(case.status, stage, case.message)),
        inputs=[InputView(n, describe(v)) for n, v in _in_call_order(problem, details)],
        item=str(details.get("item") or ""),
        notes=[str(n) for n in details.get("notes") or []],
        traceback=str(exception.get("traceback") or details.get("traceback") or ""),
        where=_where(details, problem),
        code=str(details.get("source") or ""),
    )
    if case.status == "ok" and isinstance(details.get("layers"), list):
        view.checks = _layer_checks(details["layers"])
    elif case.status == "ok" and stage in STAGES:
        view.checks = _checks(stage, expected, received)
    if stage == "values":
        _add_values(view, details)
    return view


def _in_call_order(problem: str, details: dict[str, Any]) -> list[tuple[str, Any]]:
    """The case's inputs in the order of the function's signature (JSON may sort them)."""
    inputs = details.get("inputs") or {}
    try:
        sig = catalog.problem(problem).signature
    except ValueError:
        return list(inputs.items())
    params = [p.split("=")[0].strip() for p in sig[sig.index("(") + 1 : -1].split(",")]
    rank = {name: i for i, name in enumerate(params)}
    return sorted(inputs.items(), key=lambda kv: rank.get(kv[0], len(rank)))


def describe(record: Any) -> str:
    """An input as the engine summarised it: values when sent, else shape and dtype.

    >>> describe({"type": "ndarray", "shape": [4], "dtype": "int64", "values": [1, 2, 3, 4]})
    '[1, 2, 3, 4] (shape (4,), int64)'
    >>> describe({"type": "ndarray", "shape": [3, 32, 32], "dtype": "float64", "values": None})
    'shape (3, 32, 32), float64'
    >>> describe({"type": "tuple", "length": 2, "items": [{"type": "int", "shape": [],
    ...           "values": 3}, {"type": "NoneType", "values": None}]})
    '(3, None)'
    """
    if not isinstance(record, dict):
        return format_values(record)
    kind, values, shape = record.get("type"), record.get("values"), record.get("shape")
    if kind == "function":
        params = record.get("params") or {}
        return f"{values}(" + ", ".join(f"{k}={describe(v)}" for k, v in params.items()) + ")"
    if "items" in record:
        items = [describe(v) for v in record["items"]]
        if record.get("length", len(items)) > len(items):
            items.append("...")
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind == "NoneType":
        return "None"
    if shape == [] or (values is not None and not shape):  # a number or a string
        return format_values(values)
    described = ", ".join(s for s in (f"shape {shape_text(shape)}", record.get("dtype")) if s)
    return f"{format_values(values)} ({described})" if values is not None else described


def _where(details: dict[str, Any], problem: str = "") -> str:
    """The place of a call: the line of the cell that defines the function.

    >>> _where({"cell": 33, "line": 1, "source": "def conv1d(x):"}, "conv1d")
    'line 1 of the cell that defines `conv1d`'
    >>> _where({"cell": 33, "line": 7, "call": "np.convolve"}, "")
    'call to np.convolve, cell 33 (counting from the top, text cells included), line 7'
    """
    call = details.get("call") or details.get("forbidden_call")
    cell, line = details.get("cell"), details.get("line")
    if cell is not None and problem:
        place = f"line {line} of the cell that defines `{problem}`" if line is not None \
            else f"the cell that defines `{problem}`"
        return f"call to {call}, {place}" if call else place
    parts = [
        f"call to {call}" if call else "",
        cell_words(f"cell {cell}") if cell is not None else "",
        f"line {line}" if line is not None else "",
    ]
    return ", ".join(p for p in parts if p)


def _without_cell_number(message: str, details: dict[str, Any]) -> str:
    """The engine's message without its "(cell 33, line 1)": `where` names the place.

    Other cells it names (one that is not a function's) are counted as a student counts.
    """
    cell, line = details.get("cell"), details.get("line")
    if cell is not None:
        message = message.replace(f" (cell {cell}, line {line})", "").replace(f" (cell {cell})", "")
    return cell_words(message)


def _kind(side: dict[str, Any]) -> str:
    """``ndarray of float64``; a plain number is just its type (``int``, not ``int of int``)."""
    kind = str(side.get("type") or "unknown")
    dtype = side.get("dtype")
    return f"{kind} of {dtype}" if dtype and dtype != kind else kind


def _checks(stage: str, expected: dict, received: dict) -> list[CheckView]:
    failed_at = STAGES.index(stage)
    rows = [
        ("type", _kind(expected), _kind(received)),
        ("shape", shape_text(expected.get("shape")), shape_text(received.get("shape"))),
        ("values", _brief(expected), _brief(received)),
    ]
    return [
        CheckView(name, "ok" if i < failed_at else "failed" if i == failed_at else "skipped", e, r)
        for i, (name, e, r) in enumerate(rows)
    ]


def _layer_checks(layers: list) -> list[CheckView]:
    """One row per parameter of a returned network: its expected and received shape.

    >>> [(k.stage, k.state, k.received) for k in _layer_checks([{"name": "w1", "expected":
    ...     [16, 1, 3, 3], "received": [16, 3, 3], "ok": False, "problem": "shape (16, 3, 3)"}])]
    [('parameter w1 shape', 'failed', '(16, 3, 3)')]
    """
    rows = []
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        received = layer.get("received")
        shown = shape_text(received) if received is not None else str(layer.get("problem", ""))
        rows.append(CheckView(f"parameter {layer.get('name', '?')} shape",
                              "ok" if layer.get("ok") else "failed",
                              shape_text(layer.get("expected")), shown))
    return rows


def _brief(side: dict[str, Any]) -> str:
    if side.get("values") is None:
        return ""  # too large to send: the values stage shows counts and a map instead
    return format_values(side["values"], max_chars=80)


def _add_values(view: CaseView, details: dict) -> None:
    """The values stage: counts, largest differences, first index, grid or heatmap."""
    expected, received = details.get("expected") or {}, details.get("received") or {}
    mismatch = details.get("mismatch") or {}
    exp_arr, rec_arr = as_array(expected), as_array(received)
    sentences = []
    counted = f"{mismatch.get('count')} of {mismatch.get('total')} entries differ"
    relative = mismatch.get("max_rel")
    if view.message.startswith(counted):
        # The engine's message already gives the count, the first entry and the
        # largest difference; only the relative difference is new.
        if relative is not None:
            sentences.append(f"Largest relative difference {format_number(relative)}.")
    else:
        sentences += _counts(mismatch, exp_arr, rec_arr)
    measured = str(details.get("measured") or "")
    if measured and not view.message.startswith(measured):
        sentences.append(measured)
    view.differences = " ".join(sentences)
    if "atol" in mismatch and "rtol" in mismatch:
        view.tolerance = (
            "Entries count as equal when `|received - expected| <= atol + rtol * |expected|` "
            f"(atol={format_number(mismatch['atol'])}, rtol={format_number(mismatch['rtol'])})."
        )
    if exp_arr is not None and rec_arr is not None:
        view.grid = build_grid(exp_arr, rec_arr, differs_mask(exp_arr, rec_arr, mismatch))
    if view.grid is None and mismatch.get("abs_diff_map") is not None:
        view.diff_map = mismatch["abs_diff_map"]
        view.output_shape = expected.get("shape")


def _counts(mismatch: dict, expected, received) -> list[str]:
    """How many entries differ, by how much, and the first one."""
    sentences = []
    if "count" in mismatch and "total" in mismatch:
        sentences.append(f"{mismatch['count']} of {mismatch['total']} entries differ.")
    if "max_abs" in mismatch:
        largest = f"Largest absolute difference {format_number(mismatch['max_abs'])}"
        if mismatch.get("max_rel") is not None:
            largest += f", largest relative difference {format_number(mismatch['max_rel'])}"
        sentences.append(largest + ".")
    first = mismatch.get("first_index")
    if first:  # a single number has no index: its check row shows both values
        at = _entry_pair(expected, received, first)
        sentences.append(f"First differing entry at index {index_text(first)}"
                         + (f": expected {at[0]}, received {at[1]}." if at else "."))
    return sentences


def _entry_pair(expected, received, index) -> tuple[str, str] | None:
    idx = tuple(index) if isinstance(index, list | tuple) else (index,)
    if expected is None or received is None or expected.shape != received.shape:
        return None
    try:
        return format_pair(expected[idx].item(), received[idx].item())
    except (IndexError, TypeError, ValueError):
        return None
