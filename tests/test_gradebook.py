"""Result files, grades.csv and the resume cache."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from autograder.outputs.gradebook import Gradebook, atomic_write_text
from autograder.results import (
    DETAIL_TEXT_LIMIT,
    NOTES_LIMIT,
    TEXT_LIMIT,
    CaseResult,
    ProblemResult,
    SubmissionResult,
    bounded,
)


def result(student, assignment="01_conv1d", scores=None, **kw):
    scores = scores or {"corr1d": 2.0, "conv1d": 2.5}
    problems = {
        name: ProblemResult(name, s, 5.0, cases=[CaseResult("c", s > 0, s, 5.0)])
        for name, s in scores.items()
    }
    kw.setdefault("sha256", "ab" * 32)
    return SubmissionResult(student, assignment, sum(scores.values()), 12.0,
                            problems=problems, seed=7, grader_version="v1", **kw)


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_results_round_trip_and_the_cache_key(tmp_path):
    book = Gradebook(tmp_path)
    saved = result("alice", cache_key="k1")
    path = book.save(saved)
    assert path == tmp_path / "results" / "alice" / "01_conv1d.json"
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == 1
    assert "seed" not in on_disk  # the secret stays in memory (`SubmissionResult.seed`)
    assert book.cached("alice", "01_conv1d", "k1") == dataclasses.replace(saved, seed=0)
    assert book.cached("alice", "01_conv1d", "k2") is None  # another file, grader, limit...
    assert book.cached("bob", "01_conv1d", "k1") is None
    book.save(result("carol", cache_key="k1", flags=["grader_error"]))
    assert book.cached("carol", "01_conv1d", "k1") is None  # the grader's failure: retried


def test_a_damaged_result_file_is_graded_again(tmp_path):
    book = Gradebook(tmp_path)
    path = book.result_path("alice", "01_conv1d")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema_version": 1, "student": ')
    assert book.cached("alice", "01_conv1d", "k1") is None


def test_a_result_path_stays_inside_results(tmp_path):
    book = Gradebook(tmp_path)
    path = book.result_path("../../etc", "../x")
    assert path.parent.parent == book.results_dir


def test_the_gradebook_is_the_union_of_results(tmp_path):
    book = Gradebook(tmp_path)
    for r in (result("alice"), result("bob"), result("bob", "02_conv2d", {"corr2d": 1.0})):
        book.save(r)
    (book.results_dir / "zed").mkdir()
    (book.results_dir / "zed" / "01_conv1d.json").write_text("not json")  # skipped
    regraded = result("bob", scores={"corr1d": 5.0})
    everyone = book.union([regraded])
    assert [(r.student, r.assignment, r.score) for r in everyone] == [
        ("alice", "01_conv1d", 4.5), ("bob", "01_conv1d", 5.0), ("bob", "02_conv2d", 1.0)]


def test_long_texts_are_cut_with_a_note(tmp_path):
    long = "x" * 50_000
    r = result("alice", error=long, notes=[long] * 100)
    r.problems["corr1d"].cases[0].message = long
    r.problems["corr1d"].cases[0].details = {"exception": {"traceback": long}}
    bounded(r)
    assert r.error == "x" * TEXT_LIMIT + f" [... {50_000 - TEXT_LIMIT:,} more characters cut]"
    assert len(r.notes) == NOTES_LIMIT + 1 and r.notes[-1] == "[... 50 more notes cut]"
    case = r.problems["corr1d"].cases[0]
    assert case.message.endswith("more characters cut]") and len(case.message) < 2100
    assert len(case.details["exception"]["traceback"]) < DETAIL_TEXT_LIMIT + 100
    (row,) = read_csv(Gradebook(tmp_path).write_csv([result("bob", notes=[long] * 3)]))
    assert row["notes"].endswith("more characters cut]") and len(row["notes"]) < 10_100


def test_grades_csv_has_a_row_per_student_and_a_column_per_function(tmp_path):
    rows = read_csv(Gradebook(tmp_path).write_csv([
        result("bob", flags=["late"]),
        result("alice", "02_conv2d", {"corr2d": 2.0, "pad2d": 1.0, "conv2d": 0.0},
               flags=["forbidden_call"], notes=["cell 3, line 2: `numpy.convolve`"]),
        result("alice", scores={"conv_output_length": 2.0, "corr1d": 1.0 / 3}),
        result("carol", error="the file is not valid JSON"),
    ]))
    assert list(rows[0]) == [
        "student", "name", "total", "max_total",
        "01_conv1d", "01_conv1d:conv_output_length", "01_conv1d:q_output_length",
        "01_conv1d:corr1d", "01_conv1d:conv1d_single", "01_conv1d:conv1d",
        "01_conv1d:fir_filter", "01_conv1d:q_conv_properties",
        "02_conv2d", "02_conv2d:corr2d", "02_conv2d:pad2d", "02_conv2d:q_same_padding",
        "02_conv2d:conv2d", "02_conv2d:q_conv2d_output_shape",
        "flags", "notes",
    ]
    alice, bob, carol = rows
    assert (alice["total"], alice["max_total"], alice["01_conv1d"]) == ("5.33", "24", "2.33")
    assert alice["01_conv1d:corr1d"] == "0.33"
    assert alice["01_conv1d:conv1d"] == "0"  # a function without a result scores 0
    assert alice["flags"] == "02_conv2d:forbidden_call"
    assert alice["notes"] == "02_conv2d: cell 3, line 2: `numpy.convolve`"
    assert bob["02_conv2d"] == "" and bob["flags"] == "01_conv1d:late"
    assert carol["notes"] == "01_conv1d: the file is not valid JSON"


def test_the_total_is_the_rounded_sum_not_a_sum_of_rounded_scores(tmp_path):
    # 2 points over 3 cases, twice: 10/3 + 10/3 = 6.67, while 3.33 + 3.33 = 6.66.
    third = round(10 / 3, 6)
    rows = read_csv(Gradebook(tmp_path).write_csv([
        result("alice", scores={"corr1d": third}),
        result("alice", "02_conv2d", {"corr2d": third}),
    ]))
    assert (rows[0]["01_conv1d"], rows[0]["02_conv2d"]) == ("3.33", "3.33")
    assert rows[0]["total"] == "6.67"


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "deep" / "grades.csv"
    atomic_write_text(target, "a,b\n")
    atomic_write_text(target, "a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    assert [p.name for p in target.parent.iterdir()] == ["grades.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "grades.csv"
    atomic_write_text(target, "old\n")

    with pytest.raises(TypeError):
        atomic_write_text(target, 42)  # not text: the write fails half-way
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]
