"""Grade submissions: one notebook, or a whole batch into an output folder.

One submission goes through the steps in order, each a module with a typed
result: `notebook` (load, validate), `integrity` (locked cells), `extract`
(plain Python cells), `scan` (forbidden names), then the sandbox (`pool`)
runs the cells and one call per case, and `judge` scores the outcomes in this
process against `cases` (expected values from `conv_ref`).

The grading seed is, in order: the ``seed`` argument (``--seed``), the
environment variable ``AUTOGRADER_SEED``, or ``grading_seed`` in
``autograder.toml`` at the course root::

    # autograder.toml (keep it out of the student release)
    grading_seed = 81723

It is recorded in every result, so a regrade gives the same numbers.

The warm workers take seconds to start (PyTorch, Matplotlib), so
`grade` starts them as soon as it knows how many submissions need running,
before it loads any notebook; the notebook steps, whose libraries (nbformat,
nbgrader, IPython) take seconds to import too, are imported on first use, so
that importing them and preparing the notebooks happen while the workers boot.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import catalog
from autograder.cases import PUBLIC_SEED, Case, generate_cases
from autograder.execution.outcome import Call, CallOutcome
from autograder.execution.pool import SandboxError, WorkerPool
from autograder.execution.run import Cell, CellRun, RunOutcome
from autograder.execution.sandbox import Limits, resolve_sandbox
from autograder.execution.tripwires import forbidden_for
from autograder.intake.identify import UNKNOWN_ASSIGNMENT, Submission, collect, collect_batch
from autograder.intake.scan import UNPARSABLE
from autograder.outputs.gradebook import Gradebook
from autograder.results import ProblemResult, SubmissionResult, bounded, cut
from autograder.scoring.judge import Definition, score_problem

if TYPE_CHECKING:
    from autograder.intake.extract import SourceCell
    from autograder.intake.notebook import LoadedNotebook
    from autograder.intake.scan import Finding
    from autograder.outputs.platforms.canvas import CanvasOptions

COURSE_ROOT = Path(__file__).resolve().parents[1]
CONFIG_NAME = "autograder.toml"
SEED_ENV = "AUTOGRADER_SEED"

log = logging.getLogger("autograder")

Progress = Callable[[int, int, SubmissionResult], None]

# A fault (a hang, a crash, a corrupt result channel) ends the run of a
# submission; the calls it left are run again in a fresh child, the cells
# replayed. At most this many runs per submission:
MAX_RUNS = 20
# A function that ran out of time on this many cases is not called again: a
# loop that never ends on one case rarely ends on the next, and each try costs
# a time limit. (A crash costs a fresh process only: each case gets its try.)
MAX_TIMEOUTS_PER_FUNCTION = 2
# Flag of a result the grader (not the student) could not produce: never reused.
GRADER_ERROR = "grader_error"


@dataclass
class Prepared:
    """A submission after the static steps: ready to run, or already decided.

    Attributes
    ----------
    result : SubmissionResult
        Filled with flags, notes and (for an unusable notebook) the error.
    cells : list of SourceCell
        The code to run; empty when `result.error` is set.
    findings : list of Finding
        Forbidden names the scan found.
    """

    result: SubmissionResult
    cells: list[SourceCell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def resolve_seed(seed: int | None = None, course_root: Path = COURSE_ROOT) -> int:
    """The grading seed: the argument, else ``$AUTOGRADER_SEED``, else ``autograder.toml``.

    Raises
    ------
    ValueError
        When none of them gives an integer.
    """
    if seed is not None:
        return int(seed)
    if os.environ.get(SEED_ENV):
        try:
            return int(os.environ[SEED_ENV])
        except ValueError:
            raise ValueError(
                f"resolve_seed: {SEED_ENV}={os.environ[SEED_ENV]!r} is not an integer"
            ) from None
    config = course_root / CONFIG_NAME
    if config.is_file():
        value = tomllib.loads(config.read_text(encoding="utf-8")).get("grading_seed")
        if isinstance(value, int):
            return value
        raise ValueError(
            f"resolve_seed: grading_seed in {config} is {value!r}, expected an integer"
        )
    raise ValueError(
        f"resolve_seed: no grading seed; pass --seed, set {SEED_ENV}, "
        f"or put grading_seed = <integer> in {config}"
    )


def grader_version() -> str:
    """Package version plus a hash of the grader's and the reference's sources.

    Part of the resume key: results computed by other code are never reused.
    """
    digest = hashlib.sha256()
    for package in ("autograder", "conv_ref"):
        for path in sorted((COURSE_ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(COURSE_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{metadata.version('conv-course')}+{digest.hexdigest()[:12]}"


def prepare(sub: Submission, seed: int, version: str, course_root: Path = COURSE_ROOT) -> Prepared:
    """Load, check integrity, extract and scan one submission (no student code runs).

    Whatever goes wrong on the way is this submission's `result.error`, never
    an exception: one notebook never stops a batch.
    """
    try:
        return _prepare(sub, seed, version, course_root)
    except Exception as exc:
        result = SubmissionResult(
            student=sub.student, assignment=sub.assignment, score=0.0,
            max_score=catalog.max_score(sub.assignment)
            if sub.assignment in catalog.ASSIGNMENTS else 0,
            flags=[*sub.flags, GRADER_ERROR], notes=list(sub.notes), source=sub.source,
            name=sub.name, origin=sub.origin,
            sha256=hashlib.sha256(sub.data).hexdigest(), seed=seed, grader_version=version,
            error=_failure("reading this notebook", exc))
        return Prepared(result)


def _failure(step: str, exc: BaseException) -> str:
    """The reason for a row when a step failed unexpectedly."""
    log.exception("the grader failed while %s", step)
    return cut(f"the grader failed while {step} ({type(exc).__name__}: {exc}); "
               "the TA has the details", 500)


def _prepare(sub: Submission, seed: int, version: str, course_root: Path) -> Prepared:
    from autograder.intake.extract import extract_code  # slow imports: see the module docstring
    from autograder.intake.integrity import check_integrity
    from autograder.intake.notebook import load_notebook
    from autograder.intake.scan import scan_cells

    assignment = sub.assignment
    max_score = catalog.max_score(assignment) if assignment in catalog.ASSIGNMENTS else 0
    loaded = load_notebook(sub.data) if sub.error is None else None
    result = SubmissionResult(
        student=sub.student, assignment=assignment, score=0.0, max_score=max_score,
        flags=list(sub.flags), notes=list(sub.notes), source=sub.source,
        name=sub.name, origin=sub.origin,
        sha256=loaded.sha256 if loaded else hashlib.sha256(sub.data).hexdigest(),
        seed=seed, grader_version=version,
    )
    prepared = Prepared(result)
    result.error = sub.error or (loaded.error if loaded else None)
    if result.error is None and assignment == UNKNOWN_ASSIGNMENT:
        result.error = "could not tell which assignment this notebook is for"
    if result.error is not None:
        return prepared
    nb = loaded.notebook
    release = _release(course_root / "notebooks" / assignment / f"{assignment}.ipynb")
    if release.notebook is not None:
        integrity = check_integrity(nb, release.notebook)
        if integrity.tampered:
            result.flags.append("tampered_cells")
            result.notes += integrity.notes()
    else:
        result.notes.append(f"read-only cells not checked: no release notebook ({release.error})")
    extracted = extract_code(nb)
    prepared.cells = extracted.cells
    result.notes += extracted.notes
    if extracted.shell_escapes:
        result.flags.append("shell_escape")
    prepared.findings = scan_cells(extracted.cells, assignment)
    for kind, flag in (("forbidden", "forbidden_call"), ("patch", "monkeypatch")):
        found = [f for f in prepared.findings if f.kind == kind]
        if found:
            result.flags.append(flag)
            result.notes += [f"Flagged for review: {f.describe()}." for f in found]
    return prepared


def _release(path: Path) -> LoadedNotebook:
    """The release notebook, read once per batch rather than once per submission."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _read_release(path, stamp)


@functools.lru_cache(maxsize=16)
def _read_release(path: Path, stamp: int | None) -> LoadedNotebook:
    # `stamp` is part of the cache key only: a regenerated release is read again.
    from autograder.intake.notebook import read_notebook_file

    return read_notebook_file(path)


def cases_for(assignment: str, seed: int, public: bool = False) -> dict[str, list[Case]]:
    """problem name -> its cases: the official set, or the public one `check()` runs."""
    return {
        p.name: generate_cases(p.name, seed, public=public)
        for p in catalog.problems_for(assignment)
    }


def definitions(cells: list[SourceCell]) -> dict[str, Definition]:
    r"""Where each function is defined: the last ``def`` of its name in notebook order.

    Only definitions that bind a name in the notebook's namespace count (not
    those nested in a function or a class); cells that do not parse are skipped
    (their error is reported when they run).

    >>> from autograder.intake.extract import SourceCell
    >>> definitions([SourceCell(2, "import numpy as np\n\ndef corr1d(x, h):\n    pass")])
    {'corr1d': Definition(cell=3, line=3, source='def corr1d(x, h):')}
    """
    found: dict[str, Definition] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except UNPARSABLE:
            continue  # nothing in it can run
        lines = cell.source.splitlines()
        for node in _namespace_defs(tree):
            # SourceCell.index counts from 0; students count cells from 1.
            found[node.name] = Definition(cell.index + 1, node.lineno,
                                          lines[node.lineno - 1].strip()[:200])
    return found


def _namespace_defs(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Function definitions in `tree`, in source order, not looking inside functions or classes.

    Iterative: a cell nested as deeply as Python parses cannot exhaust the stack.
    """
    stack = [iter(ast.iter_child_nodes(tree))]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield child
        elif not isinstance(child, ast.ClassDef | ast.Lambda):
            stack.append(iter(ast.iter_child_nodes(child)))


def score(prepared: Prepared, cases: dict[str, list[Case]], run: RunOutcome) -> SubmissionResult:
    """Score a run's outcomes against the cases, in the grader's process.

    Calls the run never reached (the submission crashed or ran out of time
    before them) come back from the pool as "not_run", and score 0. A call
    that ran out of time or crashed names the cell and line of its function.
    """
    result = prepared.result
    result.seconds = run.seconds
    if run.timed_out:
        result.flags.append("timeout")
        result.notes.append(f"Stopped: {run.timed_out}.")
    if run.crashed:
        result.flags.append("crashed")
        result.notes.append(f"The notebook's process died: {run.crashed}.")
    for cell in run.cells:
        # A cell that ended the run is named by the note above already.
        if cell.status != "ok" and cell.error not in (run.timed_out, run.crashed):
            what = "ran out of time" if cell.status == "timeout" else "stopped with an error"
            result.notes.append(f"cell {cell.number} {what}: {cell.error}")
    not_run = [o for o in run.calls if o.status == "not_run"]
    if not_run:
        result.notes.append(f"{len(not_run)} of {len(run.calls)} cases were not run, and score 0: "
                            f"{not_run[0].message}.")
    defined = definitions(prepared.cells)
    for name, problem_cases in cases.items():
        outcomes = [o for o in run.calls if o.problem == name]
        problem = catalog.problem(name)
        try:
            result.problems[name] = score_problem(problem, problem_cases, outcomes,
                                                  defined.get(name), cells=prepared.cells)
        except Exception as exc:  # one function's odd value costs that function only
            result.problems[name] = ProblemResult(name, 0.0, float(problem.points), [GRADER_ERROR])
            result.notes.append(_failure(f"scoring `{name}`", exc))
    for problem in result.problems.values():
        for flag in problem.flags:
            if flag not in result.flags:
                result.flags.append(flag)
    result.score = math.fsum(p.score for p in result.problems.values())  # unrounded: see points
    return result


def limits_for(timeout: float | None) -> Limits:
    """The sandbox's limits, with `timeout` (``--timeout``) as the submission's wall clock."""
    if timeout is None:
        return Limits()
    # One cell or call gets at most half of it: a call that hangs then ends by its
    # own limit, not by the submission's, which would leave nothing for the rest.
    return Limits(submission_seconds=timeout, cell_seconds=min(timeout / 2, Limits.cell_seconds),
                  call_seconds=min(timeout / 2, Limits.call_seconds))


class _Job:
    """One submission through the sandbox: its first run, then re-runs of what faults left.

    A fault ends a run: the call under way keeps its verdict (timeout, crashed,
    invalid output), and the calls after it run again in a fresh child with the
    cells replayed, so one function's fault costs that function's cases only.
    A cell that ended a run is left out of the replays, with a note: run again,
    it would end every run the same way.
    """

    def __init__(self, prepared: Prepared, cases: dict[str, list[Case]]):
        self.prepared, self.cases = prepared, cases
        self.calls: list[Call] = [c.call() for problem_cases in cases.values()
                                  for c in problem_cases]
        self.outcomes: list[CallOutcome | None] = [None] * len(self.calls)
        self.cells = list(prepared.cells)
        self.runs: list[RunOutcome] = []
        self.pending: list[int] = list(range(len(self.calls)))
        self.faults: dict[str, int] = {}  # timeouts per function
        self.notes: list[str] = []

    def _fault(self, out: CallOutcome) -> None:
        if out.status == "timeout":
            self.faults[out.problem] = self.faults.get(out.problem, 0) + 1

    def submit(self, pool: WorkerPool) -> Future:
        # The pool names cells as students count them: from 1, markdown included.
        cells = [Cell(c.index + 1, c.source) for c in self.cells]
        return pool.submit(cells, [self.calls[i] for i in self.pending],
                           forbidden_for(catalog.allowed_calls(self.prepared.result.assignment)))

    def absorb(self, run: RunOutcome) -> bool:
        """Take one run's outcomes; True when the calls left should run again."""
        self.runs.append(run)
        progress = False
        last: CallOutcome | None = None
        first = True
        for i, out in zip(self.pending, run.calls, strict=False):
            if out.status == "not_run":
                continue
            # A call stopped by the whole run's clock is not at fault, and runs again;
            # unless it was the run's first call: then the time went to it alone.
            if not first and out.status == "timeout" and out.message.startswith("the submission"):
                continue
            first = False
            self.outcomes[i] = last = out
            progress = True
            if out.status in ("timeout", "crashed"):
                self._fault(out)
        ended = any(o.status == "not_run" for o in run.calls)
        if ended and last is not None and last.status == "invalid_output":  # a corrupt channel
            self._fault(last)
        for cell in run.cells:
            if cell.status != "ok" and cell.error and cell.error in (run.timed_out, run.crashed):
                self.cells = [c for c in self.cells if c.index + 1 != cell.number]
                # The cause is told once, by the run's own note.
                self.notes.append(f"cell {cell.number} was left out when the remaining cases "
                                  "were run again: it ended a run")
                progress = True
        for i in range(len(self.calls)):
            problem = self.calls[i].problem
            if self.outcomes[i] is None \
                    and self.faults.get(problem, 0) >= MAX_TIMEOUTS_PER_FUNCTION:
                self.outcomes[i] = CallOutcome(
                    problem, self.calls[i].case, "not_run",
                    message=f"it ran out of time on {MAX_TIMEOUTS_PER_FUNCTION} cases already, "
                            "so it was not called again")
        left = [i for i, o in enumerate(self.outcomes) if o is None]
        if left and progress and len(self.runs) < MAX_RUNS:
            self.pending = left
            return True
        this_run = dict(zip(self.pending, run.calls, strict=False))
        for i in left:
            out = this_run.get(i)
            if out is None or (len(self.runs) >= MAX_RUNS and progress):
                out = CallOutcome(self.calls[i].problem, self.calls[i].case, "not_run",
                                  message=f"the grader stopped after {MAX_RUNS} runs of this "
                                          "notebook")
            elif out.status == "timeout":  # stopped by the submission's clock
                out = CallOutcome(out.problem, out.case, "not_run", message=out.message,
                                  seconds=out.seconds)
            self.outcomes[i] = out
        return False

    def merged(self) -> RunOutcome:
        """All runs as one: the first run's cells, every call's final outcome."""
        first = self.runs[0]
        cells = list(first.cells)
        seen = {(c.number, c.status) for c in cells}
        for run in self.runs[1:]:
            for c in run.cells:
                if c.status != "ok" and (c.number, c.status) not in seen:
                    cells.append(CellRun(c.number, c.status, c.error, c.seconds))
                    seen.add((c.number, c.status))
        reasons = {"timed_out": [], "crashed": []}
        for run in self.runs:
            for key in reasons:
                text = getattr(run, key)
                if text and text not in reasons[key]:
                    reasons[key].append(text)
        return RunOutcome(cells, [o for o in self.outcomes if o is not None],
                          "; ".join(reasons["crashed"]), "; ".join(reasons["timed_out"]),
                          first.stdout, sum(r.seconds for r in self.runs))

    def result(self) -> SubmissionResult:
        run = self.merged()
        result = score(self.prepared, self.cases, run)
        if len(self.runs) > 1:
            result.notes.append(f"After a fault, the cases left were run again in a fresh "
                                f"process ({len(self.runs)} runs in all), so that one "
                                "function's fault costs only that function's cases.")
        result.notes += self.notes
        return result

    def failed(self, exc: BaseException,
               step: str = "running this notebook in the sandbox") -> SubmissionResult:
        result = self.prepared.result
        result.error = _failure(step, exc)
        result.flags.append(GRADER_ERROR)
        return result


class LocalExecutor:
    """Grading on this machine: a `WorkerPool` of warm sandboxes (the default executor).

    An executor gives `run` its pool and `grade` the sandbox mode of the cache
    key; `autograder.dispatch.executor.DaskExecutor` does the same on a Dask
    cluster. The per-submission work (`prepare`, `_Job`, `score`) is the same
    for both.
    """

    done_by_worker = None  # one machine: no per-worker progress

    def sandbox_mode(self, sandbox: str) -> str:
        return resolve_sandbox(sandbox)

    def pool(self, sandbox: str, limits: Limits, workers: int | None = None,
             expected: int | None = None) -> WorkerPool:
        return WorkerPool(workers, sandbox, limits)


def run(
    prepared: Iterable[Prepared],
    cases_of: Callable[[str], dict[str, list[Case]]],
    workers: int | None = None,
    sandbox: str = "auto",
    timeout: float | None = None,
    executor=None,
    expected: int | None = None,
) -> Iterator[SubmissionResult]:
    """Run prepared submissions in the sandbox; yield each scored result as it finishes.

    The workers start before `prepared` is read, so a lazy iterable (one that
    prepares each notebook as it goes) runs while they boot, and each
    submission is queued as soon as it is prepared. `cases_of(assignment)`
    gives the cases; it is called once per assignment. A run that a fault ended
    early is followed by another for the calls it left (see `_Job`).

    `executor` gives the pool: `LocalExecutor` (the default: `workers` warm
    sandboxes here) or a `DaskExecutor` (a cluster's); `expected`, how many
    submissions will come, lets it size its shards.

    Stopped early (Ctrl-C, or the caller closing this generator), it cancels
    what is queued and kills the runs under way, and returns within seconds.
    """
    cases: dict[str, dict[str, list[Case]]] = {}
    executor = executor or LocalExecutor()
    with executor.pool(sandbox, limits_for(timeout), workers=workers, expected=expected) as pool:
        active: dict[Future, _Job] = {}
        try:
            for p in prepared:
                try:
                    if p.result.assignment not in cases:
                        cases[p.result.assignment] = cases_of(p.result.assignment)
                    job = _Job(p, cases[p.result.assignment])
                    active[job.submit(pool)] = job
                except Exception as exc:  # the grader's cases or inputs, not the student
                    yield _Job(p, {}).failed(exc)
            while active:
                pool.flush()  # runs a pool holds back to send together (shards) go now
                finished, _ = wait(active, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = active.pop(future)
                    try:
                        outcome = future.result()
                    except SandboxError:  # no student code can run here: the batch stops
                        raise
                    except Exception as exc:  # the pool could not run it
                        yield job.failed(exc)
                        continue
                    try:
                        if job.absorb(outcome):
                            active[job.submit(pool)] = job
                            continue
                        result = job.result()
                        # On a cluster each run's future knows the host's isolation.
                        result.isolation = getattr(future, "isolation", None) or pool.isolation
                    except Exception as exc:
                        result = job.failed(exc, "scoring this notebook")
                    yield result
        except BaseException:
            for future in active:
                future.cancel()
            pool.cancel_all()
            raise


def cache_key(sub: Submission, version: str, seed: int, limits: Limits, sandbox: str,
              course_root: Path = COURSE_ROOT) -> str:
    """Everything a verdict depends on besides the student's file, as one hash.

    The file, the grader's and the reference's code (`grader_version`, which
    covers the case generators), the seed, the limits, the sandbox, and the
    release notebook the locked cells are checked against.
    """
    release = course_root / "notebooks" / sub.assignment / f"{sub.assignment}.ipynb"
    try:
        release_hash = hashlib.sha256(release.read_bytes()).hexdigest()
    except OSError:
        release_hash = ""
    key = {"file": hashlib.sha256(sub.data).hexdigest(), "version": version, "seed": seed,
           "limits": vars(limits), "sandbox": sandbox, "release": release_hash,
           "assignment": sub.assignment}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def grade(
    paths: Iterable[str | Path],
    out: str | Path = "out",
    assignment: str | None = None,
    workers: int | None = None,
    seed: int | None = None,
    sandbox: str = "auto",
    timeout: float | None = None,
    course_root: Path = COURSE_ROOT,
    progress: Progress | None = None,
    canvas: CanvasOptions | None = None,
    executor=None,
) -> list[SubmissionResult]:
    """Grade every submission under `paths` into `out`.

    Parameters
    ----------
    paths : iterable of str or Path
        Notebooks, folders (e.g. nbgrader's ``submitted/``) and LMS ``.zip`` files.
    out : str or Path
        Output folder: ``results/``, ``grades.csv``, ``canvas.csv``,
        ``feedback/`` and ``summary.html``. When a path is an nbgrader
        course's ``submitted/`` folder, the scores also go into that course's
        gradebook database, for formgrader.
    assignment : str, optional
        Force the assignment of every notebook.
    workers : int, optional
        Parallel sandboxes; default: one per core.
    seed : int, optional
        The grading seed (see the module docstring for the fallbacks).
    sandbox : {"auto", "bwrap", "none"}
    timeout : float, optional
        Wall-clock seconds for one submission; default: the sandbox's limit.
    course_root : Path
        Holds ``notebooks/<a>/<a>.ipynb`` (integrity) and ``autograder.toml``.
    progress : callable, optional
        ``progress(done, total, result)`` after each submission.
    canvas : CanvasOptions, optional
        The Canvas roster and assignment ids ``canvas.csv`` is built with.
    executor : LocalExecutor or DaskExecutor, optional
        Where the sandboxed runs happen: this machine (the default) or a Dask
        cluster (`autograder.dispatch.executor.DaskExecutor`). Everything is
        written here, by this process, either way.

    Returns
    -------
    list of SubmissionResult
        This batch's results, sorted by student then assignment. Results
        already in `out` for the same file, grader code, seed, limits, sandbox
        and release notebook (`cache_key`) are reused, not recomputed. A
        submission that cannot be graded is a result with the reason in
        ``error``, never an exception.

    Raises
    ------
    ValueError
        No seed, no notebooks, or a bad path or argument.
    OSError
        `out` cannot be written.
    """
    seed = resolve_seed(seed, course_root)
    paths = list(paths)
    batch = collect_batch(paths, assignment)
    submissions = batch.submissions
    if not submissions:
        raise ValueError(f"grade: no notebooks (.ipynb) found in {', '.join(map(str, paths))}")
    book = Gradebook(Path(out))
    book.out.mkdir(parents=True, exist_ok=True)
    if not os.access(book.out, os.W_OK):
        raise OSError(f"grade: output folder {str(book.out)!r} is not writable")
    version = grader_version()
    for note in batch.notes:
        log.warning("%s", note)
    for sub in submissions:
        for note in sub.notes:
            log.warning("%s / %s: %s", sub.student, sub.assignment, note)
    results: list[SubmissionResult] = []

    def done(result: SubmissionResult, key: str | None = None) -> None:
        bounded(result)
        if key is not None:
            result.cache_key = key
            try:
                book.save(result)  # at once: a killed batch resumes from here
            except OSError as exc:
                log.error("%s / %s: the result could not be saved: %s",
                          result.student, result.assignment, exc)
                result.notes.append(f"the result could not be saved ({exc.strerror or exc})")
        results.append(result)
        if progress is not None:
            progress(len(results), len(submissions), result)

    limits = limits_for(timeout)
    executor = executor or LocalExecutor()
    mode = executor.sandbox_mode(sandbox)
    keys = [cache_key(sub, version, seed, limits, mode, course_root) for sub in submissions]
    hits = [book.cached(sub.student, sub.assignment, key)
            for sub, key in zip(submissions, keys, strict=True)]
    key_of: dict[int, str] = {}

    def runnable() -> Iterator[Prepared]:
        """Prepare in order: report the cached and the unusable at once, yield the rest."""
        for sub, hit, key in zip(submissions, hits, keys, strict=True):
            if hit is not None:
                done(hit)
                continue
            prepared = prepare(sub, seed, version, course_root)
            if prepared.result.error is not None:
                done(prepared.result, key)
            else:
                key_of[id(prepared.result)] = key
                yield prepared

    # An upper bound (a notebook may still turn out unreadable), known before any is read.
    to_run = sum(hit is None and sub.error is None
                 for sub, hit in zip(submissions, hits, strict=True))
    if to_run:
        # More workers than submissions would only cost their start-up.
        if workers is None or (isinstance(workers, int) and workers > to_run):
            workers = min(workers or os.cpu_count() or 1, to_run)
        running = run(runnable(), lambda a: cases_for(a, seed), workers, sandbox, timeout,
                      executor, to_run)
        try:
            for result in running:
                done(result, key_of.get(id(result)))
        except BaseException:
            # Ctrl-C: closing the run cancels what is queued and kills what runs.
            running.close()
            log.warning("interrupted: %d finished results are kept in %s; run the same "
                        "command again to grade the rest", len(results), book.results_dir)
            raise
    else:
        for _ in runnable():  # yields nothing: reports the cached and the unusable
            pass
    results.sort(key=lambda r: (r.student, r.assignment))
    write_outputs(book, results, batch.notes, paths, canvas)
    return results


def write_outputs(book: Gradebook, results: list[SubmissionResult], notes: list[str],
                  paths: list, canvas: CanvasOptions | None = None) -> None:
    """``grades.csv``, ``canvas.csv``, feedback and the summary, whatever one result holds.

    The gradebooks are the union of ``results/``: a batch that regrades some
    students updates their rows and keeps everyone else's.
    """
    from autograder.outputs.feedback import write_feedback  # Matplotlib: imported once it is needed
    from autograder.outputs.platforms.canvas import write_canvas_gradebook
    from autograder.outputs.platforms.nbgrader_host import autograde_course
    from autograder.outputs.report import write_summary

    everyone = book.union(results)
    book.write_csv(everyone)
    for result in results:
        try:
            write_feedback([result], book.out)
        except Exception as exc:  # one odd result costs its own feedback page only
            _failure(f"writing the feedback of {result.student} / {result.assignment}", exc)
    exported = write_canvas_gradebook(everyone, book.out / "canvas.csv", canvas)
    for note in exported.notes:
        log.warning("%s", note)
    write_summary(everyone, book.out, notes=[*notes, *exported.notes])
    for course in _nbgrader_courses(paths):
        hosted = autograde_course(results, course, book.out)
        log.info("nbgrader autograded %d submissions of %s with these scores", hosted, course)


def _nbgrader_courses(paths: list) -> list[Path]:
    """nbgrader course folders among the inputs: ``<course>/submitted`` next to its config."""
    courses = []
    for path in map(Path, paths):
        course = path.resolve().parent
        if path.is_dir() and path.name == "submitted" and (course / "nbgrader_config.py").is_file():
            courses.append(course)
    return courses


def check_notebook(
    path: str | Path, sandbox: str = "auto", timeout: float | None = None,
    course_root: Path = COURSE_ROOT,
) -> SubmissionResult:
    """The public cases of one notebook, through the same sandboxed pipeline as grading.

    What a student runs before submitting: the cases `check()` shows in the
    notebook, with the grader's isolation and scan.
    """
    submissions = collect([path])
    if len(submissions) != 1:
        raise ValueError(
            f"check_notebook: expects one notebook, found {len(submissions)} in {path}"
        )
    prepared = prepare(submissions[0], PUBLIC_SEED, grader_version(), course_root)
    if prepared.result.error is not None:
        return prepared.result
    (result,) = run([prepared], lambda a: cases_for(a, PUBLIC_SEED, public=True), 1, sandbox,
                    timeout)
    return result
