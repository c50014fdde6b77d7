"""``summary.html``: the TA's view of a graded batch.

Per assignment: the score distribution (histogram), the pass rate of each
function (bar chart and table) and its most frequent recognised mistakes.
For the whole batch: the submissions that need a look (forbidden calls,
tampered cells, crashes, timeouts, notebooks that could not be graded) and the
slowest ones, each with a relative link to its feedback page.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from autograder import catalog
from autograder.outputs.feedback import words
from autograder.outputs.feedback.html import environment
from autograder.outputs.feedback.plots import data_uri, new_figure
from autograder.outputs.feedback.view import student_label
from autograder.outputs.feedback.write import feedback_path
from autograder.outputs.gradebook import atomic_write_text
from autograder.outputs.points import points
from autograder.results import SubmissionResult

SLOWEST = 10
MISTAKES_PER_FUNCTION = 3

# Case statuses that flag a submission even when the pipeline did not.
_STATUS_FLAGS = {"timeout": "timeout", "crashed": "crashed", "forbidden": "forbidden_call"}


@dataclass
class FunctionStats:
    """One graded function over the submissions of its assignment."""

    name: str
    passed: int
    total: int
    mean_score: str
    max_score: str
    mistakes: list[tuple[str, int]]

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class AssignmentStats:
    """One assignment: scores, plots and per-function statistics."""

    name: str
    count: int
    max_score: str
    mean: str
    median: str
    errors: int
    histogram: str
    pass_chart: str
    functions: list[FunctionStats]


@dataclass
class SubmissionLine:
    """A submission listed in the flagged or slowest table."""

    student: str
    assignment: str
    score: str
    max_score: str
    seconds: float
    labels: list[str]
    error: str
    link: str
    notes: list[str] = field(default_factory=list)  # where and why, for a flagged one


def submission_flags(result: SubmissionResult) -> list[str]:
    """All reasons to look at a submission: its flags, its functions' flags, bad statuses."""
    flags = list(result.flags)
    for problem in result.problems.values():
        flags += problem.flags
        flags += [_STATUS_FLAGS[c.status] for c in problem.cases if c.status in _STATUS_FLAGS]
    if result.error:
        flags.append("error")
    return list(dict.fromkeys(flags))


def write_summary(results: list[SubmissionResult], out_dir: Path,
                  notes: Sequence[str] = ()) -> Path:
    """Write ``out_dir/summary.html`` and return its path.

    Links to feedback are relative (``feedback/<student>/<assignment>.html``),
    so the folder can be moved or zipped as a whole. `notes` are the batch's
    identification notes (`autograder.intake.identify.Collected.notes`): files
    ignored for a newer one, id collisions, links refused.
    """
    path = Path(out_dir) / "summary.html"
    atomic_write_text(path, render_summary(results, notes))
    return path


def render_summary(results: list[SubmissionResult], notes: Sequence[str] = ()) -> str:
    """The summary page as a string."""
    order = {a: i for i, a in enumerate(catalog.ASSIGNMENTS)}
    names = sorted({r.assignment for r in results}, key=lambda a: (order.get(a, len(order)), a))
    flagged = [_line(r, submission_flags(r), r.notes) for r in results if submission_flags(r)]
    slowest = sorted(results, key=lambda r: r.seconds, reverse=True)[:SLOWEST]
    return environment().get_template("summary.html.j2").render(
        count=len(results),
        students=len({r.student for r in results}),
        assignments=[_assignment(a, [r for r in results if r.assignment == a]) for a in names],
        flagged=flagged,
        slowest=[_line(r, []) for r in slowest],
        isolation=sorted(Counter(r.isolation for r in results if r.isolation).items()),
        batch_notes=list(notes),
    )


def _line(result: SubmissionResult, flags: list[str], notes: list[str] = ()) -> SubmissionLine:
    rel = feedback_path(Path("."), result.student, result.assignment)
    return SubmissionLine(
        student=student_label(result),
        assignment=result.assignment,
        score=points(result.score),
        max_score=points(result.max_score),
        seconds=result.seconds,
        labels=[words.flag_label(f) for f in flags],
        error=result.error or "",
        link="/".join(quote(part) for part in rel.parts),
        notes=list(notes),
    )


def _assignment(name: str, results: list[SubmissionResult]) -> AssignmentStats:
    try:
        functions = [p.name for p in catalog.problems_for(name)]
        max_score = float(catalog.max_score(name))
    except ValueError:  # an assignment outside the catalog: use what was graded
        functions = list(dict.fromkeys(n for r in results for n in r.problems))
        max_score = max(r.max_score for r in results)
    scores = [r.score for r in results]
    stats = [_function(f, results) for f in functions]
    return AssignmentStats(
        name=name,
        count=len(results),
        max_score=points(max_score),
        mean=points(statistics.fmean(scores)),
        median=points(statistics.median(scores)),
        errors=sum(1 for r in results if r.error),
        histogram=_histogram(scores, max_score, name),
        pass_chart=_pass_chart(stats, name),
        functions=stats,
    )


def _function(name: str, results: list[SubmissionResult]) -> FunctionStats:
    graded = [r.problems[name] for r in results if name in r.problems]
    mistakes: Counter[str] = Counter()
    for problem in graded:
        # Once per submission: a mistake that fails five cases is still one student.
        mistakes.update({c.diagnosis for c in problem.cases if c.diagnosis and not c.passed})
    try:
        max_score = float(catalog.problem(name).points)
    except ValueError:  # outside the catalog: what the grader gave it
        max_score = max((p.max_score for p in graded), default=0.0)
    return FunctionStats(
        name=name,
        passed=sum(1 for p in graded if p.passed),
        total=len(results),
        mean_score=points(sum(p.score for p in graded) / len(results)),
        max_score=points(max_score),
        mistakes=[
            (words.mistake_title(m), n) for m, n in mistakes.most_common(MISTAKES_PER_FUNCTION)
        ],
    )


def _histogram(scores: list[float], max_score: float, title: str) -> str:
    fig = new_figure(4.5, 2.8)
    ax = fig.add_subplot()
    bins = np.linspace(0.0, max_score, min(20, max(1, round(max_score))) + 1)
    ax.hist(np.clip(scores, 0.0, max_score), bins=bins, color="#1a73e8", edgecolor="white")
    ax.set_xlim(0.0, max_score)
    ax.set_xlabel(f"score (out of {points(max_score)})")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{title}: score distribution", fontsize=10)
    return data_uri(fig)


def _pass_chart(stats: list[FunctionStats], title: str) -> str:
    fig = new_figure(4.5, 1.0 + 0.3 * max(1, len(stats)))
    ax = fig.add_subplot()
    rates = [100.0 * s.rate for s in stats]
    y = np.arange(len(stats))
    bars = ax.barh(y, rates, color=["#1e7b34" if r >= 50 else "#b3261e" for r in rates])
    ax.bar_label(bars, labels=[f"{r:.0f}%" for r in rates], padding=3, fontsize=8)
    ax.set_yticks(y, [s.name for s in stats], fontsize=8)
    ax.invert_yaxis()  # notebook order, top to bottom
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions passing every case (%)")
    ax.set_title(f"{title}: pass rate per function", fontsize=10)
    return data_uri(fig)
