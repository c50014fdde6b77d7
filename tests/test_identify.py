"""Who and what: nbgrader trees, Canvas names, zip archives, the notebook's own cells."""

from __future__ import annotations

import io
import json
import os
import unicodedata
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.intake import identify
from autograder.intake.identify import (
    MAX_ID_CHARS,
    UNKNOWN_ASSIGNMENT,
    collect,
    collect_batch,
    safe_name,
    student_id,
)
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
    # Keyed by the Canvas user id; the login is the name shown beside it.
    assert who(subs) == [("12345", "01_conv1d", ()), ("23456", "01_conv1d", ("late",))]
    assert {s.student: (s.name, s.origin) for s in subs} == {
        "12345": ("smithjane", "canvas"), "23456": ("doejohn", "canvas")}
    kept = next(s for s in subs if s.student == "23456")
    assert kept.source.endswith("78901_01_conv1d-1.ipynb")
    assert kept.notes[0].endswith("the newest by its LMS submission id; ignored "
                                  f"'{tmp_path / 'doejohn_late_23456_78800_01_conv1d.ipynb'}' "
                                  "(another file for 23456 / 01_conv1d)")


def test_two_canvas_students_with_one_name_stay_two(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("smithjohn_12346_900_01_conv1d.ipynb", CONV1D)
        zf.writestr("smithjohn_12350_901_01_conv1d.ipynb", CONV2D)
        zf.writestr("smithjohn_late_12350_905_01_conv1d-1.ipynb", CONV1D)  # 12350's newer one
        zf.writestr("g\u00f3mezjos\u00e9_12360_902_01_conv1d.ipynb", CONV1D)
    batch = collect_batch([write(tmp_path / "submissions.zip", buffer.getvalue())])
    by = {s.student: s for s in batch.submissions}
    assert sorted(by) == ["12346", "12350", "12360"]
    assert by["12346"].name == by["12350"].name == "smithjohn"
    assert by["12346"].data == CONV1D and by["12346"].notes == []
    assert by["12350"].source.endswith("smithjohn_late_12350_905_01_conv1d-1.ipynb")
    assert by["12350"].flags == ["late"]
    assert by["12360"].name == "gómezjosé"
    assert not any("collision" in n for n in batch.notes)


def test_moodle_flat_and_folder_downloads_key_by_participant_id(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("Jane Doe_1234567_assignsubmission_file_01_conv1d.ipynb", CONV1D)
        zf.writestr("Jos\u00e9 Garc\u00eda_1234568_assignsubmission_file/Untitled.ipynb", CONV2D)
        zf.writestr("Jane Doe_1234570_assignsubmission_file_01_conv1d.ipynb", CONV1D)  # namesake
        zf.writestr("Jane Doe_1234567_assignsubmission_onlinetext_onlinetext.html", b"<p>hi</p>")
    write(tmp_path / "moodle.zip", buffer.getvalue())
    # The same download unpacked: the folder form on disk.
    write(tmp_path / "unpacked" / "\u5f20\u4f1f_1234580_assignsubmission_file" / "nb.ipynb", CONV1D)
    subs = collect([tmp_path / "moodle.zip", tmp_path / "unpacked"])
    got = {s.student: (s.name, s.assignment, s.origin) for s in subs}
    assert got == {
        "1234567": ("Jane Doe", "01_conv1d", "moodle"),
        "1234568": ("José García", "02_conv2d", "moodle"),  # assignment from its cells
        "1234570": ("Jane Doe", "01_conv1d", "moodle"),
        "1234580": ("张伟", "01_conv1d", "moodle"),
    }
    assert all(s.notes == [] and s.error is None for s in subs)


def test_zip_members_are_read_in_memory_and_their_names_only_parsed(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../../escaped/01_conv1d/01_conv1d.ipynb", CONV1D)
        zf.writestr("/abs/olu_34567_89012_01_conv1d.ipynb", CONV1D)
        zf.writestr("__MACOSX/._x.ipynb", b"junk")
        zf.writestr("readme.txt", b"not a notebook")
    archive = write(tmp_path / "scratch" / "submissions.zip", buffer.getvalue())
    subs = collect([archive])
    assert who(subs) == [("34567", "01_conv1d", ()), ("escaped", "01_conv1d", ())]
    assert subs[0].data == CONV1D
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["scratch", "submissions.zip"]


def test_oversized_members_are_errors_for_that_student(tmp_path, monkeypatch):
    monkeypatch.setattr(identify, "MAX_NOTEBOOK_BYTES", 100)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big_1_2_01_conv1d.ipynb", b" " * 10_000)  # compresses to almost nothing
    (sub,) = collect([write(tmp_path / "c.zip", buffer.getvalue())])
    assert sub.data == b""
    assert sub.error.startswith("the notebook is 10,000 bytes, more than the limit of 100 bytes")


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
    assert safe_name("../../etc") == "%2E.%2F..%2Fetc"
    assert safe_name("..") == "%2E."
    assert safe_name("a b/c") == "a%20b%2Fc"
    assert safe_name("a%20b") == "a%20b"  # already an id: unchanged, so feedback paths match
    assert "/" not in safe_name("/" * 300) and len(safe_name("/" * 300)) <= MAX_ID_CHARS


# --------------------------------------------------------------------------- identity


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_student_ids_are_injective_and_one_folder_name(a, b):
    ia, ib = student_id(a), student_id(b)
    for i in (ia, ib):
        assert "/" not in i and "\0" not in i and i not in (".", "..") and not i.startswith(".")
        assert 0 < len(i) <= MAX_ID_CHARS and safe_name(i) == i
    if unicodedata.normalize("NFC", a) != unicodedata.normalize("NFC", b):
        assert ia != ib


def test_names_that_used_to_merge_stay_apart(tmp_path):
    names = ["张伟", "王芳", "alice smith", "alice_smith", ".hidden", "hidden"]
    for name in names:
        write(tmp_path / "submitted" / name / "01_conv1d" / "01_conv1d.ipynb")
    subs = collect([tmp_path / "submitted"])
    assert len({s.student for s in subs}) == len(names) == len(subs)
    assert {"张伟", "王芳", "alice_smith", "hidden"} <= {s.student for s in subs}
    assert all(s.notes == [] for s in subs)


def test_a_300_character_login_gives_a_bounded_id(tmp_path):
    login = "x" * 300
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"{login}_01_conv1d.ipynb", CONV1D)
        zf.writestr(f"{login}y_01_conv1d.ipynb", CONV1D)
    subs = collect([write(tmp_path / "c.zip", buffer.getvalue())])
    assert len({s.student for s in subs}) == 2
    assert all(len(s.student) <= MAX_ID_CHARS and s.student.startswith("xxx") for s in subs)


def test_a_file_below_a_subfolder_is_the_folder_owners(tmp_path):
    own = write(tmp_path / "submitted" / "zed" / "01_conv1d" / "01_conv1d.ipynb")
    write(tmp_path / "submitted" / "alice" / "01_conv1d" / "01_conv1d.ipynb")
    planted = write(tmp_path / "submitted" / "zed" / "01_conv1d" / "extra" /
                    "alice_01_conv1d.ipynb", to_bytes(notebook({})))
    os.utime(own, (1_000_000, 1_000_000))  # the planted file is the newer of zed's two
    batch = collect_batch([tmp_path / "submitted"])
    by = {s.student: s for s in batch.submissions}
    assert sorted(by) == ["alice", "zed"]
    assert by["alice"].source.endswith("alice/01_conv1d/01_conv1d.ipynb")
    assert by["zed"].source == str(planted)
    assert any(f"ignored {str(own)!r}" in n for n in batch.notes)


def test_the_newest_of_two_files_wins_by_timestamp_then_mtime(tmp_path):
    old = write(tmp_path / "in" / "eve 01_conv1d.ipynb", to_bytes(notebook({})))
    new = write(tmp_path / "in" / "eve_01_conv1d.ipynb")
    os.utime(old, (2_000_000, 2_000_000))
    os.utime(new, (1_000_000, 1_000_000))
    (sub,) = collect([tmp_path / "in"])
    assert sub.source == str(old)  # modification time: "eve 01_conv1d" is the newer
    # nbgrader's timestamp.txt and a time in the LMS name come before the file's time.
    folder = tmp_path / "submitted" / "bob" / "01_conv1d"
    early = write(folder / "a" / "01_conv1d.ipynb")
    late = write(folder / "b" / "01_conv1d.ipynb")
    (folder / "a" / "timestamp.txt").write_text("2024-03-02 10:00:00.000000 UTC")
    (folder / "b" / "timestamp.txt").write_text("2024-03-01 10:00:00.000000 UTC")
    os.utime(late, (9_000_000_000, 9_000_000_000))
    (sub,) = collect([tmp_path / "submitted"])
    assert sub.source == str(early)
    assert "the newest by its submission time" in sub.notes[0]
    lms = tmp_path / "lms"
    write(lms / "carol_01_conv1d_attempt_2024-05-01-09-00-00.ipynb")
    write(lms / "carol_01_conv1d_attempt_2024-04-30-23-59-59.ipynb")
    (sub,) = collect([lms])
    assert "2024-05-01" in sub.source


def test_upper_case_suffixes_and_links(tmp_path):
    write(tmp_path / "in" / "dana_01_conv1d.IPYNB")
    target = write(tmp_path / "elsewhere" / "frank" / "01_conv1d" / "01_conv1d.ipynb")
    (tmp_path / "in" / "frank").symlink_to(target.parents[1], target_is_directory=True)
    (tmp_path / "in" / "gil_01_conv1d.ipynb").symlink_to(target)
    batch = collect_batch([tmp_path / "in"])
    by = {s.student: s for s in batch.submissions}
    assert sorted(by) == ["dana", "gil"]
    assert by["dana"].error is None and by["dana"].data == CONV1D
    assert by["gil"].data == b"" and "symbolic link" in by["gil"].error
    assert any("frank" in n and "not followed" in n for n in batch.notes)


def test_archive_caps_hold_for_the_whole_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(identify, "MAX_ARCHIVE_BYTES", 3 * len(CONV1D))
    for k in range(2):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(2):
                zf.writestr(f"s{k}{i}_{k}{i}_{k}{i}_01_conv1d.ipynb", CONV1D)
        write(tmp_path / "in" / f"bomb{k}.zip", buffer.getvalue())
    subs = collect([tmp_path / "in"])
    assert len(subs) == 4
    assert sum(s.data == CONV1D for s in subs) == 3
    (refused,) = [s for s in subs if s.error]
    assert "the batch's archives" in refused.error


def test_hostile_metadata_does_not_stop_identification(tmp_path):
    raw = json.loads(CONV1D)
    raw["cells"][1]["metadata"] = "a string"
    write(tmp_path / "in" / "ann_01_conv1d.ipynb", json.dumps(raw).encode())
    write(tmp_path / "in" / "ben_01_conv1d.ipynb", b"[" * 100_000 + b"]" * 100_000)
    write(tmp_path / "in" / "cy.ipynb", json.dumps({"cells": [1, 2]}).encode())
    subs = collect([tmp_path / "in"])
    assert sorted((s.student, s.assignment) for s in subs) == [
        ("ann", "01_conv1d"), ("ben", "01_conv1d"), ("cy", UNKNOWN_ASSIGNMENT)]
