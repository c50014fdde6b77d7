"""Where feedback files go: ``<out>/feedback/<student>/<assignment>.{html,md}``."""

from __future__ import annotations

from pathlib import Path

from autograder.intake.identify import safe_name
from autograder.outputs.feedback.html import render_html
from autograder.outputs.feedback.markdown import render_markdown
from autograder.outputs.gradebook import atomic_write_text
from autograder.results import SubmissionResult


def feedback_path(out_dir: Path, student: str, assignment: str, suffix: str = ".html") -> Path:
    """The feedback file of one submission.

    Names go through the same `safe_name` as the results folder, so whatever a
    hand-made or read-back result holds, the file stays inside ``feedback/``.
    """
    return Path(out_dir) / "feedback" / safe_name(student) / (safe_name(assignment) + suffix)


def write_feedback(results: list[SubmissionResult], out_dir: Path) -> list[Path]:
    """Write the HTML and Markdown feedback of every submission.

    Returns
    -------
    list of Path
        The files written, ``.html`` then ``.md`` for each result.
    """
    written = []
    for result in results:
        for suffix, render in ((".html", render_html), (".md", render_markdown)):
            path = feedback_path(out_dir, result.student, result.assignment, suffix)
            atomic_write_text(path, render(result))
            written.append(path)
    return written
