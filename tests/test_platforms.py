"""Canvas CSV, nbgrader gradebook and Gradescope results.json / bundle, each against its format."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import catalog
from autograder.outputs.platforms.canvas import write_canvas_csv
from autograder.outputs.platforms.gradescope import GRADER_FAILED, run
from autograder.outputs.platforms.gradescope_bundle import build_bundle
from autograder.outputs.platforms.nbgrader_db import course_settings, write_scores
from tests.conftest import REPO
from tests.test_feedback import HOSTILE, sample_results

# ----------------------------------------------------------------------------- Canvas


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_csv_without_roster_puts_the_student_id_in_sis_login(tmp_path):
    rows = _csv(write_canvas_csv(sample_results(), tmp_path / "canvas.csv"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "01_conv1d", "02_conv2d"]
    assert rows[1] == ["Points Possible", "", "", "", "",
                       *(str(catalog.max_score(a)) for a in ("01_conv1d", "02_conv2d"))]
    body = {r[3]: r for r in rows[2:]}
    assert body["alice"] == ["alice", "", "", "alice", "", "5.75", ""]
    assert body["bob"][5:] == ["", "2"]
    assert body["carol"][5:] == ["0", ""]
    assert body[HOSTILE][0] == HOSTILE  # quoted by the csv module, one cell


ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01_conv1d (4321),Quiz 1 (77)\r\n"
    "    Points Possible,,,,,12,5\r\n"
    '"Liddell, Alice",101,S101,ALICE,Section A,,4\r\n'
    '"Builder, Bob",102,S102,bob,Section B,3,5\r\n'
    '"Nobody, Nora",103,S103,nora,Section A,,1\r\n'
)


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(ROSTER.encode("utf-8"))
    return path


def test_canvas_csv_with_a_roster_matches_logins_and_keeps_canvas_headers(tmp_path, roster):
    rows = _csv(write_canvas_csv(sample_results(), tmp_path / "canvas.csv", roster=roster))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "01_conv1d (4321)", "02_conv2d"]
    assert rows[1][0] == "Points Possible"
    assert rows[2] == ["Liddell, Alice", "101", "S101", "ALICE", "Section A", "5.75", ""]
    assert rows[3] == ["Builder, Bob", "102", "S102", "bob", "Section B", "", "2"]
    assert rows[4] == ["Nobody, Nora", "103", "S103", "nora", "Section A", "", ""]
    # Graded but not on the roster: still exported, the id as SIS Login ID.
    assert [r[3] for r in rows[5:]] == sorted(["carol", HOSTILE])


def test_canvas_roster_without_logins_is_refused(tmp_path):
    bad = tmp_path / "names.csv"
    bad.write_text("Student,Section\nAlice,A\n")
    with pytest.raises(ValueError, match=r"write_canvas_csv: roster .* has no SIS Login ID column"):
        write_canvas_csv(sample_results(), tmp_path / "canvas.csv", roster=bad)


# ----------------------------------------------------------------------------- nbgrader


@pytest.fixture
def course(tmp_path) -> Path:
    shutil.copy(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    return tmp_path


def test_nbgrader_settings_follow_the_course_config(course, tmp_path):
    url, course_id = course_settings(course)
    assert url == f"sqlite:///{course.resolve() / '.nbgrader' / 'gradebook.db'}"
    assert course_id == "conv-course"
    bare = tmp_path / "bare"
    bare.mkdir()
    assert course_settings(bare) == (f"sqlite:///{bare.resolve() / 'gradebook.db'}",
                                     "default_course")


def test_nbgrader_scores_read_back_through_the_api(course, monkeypatch):
    # As `.venv/bin/autograder` runs without an activated environment.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    results = sample_results()
    cells = {a: len(catalog.problems_for(a)) for a in ("01_conv1d", "02_conv2d")}
    # grade cells of the 4 submissions: three of 01, one of 02
    assert write_scores(results, course) == 3 * cells["01_conv1d"] + cells["02_conv2d"]
    url, course_id = course_settings(course)
    assert (course / ".nbgrader" / "gradebook.db").is_file()
    with Gradebook(url, course_id=course_id) as gb:
        grade = gb.find_grade("check_corr1d", "01_conv1d", "01_conv1d", "alice")
        assert grade.auto_score == 1.0 and grade.max_score == 2 and not grade.needs_manual_grade
        assert gb.find_submission("01_conv1d", "alice").score == pytest.approx(5.75)
        assert gb.find_submission("02_conv2d", "bob").score == pytest.approx(2.0)
        assert gb.find_submission("01_conv1d", "carol").score == 0.0
        assert gb.find_submission("01_conv1d", HOSTILE).max_score == catalog.max_score("01_conv1d")
        assert gb.find_assignment("01_conv1d").course_id == "conv-course"
    # Again, with a better score: updated in place, nothing duplicated.
    results[0].problems["corr1d"].score = 2.0
    write_scores(results, course)
    with Gradebook(url, course_id=course_id) as gb:
        assert len(gb.assignment_submissions("01_conv1d")) == 3
        assert gb.find_grade("check_corr1d", "01_conv1d", "01_conv1d", "alice").auto_score == 2.0


def test_nbgrader_keeps_cells_of_generate_assignment_and_fills_newer_ones(course, monkeypatch):
    # nbgrader itself runs `alembic` to create the database made here by hand.
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    url = f"sqlite:///{course / 'other.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("01_conv1d")
        gb.add_notebook("01_conv1d", "01_conv1d")
        gb.add_grade_cell("check_corr1d", "01_conv1d", "01_conv1d", max_score=4, cell_type="code")
        gb.add_student("alice")
        gb.add_submission("01_conv1d", "alice")  # before the other cells existed
    alice = sample_results()[0]
    assert write_scores([alice], course, db_url=url) == len(catalog.problems_for("01_conv1d"))
    with Gradebook(url) as gb:
        assert gb.find_grade_cell("check_corr1d", "01_conv1d", "01_conv1d").max_score == 4
        assert gb.find_grade("check_conv1d", "01_conv1d", "01_conv1d", "alice").auto_score == 1.25
        assert gb.find_submission("01_conv1d", "alice").score == pytest.approx(5.75)


# ----------------------------------------------------------------------------- Gradescope

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
# Gradescope's documented results.json ("Autograder Specifications", output format).
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "score", "max_score", "status", "output", "visibility"],
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": FORMAT, "number": {"type": "string"},
                "output": {"type": "string"}, "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"},
            },
        }},
        "leaderboard": {"type": "array"},
    },
    "required": ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests"],
}


def _autograder_tree(root: Path, notebook: Path | None, seed: int | None = 4242) -> Path:
    """A fake /autograder: source/ as the bundle unpacks it, submission/, metadata."""
    shutil.copytree(REPO / "notebooks", root / "source" / "notebooks")
    if seed is not None:
        (root / "source" / "autograder.toml").write_text(f"grading_seed = {seed}\n")
    (root / "submission").mkdir()
    if notebook is not None:
        shutil.copy(notebook, root / "submission" / "my homework.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps({
        "users": [{"email": "fk@example.edu", "name": "F. K.", "id": 1234}],
        "assignment": {"title": "Homework 1", "id": 25828},
    }))
    return root


@pytest.mark.slow
def test_gradescope_run_writes_results_in_gradescope_schema(tmp_path, monkeypatch, example_class):
    monkeypatch.delenv("AUTOGRADER_SEED", raising=False)
    notebook = example_class / "flipped_kernel" / "01_conv1d" / "01_conv1d.ipynb"
    root = _autograder_tree(tmp_path, notebook)
    assert run(root) == 0
    text = (root / "results" / "results.json").read_text()
    results = json.loads(text)
    jsonschema.validate(results, RESULTS_SCHEMA)
    tests = {t["name"]: t for t in results["tests"]}
    assert results["score"] == pytest.approx(sum(t["score"] for t in tests.values()))
    assert sum(t["max_score"] for t in tests.values()) == catalog.max_score("01_conv1d")
    public, hidden = tests["corr1d (public cases)"], tests["corr1d (hidden cases)"]
    assert public["visibility"] == "visible" and hidden["visibility"] == "after_published"
    assert public["status"] == "failed" and "Likely mistake: flipped kernel." in public["output"]
    assert tests["conv1d (hidden cases)"]["status"] == "passed"
    assert "4242" not in text
    # What students see before publication names no hidden case.
    shown = results["output"] + "".join(
        t["output"] for t in tests.values() if t["visibility"] == "visible")
    assert "random 1: L=" not in shown


def test_gradescope_run_without_a_notebook_tells_the_student(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SEED", "7")
    root = _autograder_tree(tmp_path, None)
    (root / "submission" / "answers.pdf").write_bytes(b"%PDF-1.4")
    assert run(root) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["score"] == 0 and "no notebook (.ipynb) found" in results["output"]


def test_gradescope_run_reports_a_grader_failure_without_blaming_the_student(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("AUTOGRADER_SEED", raising=False)
    notebook = REPO / "notebooks" / "01_conv1d" / "01_conv1d.ipynb"
    root = _autograder_tree(tmp_path, notebook, seed=None)  # no seed in the bundle
    assert run(root) == 1
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["output"] == GRADER_FAILED
    assert "no grading seed" in capsys.readouterr().out  # for the instructor's stdout


def test_gradescope_bundle_members_and_scripts(tmp_path):
    release = tmp_path / "release"
    for a in catalog.ASSIGNMENTS:
        (release / a).mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), release / a / f"{a}.ipynb")
    out = build_bundle(tmp_path / "gs" / "autograder.zip", seed=99, repo=REPO,
                       release_dir=release)
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        assert {"setup.sh", "run_autograder", "constraints.txt", "autograder.toml",
                "project/pyproject.toml", "project/README.md",
                "project/autograder/outputs/platforms/gradescope.py",
                "project/autograder/execution/__init__.py",
                "project/autograder/execution/worker.py",
                "project/autograder/outputs/templates/feedback.html.j2",
                "project/conv_ref/__init__.py"} <= names
        assert {f"notebooks/{a}/{a}.ipynb" for a in catalog.ASSIGNMENTS} <= names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
        assert not modes["constraints.txt"] & 0o111
        assert z.read("constraints.txt") == (REPO / "constraints.txt").read_bytes()
        assert z.read("autograder.toml").decode() == "grading_seed = 99\n"
        run_script = z.read("run_autograder").decode()
        assert run_script.startswith("#!/usr/bin/env bash")
        assert "autograder gradescope" in run_script
        assert "-c constraints.txt" in z.read("setup.sh").decode()
        for script in ("setup.sh", "run_autograder"):
            (tmp_path / script).write_bytes(z.read(script))
            subprocess.run(["bash", "-n", str(tmp_path / script)], check=True)


def test_gradescope_bundle_needs_every_release_notebook(tmp_path):
    with pytest.raises(ValueError, match=r"gradescope_bundle: no release notebook for .*release"):
        build_bundle(tmp_path / "a.zip", seed=1, repo=REPO, release_dir=tmp_path)


def test_canvas_roster_matches_a_login_its_id_had_to_escape(tmp_path):
    from autograder.intake.identify import student_id
    from autograder.results import SubmissionResult

    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,01_conv1d\n"
                      "Smith Alice,7,S7,alice smith,A,\n", encoding="utf-8")
    graded = SubmissionResult(student_id("alice smith"), "01_conv1d", 12.0, 12.0)
    assert graded.student == "alice%20smith"
    rows = _csv(write_canvas_csv([graded], tmp_path / "canvas.csv", roster=roster))
    assert rows[2] == ["Smith Alice", "7", "S7", "alice smith", "A", "12"]
    assert len(rows) == 3  # matched, not added again under its id
