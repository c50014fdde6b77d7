"""Results on disk: ``results/<student>/<assignment>.json``, ``grades.csv`` and the resume cache.

Every file is written atomically (a temporary file in the same folder, then
``os.replace``), so a batch killed at any moment leaves only whole files. A
result is reused by the next run when its key matches (`autograder.grade.cache_key`:
the submission's SHA-256, the grader's code, the seed, the limits, the
sandbox and the release notebook). ``grades.csv`` is the union of
``results/``: regrading some students updates their rows only. A killed batch therefore resumes
where it stopped and ends with the same gradebook as an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from autograder.catalog import ASSIGNMENTS, problems_for
from autograder.intake.identify import safe_name
from autograder.outputs.points import points
from autograder.results import SubmissionResult, bounded, cut

NOTES_CELL_LIMIT = 10_000  # characters of one student's notes in grades.csv


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half.

    The file gets the mode a plain ``open(path, "w")`` would give (0644 under
    the usual umask 022), not the 0600 of a temporary file: other TAs and a
    web server read the feedback. No output holds a secret (results leave the
    seed out: `SubmissionResult.to_dict`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Gradebook:
    """The output folder of a batch.

    Parameters
    ----------
    out : Path
        Created if missing; ``results/`` and ``grades.csv`` go inside.
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.results_dir = self.out / "results"

    def result_path(self, student: str, assignment: str) -> Path:
        # Through `safe_name`: a hand-made result cannot write outside results/.
        return self.results_dir / safe_name(student) / f"{safe_name(assignment)}.json"

    def cached(self, student: str, assignment: str, key: str) -> SubmissionResult | None:
        """The stored result for this exact submission and grading set-up, if there is one.

        `key` is `autograder.grade.cache_key`: the file, the grader's code, the
        seed, the limits, the sandbox and the release notebook. A result the
        grader itself failed to produce is never reused.
        """
        result = self.load(self.result_path(student, assignment))
        if result is None or result.cache_key != key or "grader_error" in result.flags:
            return None
        return result

    @staticmethod
    def load(path: Path) -> SubmissionResult | None:
        """One stored result; None when missing, unreadable or from another schema."""
        try:
            return bounded(SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None  # missing, from another schema, or not ours: grade again

    def union(self, results: list[SubmissionResult]) -> list[SubmissionResult]:
        """Every result in ``results/``, with `results` (this batch) replacing theirs.

        Sorted by student then assignment: the rows of the gradebooks.
        """
        everyone: dict[tuple[str, str], SubmissionResult] = {}
        for path in sorted(self.results_dir.glob("*/*.json")):
            stored = self.load(path)
            if stored is not None:
                everyone[stored.student, stored.assignment] = stored
        for r in results:
            everyone[r.student, r.assignment] = r
        return sorted(everyone.values(), key=lambda r: (r.student, r.assignment))

    def save(self, result: SubmissionResult) -> Path:
        """Write one result as soon as it is known."""
        path = self.result_path(result.student, result.assignment)
        atomic_write_text(path, json.dumps(result.to_dict(), indent=1, sort_keys=True) + "\n")
        return path

    def write_csv(self, results: list[SubmissionResult]) -> Path:
        """Write ``grades.csv``: one row per student.

        Columns: ``student`` (the id), ``name`` (as the path or LMS spelled it,
        e.g. Moodle's full name beside its participant id), ``total``,
        ``max_total``, then for each assignment
        present ``<assignment>`` and one ``<assignment>:<function>`` per graded
        function, then ``flags`` (``<assignment>:<flag>``) and ``notes`` (errors
        and identification warnings). An assignment a student did not submit
        is left empty.
        """
        assignments = [a for a in ASSIGNMENTS if any(r.assignment == a for r in results)]
        # Submissions whose assignment is unknown have no columns, only a note.
        columns = ["student", "name", "total", "max_total"]
        for a in assignments:
            columns += [a] + [f"{a}:{p.name}" for p in problems_for(a)]
        columns += ["flags", "notes"]
        rows: dict[str, dict[str, str]] = {}
        # Unrounded sums: adding the rounded cells would carry their rounding errors along.
        totals: dict[str, tuple[float, float]] = {}
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            row = rows.setdefault(r.student, {"student": r.student, "name": r.name or r.student,
                                              "flags": "", "notes": ""})
            total, max_total = totals.get(r.student, (0.0, 0.0))
            totals[r.student] = (total + r.score, max_total + r.max_score)
            row["total"], row["max_total"] = map(points, totals[r.student])
            if r.assignment in assignments:
                row[r.assignment] = points(r.score)
                for p in problems_for(r.assignment):
                    pr = r.problems.get(p.name)
                    row[f"{r.assignment}:{p.name}"] = points(pr.score if pr else 0.0)
            row["flags"] = ";".join(filter(None, [row["flags"]] + [
                f"{r.assignment}:{f}" for f in r.flags
            ]))
            notes = ([f"{r.assignment}: {r.error}"] if r.error else []) + [
                f"{r.assignment}: {n}" for n in r.notes
            ]
            row["notes"] = cut(" | ".join(filter(None, [row["notes"], *notes])), NOTES_CELL_LIMIT)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows.values())
        path = self.out / "grades.csv"
        atomic_write_text(path, buffer.getvalue())
        return path
