"""A gradebook CSV that Canvas imports (Grades > Import).

Canvas reads the columns ``Student, ID, SIS User ID, SIS Login ID, Section``
and then one column per assignment, with a ``Points Possible`` row under the
header. Given the gradebook CSV exported from the same Canvas course as a
roster, students are matched by ``SIS Login ID`` (then by Canvas ``ID``), their
name, ids and section are copied over, and assignment columns keep Canvas's own
headers (``01_conv1d (12345)``) so the import updates those assignments rather
than creating new ones. Without a roster, the student id goes to ``SIS Login ID``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote

from autograder import catalog
from autograder.outputs.feedback.view import points
from autograder.outputs.gradebook import atomic_write_text
from autograder.results import SubmissionResult

STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


def write_canvas_csv(
    results: list[SubmissionResult], path: Path, roster: Path | None = None
) -> Path:
    """Write the Canvas gradebook CSV of `results` to `path`.

    Parameters
    ----------
    results : list of SubmissionResult
        Several assignments may be mixed; the last result of a student for an
        assignment wins. Results of unknown assignments are left out.
    path : Path
        The CSV to write, e.g. next to ``grades.csv``.
    roster : Path, optional
        A gradebook CSV exported from Canvas. Its students come first, in its
        order, with an empty cell for an assignment they did not submit.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    ValueError
        The roster lacks the ``Student`` or ``SIS Login ID`` column.
    """
    assignments = [a for a in catalog.ASSIGNMENTS if any(r.assignment == a for r in results)]
    scores: dict[str, dict[str, str]] = {}
    for r in results:
        if r.assignment in assignments:
            scores.setdefault(r.student, {})[r.assignment] = points(r.score)
    header_of = {a: a for a in assignments}
    rows: list[dict[str, str]] = []
    if roster is not None:
        roster_rows, roster_columns = read_roster(roster)
        header_of.update(_canvas_headers(assignments, roster_columns))
        rows = [{c: row.get(c, "") for c in STUDENT_COLUMNS} for row in roster_rows]
        for row in rows:
            student = _match(row, scores)
            row.update(scores.pop(student, {}) if student else {})
    # Graded students the roster does not list (or every student, without a roster).
    for student, by_assignment in sorted(scores.items()):
        rows.append({"Student": student, "SIS Login ID": student, **by_assignment})
    columns = STUDENT_COLUMNS + [header_of[a] for a in assignments]
    possible = {"Student": POINTS_POSSIBLE} | {
        header_of[a]: points(catalog.max_score(a)) for a in assignments
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(possible)
    writer.writerows({header_of.get(k, k): v for k, v in row.items()} for row in rows)
    atomic_write_text(Path(path), buffer.getvalue())
    return Path(path)


def read_roster(roster: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The student rows and the column names of a Canvas gradebook export.

    The ``Points Possible`` row (and Canvas's other header rows, which have no
    student id) are skipped.
    """
    with open(roster, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        missing = [c for c in ("Student", "SIS Login ID") if c not in columns]
        if missing:
            raise ValueError(
                f"write_canvas_csv: roster {str(roster)!r} has no {' or '.join(missing)} column; "
                f"expected a gradebook CSV exported from Canvas ({', '.join(STUDENT_COLUMNS)})"
            )
        rows = [
            row for row in reader
            if (row.get("Student") or "").strip() != POINTS_POSSIBLE
            and ((row.get("SIS Login ID") or "").strip() or (row.get("ID") or "").strip())
        ]
    return rows, columns


def _canvas_headers(assignments: list[str], columns: list[str]) -> dict[str, str]:
    """Assignment -> the roster's column for it, e.g. ``"01_conv1d (12345)"``."""
    found = {}
    for a in assignments:
        pattern = re.compile(rf"{re.escape(a)}( \(\d+\))?")
        match = next((c for c in columns if pattern.fullmatch(c.strip())), None)
        if match:
            found[a] = match
    return found


def _match(row: dict[str, str], scores: dict[str, dict[str, str]]) -> str | None:
    """The graded student id of a roster row: by SIS Login ID, else by Canvas ID."""
    # Ids escape what a folder name cannot hold ("a%20b"): the roster has the login as typed.
    by_lower = {unquote(s).lower(): s for s in scores} | {s.lower(): s for s in scores}
    for column in ("SIS Login ID", "ID"):
        key = (row.get(column) or "").strip().lower()
        if key and key in by_lower:
            return by_lower[key]
    return None
