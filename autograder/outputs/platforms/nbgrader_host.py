"""nbgrader as the grader's host: its own autograde step, fed with this grader's results.

``autograder grade <course>/submitted`` ends here (`autograde_course`): for each
graded submission it runs nbgrader's ``Autograde`` converter in this process,
with `nbgrader_plugin.SandboxedGrades` in place of ``Execute`` and the results
just computed handed to it (`batch`). nbgrader then does what it does for its
own autograding: the student is created when missing, the ``timestamp.txt``
of ``nbgrader collect`` becomes the submission's time and its lateness,
locked cells are restored, ``autograded/<student>/<a>/<nb>.ipynb`` is written
with each check cell's output holding its partial credit, and ``SaveAutoGrades``
and ``AssignLatePenalties`` fill the gradebook. ``nbgrader autograde`` and
formgrader's button, with the plug-in configured, take the same path and grade
in the sandbox themselves (`result_for`), so they give the same scores.

A submission nbgrader cannot take in (a notebook that is not JSON, an
assignment that ``generate_assignment`` never registered) gets its scores the
direct way (`nbgrader_db.write_scores`): a 0 row with the reason in the results,
and, for a file that could not be graded, the release notebook with the reason
in its check cells as the autograded notebook (`_stand_in`), so the TA and the
student's feedback see why.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder import catalog
from autograder.intake.identify import student_id
from autograder.outputs.platforms import nbgrader_db
from autograder.outputs.platforms.nbgrader_db import CONFIG_FILE, course_settings, grade_cell_name
from autograder.results import ProblemResult, SubmissionResult

log = logging.getLogger("autograder")
# Failing cases shown under a check cell: enough to start fixing, short enough to read.
MAX_CASES_SHOWN = 5


@dataclass
class _Batch:
    """Results already computed by ``autograder grade``, by nbgrader's (student, assignment)."""

    results: dict[tuple[str, str], SubmissionResult] = field(default_factory=dict)
    seed: int | None = None
    out: Path | None = None


_current: _Batch | None = None


@contextmanager
def batch(results: dict[tuple[str, str], SubmissionResult], out: Path) -> Iterator[None]:
    """While open, `result_for` answers from `results` (and grades others with their seed)."""
    global _current
    before = _current
    seed = next((r.seed for r in results.values() if r.seed), None)
    _current = _Batch(dict(results), seed, Path(out))
    try:
        yield
    finally:
        _current = before


def result_for(notebook: Path, student: str, assignment: str, out: Path) -> SubmissionResult:
    """The sandboxed grader's result for one submitted notebook.

    Parameters
    ----------
    notebook : Path
        ``submitted/<student>/<assignment>/<nb>.ipynb``.
    student : str
        nbgrader's student id (the folder name).
    assignment : str
        nbgrader's assignment id, which must be one of the catalog's.
    out : Path
        The grader's output folder; a result there for the same file, seed,
        grader and limits is reused (`autograder.grade.grade`'s cache).

    Raises
    ------
    ValueError
        The assignment is not in the catalog, or no seed is set: nbgrader then
        reports the notebook as failed, and nothing is executed.
    """
    if assignment not in catalog.ASSIGNMENTS:
        raise ValueError(f"the sandboxed grader knows no assignment {assignment!r} "
                         f"(it grades {', '.join(catalog.ASSIGNMENTS)})")
    seed = None
    if _current is not None:
        hit = _current.results.get((student, assignment))
        # The batch may have graded another file of the student (the newest of two).
        if hit is not None and Path(hit.source).name == Path(notebook).name:
            return hit
        seed, out = _current.seed, _current.out or out
    from autograder.grade import grade  # the batch machinery: only when grading here

    results = grade([notebook], out=out, assignment=assignment, seed=seed)
    return results[0]


def fill_grade_cells(nb: NotebookNode, result: SubmissionResult,
                     logger: logging.Logger | None = None) -> int:
    """Give every auto-graded cell of `nb` the outputs that carry `result`'s score.

    ``SaveAutoGrades`` reads a code grade cell's score from its outputs: an
    ``execute_result`` holding a number is partial credit, an error or stderr
    output is 0. Check cells get a stdout text (score, cases, first failures)
    and the score; a grade cell the catalog does not know, or a result that
    could not be graded, gets the reason on stderr: 0, never points unearned.

    Returns
    -------
    int
        The number of cells filled.
    """
    functions = {grade_cell_name(p.name): p.name for p in catalog.problems_for(result.assignment)}
    filled = 0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue  # manually graded answers stay nbgrader's
        grade_id = meta.get("grade_id", "")
        problem = result.problems.get(functions.get(grade_id, ""))
        if result.error:
            outputs = [_stderr(f"not graded: {result.error}")]
        elif grade_id not in functions:
            outputs = [_stderr(f"{grade_id}: not a cell the sandboxed grader scores "
                               f"({result.assignment} has {', '.join(functions)})")]
            if logger is not None:
                logger.warning("grade cell %s is not in the catalog: scored 0", grade_id)
        elif problem is None:
            outputs = [_stderr(f"{functions[grade_id]}: no result (the function was not graded)")]
        else:
            outputs = _problem_outputs(problem, float(meta.get("points", problem.max_score)))
        cell.outputs = outputs
        cell.execution_count = None
        filled += 1
    return filled


def _problem_outputs(problem: ProblemResult, points: float) -> list[NotebookNode]:
    # The cell's points are the catalog's; scale in case a course changed them.
    ratio = problem.score / problem.max_score if problem.max_score else 0.0
    partial = min(max(ratio * points, 0.0), points)
    passed = sum(c.passed for c in problem.cases)
    lines = [f"{problem.name}: {problem.score:g} / {problem.max_score:g} points from the "
             f"sandboxed grader ({passed} of {len(problem.cases)} cases passed)"]
    lines += [f"flag: {flag}" for flag in problem.flags]
    failing = [c for c in problem.cases if not c.passed]
    for case in failing[:MAX_CASES_SHOWN]:
        lines.append(f"- {case.name}: {case.message}".rstrip(": "))
    if len(failing) > MAX_CASES_SHOWN:
        lines.append(f"- ... and {len(failing) - MAX_CASES_SHOWN} more failing cases")
    return [
        nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": repr(partial)},
                               execution_count=None),
    ]


def _stderr(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stderr", text=text + "\n")


def autograde_course(results: list[SubmissionResult], course: Path, out: Path) -> int:
    """Autograde `results` in the nbgrader course `course` through nbgrader's own converter.

    Parameters
    ----------
    results : list of SubmissionResult
        Results of ``<course>/submitted/<student>/<assignment>/``, matched by
        student id and assignment; others are skipped.
    course : Path
        The course root (holds ``nbgrader_config.py``).
    out : Path
        The grader's output folder (for a notebook nbgrader picks that the batch
        did not grade, e.g. another file of the same student).

    Returns
    -------
    int
        The number of submissions nbgrader autograded; the rest got their
        scores written directly (0 rows for what could not be graded).
    """
    course = Path(course).resolve()
    ours = {(r.student, r.assignment): r for r in results if r.assignment in catalog.ASSIGNMENTS}
    placed: dict[tuple[str, str], SubmissionResult] = {}
    for folder in sorted(p for p in (course / "submitted").glob("*/*") if p.is_dir()):
        student, assignment = folder.parent.name, folder.name
        result = ours.get((student_id(student), assignment))
        if result is not None:
            placed[student, assignment] = result
    config = _config(course)
    direct = []
    with batch(placed, out), nbgrader_db.alembic_on_path():
        for (student, assignment), r in placed.items():
            # What could not be graded was reported once already: nbgrader need not repeat it.
            if not _autograde(config, course, student, assignment, quiet=bool(r.error)):
                direct.append(dataclasses.replace(r, student=student))
        if direct:
            nbgrader_db.write_scores(direct, course)
        for r in direct:
            if r.error:
                try:
                    _stand_in(config, r)
                except OSError as exc:  # the 0 row is written; only the stand-in is missing
                    log.warning("%s / %s: no stand-in autograded notebook (%s)",
                                r.student, r.assignment, exc)
    return len(placed) - len(direct)


def _config(course: Path):
    """The course's nbgrader config, with the sandboxed grader in the autograde step."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.outputs.platforms.nbgrader_plugin import use_sandboxed_grader

    config = Config()
    if (course / CONFIG_FILE).is_file():
        config.merge(PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config())
    use_sandboxed_grader(config)
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = course_settings(course)[0]
    return config


def _autograde(config, course: Path, student: str, assignment: str, quiet: bool = False) -> bool:
    """``nbgrader autograde <assignment> --student <student> --force``, in this process.

    nbgrader's warnings (lateness, changed locked cells) are the TA's news and
    reach the log; with `quiet`, nothing does.
    """
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    nb_log = logging.getLogger("autograder.nbgrader")
    nb_log.setLevel(logging.CRITICAL + 1 if quiet else logging.WARNING)
    if not nb_log.filters:
        nb_log.addFilter(_routine)
    coursedir = CourseDirectory(config=config, log=nb_log)
    # Both are glob patterns to nbgrader; the folder names are taken literally.
    coursedir.assignment_id, coursedir.student_id = glob.escape(assignment), glob.escape(student)
    converter = Autograde(coursedir=coursedir, config=config, log=nb_log)
    converter.force, converter.create_student = True, True
    try:
        converter.start()
    except Exception as exc:  # nbgrader's refusal of one submission costs that one only
        if not quiet:
            log.warning("%s / %s: nbgrader could not autograde it (%s); its scores were "
                        "written to the gradebook directly", student, assignment, exc)
        return False
    return True


def _routine(record: logging.LogRecord) -> bool:
    """False for what nbgrader says on every regrade (the old autograded folder is replaced)."""
    return not record.getMessage().startswith("Removing existing assignment")


def _stand_in(config, result: SubmissionResult) -> None:
    """An autograded notebook and a timestamp for a submission nbgrader could not read.

    The release notebook with the reason in every check cell: formgrader's
    Manual Grading opens it, ``generate_feedback`` tells the student why the
    score is 0, and the submission keeps its time (and lateness).
    """
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    student, assignment = result.student, result.assignment
    coursedir = CourseDirectory(config=config)
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    notebook = release / f"{assignment}.ipynb"
    if not notebook.is_file():
        log.warning("%s / %s: no release notebook %s to stand in for the unreadable submission",
                    student, assignment, notebook)
        return
    nb = nbformat.read(notebook, as_version=4)
    fill_grade_cells(nb, result)
    dest = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    dest.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest / notebook.name)
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    # The submission's other files follow it, as nbgrader's converter copies them:
    # timestamp.txt, and the submission_secret.txt that release_feedback needs.
    for file in submitted.iterdir():
        if file.is_file() and not file.is_symlink() and file.suffix != ".ipynb":
            shutil.copyfile(file, dest / file.name)
    timestamp = coursedir.get_existing_timestamp(str(submitted))
    if timestamp is not None:
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
