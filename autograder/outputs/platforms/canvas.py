"""A gradebook CSV that Canvas imports (Grades > Import).

Canvas reads the columns ``Student, ID, SIS User ID, SIS Login ID, Section``
and then one column per assignment headed ``<Name> (<assignment id>)``, with a
``Points Possible`` row under the header; it finds a student by ``ID`` (its
user id), else by the SIS ids, and an assignment by the id in parentheses (a
header without one creates a new assignment).

Students graded from a Canvas submissions zip are keyed by their Canvas user
id (`autograder.intake.identify`), which goes to ``ID``. Given the gradebook
CSV exported from the same course (``--roster``), every student row is
matched (by ``ID``, then ``SIS Login ID``, then ``SIS User ID``) and its name,
ids and section are copied; assignment columns take the roster's own headers.
An assignment id can also be given (``--canvas-assignment 01_conv1d=4321``).
A graded student the roster does not list keeps a row of their own and is
named in `CanvasExport.unmatched` (a warning, and a note in the summary):
never dropped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from autograder import catalog
from autograder.intake.identify import CANVAS
from autograder.outputs.gradebook import atomic_write_text
from autograder.outputs.points import points
from autograder.results import SubmissionResult

STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
# Columns a roster must have: Canvas exports ID always, the SIS ids only to who may see them.
REQUIRED_COLUMNS = ("Student", "ID")
_HEADER = re.compile(r"(?P<name>.*?)\s*\((?P<id>\d+)\)\s*")


@dataclass
class CanvasOptions:
    """What ``canvas.csv`` is built with.

    Attributes
    ----------
    roster : Path or None
        The gradebook CSV exported from the Canvas course.
    assignment_ids : dict of str to str
        Assignment -> its Canvas assignment id.
    """

    roster: Path | None = None
    assignment_ids: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ValueError now for a roster that cannot be used (before any grading)."""
        if self.roster is not None:
            read_roster(self.roster)


@dataclass
class Roster:
    """A Canvas gradebook export: student rows, column names, the Points Possible row."""

    rows: list[dict[str, str]]
    columns: list[str]
    possible: dict[str, str]


@dataclass
class CanvasExport:
    """What `write_canvas_gradebook` wrote.

    Attributes
    ----------
    path : Path
    unmatched : list of str
        Graded students the roster does not list (exported under their own row).
    notes : list of str
        For the TA: unmatched students, assignments without a Canvas id, points
        that differ from the roster's.
    """

    path: Path
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_canvas_csv(
    results: list[SubmissionResult], path: Path, roster: Path | None = None,
    assignment_ids: dict[str, str] | None = None,
) -> Path:
    """Write the Canvas gradebook CSV of `results` to `path` and return `path`.

    See `write_canvas_gradebook`, which also says who the roster lacks.
    """
    return write_canvas_gradebook(
        results, path, CanvasOptions(roster, dict(assignment_ids or {}))).path


def write_canvas_gradebook(
    results: list[SubmissionResult], path: Path, options: CanvasOptions | None = None
) -> CanvasExport:
    """Write the Canvas gradebook CSV of `results` to `path`.

    Parameters
    ----------
    results : list of SubmissionResult
        Several assignments may be mixed; the last result of a student for an
        assignment wins. Results of unknown assignments are left out.
    path : Path
        The CSV to write, e.g. next to ``grades.csv``.
    options : CanvasOptions, optional
        The roster (its students come first, in its order, with an empty cell
        for an assignment they did not submit) and assignment ids.

    Raises
    ------
    ValueError
        The roster lacks the ``Student`` or ``ID`` column.
    """
    options = options or CanvasOptions()
    export = CanvasExport(Path(path))
    assignments = [a for a in catalog.ASSIGNMENTS if any(r.assignment == a for r in results)]
    graded: dict[str, SubmissionResult] = {}
    scores: dict[str, dict[str, str]] = {}
    for r in results:
        if r.assignment in assignments:
            graded[r.student] = r
            scores.setdefault(r.student, {})[r.assignment] = points(r.score)
    roster = read_roster(options.roster) if options.roster is not None else None
    # A bare header is worth a warning only for a Canvas course, not an nbgrader-only one.
    canvas_course = roster is not None or options.assignment_ids or any(
        r.origin == CANVAS for r in graded.values())
    header_of = _headers(assignments, roster, options.assignment_ids,
                         export.notes if canvas_course else [])
    rows: list[dict[str, str]] = []
    if roster is not None:
        index = _Index(graded)
        for roster_row in roster.rows:
            row = {c: roster_row.get(c, "") for c in STUDENT_COLUMNS}
            student = index.match(row)
            row.update(scores.pop(student, {}) if student else {})
            rows.append(row)
        export.unmatched = sorted(scores)
        if export.unmatched:
            export.notes.append(
                f"canvas.csv: {len(export.unmatched)} graded student(s) are not on the roster "
                f"{str(options.roster)!r}, exported on rows of their own: "
                + ", ".join(_who(graded[s]) for s in export.unmatched))
        _compare_points(assignments, roster, header_of, export.notes)
    # Graded students the roster does not list (or every student, without a roster).
    for student, by_assignment in sorted(scores.items()):
        r = graded[student]
        ids = ({"ID": student} if r.origin == CANVAS else {"SIS Login ID": unquote(student)})
        rows.append({"Student": r.name or unquote(student), **ids, **by_assignment})
    columns = STUDENT_COLUMNS + [header_of[a] for a in assignments]
    possible = {"Student": POINTS_POSSIBLE} | {
        header_of[a]: points(catalog.max_score(a)) for a in assignments
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(possible)
    writer.writerows({header_of.get(k, k): v for k, v in row.items()} for row in rows)
    atomic_write_text(export.path, buffer.getvalue())
    return export


def read_roster(roster: Path) -> Roster:
    """The student rows, column names and Points Possible row of a Canvas gradebook export.

    The ``Points Possible`` row and Canvas's other rows without a student id
    (``Manual Posting``, blank lines) are not students.

    Raises
    ------
    ValueError
        The file cannot be read, or lacks the ``Student`` or ``ID`` column.
    """
    try:
        with open(roster, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in reader.fieldnames or []]
            reader.fieldnames = columns
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ValueError(
                    f"canvas roster {str(roster)!r} has no {' or '.join(missing)} column; "
                    "expected the gradebook CSV exported from Canvas (Grades > Export), "
                    f"with the columns {', '.join(STUDENT_COLUMNS)}")
            rows, possible = [], {}
            for row in reader:
                row = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
                if row.get("Student") == POINTS_POSSIBLE:
                    possible = row
                elif row.get("ID") or row.get("SIS Login ID") or row.get("SIS User ID"):
                    rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"canvas roster {str(roster)!r} cannot be read ({exc})") from exc
    return Roster(rows, columns, possible)


def _canon(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _headers(assignments: list[str], roster: Roster | None, ids: dict[str, str],
             notes: list[str]) -> dict[str, str]:
    """Assignment -> its canvas.csv header: ``Name (id)`` when its Canvas id is known."""
    by_id: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for column in roster.columns if roster else []:
        match = _HEADER.fullmatch(column)
        if match:
            by_id[match["id"]] = column
            by_name.setdefault(_canon(match["name"]), []).append(column)
    header_of = {}
    for a in assignments:
        if a in ids:
            header_of[a] = by_id.get(ids[a], f"{a} ({ids[a]})")
            continue
        found = by_name.get(_canon(a), [])
        if not found:  # "01_conv1d: 1-D convolution (4321)": the assignment's name inside
            found = [c for name, cs in by_name.items() if _canon(a) in name for c in cs]
        if len(found) == 1:
            header_of[a] = found[0]
        else:
            header_of[a] = a
            why = (f"the roster has {len(found)} columns that could be it ({', '.join(found)})"
                   if found else "no Canvas assignment id is known")
            notes.append(f"canvas.csv: {a} has the bare header {a!r} ({why}), so Canvas would "
                         f"create a new assignment; pass --canvas-assignment {a}=<id> or a "
                         "--roster whose header is 'Name (id)'")
    return header_of


def _compare_points(assignments: list[str], roster: Roster, header_of: dict[str, str],
                    notes: list[str]) -> None:
    for a in assignments:
        theirs = roster.possible.get(header_of[a], "")
        try:
            differs = theirs and float(theirs) != catalog.max_score(a)
        except ValueError:
            differs = False
        if differs:
            notes.append(f"canvas.csv: {header_of[a]!r} is worth {theirs} points in Canvas but "
                         f"{catalog.max_score(a)} here; Canvas keeps its own points possible")


def _who(r: SubmissionResult) -> str:
    return f"{r.name} ({r.student})" if r.name and r.name != r.student else r.student


class _Index:
    """Graded students by the keys a roster row can name them with."""

    def __init__(self, graded: dict[str, SubmissionResult]) -> None:
        self.by_canvas_id = {s: s for s, r in graded.items() if r.origin == CANVAS}
        # Ids escape what a folder name cannot hold ("a%20b"): the roster has the login as typed.
        self.by_login = {k: s for s, r in graded.items() if r.origin != CANVAS
                         for k in (unquote(s).lower(), s.lower())}

    def match(self, row: dict[str, str]) -> str | None:
        """The graded student of a roster row: by Canvas ID, then SIS Login ID, SIS User ID."""
        canvas_id = (row.get("ID") or "").strip()
        if canvas_id in self.by_canvas_id:
            return self.by_canvas_id[canvas_id]
        for column in ("SIS Login ID", "SIS User ID", "ID"):
            key = (row.get(column) or "").strip().lower()
            if key and key in self.by_login:
                return self.by_login[key]
        return None
