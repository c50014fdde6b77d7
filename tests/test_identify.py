"""Who and what: nbgrader trees, Canvas names, zip archives, the notebook's own cells."""

from __future__ import annotations

import io
import zipfile

import pytest

from autograder import identify
from autograder.identify import UNKNOWN_ASSIGNMENT, collect, safe_name
from tests.nbfactory import notebook, to_bytes

CONV1D = to_bytes(notebook({"corr1d": "pass", "conv1d": "pass"}))
CONV2D = to_bytes(notebook({"corr2d": "pass", "pad2d": "pass"}))


def write(path, data=CONV1D):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def who(subs):
    return sorted((s.student, s.assignment, tuple(s.flags)) for s in subs)


def test_nbgrader_submitted_tree(tmp_path):
    write(tmp_path / "submitted" / "alice" / "01_conv1d" / "01_conv1d.ipynb")
    write(tmp_path / "submitted" / "bob" / "02_conv2d" / "02_conv2d.ipynb", CONV2D)
    write(tmp_path / "submitted" / "bob" / "02_conv2d" / ".ipynb_checkpoints" / "x.ipynb")
    subs = collect([tmp_path / "submitted"])
    assert who(subs) == [("alice", "01_conv1d", ()), ("bob", "02_conv2d", ())]
    assert all(s.notes == [] and s.error is None for s in subs)
    # One notebook of the tree, given on its own, is identified the same way.
    (one,) = collect([tmp_path / "submitted" / "alice" / "01_conv1d" / "01_conv1d.ipynb"])
    assert (one.student, one.assignment) == ("alice", "01_conv1d")


def test_canvas_names_with_late_and_resubmission(tmp_path):
    write(tmp_path / "smithjane_12345_67890_01_conv1d.ipynb")
    write(tmp_path / "doejohn_late_23456_78901_01_conv1d-1.ipynb")
    write(tmp_path / "doejohn_late_23456_78800_01_conv1d.ipynb")  # older submission id
    subs = collect([tmp_path])
    assert who(subs) == [("doejohn", "01_conv1d", ("late",)), ("smithjane", "01_conv1d", ())]
    kept = next(s for s in subs if s.student == "doejohn")
    assert kept.source.endswith("78901_01_conv1d-1.ipynb")
    assert "78800_01_conv1d.ipynb' is another file for doejohn / 01_conv1d" in kept.notes[0]


def test_zip_members_are_read_in_memory_and_their_names_only_parsed(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../../escaped/01_conv1d/01_conv1d.ipynb", CONV1D)
        zf.writestr("/abs/olu_34567_89012_01_conv1d.ipynb", CONV1D)
        zf.writestr("__MACOSX/._x.ipynb", b"junk")
        zf.writestr("readme.txt", b"not a notebook")
    archive = write(tmp_path / "scratch" / "submissions.zip", buffer.getvalue())
    subs = collect([archive])
    assert who(subs) == [("escaped", "01_conv1d", ()), ("olu", "01_conv1d", ())]
    assert subs[0].data == CONV1D
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["scratch", "submissions.zip"]


def test_oversized_members_are_errors_for_that_student(tmp_path, monkeypatch):
    monkeypatch.setattr(identify, "MAX_NOTEBOOK_BYTES", 100)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big_1_2_01_conv1d.ipynb", b" " * 10_000)  # compresses to almost nothing
    (sub,) = collect([write(tmp_path / "c.zip", buffer.getvalue())])
    assert sub.data == b""
    assert sub.error.startswith("the notebook is 0.0 MB, more than the limit of 0 MB")


def test_the_assignment_comes_from_the_cells_when_the_name_says_nothing(tmp_path):
    write(tmp_path / "alice.ipynb", CONV2D)
    (sub,) = collect([tmp_path / "alice.ipynb"])
    assert (sub.student, sub.assignment, sub.notes) == ("alice", "02_conv2d", [])


def test_unidentifiable_submissions_are_reported(tmp_path):
    write(tmp_path / "mystery.ipynb", to_bytes(notebook({})))
    write(tmp_path / "01_conv1d.ipynb")  # no student anywhere in a zip's top level
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("01_conv1d.ipynb", CONV1D)
    subs = collect([tmp_path / "mystery.ipynb", write(tmp_path / "z.zip", buffer.getvalue())])
    mystery = next(s for s in subs if s.student == "mystery")
    assert mystery.assignment == UNKNOWN_ASSIGNMENT
    assert "could not tell which assignment" in mystery.notes[0]
    anonymous = next(s for s in subs if s.student.startswith("unknown-"))
    assert "could not tell the student" in anonymous.notes[0]


def test_a_forced_assignment_wins_and_a_disagreement_is_noted(tmp_path):
    write(tmp_path / "alice.ipynb", CONV2D)
    (sub,) = collect([tmp_path / "alice.ipynb"], assignment="01_conv1d")
    assert sub.assignment == "01_conv1d"
    assert "graded as 01_conv1d but its cells look like 02_conv2d" in sub.notes[0]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"collect: unknown assignment '99_x'; expected one of"):
        collect([tmp_path], assignment="99_x")
    with pytest.raises(ValueError, match=r"collect: '.*nope.ipynb' does not exist"):
        collect([tmp_path / "nope.ipynb"])
    with pytest.raises(ValueError, match=r"collect: '.*notes.txt' is not a notebook"):
        collect([write(tmp_path / "notes.txt", b"hi")])
    with pytest.raises(ValueError, match=r"collect: '.*bad.zip' is not a readable zip archive"):
        collect([write(tmp_path / "bad.zip", b"PK not really")])


def test_safe_names_cannot_leave_the_results_folder():
    assert safe_name("../../etc") == "_.._etc"
    assert safe_name("..") == "unknown"
    assert safe_name("a b/c") == "a_b_c"
