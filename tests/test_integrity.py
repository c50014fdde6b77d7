"""Step 2: edits to locked cells, against nbgrader's checksums."""

from __future__ import annotations

import copy

from nbgrader.utils import compute_checksum

from autograder.intake.integrity import check_integrity, locked_checksums
from tests.nbfactory import locked_markdown, notebook

ANSWERS = {"corr1d": "def corr1d(x, h):\n    pass", "conv1d": "def conv1d(x, w):\n    pass"}


def release():
    return notebook(ANSWERS, extra=[locked_markdown("intro", "Read me first.")])


def test_an_untouched_submission_is_clean():
    rel = release()
    sub = copy.deepcopy(rel)
    sub.cells[1].source = "def corr1d(x, h):\n    return x[:1]"  # answers may change
    report = check_integrity(sub, rel)
    assert not report.tampered
    assert report.notes() == []


def test_an_edited_check_cell_is_reported_by_grade_id():
    rel = release()
    sub = copy.deepcopy(rel)
    sub.cells[2].source = "pass  # check('corr1d', corr1d)"
    report = check_integrity(sub, rel)
    assert report.modified == ["check_corr1d"]
    assert report.deleted == []
    assert "check_corr1d" in report.notes()[0]


def test_changed_points_count_as_an_edit():
    rel = release()
    sub = copy.deepcopy(rel)
    sub.cells[4].metadata.nbgrader.points = 100
    assert check_integrity(sub, rel).modified == ["check_conv1d"]


def test_deleted_cells_and_locked_markdown():
    rel = release()
    sub = copy.deepcopy(rel)
    del sub.cells[4]  # check_conv1d
    sub.cells[-1].source = "I rewrote the instructions."
    report = check_integrity(sub, rel)
    assert report.deleted == ["check_conv1d"]
    assert report.modified == ["intro"]


def test_stripped_metadata_is_an_edit_not_a_crash():
    rel = release()
    sub = copy.deepcopy(rel)
    del sub.cells[2].metadata.nbgrader["points"]
    assert check_integrity(sub, rel).modified == ["check_corr1d"]


def test_a_release_without_stored_checksums_gets_them_computed():
    rel = release()
    expected = locked_checksums(rel)
    for cell in rel.cells:
        cell.metadata.get("nbgrader", {}).pop("checksum", None)
    assert locked_checksums(rel) == expected
    assert expected["check_corr1d"] == compute_checksum(rel.cells[2])
    assert set(expected) == {"check_corr1d", "check_conv1d", "intro"}
