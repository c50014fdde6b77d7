"""The pipeline's verdicts through `grade()`: hostile notebooks, resume, zip, identification."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder.catalog import ASSIGNMENTS, max_score
from autograder.execution.outcome import CallOutcome
from autograder.execution.run import CellRun, RunOutcome
from autograder.grade import Prepared, cases_for, definitions, grade, resolve_seed, score
from autograder.intake.extract import SourceCell
from autograder.results import SubmissionResult
from autograder.scoring.judge import Definition
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path
from tests.nbfactory import to_bytes

A = "01_conv1d"
SEED = 3
FAST = {"seed": SEED, "timeout": 20, "workers": 2}


def solution():
    return read_notebook(solution_path(A))


def edited(edits=None, extra=()):
    return to_bytes(make_class.with_functions(solution(), edits or {}, list(extra)))


def submit(tmp_path, students: dict[str, bytes], **kw):
    folder = tmp_path / "submitted"
    for student, data in students.items():
        path = folder / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    results = grade([folder], out=tmp_path / "out", **{**FAST, **kw})
    return {r.student: r for r in results}


def statuses(result, function):
    return {c.status for c in result.problems[function].cases}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One batch with every hostile student, and a canary outside the sandbox's scratch."""
    tmp = tmp_path_factory.mktemp("hostile")
    canary = tmp / "canary.txt"
    canary.write_text("untouched")
    canary.chmod(0o644)
    vandal = (
        f"for attempt in (lambda: open({str(canary)!r}, 'w').write('pwned'),\n"
        f"                lambda: __import__('os').remove({str(canary)!r})):\n"
        "    try:\n        attempt()\n    except OSError:\n        pass\n"
    )
    students = {"perfect": edited(), "vandal": edited(extra=[vandal]),
                "broken_json": to_bytes(solution())[:500]}
    for name, (edits, extra) in make_class.HOSTILE.items():
        students[name] = edited(edits, extra)
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}
    students["old_format"] = json.dumps(v3).encode()
    return submit(tmp, students), canary


def test_the_perfect_student_gets_full_marks_among_hostile_ones(hostile):
    results, _ = hostile
    assert results["perfect"].score == max_score(A)
    assert results["perfect"].flags == []


def test_broken_json_and_an_old_format_are_rows_with_the_reason(hostile):
    results, _ = hostile
    broken, old = results["broken_json"], results["old_format"]
    assert (broken.score, broken.max_score) == (0, max_score(A))
    assert broken.error.startswith("the file is not valid JSON")
    assert old.error.startswith("the notebook is nbformat 3, expected 4")


def notebook_cells(result) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(Path(result.source).read_text())["cells"]]


def cell_of(result, function: str) -> int:
    """The number of the cell that defines `function`, as students count: from 1."""
    return next(i for i, source in enumerate(notebook_cells(result), 1)
                if source.startswith(f"def {function}("))


def full_marks(result, *functions):
    return all(result.problems[f].score == result.problems[f].max_score for f in functions)


def test_an_infinite_loop_costs_that_function_only(hostile):
    r = hostile[0]["infinite_loop"]
    cases = r.problems["corr1d"].cases
    assert [c.status for c in cases[:2]] == ["timeout", "timeout"]
    assert {c.status for c in cases[2:]} == {"not_run"}
    assert r.problems["corr1d"].score == 0
    assert "timeout" in r.flags
    cell = cell_of(r, "corr1d")
    assert cases[0].message == \
        f"`corr1d` (cell {cell}, line 1) did not finish: ran longer than 10 s."
    assert (cases[0].details["cell"], cases[0].details["line"]) == (cell, 1)
    assert cases[2].message == ("`corr1d` was not run on this case: it ran out of time on 2 "
                                "cases already, so it was not called again.")
    # The functions after it ran in a fresh process, with the cells replayed.
    assert full_marks(r, "conv_output_length", "conv1d_single", "conv1d")
    assert r.score == max_score(A) - r.problems["corr1d"].max_score
    assert any(n.startswith("After a fault, the cases left were run again in a fresh process")
               for n in r.notes)


def test_a_memory_hog_loses_the_function_that_hogs(hostile):
    r = hostile[0]["memory_hog"]
    cases = r.problems["conv1d"].cases
    assert {c.status for c in cases} == {"crashed"}  # each case in a fresh process
    assert cases[0].details["cell"] == cell_of(r, "conv1d")
    assert "exceeded the memory limit of " in cases[0].message
    assert r.problems["conv1d"].score == 0 and "crashed" in r.flags
    assert full_marks(r, "conv_output_length", "corr1d", "conv1d_single")


def test_os_exit_at_top_level_is_flagged_and_costs_nothing_else(hostile):
    r = hostile[0]["exits"]
    assert (r.score, "crashed" in r.flags) == (max_score(A), True)
    # One cell number for one cell, in every message: the last cell of the notebook.
    last = len(notebook_cells(r))
    assert f"The notebook's process died: called os._exit(0) in cell {last}." in r.notes
    assert (f"cell {last} was left out when the remaining cases were run again: it ended a run"
            in r.notes)


def test_definitions_are_found_where_the_kernel_would_bind_them():
    cells = [
        SourceCell(1, "import numpy as np"),
        SourceCell(4, "@np.vectorize\ndef corr1d(x, h):\n    def inner():\n        pass\n"
                      "    return x\n\nclass Helper:\n    def conv1d(self):\n        pass"),
        SourceCell(6, "def conv1d(x, weight:"),  # a syntax error: that cell defines nothing
        SourceCell(8, "try:\n    def corr1d(x, h):  # the second try\n        return h\n"
                      "except NameError:\n    pass"),
    ]
    assert definitions(cells) == {
        "corr1d": Definition(9, 2, "def corr1d(x, h):  # the second try")}


def _prepared(source_cells) -> Prepared:
    return Prepared(SubmissionResult("ana", A, 0.0, max_score(A)), cells=source_cells)


def test_score_names_the_def_of_a_call_that_ran_out_of_time_and_counts_the_cases_not_run():
    corr1d = cases_for(A, SEED)["corr1d"]
    stopped = "the submission ran out of time in `corr1d` (case 'blog: x=[2,3,4], h=[0.5,-1]')"
    calls = [CallOutcome("corr1d", corr1d[0].name, "timeout", message="ran longer than 10 s"),
             CallOutcome("corr1d", corr1d[1].name, "timeout",
                         message="the submission ran longer than 30 s")]
    calls += [CallOutcome("corr1d", c.name, "not_run", message=stopped) for c in corr1d[2:]]
    run = RunOutcome([CellRun(11, "ok"), CellRun(12, "error", "NameError: name 'y'")], calls,
                     timed_out="the submission ran longer than 30 s")
    r = score(_prepared([SourceCell(10, "def corr1d(x, h):\n    while True:\n        pass")]),
              {"corr1d": corr1d}, run)
    assert (r.score, r.flags) == (0, ["timeout"])
    assert r.notes == [
        "Stopped: the submission ran longer than 30 s.",
        "cell 12 stopped with an error: NameError: name 'y'",
        f"{len(corr1d) - 2} of {len(corr1d)} cases were not run, and score 0: {stopped}."]
    timed_out, killed, never = r.problems["corr1d"].cases[:3]
    assert timed_out.message == "`corr1d` (cell 11, line 1) did not finish: ran longer than 10 s."
    assert killed.message == ("`corr1d` (cell 11, line 1) did not finish: the submission ran "
                              "longer than 30 s.")
    assert (timed_out.details["cell"], timed_out.details["line"]) == (11, 1)
    assert timed_out.details["source"] == "def corr1d(x, h):"
    assert (never.status, never.message) == (
        "not_run", f"`corr1d` was not run on this case: {stopped}.")
    assert "cell" not in never.details


def test_a_cell_that_ran_out_of_time_is_named_once():
    corr1d = cases_for(A, SEED)["corr1d"]
    stopped = "the submission ran out of time in cell 13"
    run = RunOutcome([CellRun(11, "ok"), CellRun(13, "timeout", "cell 13 ran longer than 10 s")],
                     [CallOutcome("corr1d", c.name, "not_run", message=stopped) for c in corr1d],
                     timed_out="cell 13 ran longer than 10 s")
    r = score(_prepared([SourceCell(10, "def corr1d(x, h):\n    return x")]), {"corr1d": corr1d},
              run)
    assert r.notes == ["Stopped: cell 13 ran longer than 10 s.",
                       f"{len(corr1d)} of {len(corr1d)} cases were not run, and score 0: "
                       f"{stopped}."]
    assert {c.status for c in r.problems["corr1d"].cases} == {"not_run"}


def test_patching_allclose_changes_nothing_in_the_grader(hostile):
    r = hostile[0]["patches_allclose"]
    assert r.score == 0
    assert "monkeypatch" in r.flags
    assert any("assigns to `numpy.allclose`" in n for n in r.notes)


def test_calling_torch_is_refused_and_flagged_with_its_line(hostile):
    r = hostile[0]["calls_torch"]
    # Graded code cannot import it at all, and the scan proves the call: conv1d is forbidden.
    assert statuses(r, "conv1d") == {"forbidden"}
    assert any("ImportError: graded code must use NumPy only: 'torch' is not available while "
               "grading" in n for n in r.notes)
    assert r.problems["conv1d"].score == 0
    assert r.score == max_score(A) - 5
    assert "forbidden_call" in r.flags
    assert any("line 7 in `conv1d`: `torch.nn.functional.conv1d`" in n for n in r.notes)


def test_the_canary_outside_the_scratch_directory_is_unchanged(hostile):
    results, canary = hostile
    assert results["vandal"].score == max_score(A)
    assert canary.read_text() == "untouched"


def test_integrity_edits_are_flagged_and_do_not_change_the_score(tmp_path):
    nb = solution()
    check = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                 == "check_corr1d")
    check.source = "pass"
    (r,) = submit(tmp_path, {"edits": to_bytes(nb)}).values()
    assert "tampered_cells" in r.flags
    assert any("check_corr1d" in n for n in r.notes)
    assert r.score == max_score(A)


def test_magics_run_as_python_and_shell_escapes_are_noted(tmp_path):
    data = edited(extra=["!pip install scipy\n%matplotlib inline\nz = 1"])
    (r,) = submit(tmp_path, {"magic": data}).values()
    assert r.score == max_score(A)
    assert "shell_escape" in r.flags
    assert any("`!pip install scipy`" in n and "was not run" in n for n in r.notes)


def test_zip_with_canvas_names(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"smithjane_late_123_456_{A}.ipynb", edited())
        zf.writestr(f"doejohn_124_457_{A}-1.ipynb", b"{")
    (tmp_path / "canvas.zip").write_bytes(buffer.getvalue())
    results = {r.student: r for r in grade([tmp_path / "canvas.zip"], out=tmp_path / "o", **FAST)}
    # Keyed by the Canvas user id, the login kept as the name.
    assert (results["123"].score, results["123"].flags) == (max_score(A), ["late"])
    assert (results["123"].name, results["123"].origin) == ("smithjane", "canvas")
    assert results["124"].error.startswith("the file is not valid JSON")
    assert not list(tmp_path.glob("*.ipynb"))  # nothing extracted


def test_identification_failures_are_reported(tmp_path, caplog):
    nb = solution()
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)  # nothing in the cells names the assignment
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mystery.ipynb").write_bytes(to_bytes(nb))
    (r,) = grade([tmp_path / "in"], out=tmp_path / "o", **FAST)
    assert (r.student, r.assignment, r.score) == ("mystery", "unknown", 0)
    assert r.error == "could not tell which assignment this notebook is for"
    assert any("could not tell which assignment" in m for m in caplog.messages)
    rows = list(csv.DictReader(open(tmp_path / "o" / "grades.csv", newline="")))
    assert "pass --assignment" in rows[0]["notes"]


def test_the_seed_is_recorded_and_a_regrade_reuses_nothing_stale(tmp_path):
    first = submit(tmp_path, {"alice": edited()})["alice"]
    assert first.seed == SEED
    path = tmp_path / "out" / "results" / "alice" / f"{A}.json"
    stamp = path.stat().st_mtime_ns
    again = submit(tmp_path, {"alice": edited()})["alice"]  # same file, seed, grader
    assert path.stat().st_mtime_ns == stamp and again.to_dict() == first.to_dict()
    other = submit(tmp_path, {"alice": edited()}, seed=SEED + 1)["alice"]
    assert other.seed == SEED + 1 and path.stat().st_mtime_ns != stamp


def test_seed_fallbacks(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SEED", "42")
    assert resolve_seed(7, tmp_path) == 7
    assert resolve_seed(None, tmp_path) == 42
    monkeypatch.delenv("AUTOGRADER_SEED")
    (tmp_path / "autograder.toml").write_text("grading_seed = 99\n")
    assert resolve_seed(None, tmp_path) == 99
    (tmp_path / "autograder.toml").write_text('grading_seed = "x"\n')
    with pytest.raises(ValueError, match=r"resolve_seed: grading_seed in .* is 'x', expected an"):
        resolve_seed(None, tmp_path)
    monkeypatch.setenv("AUTOGRADER_SEED", "abc")
    with pytest.raises(ValueError, match=r"resolve_seed: AUTOGRADER_SEED='abc' is not an integer"):
        resolve_seed(None, tmp_path)


@pytest.mark.slow
def test_solutions_get_full_marks_and_releases_zero(tmp_path):
    folder = tmp_path / "submitted"
    for a in ASSIGNMENTS:
        release = make_class.release_notebook(a, REPO)
        for student, nb in (("solution", read_notebook(solution_path(a))), ("release", release)):
            path = folder / student / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(to_bytes(nb))
    results = grade([folder], out=tmp_path / "out", seed=SEED, timeout=60)
    assert sorted((r.student, r.assignment) for r in results) == sorted(
        (s, a) for s in ("release", "solution") for a in ASSIGNMENTS)
    for r in results:
        expected = max_score(r.assignment) if r.student == "solution" else 0
        assert (r.assignment, r.score) == (r.assignment, expected)
        assert r.flags == [] and r.error is None


@pytest.mark.slow
def test_a_killed_batch_resumes_to_the_same_gradebook(tmp_path):
    # Distinct files (a comment differs), so that each has its own resume key.
    students = {f"s{i:02d}": edited(extra=[f"# student {i}"]) for i in range(10)}
    students["s05"] = edited(extra=["import time\ntime.sleep(3)"])  # keeps the batch busy
    folder = tmp_path / "submitted"
    for student, data in students.items():
        path = folder / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    command = [sys.executable, "-m", "autograder", "grade", str(folder), "--seed", str(SEED),
               "--workers", "1"]
    killed_out = tmp_path / "killed"
    proc = subprocess.Popen([*command, "--out", str(killed_out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = killed_out / "results"
    while proc.poll() is None and len(list(results.glob("*/*.json"))) < 3:
        time.sleep(0.05)  # polling for progress, not measuring time
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p: p.stat().st_mtime_ns for p in results.glob("*/*.json")}
    assert 0 < len(done_before) < len(students), "the batch was not killed mid-way"
    assert not (killed_out / "grades.csv").exists()
    subprocess.run([*command, "--out", str(killed_out)], cwd=REPO, check=True,
                   capture_output=True)
    subprocess.run([*command, "--out", str(tmp_path / "whole")], cwd=REPO, check=True,
                   capture_output=True)
    assert {p: p.stat().st_mtime_ns for p in done_before} == done_before  # reused, not redone
    whole = (tmp_path / "whole" / "grades.csv").read_text()
    assert (killed_out / "grades.csv").read_text() == whole


def test_definitions_survive_deep_expressions():
    sum600 = "y = " + " + ".join(["1"] * 600) + "\n\ndef corr1d(x, h):\n    return x"
    deep = "v = " + " + ".join(["1"] * 5000)
    assert definitions([SourceCell(0, sum600), SourceCell(1, deep)]) == {
        "corr1d": Definition(1, 3, "def corr1d(x, h):")}


# --------------------------------------------------------------------------- re-runs after a fault


def _job(cells=("def corr1d(x, h):\n    return x",)):
    from autograder.grade import _Job

    prepared = _prepared([SourceCell(i, s) for i, s in enumerate(cells)])
    return _Job(prepared, {"corr1d": cases_for(A, SEED)["corr1d"]})


def _outcome(job, i, status, message=""):
    call = job.calls[i]
    return CallOutcome(call.problem, call.case, status, message=message)


def _run(job, first_status, message="", cells=()):
    """A run of `job.pending` whose first call ended it with `first_status`."""
    calls = [_outcome(job, job.pending[0], first_status, message)] + [
        _outcome(job, i, "not_run", "the process died") for i in job.pending[1:]]
    crashed = message if first_status == "crashed" else ""
    timed_out = message if first_status == "timeout" else ""
    return RunOutcome(list(cells), calls, crashed=crashed, timed_out=timed_out)


def test_each_crash_costs_one_case():
    job = _job()
    while job.absorb(_run(job, "crashed", "called os._exit(3) in `corr1d`")):
        pass
    assert len(job.runs) == len(job.calls)
    assert [o.status for o in job.outcomes] == ["crashed"] * len(job.calls)


def test_the_re_runs_are_capped(monkeypatch):
    import autograder.grade

    monkeypatch.setattr(autograder.grade, "MAX_RUNS", 3)
    job = _job()
    while job.absorb(_run(job, "crashed", "called os._exit(3) in `corr1d`")):
        pass
    assert len(job.runs) == 3
    assert [o.status for o in job.outcomes[:3]] == ["crashed"] * 3
    assert {o.message for o in job.outcomes[3:]} == {
        "the grader stopped after 3 runs of this notebook"}


def test_a_function_that_times_out_twice_is_not_called_again():
    job = _job()
    assert job.absorb(_run(job, "timeout", "ran longer than 10 s"))
    assert job.pending == list(range(1, len(job.calls)))
    assert not job.absorb(_run(job, "timeout", "ran longer than 10 s"))
    assert [o.status for o in job.outcomes[:2]] == ["timeout", "timeout"]
    assert {o.message for o in job.outcomes[2:]} == {
        "it ran out of time on 2 cases already, so it was not called again"}


def test_a_call_cut_by_the_submission_clock_runs_again_unless_it_was_alone():
    job = _job()
    limit = "the submission ran longer than 20 s"
    calls = [_outcome(job, 0, "ok"), _outcome(job, 1, "timeout", limit)] + [
        _outcome(job, i, "not_run", "out of time") for i in range(2, len(job.calls))]
    assert job.absorb(RunOutcome([], calls, timed_out=limit))
    assert job.pending == list(range(1, len(job.calls)))  # the cut call is not at fault
    assert job.absorb(_run(job, "timeout", limit))
    assert job.outcomes[1].status == "timeout"  # first of its run: the time went to it
    assert job.pending == list(range(2, len(job.calls)))


def test_a_cell_that_ended_a_run_is_left_out_of_the_replay():
    job = _job(("def corr1d(x, h):\n    return x", "while True:\n    pass"))
    stuck = "cell 2 ran longer than 10 s"
    run = RunOutcome([CellRun(1, "ok"), CellRun(2, "timeout", stuck)],
                     [_outcome(job, i, "not_run", "out of time") for i in range(len(job.calls))],
                     timed_out=stuck)
    assert job.absorb(run)
    assert [c.index for c in job.cells] == [0]
    assert job.notes == ["cell 2 was left out when the remaining cases were run again: it "
                         "ended a run"]  # the cause is the run's own note
    assert stuck in job.runs[0].timed_out
