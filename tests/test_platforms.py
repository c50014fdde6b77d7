"""Canvas CSV, nbgrader gradebook and Gradescope results.json / bundle, each against its format."""

from __future__ import annotations

import csv
import io
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
from autograder.outputs.platforms.canvas import (
    STUDENT_COLUMNS,
    CanvasOptions,
    write_canvas_csv,
    write_canvas_gradebook,
)
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
    export = write_canvas_gradebook(sample_results(), tmp_path / "canvas.csv")
    assert export.notes == []  # not a Canvas course: no warning about bare headers
    rows = _csv(export.path)
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


def test_canvas_roster_without_ids_is_refused(tmp_path):
    bad = tmp_path / "names.csv"
    bad.write_text("Student,Section\nAlice,A\n")
    with pytest.raises(ValueError, match=r"canvas roster .* has no ID column; expected the "
                                         r"gradebook CSV exported from Canvas"):
        write_canvas_csv(sample_results(), tmp_path / "canvas.csv", roster=bad)
    with pytest.raises(ValueError, match=r"canvas roster .* cannot be read"):
        CanvasOptions(roster=tmp_path / "missing.csv").check()


# A gradebook exported from Canvas (Grades > Export) as it comes: BOM, Integration ID,
# a Points Possible row, a Manual Posting row, read-only totals, the Test Student.
POINTS_01 = catalog.max_score("01_conv1d")
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Integration ID,Section,"
    "Conv 1-D: 01_conv1d (4321),Quiz 1 (77),Current Points,Final Score\r\n"
    ",,,,,,Manual Posting,,,\r\n"
    f"    Points Possible,,,,,,{POINTS_01}.00,5.00,(read only),(read only)\r\n"
    '"Smith, John",12346,S-1,jsmith,,Section A,,4.00,4.00,33.33\r\n'
    '"Smith, John",12350,S-2,jsmith2,,Section B,1.00,5.00,6.00,35.29\r\n'
    '"Doe, Ann",12351,S-3,adoe,,Section A,,,0.00,0.00\r\n'
    '"Student, Test",99999,,,,,,,0.00,0.00\r\n'
)


def _canvas_results(tmp_path):
    """Two students both called smithjohn and one the roster lacks, graded from a zip."""
    from autograder.intake.identify import collect
    from autograder.results import SubmissionResult

    buffer = io.BytesIO()
    nb = nbformat.writes(nbformat.v4.new_notebook()).encode()
    with zipfile.ZipFile(buffer, "w") as zf:
        for uid, sid in (("12346", 900), ("12350", 901), ("13000", 902)):
            zf.writestr(f"{'leejo' if uid == '13000' else 'smithjohn'}_{uid}_{sid}_01_conv1d.ipynb",
                        nb)
    (tmp_path / "submissions.zip").write_bytes(buffer.getvalue())
    subs = collect([tmp_path / "submissions.zip"], "01_conv1d")
    scores = {"12346": 9.058823529411764, "12350": 12.0, "13000": 2.675}
    return [SubmissionResult(s.student, s.assignment, scores[s.student], 12.0, name=s.name,
                             origin=s.origin) for s in subs]


def test_canvas_zip_and_roster_import_in_canvas_format_with_ids(tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_bytes(CANVAS_EXPORT.encode("utf-8"))
    results = _canvas_results(tmp_path)
    assert sorted(r.student for r in results) == ["12346", "12350", "13000"]
    export = write_canvas_gradebook(results, tmp_path / "canvas.csv", CanvasOptions(roster))
    rows = _csv(export.path)
    # Canvas's import columns, the assignment under the roster's own "Name (id)" header.
    assert rows[0] == STUDENT_COLUMNS + ["Conv 1-D: 01_conv1d (4321)"]
    assert rows[1] == ["Points Possible", "", "", "", "", str(POINTS_01)]
    assert rows[2] == ["Smith, John", "12346", "S-1", "jsmith", "Section A", "9.06"]
    assert rows[3] == ["Smith, John", "12350", "S-2", "jsmith2", "Section B", "12"]
    assert rows[4] == ["Doe, Ann", "12351", "S-3", "adoe", "Section A", ""]
    assert rows[5] == ["Student, Test", "99999", "", "", "", ""]
    # Not on the roster: listed, and kept with its Canvas id (never dropped).
    assert rows[6] == ["leejo", "13000", "", "", "", "2.68"]
    assert len(rows) == 7
    assert export.unmatched == ["13000"]
    assert any("1 graded student(s) are not on the roster" in n and "leejo (13000)" in n
               for n in export.notes)


def test_canvas_assignment_id_from_a_flag_without_roster(tmp_path):
    results = _canvas_results(tmp_path)
    bare = write_canvas_gradebook(results, tmp_path / "bare.csv")
    assert _csv(bare.path)[0][-1] == "01_conv1d"
    assert any("Canvas would create a new assignment" in n for n in bare.notes)
    export = write_canvas_gradebook(results, tmp_path / "canvas.csv",
                                    CanvasOptions(assignment_ids={"01_conv1d": "4321"}))
    rows = _csv(export.path)
    assert rows[0] == STUDENT_COLUMNS + ["01_conv1d (4321)"]
    assert {r[1]: (r[0], r[3], r[5]) for r in rows[2:]} == {
        "12346": ("smithjohn", "", "9.06"), "12350": ("smithjohn", "", "12"),
        "13000": ("leejo", "", "2.68")}
    assert export.notes == [] and export.unmatched == []


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


# ----------------------------------------------------------------------------- Gradescope, more

DOCKER_CAPS = ("-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,"
               "+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap")


def _titled(root: Path, title: str) -> Path:
    (root / "submission_metadata.json").write_text(json.dumps({
        "users": [{"email": "fk@example.edu"}], "assignment": {"title": title, "id": 1}}))
    return root


def test_gradescope_a_notebook_of_another_assignment_is_not_graded_as_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SEED", "7")
    # The student uploads their 02_conv2d notebook, renamed, to the 01_conv1d assignment.
    root = _titled(_autograder_tree(tmp_path, REPO / "notebooks" / "02_conv2d" / "02_conv2d.ipynb"),
                   "Homework 1: 01_conv1d")
    shutil.move(root / "submission" / "my homework.ipynb", root / "submission" / "01_conv1d.ipynb")
    assert run(root) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["score"] == 0
    assert results["output"].startswith(
        "**Wrong notebook:** this notebook is for another assignment: its cells are those of "
        "02_conv2d, but this Gradescope assignment grades 01_conv1d")
    assert "upload your 01_conv1d.ipynb" in results["output"]
    # Its tests are 01_conv1d's functions, none graded.
    assert [t["name"] for t in results["tests"]] == [
        p.name for p in catalog.problems_for("01_conv1d")]
    assert all(t["score"] == 0 and t["output"].startswith("Not graded: this notebook is for")
               for t in results["tests"])


def test_gradescope_missing_root_is_an_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "no" / "autograder"
    proc = subprocess.run([str(Path(sys.executable).parent / "autograder"), "gradescope",
                           "--root", str(missing)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "300"})
    assert proc.returncode == 2, proc.stderr
    assert f"--root '{missing}' is not a folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")
def test_gradescope_bundle_grades_under_docker_capabilities(open_tmp, monkeypatch):
    """The uploaded zip, unpacked as Gradescope does, run by its run_autograder under the
    capabilities Docker gives a container: the bundle's own copy of the code grades."""
    root = open_tmp / "autograder"
    bundle = build_bundle(open_tmp / "autograder.zip", seed=4242, repo=REPO)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    shutil.copy(REPO / "solutions" / "01_conv1d" / "01_conv1d.ipynb",
                root / "submission" / "conv1d answers.ipynb")
    _titled(root, "HW1 (01_conv1d)")
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SEED"}
    env |= {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_VENV": sys.prefix,
            "PYTHONPATH": str(root / "source" / "project")}
    proc = subprocess.run(["setpriv", f"--bounding-set={DOCKER_CAPS}", "--",
                           str(root / "source" / "run_autograder")],
                          capture_output=True, text=True, env=env, timeout=900, cwd=open_tmp)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"from {root / 'source' / 'project' / 'autograder'}" in proc.stdout
    text = (root / "results" / "results.json").read_text()
    results = json.loads(text)
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["score"] == catalog.max_score("01_conv1d"), results["output"]
    assert all(t["status"] == "passed" for t in results["tests"])
    assert "4242" not in text


def test_canvas_roster_points_that_differ_are_noted(tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_bytes(CANVAS_EXPORT.replace(f",{POINTS_01}.00,5.00,", ",10.00,5.00,").encode())
    export = write_canvas_gradebook(_canvas_results(tmp_path), tmp_path / "canvas.csv",
                                    CanvasOptions(roster))
    assert any("'Conv 1-D: 01_conv1d (4321)' is worth 10.00 points in Canvas but "
               f"{POINTS_01} here" in n for n in export.notes)
    # The export still says the grader's points possible; Canvas keeps its own on import.
    assert _csv(export.path)[1][-1] == str(POINTS_01)
