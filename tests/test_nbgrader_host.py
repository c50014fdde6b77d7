"""nbgrader as the host: a whole course flow with real nbgrader commands and an exchange.

A quickstart course takes 01_conv1d as its source; the instructor generates and
releases it, students fetch and submit through the exchange folder (alice twice,
carol after the due date, dave a file that is not a notebook), the instructor
collects and grades with ``autograder grade submitted/``. nbgrader's gradebook
must then hold this grader's partial credit, its autograded notebooks and its
own lateness; ``generate_feedback`` must work on them, and ``nbgrader
autograde`` (the sandboxed grader plugged into it) must give the same scores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from autograder import catalog

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
A = "01_conv1d"
SEED = 777
COURSE_ID = "conv"


def _make_class():
    spec = importlib.util.spec_from_file_location("make_class", REPO / "examples" / "make_class.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(home: Path, user: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(HOME=str(home), USER=user, LOGNAME=user, AUTOGRADER_SEED=str(SEED),
               PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]))
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, \
        f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    return proc


def nbgrader(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    quiet = [] if args[0] == "quickstart" else ["--log-level=WARN"]
    return _run([str(BIN / "nbgrader"), *args, *quiet], cwd, env)


class Course:
    """The course folder, the exchange and the students' homes."""

    def __init__(self, root: Path):
        self.root = root
        self.exchange = root / "exchange"
        self.instructor = root / "instructor"
        self.dir = self.instructor / COURSE_ID
        self.env = _env(self.instructor, "instructor")

    def student_env(self, name: str) -> tuple[Path, dict[str, str]]:
        home = self.root / "homes" / name
        if not home.exists():
            (home / ".jupyter").mkdir(parents=True)
            (home / ".jupyter" / "nbgrader_config.py").write_text(
                f"c = get_config()\nc.Exchange.root = {str(self.exchange)!r}\n"
                f"c.CourseDirectory.course_id = {COURSE_ID!r}\n")
        return home, _env(home, name)

    def submit(self, name: str, nb) -> None:
        """Fetch (once), write `nb` (a notebook, or bytes) into the fetched copy, submit."""
        home, env = self.student_env(name)
        if not (home / A).exists():
            nbgrader("fetch_assignment", A, cwd=home, env=env)
        target = home / A / f"{A}.ipynb"
        if isinstance(nb, bytes):
            target.write_bytes(nb)
        else:
            nbformat.write(nb, target)
        # One OS account here: the student id is given, as nbgrader allows (a hub sets it).
        nbgrader("submit", A, f"--student={name}", cwd=home, env=env)

    def db(self) -> Gradebook:
        return Gradebook(f"sqlite:///{self.dir / 'gradebook.db'}", course_id=COURSE_ID)

    def grade(self) -> dict[str, dict]:
        """``autograder grade submitted/ --out graded``; the results JSON by student."""
        _run([str(BIN / "autograder"), "grade", "submitted", "--out", "graded", "--workers", "2"],
             self.dir, self.env)
        return {p.parent.name: json.loads(p.read_text())
                for p in (self.dir / "graded" / "results").glob(f"*/{A}.json")}

    def db_scores(self) -> dict[str, dict[str, float]]:
        with self.db() as gb:
            return {s.student.id: {g.name: g.auto_score for g in s.notebooks[0].grades}
                    for s in gb.assignment_submissions(A)}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """The flow up to ``nbgrader collect`` and one ``autograder grade``."""
    c = Course(tmp_path_factory.mktemp("nbhost"))
    c.instructor.mkdir()
    c.exchange.mkdir()
    nbgrader("quickstart", COURSE_ID, cwd=c.instructor, env=c.env)
    shutil.rmtree(c.dir / "source" / "ps1")  # quickstart's example; its header.ipynb stays
    shutil.copytree(REPO / "solutions" / A, c.dir / "source" / A)
    with open(c.dir / "nbgrader_config.py", "a") as config:
        config.write(
            f"\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(c.exchange)!r}\n"
            "from autograder.outputs.platforms.nbgrader_plugin import use_sandboxed_grader\n"
            "use_sandboxed_grader(c)\n")
    nbgrader("generate_assignment", A, "--create", cwd=c.dir, env=c.env)
    nbgrader("release_assignment", A, cwd=c.dir, env=c.env)

    mc = _make_class()
    release = nbformat.read(c.dir / "release" / A / f"{A}.ipynb", as_version=4)
    solved = mc.solution_sources(nbformat.read(REPO / "solutions" / A / f"{A}.ipynb", 4))
    solved = {k: v for k, v in solved.items() if k in {p.name for p in catalog.problems_for(A)}}
    c.submit("alice", release)  # first the untouched release, then her work
    c.submit("alice", mc.with_functions(release, solved))
    c.submit("bob", mc.with_functions(release, {**solved, **mc.MISTAKES["padding_one_side"]}))
    c.submit("dave", b"{ this is not a notebook")
    with c.db() as gb:  # the due date falls after these, before carol's
        due = max(parse_utc((p / "timestamp.txt").read_text())
                  for p in (c.exchange / COURSE_ID / "inbound").iterdir())
        gb.update_or_create_assignment(A, duedate=due)
    c.submit("carol", mc.with_functions(release, {
        **solved, **mc.MISTAKES["output_size_off_by_one"]}))
    nbgrader("collect", A, "--update", cwd=c.dir, env=c.env)
    c.results = c.grade()
    return c


def test_gradebook_holds_the_partial_credit_of_every_student(course):
    scores = course.db_scores()
    assert set(scores) == {"alice", "bob", "carol", "dave"}  # none was in the db before
    for student, result in course.results.items():
        want = {f"check_{name}": p["score"] for name, p in result["problems"].items()}
        if result.get("error"):
            want = {f"check_{p.name}": 0.0 for p in catalog.problems_for(A)}
        assert scores[student] == pytest.approx(want), student
    assert sum(course.results["alice"]["problems"][p.name]["score"]
               for p in catalog.problems_for(A)) == catalog.max_score(A)  # her second submission
    bob = course.results["bob"]["problems"]["conv1d_single"]
    assert 0 < bob["score"] < bob["max_score"]  # partial credit, not all or nothing
    with course.db() as gb:
        assert gb.find_submission(A, "bob").needs_manual_grade is False


def test_a_broken_notebook_is_a_zero_row_with_its_reason(course):
    dave = course.results["dave"]
    assert "not valid JSON" in dave["error"]
    assert set(course.db_scores()["dave"].values()) == {0.0}
    # formgrader and his feedback have a notebook that says why, and his submission its time
    nb = nbformat.read(course.dir / "autograded" / "dave" / A / f"{A}.ipynb", as_version=4)
    checks = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert checks and all("not valid JSON" in c.outputs[0].text for c in checks)
    with course.db() as gb:
        assert gb.find_submission(A, "dave").timestamp == parse_utc(
            (course.dir / "submitted" / "dave" / A / "timestamp.txt").read_text())


def test_autograded_notebooks_carry_the_scores_in_their_check_cells(course):
    for student in ("alice", "bob", "carol"):
        nb = nbformat.read(course.dir / "autograded" / student / A / f"{A}.ipynb", as_version=4)
        problems = course.results[student]["problems"]
        checks = {c.metadata.nbgrader.grade_id: c for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade")}
        assert set(checks) == {f"check_{p}" for p in problems}
        for name, p in problems.items():
            outputs = checks[f"check_{name}"].outputs
            assert float(outputs[-1].data["text/plain"]) == pytest.approx(p["score"])
        # the student's code ran in the sandbox only: no cell has a kernel's outputs
        assert all(not c.get("outputs") for c in nb.cells if c not in checks.values())


def test_lateness_is_nbgraders_own(course):
    with course.db() as gb:
        due = gb.find_assignment(A).duedate
        for student in ("alice", "bob", "carol"):
            stamp = parse_utc((course.dir / "submitted" / student / A / "timestamp.txt")
                              .read_text())
            submission = gb.find_submission(A, student)
            assert submission.timestamp == stamp
            assert submission.total_seconds_late == max(0.0, (stamp - due).total_seconds())
        assert gb.find_submission(A, "carol").total_seconds_late > 0
        assert gb.find_submission(A, "alice").total_seconds_late == 0


def test_generate_feedback_shows_the_scores(course):
    nbgrader("generate_feedback", A, cwd=course.dir, env=course.env)
    for student in ("alice", "bob", "carol"):
        html = (course.dir / "feedback" / student / A / f"{A}.html").read_text()
        problems = course.results[student]["problems"].values()
        total = sum(p["score"] for p in problems)
        # nbgrader's template prints round(score, 2) of the notebook and of each cell
        assert f"(Score: {round(total, 2)} / {float(catalog.max_score(A))})" in html
        for p in problems:
            assert f"Score: {round(p['score'], 2)} / {float(p['max_score'])}" in html
        assert "from the sandboxed grader" in html
    assert "not valid JSON" in (course.dir / "feedback" / "dave" / A / f"{A}.html").read_text()
    nbgrader("release_feedback", A, cwd=course.dir, env=course.env)


def test_nbgrader_autograde_keeps_the_scores(course):
    before = course.db_scores()
    with course.db() as gb:  # a TA's manual grade survives a regrade, as in nbgrader
        grade = gb.find_grade("check_conv1d_single", A, A, "bob")
        grade.manual_score = 3.0
        gb.find_comment("corr1d", A, A, "bob").manual_comment = "Neat loop."
        gb.db.commit()
    proc = subprocess.run([str(BIN / "nbgrader"), "autograde", A, "--force"], cwd=course.dir,
                          env=course.env, capture_output=True, text=True, timeout=900)
    # dave's file is no notebook: nbgrader says so and exits 1, the others are graded
    assert proc.returncode == 1 and "dave" in proc.stderr, proc.stderr[-4000:]
    assert course.db_scores() == before
    with course.db() as gb:
        grade = gb.find_grade("check_conv1d_single", A, A, "bob")
        assert grade.manual_score == 3.0 and grade.score == 3.0
        assert gb.find_comment("corr1d", A, A, "bob").comment == "Neat loop."
    # and grading again the grader's way agrees too
    assert course.grade() == course.results


def test_formgraders_autograde_button_keeps_the_scores(course, monkeypatch):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.setenv("AUTOGRADER_SEED", str(SEED))
    monkeypatch.setenv("PATH", course.env["PATH"])
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.dir)).load_config()
    config.CourseDirectory.root = str(course.dir)
    # what formgrader's server extension does when the TA presses "autograde"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    before = course.db_scores()
    outcome = api.autograde(A, "carol")
    assert outcome["success"], outcome.get("error")
    assert course.db_scores() == before
    with course.db() as gb:
        assert gb.find_submission(A, "carol").total_seconds_late > 0


# ----------------------------------------------------------------------------- the parts, alone


def test_the_plugin_replaces_execute_and_keeps_the_rest_of_nbgraders_steps():
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    from autograder.outputs.platforms.nbgrader_plugin import PLUGIN, use_sandboxed_grader

    c = Config()
    use_sandboxed_grader(c)
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    assert c.Autograde.autograde_preprocessors == [
        PLUGIN if pp is Execute else pp for pp in defaults]
    assert Execute not in c.Autograde.autograde_preprocessors
    assert Autograde(config=c).autograde_preprocessors[0] == PLUGIN


def _release_nb():
    return nbformat.read(REPO / "notebooks" / A / f"{A}.ipynb", as_version=4)


def _checks(nb) -> dict:
    return {c.metadata.nbgrader.grade_id: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}


def test_check_cells_get_partial_credit_as_nbgrader_reads_it():
    from nbgrader.utils import determine_grade

    from autograder.outputs.platforms.nbgrader_host import fill_grade_cells
    from tests.test_feedback import sample_results

    alice = sample_results()[0]
    nb = _release_nb()
    extra = nbformat.v4.new_code_cell("assert True")  # a grade cell the catalog does not know
    extra.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                  "grade_id": "check_extra", "points": 4, "schema_version": 3}
    nb.cells.append(extra)
    checks = _checks(nb)
    checks["check_conv1d"].metadata.nbgrader.points = 10  # a course that doubled the points
    assert fill_grade_cells(nb, alice) == len(checks)
    scores = {gid: determine_grade(cell)[0] for gid, cell in checks.items()}
    problems = alice.problems
    # Check cells of functions the result does not hold (and unknown ones) score 0:
    # never points the grader did not give.
    expected = {gid: 0.0 for gid in checks}
    expected.update({
        "check_conv_output_length": problems["conv_output_length"].score,
        "check_corr1d": problems["corr1d"].score,
        "check_conv1d_single": problems["conv1d_single"].score,
        "check_conv1d": problems["conv1d"].score * 2,
    })
    assert len(expected) > 5 and scores == pytest.approx(expected)
    assert "2 of 4 cases passed" in checks["check_corr1d"].outputs[0].text
    # solution cells, where the student's code is, get no outputs: nothing of it ran here
    assert all(not c.get("outputs") for c in nb.cells if c not in checks.values())


def test_an_ungraded_result_scores_every_check_cell_zero_with_its_reason():
    from nbgrader.utils import determine_grade

    from autograder.outputs.platforms.nbgrader_host import fill_grade_cells
    from tests.test_feedback import sample_results

    carol = sample_results()[2]
    nb = _release_nb()
    fill_grade_cells(nb, carol)
    for cell in _checks(nb).values():
        assert determine_grade(cell)[0] == 0
        assert cell.outputs[0].name == "stderr" and carol.error in cell.outputs[0].text


def test_a_course_without_the_assignment_registered_gets_its_scores_directly(tmp_path,
                                                                             monkeypatch):
    from autograder.outputs.platforms.nbgrader_host import autograde_course
    from tests.test_feedback import sample_results

    monkeypatch.setenv("PATH", os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "submitted" / "alice" / A).mkdir(parents=True)
    alice = sample_results()[0]
    # generate_assignment never ran: nbgrader refuses, the scores still reach the gradebook
    assert autograde_course([alice], tmp_path, tmp_path / "graded") == 0
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "alice").score == pytest.approx(alice.score)
        assert not (tmp_path / "autograded").exists()
