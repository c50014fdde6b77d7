"""Step 2: compare a submission's locked cells with the release notebook.

nbgrader marks the check cells (grade cells) and the instructions as locked
and stores a checksum of each in the release notebook. A student can still
edit or delete them in a text editor; this step reports which ones, with
nbgrader's own checksum, so that the TA sees the same thing ``nbgrader
validate`` would. The grader never runs those cells, so an edit cannot change
a score; it is reported because it usually means something went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode
from nbgrader.utils import compute_checksum, is_locked


@dataclass
class IntegrityReport:
    """Locked cells of the release that the submission changed.

    Attributes
    ----------
    modified : list of str
        grade_ids of locked cells whose source, type or points differ.
    deleted : list of str
        grade_ids of locked cells that are missing from the submission.
    """

    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def tampered(self) -> bool:
        return bool(self.modified or self.deleted)

    def notes(self) -> list[str]:
        """Plain sentences for the feedback."""
        out = []
        if self.modified:
            out.append(
                "These read-only cells were edited: " + ", ".join(self.modified)
                + ". The grader uses its own checks, so your score is unaffected, "
                "but please restore them from the release notebook."
            )
        if self.deleted:
            out.append(
                "These read-only cells were deleted: " + ", ".join(self.deleted) + "."
            )
        return out


def grade_id(cell: NotebookNode) -> str | None:
    """The nbgrader cell id, or None for a cell nbgrader does not track."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def locked_checksums(release: NotebookNode) -> dict[str, str]:
    """grade_id -> checksum of the locked cells of a release notebook.

    The checksum stored by ``nbgrader generate_assignment`` is used when
    present; a release without stored checksums (a hand-made one) gets them
    computed, with the same function.
    """
    sums = {}
    for cell in release.cells:
        gid = grade_id(cell)
        # nbgrader's rule: grade cells that are not solution cells are locked too.
        if gid is None or not is_locked(cell):
            continue
        sums[gid] = cell.metadata.nbgrader.get("checksum") or compute_checksum(cell)
    return sums


def check_integrity(submission: NotebookNode, release: NotebookNode) -> IntegrityReport:
    """Report locked cells of `release` that `submission` edited or deleted.

    Parameters
    ----------
    submission, release : NotebookNode
        Validated nbformat-4 notebooks.
    """
    expected = locked_checksums(release)
    found: dict[str, NotebookNode] = {}
    for cell in submission.cells:
        gid = grade_id(cell)
        if gid in expected and gid not in found:
            found[gid] = cell
    report = IntegrityReport()
    for gid, checksum in expected.items():
        cell = found.get(gid)
        if cell is None:
            report.deleted.append(gid)
        elif _checksum_or_none(cell) != checksum:
            report.modified.append(gid)
    return report


def _checksum_or_none(cell: NotebookNode) -> str | None:
    # A student who deletes the points or the grade_id from the metadata makes
    # compute_checksum raise: that cell is simply "modified".
    try:
        return compute_checksum(cell)
    except (KeyError, ValueError, TypeError):
        return None
