"""Typed results of grading: SubmissionResult -> ProblemResult -> CaseResult.

Everything here is plain data, produced in the grader's own process and
written to ``results/<student>/<assignment>.json`` with ``to_dict()``.
``from_dict`` reads it back, so a resumed batch can reuse finished work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# Texts that can come from student code (exception messages, tracebacks, cell
# errors, notes quoting them) are cut to these sizes, with a note saying so.
TEXT_LIMIT = 2000  # one message, note or error
DETAIL_TEXT_LIMIT = 5000  # one string of a case's details (a traceback)
NOTES_LIMIT = 50  # notes kept per submission

# Case statuses, from best to worst. "ok" means the function returned; whether
# the value was right is `passed`.
STATUSES = (
    "ok",  # returned a value (compared: see `passed`)
    "raised",  # raised an exception (may be the expected ValueError)
    "not_implemented",  # raised NotImplementedError (the release stub)
    "missing",  # the function is not defined in the notebook
    "timeout",  # exceeded the wall-clock or CPU limit
    "crashed",  # the process died: segfault, os._exit, sys.exit, out of memory
    "forbidden",  # called a library convolution or another forbidden function
    "invalid_output",  # returned something that is not plain array data, or too large
    "not_run",  # never called: the run had already ended (a time limit, a crash)
)


@dataclass
class CaseResult:
    """The verdict on one case of one graded function.

    Attributes
    ----------
    name : str
        Human-readable case name, e.g. ``"worked example: [1,2,3,4] with [1,0,-1]"``.
    passed : bool
    score, max_score : float
    status : str
        One of `STATUSES`.
    message : str
        One-paragraph explanation for the student (empty when passed).
    diagnosis : str or None
        The name of a recognised mistake, e.g. ``"flipped_kernel"``.
    hint : str
        Plain-words hint that goes with the diagnosis.
    details : dict
        JSON-able evidence for feedback: inputs summary, expected and received
        type/shape/values, mismatch counts, first differing index...
    public : bool
        Whether the case is one of the public cases `check()` runs.
    seconds : float
        Time the student's function took on this case.
    """

    name: str
    passed: bool
    score: float
    max_score: float
    status: str = "ok"
    message: str = ""
    diagnosis: str | None = None
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    public: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseResult:
        return cls(**d)


@dataclass
class ProblemResult:
    """All cases of one graded function."""

    name: str
    score: float
    max_score: float
    flags: list[str] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "flags": list(self.flags),
            "cases": [c.to_dict() for c in self.cases],
        }

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> ProblemResult:
        return cls(
            name=name,
            score=d["score"],
            max_score=d["max_score"],
            flags=list(d.get("flags", [])),
            cases=[CaseResult.from_dict(c) for c in d.get("cases", [])],
        )


@dataclass
class SubmissionResult:
    """One student's notebook for one assignment.

    Attributes
    ----------
    student, assignment : str
    score, max_score : float
    error : str or None
        Why the submission could not be graded at all (invalid JSON, ...);
        the score is then 0.
    flags : list of str
        For the TA's attention: ``"forbidden_call"``, ``"tampered_cells"``,
        ``"crashed"``, ``"timeout"``, ``"shell_escape"``, ``"late"``, ...
    problems : dict of str to ProblemResult
    notes : list of str
        Plain sentences for the feedback (e.g. "`!pip install ...` was not run").
    source : str
        Path of the graded file as given to the grader.
    sha256 : str
        Hash of the submitted file's bytes (part of `cache_key`).
    seed : int
        The grading seed, in memory only: `to_dict` leaves it out, so that no file
        under the output folder holds the secret (`cache_key` still depends on it).
    grader_version : str
    seconds : float
    isolation : str
        How well the student's code was isolated, e.g. ``"bwrap+uid+rlimits+nnp+seccomp"``
        (`autograder.execution.pool.isolation_level`); empty when no code ran.
    cache_key : str
        Hash of everything the verdict depends on (`autograder.grade.cache_key`):
        a later batch reuses this result only when its key is the same.
    name : str
        The student's name for display, as the path or LMS spelled it.
    origin : str
        ``"canvas"`` or ``"moodle"`` when `student` is that LMS's number for
        the student (Canvas's user id, Moodle's participant id); else empty.
    """

    student: str
    assignment: str
    score: float
    max_score: float
    error: str | None = None
    flags: list[str] = field(default_factory=list)
    problems: dict[str, ProblemResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = ""
    sha256: str = ""
    seed: int = 0
    grader_version: str = ""
    seconds: float = 0.0
    isolation: str = ""
    cache_key: str = ""
    name: str = ""
    origin: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("problems", "seed")}
        d["problems"] = {name: p.to_dict() for name, p in self.problems.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubmissionResult:
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"SubmissionResult.from_dict: schema_version {d.get('schema_version')!r}, "
                f"expected {SCHEMA_VERSION}"
            )
        fields = {k: v for k, v in d.items() if k not in ("problems", "seed")}
        problems = {n: ProblemResult.from_dict(n, p) for n, p in d.get("problems", {}).items()}
        return cls(**fields, problems=problems)


def cut(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text`, or its first `limit` characters and a note of how many more were cut.

    >>> cut("abcdef", 3)
    'abc [... 3 more characters cut]'
    """
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return f"{text[:limit]} [... {len(text) - limit:,} more characters cut]"


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return cut(value, limit)
    if isinstance(value, list):
        return [_cut_strings(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: _cut_strings(v, limit) for k, v in value.items()}
    return value


def bounded(result: SubmissionResult) -> SubmissionResult:
    """Cut every text of `result` to its limit, in place (and return it).

    What student code can make arbitrarily long (an error, notes, a case's
    message and details) stays readable in the results JSON, ``grades.csv``
    and the feedback.
    """
    if result.error:
        result.error = cut(result.error)
    notes = [cut(n) for n in result.notes]
    if len(notes) > NOTES_LIMIT:
        notes = notes[:NOTES_LIMIT] + [f"[... {len(notes) - NOTES_LIMIT:,} more notes cut]"]
    result.notes = notes
    for problem in result.problems.values():
        for case in problem.cases:
            case.message = cut(case.message)
            case.hint = cut(case.hint)
            case.details = _cut_strings(case.details, DETAIL_TEXT_LIMIT)
    return result
