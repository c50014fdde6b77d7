"""Scores into an nbgrader gradebook database, so formgrader shows them.

Everything goes through nbgrader's own API (`nbgrader.api.Gradebook` and its
models): the assignment, its notebook (``<a>/<a>.ipynb`` has notebook name
``<a>``) and one grade cell ``check_<function>`` per catalog entry are added
when missing (cells created by ``nbgrader generate_assignment`` are kept as they
are), then each student and submission, and each grade cell's ``auto_score``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nbgrader.api import Grade, Gradebook, MissingEntry, SubmittedNotebook
from traitlets.config.loader import PyFileConfigLoader

from autograder import catalog
from autograder.results import SubmissionResult

CONFIG_FILE = "nbgrader_config.py"
DEFAULT_COURSE_ID = "default_course"  # nbgrader's own default


def grade_cell_name(function: str) -> str:
    """The nbgrader grade id of a function's check cell."""
    return f"check_{function}"


def course_settings(course_dir: Path) -> tuple[str, str]:
    """``(db_url, course_id)`` as nbgrader would use them in `course_dir`.

    Read from ``CourseDirectory`` in the course's ``nbgrader_config.py``; a
    relative SQLite path there is relative to the course root. Without a setting,
    nbgrader's defaults: ``sqlite:///<course_dir>/gradebook.db``, ``default_course``.
    """
    course_dir = Path(course_dir).resolve()
    settings = {}
    if (course_dir / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
        settings = config.get("CourseDirectory", {})
    db_url = settings.get("db_url") or f"sqlite:///{course_dir / 'gradebook.db'}"
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and not db_url[len(prefix):].startswith("/"):
        db_url = prefix + str(course_dir / db_url[len(prefix):])
    return db_url, settings.get("course_id") or DEFAULT_COURSE_ID


def write_scores(
    results: list[SubmissionResult], course_dir: Path, db_url: str | None = None
) -> int:
    """Write the score of every graded function into the course's gradebook.

    Parameters
    ----------
    results : list of SubmissionResult
        Results of assignments outside the catalog are skipped. A submission
        that could not be graded scores 0 in every cell.
    course_dir : Path
        The nbgrader course root (holds ``nbgrader_config.py``).
    db_url : str, optional
        SQLAlchemy URL of the gradebook; default: the course's (`course_settings`).

    Returns
    -------
    int
        The number of grade cells whose ``auto_score`` was written.
    """
    default_url, course_id = course_settings(course_dir)
    db_url = db_url or default_url
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with alembic_on_path(), Gradebook(db_url, course_id=course_id) as gb:
        for assignment in dict.fromkeys(r.assignment for r in results):
            if assignment in catalog.ASSIGNMENTS:
                _ensure_assignment(gb, assignment)
        for result in results:
            if result.assignment in catalog.ASSIGNMENTS:
                written += _write_submission(gb, result)
        gb.db.commit()
    return written


@contextmanager
def alembic_on_path() -> Iterator[None]:
    """Let nbgrader find ``alembic`` next to this interpreter while the gradebook opens.

    nbgrader runs the ``alembic`` program to stamp a new database; called from
    ``.venv/bin/autograder`` without an activated environment, PATH lacks it.
    """
    here = Path(sys.executable).parent
    if shutil.which("alembic") or not (here / "alembic").exists():
        yield
        return
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(here), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before


def _ensure_assignment(gb: Gradebook, assignment: str) -> None:
    """The assignment, its notebook and its grade cells, created when missing."""
    gb.update_or_create_assignment(assignment)
    try:
        gb.find_notebook(assignment, assignment)
    except MissingEntry:
        gb.add_notebook(assignment, assignment)
    for p in catalog.problems_for(assignment):
        try:
            gb.find_grade_cell(grade_cell_name(p.name), assignment, assignment)
        except MissingEntry:
            gb.add_grade_cell(
                grade_cell_name(p.name), assignment, assignment,
                max_score=float(p.points), cell_type="code",
            )


def _write_submission(gb: Gradebook, result: SubmissionResult) -> int:
    a, student = result.assignment, result.student
    gb.update_or_create_student(student)
    gb.update_or_create_submission(a, student)
    for p in catalog.problems_for(a):
        graded = result.problems.get(p.name)
        grade = _grade(gb, grade_cell_name(p.name), a, student)
        grade.auto_score = float(graded.score) if graded else 0.0
        grade.needs_manual_grade = False
    return len(catalog.problems_for(a))


def _grade(gb: Gradebook, cell: str, assignment: str, student: str) -> Grade:
    """A submission's grade for `cell`, mirrored in if the cell is newer than the submission.

    `Gradebook.add_submission` creates a grade for every cell that exists at
    that moment; a cell added later (the catalog grew) has none yet.
    """
    try:
        return gb.find_grade(cell, assignment, assignment, student)
    except MissingEntry:
        pass
    try:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
    except MissingEntry:
        notebook = SubmittedNotebook(
            notebook=gb.find_notebook(assignment, assignment),
            assignment=gb.find_submission(assignment, student),
        )
    grade = Grade(cell_id=gb.find_grade_cell(cell, assignment, assignment).id, notebook=notebook)
    gb.db.add(grade)
    return grade
