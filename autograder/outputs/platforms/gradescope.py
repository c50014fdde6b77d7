"""Gradescope: grade the submission in ``/autograder`` and write ``results/results.json``.

Gradescope unpacks the autograder zip into ``/autograder/source``, puts the
student's files in ``/autograder/submission`` and the submission's metadata
in ``/autograder/submission_metadata.json``, runs ``run_autograder`` and reads
``/autograder/results/results.json``. Here the notebook goes through the same
`autograder.grade.grade` as a batch, with ``/autograder/source`` as the course
root (release notebooks and the grading seed come with the zip).

The Gradescope assignment's title names the course assignment it grades
(``01_conv1d``, as in "Homework 1: 01_conv1d"): a notebook whose cells are
another assignment's gets a message saying so and 0, not a grade as the
other assignment. Scores in results.json keep full precision, as in every
JSON the grader writes (the total is the sum of the tests); what is printed
is rounded by `autograder.outputs.points`, as everywhere.

Each graded function gives up to two Gradescope tests: its public cases
(``visible``: the student can run them with ``check()`` anyway) and its hidden
cases (``after_published``). Each test's output is the function's feedback over
those cases only, so nothing about hidden cases shows before grades are published.
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from autograder import catalog
from autograder.grade import grade
from autograder.intake.identify import assignment_from_content, collect, safe_name
from autograder.outputs.feedback.markdown import prose, render_problem
from autograder.outputs.feedback.view import build_problem_view
from autograder.outputs.feedback.words import flag_sentence
from autograder.outputs.gradebook import atomic_write_text
from autograder.outputs.points import points
from autograder.results import CaseResult, SubmissionResult

PUBLIC, HIDDEN = "visible", "after_published"
WRONG_ASSIGNMENT = "this notebook is for another assignment"
GRADER_FAILED = (
    "The autograder could not grade this submission because of a problem on the course's "
    "side, not in your notebook. Your instructor can see the details; please let them know."
)


def run(root: Path = Path("/autograder"), seed: int | None = None) -> int:
    """Grade the submission under `root` and write ``root/results/results.json``.

    Parameters
    ----------
    root : Path
        Gradescope's ``/autograder`` folder (``source/``, ``submission/``,
        ``submission_metadata.json``, ``results/``).
    seed : int, optional
        The grading seed; default: ``$AUTOGRADER_SEED``, else ``source/autograder.toml``.

    Returns
    -------
    int
        0 when the submission was graded (whatever its score); 1 when the grader
        itself failed, in which case results.json says so and stdout, which only
        instructors see, holds the traceback.

    Raises
    ------
    ValueError
        `root` is not a folder: nothing is created there (a typo in ``--root``
        must not leave a results.json with a 0 behind).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"gradescope: --root {str(root)!r} is not a folder; expected "
                         "Gradescope's /autograder (source/, submission/, "
                         "submission_metadata.json)")
    started = time.monotonic()
    import autograder
    from autograder.grade import grader_version

    print(f"autograder {grader_version()} from {Path(autograder.__file__).parent}")
    try:
        result = grade_submission(root, seed)
        payload, status = results_json(result, time.monotonic() - started), 0
        print(f"graded {result.student} / {result.assignment}: {points(result.score)} / "
              f"{points(result.max_score)} {result.error or ''}")
    except (ValueError, OSError):
        traceback.print_exc(file=sys.stdout)
        payload = {"score": 0.0, "execution_time": round(time.monotonic() - started),
                   "output": GRADER_FAILED, "visibility": "visible",
                   "stdout_visibility": "hidden", "tests": []}
        status = 1
    atomic_write_text(root / "results" / "results.json", json.dumps(payload, indent=1) + "\n")
    return status


def grade_submission(root: Path, seed: int | None = None) -> SubmissionResult:
    """The graded result of the notebook in ``root/submission``."""
    student = _student(root / "submission_metadata.json")
    wanted = _assignment_in_title(root / "submission_metadata.json")
    notebooks = collect([root / "submission"]) if (root / "submission").is_dir() else []
    known = [s for s in notebooks if s.assignment in catalog.ASSIGNMENTS]
    readable = [s for s in notebooks if not s.error]
    # The notebook whose cells are the assignment's, else the one named after it, else any.
    pick = next((s for s in readable if wanted and assignment_from_content(s.data) == wanted),
                None)
    pick = pick or next((s for s in known if s.assignment == wanted), known[0] if known else None)
    pick = pick or (notebooks[0] if notebooks else None)
    assignment = pick.assignment if pick and pick.assignment in catalog.ASSIGNMENTS else wanted
    looks_like = assignment_from_content(pick.data) if pick and not pick.error else None
    if wanted and pick is not None and not pick.error and looks_like not in (None, wanted):
        return SubmissionResult(
            student, wanted, 0.0, catalog.max_score(wanted),
            error=(f"{WRONG_ASSIGNMENT}: its cells are those of "
                   f"{looks_like}, but this Gradescope assignment grades {wanted}. Nothing was "
                   f"graded; upload your {wanted}.ipynb instead"))
    if wanted and assignment != wanted and pick is not None and not pick.error:
        assignment = wanted  # the title is the authority; the name only a hint
    if pick is None or pick.error:
        return SubmissionResult(
            student, assignment or "unknown", 0.0,
            catalog.max_score(assignment) if assignment else 0.0,
            error=pick.error if pick else (
                "no notebook (.ipynb) found in the submission: upload the notebook file "
                "itself, e.g. 01_conv1d.ipynb"),
        )
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        # <student>/<assignment>/<assignment>.ipynb: identify reads both from this layout.
        name = assignment or "submission"
        staged = Path(tmp, "in", student, name, f"{name}.ipynb")
        staged.parent.mkdir(parents=True)
        staged.write_bytes(pick.data)  # also for a notebook that came inside a zip
        results = grade([staged], out=Path(tmp, "out"), assignment=assignment, seed=seed,
                        workers=1, sandbox="auto", course_root=root / "source")
    result = results[0]
    if len(notebooks) > 1:
        result.notes.append(
            f"Your submission holds {len(notebooks)} notebooks; "
            f"{pick.source.removeprefix(str(root / 'submission') + '/')} was graded."
        )
    return result


def results_json(result: SubmissionResult, seconds: float) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission."""
    return {
        "score": result.score,
        "execution_time": round(seconds),
        "output": overview(result),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests(result),
    }


def overview(result: SubmissionResult) -> str:
    """Top-level text: what concerns the whole notebook, nothing per hidden case."""
    lines = []
    if result.error and result.error.startswith(WRONG_ASSIGNMENT):
        lines += [f"**Wrong notebook:** {prose(result.error)}.", ""]
    elif result.error:
        lines += [f"**Your notebook could not be graded:** {prose(result.error)}", "",
                  "Open it in JupyterLab, run *Restart Kernel and Run All Cells*, fix the first "
                  "error, save, and submit again.", ""]
    lines += [f"- {flag_sentence(f)}" for f in dict.fromkeys(result.flags)]
    lines += [f"- {prose(n)}" for n in result.notes]
    lines += ["", "Each function has a test for its public cases (the ones `check()` runs in "
              "your notebook) and one for its hidden cases, shown once grades are published."]
    return "\n".join(lines).strip() + "\n"


def tests(result: SubmissionResult) -> list[dict[str, Any]]:
    """One Gradescope test per function and visibility (public / hidden cases)."""
    if result.error or result.assignment not in catalog.ASSIGNMENTS:
        problems = catalog.problems_for(result.assignment) if result.assignment in \
            catalog.ASSIGNMENTS else ()
        reason = result.error or "the assignment could not be identified"
        return [{"name": p.name, "score": 0.0, "max_score": float(p.points), "status": "failed",
                 "output": f"Not graded: {prose(reason)}", "visibility": PUBLIC}
                for p in problems]
    out = []
    for name, problem in result.problems.items():
        groups = (("public cases", PUBLIC, [c for c in problem.cases if c.public]),
                  ("hidden cases", HIDDEN, [c for c in problem.cases if not c.public]))
        for label, visibility, cases in groups:
            if cases:
                out.append(_test(f"{name} ({label})", problem, cases, visibility))
        if not problem.cases:
            out.append({"name": name, "score": problem.score,
                        "max_score": problem.max_score, "status": "failed",
                        "output": "No case could be run for this function.",
                        "visibility": PUBLIC})
    return out


def _test(name: str, problem, cases: list[CaseResult], visibility: str) -> dict[str, Any]:
    view = build_problem_view(problem, cases)
    return {
        "name": name,
        "score": math.fsum(c.score for c in cases),
        "max_score": math.fsum(c.max_score for c in cases),
        "status": "passed" if view.passed else "failed",
        "output": render_problem(view, level=3),
        "visibility": visibility,
    }


def _metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _student(path: Path) -> str:
    """The submitter's email (else name, else Gradescope id) from the metadata."""
    users = _metadata(path).get("users") or [{}]
    user = users[0] if isinstance(users[0], dict) else {}
    who = user.get("email") or user.get("name") or user.get("id") or "student"
    return safe_name(str(who))


def _assignment_in_title(path: Path) -> str | None:
    """A catalog assignment named in the Gradescope assignment's title, if any."""
    title = str((_metadata(path).get("assignment") or {}).get("title") or "")
    match = re.search("|".join(map(re.escape, catalog.ASSIGNMENTS)), title)
    return match.group(0) if match else None
