"""The command line: exit codes, messages without tracebacks, list and check."""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import cli
from autograder.catalog import max_score
from autograder.cli import main
from autograder.grade import grade
from tests.conftest import REPO
from tests.nbfactory import notebook, to_bytes

PERFECT_CORR1D = (
    "def corr1d(x, h):\n"
    "    x, h = np.asarray(x, float), np.asarray(h, float)\n"
    "    return np.array([x[i:i + len(h)] @ h for i in range(len(x) - len(h) + 1)])\n"
)


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "300", **(env or {})}, timeout=300)


def test_list_shows_every_assignment_and_its_total(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one row per function, no wrapping
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "conv1d(x, weight, bias=None, stride=1, padding=0)  (E)" in out
    assert "total 06_variants" in out and "26" in out


def test_bad_arguments_exit_2_without_a_traceback(tmp_path):
    missing = run_cli("grade", tmp_path / "nope.ipynb", "--out", tmp_path / "out", "--seed", "1")
    assert missing.returncode == 2
    assert "autograder grade: error: collect:" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = run_cli("grade", tmp_path, "--out", tmp_path / "out", "--seed", "1")
    assert empty.returncode == 2
    assert "grade: no notebooks (.ipynb) found" in empty.stderr
    usage = run_cli("grade", tmp_path, "--out", tmp_path / "out", "--workers", "0")
    assert usage.returncode == 2 and "expects an integer >= 1, got 0" in usage.stderr


def test_no_seed_is_a_grader_error(tmp_path, monkeypatch, capsys):
    # A course root without autograder.toml, whatever the checkout has.
    course = tmp_path / "course"
    course.mkdir()
    monkeypatch.setattr(cli, "grade", functools.partial(grade, course_root=course))
    monkeypatch.delenv("AUTOGRADER_SEED", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    (tmp_path / "alice.ipynb").write_bytes(to_bytes(notebook({"corr1d": PERFECT_CORR1D})))
    assert main(["grade", str(tmp_path / "alice.ipynb"), "--out", str(tmp_path / "o")]) == 2
    assert "resolve_seed: no grading seed; pass --seed, set AUTOGRADER_SEED" in (
        capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a folder unwritable to itself")
def test_an_unwritable_output_folder_is_a_grader_error(tmp_path):
    (tmp_path / "alice.ipynb").write_bytes(to_bytes(notebook({"corr1d": PERFECT_CORR1D})))
    (tmp_path / "file").write_text("not a folder")
    result = run_cli("grade", tmp_path / "alice.ipynb", "--out", tmp_path / "file" / "out",
                     "--seed", "1", "--assignment", "01_conv1d")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_graded_batch_exits_0_whatever_the_scores(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "alice.ipynb").write_bytes(to_bytes(notebook({"corr1d": PERFECT_CORR1D})))
    (tmp_path / "in" / "bob.ipynb").write_bytes(b"{ broken")
    result = run_cli("grade", tmp_path / "in", "--out", tmp_path / "out", "--seed", "5",
                     "--assignment", "01_conv1d")
    assert result.returncode == 0, result.stderr
    assert "[1/2]" in result.stderr and "[2/2]" in result.stderr  # plain progress lines
    with open(tmp_path / "out" / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["01_conv1d:corr1d"] == "2"
    assert rows["bob"]["01_conv1d"] == "0"
    assert "not valid JSON" in rows["bob"]["notes"]
    # alice's hand-made notebook lacks the release's read-only cells: flagged too.
    assert rows["alice"]["flags"] == "01_conv1d:tampered_cells"
    assert "graded 2 submissions (2 need a look)" in result.stdout


def test_check_exits_0_only_when_every_public_case_passes(tmp_path):
    answers = {"corr1d": PERFECT_CORR1D}
    good = tmp_path / "01_conv1d.ipynb"
    good.write_bytes(to_bytes(notebook(answers)))
    result = run_cli("check", good)
    assert result.returncode == 1  # the other three functions are missing
    assert "corr1d" in result.stdout and "some public cases fail" in result.stdout
    broken = tmp_path / "broken_01_conv1d.ipynb"
    broken.write_bytes(b"{")
    result = run_cli("check", broken)
    assert result.returncode == 1 and "could not be checked" in result.stdout


# ------------------------------------------------------------------ the installed command

AUTOGRADER = str(Path(sys.executable).parent / "autograder")  # the console script users run


def run_autograder(*args, umask=None, env=None):
    """The real ``autograder`` command, under `umask` if given."""
    return subprocess.run([AUTOGRADER, *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "300", **(env or {})},
                          timeout=600, preexec_fn=(lambda: os.umask(umask)) if umask else None)


def test_version_and_help_with_examples_and_exit_codes():
    version = run_autograder("--version")
    assert version.returncode == 0
    assert re.fullmatch(r"autograder \d+\.\d+\.\d+\+[0-9a-f]{12}\n", version.stdout)
    top = run_autograder("--help")
    assert top.returncode == 0
    for command, example in cli.EXAMPLES.items():
        assert example.splitlines()[0] in top.stdout
        sub = run_autograder(command, "--help")
        assert sub.returncode == 0
        assert f"example:\n  {example}" in sub.stdout
        for code in ("0", "1", "2", "3", "4", "130"):
            assert re.search(rf"^  {code} +\S", sub.stdout, re.M), (command, code)
    assert cli.LIST_LEGEND in run_autograder("list", "--help").stdout.replace("\n", " ")


def test_list_explains_the_e_mark(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "(E)" in out and "(E): the function must also raise ValueError on bad arguments" in out


def _broken_batch(folder):
    (folder / "in").mkdir(parents=True)
    for who in ("alice", "bob"):
        (folder / "in" / f"{who}.ipynb").write_bytes(b"{ not json")
    return folder / "in"


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755),
                                                        (0o077, 0o600, 0o700)])
def test_outputs_follow_the_umask_and_hold_no_seed(tmp_path, umask, file_mode, dir_mode):
    seed = "918273645"
    out = tmp_path / "out"
    proc = run_autograder("grade", _broken_batch(tmp_path), "--out", out, "--seed", seed,
                          "--assignment", "01_conv1d", umask=umask)
    assert proc.returncode == 0, proc.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"grades.csv", "canvas.csv", "summary.html", "alice.html"} <= {
        p.name.replace("01_conv1d.html", "alice.html") if p.parent.name == "alice" else p.name
        for p in files}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(file_mode)}
    assert {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_dir()} == {
        oct(dir_mode)}
    assert not [p for p in files if seed in p.read_text(errors="replace")]


SYSTEMIC = '''\
import autograder.intake.extract as extract


def broken(*args, **kwargs):
    raise RuntimeError("the grader's own step is broken")


extract.extract_code = broken
'''


def test_a_batch_failed_by_the_grader_everywhere_exits_4(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SYSTEMIC)
    (tmp_path / "in").mkdir()
    for who in ("alice", "bob"):
        (tmp_path / "in" / f"{who}.ipynb").write_bytes(
            to_bytes(notebook({"corr1d": PERFECT_CORR1D})))
    proc = run_autograder("grade", tmp_path / "in", "--out", tmp_path / "out", "--seed", "5",
                          "--assignment", "01_conv1d", env={"PYTHONPATH": str(tmp_path / "site")})
    assert proc.returncode == cli.EXIT_ALL_FAILED == 4, proc.stderr
    assert "every submission (2) failed on the grader's side" in proc.stderr
    assert "the grader's own step is broken" in proc.stderr
    assert (tmp_path / "out" / "grades.csv").is_file()  # the reasons are still written down
    # One student's broken notebook is not the grader's failure: exit 0.
    ok = run_autograder("grade", _broken_batch(tmp_path / "b"), "--out", tmp_path / "o2",
                        "--seed", "5", "--assignment", "01_conv1d")
    assert ok.returncode == 0, ok.stderr


def test_grade_with_a_roster_through_the_command(tmp_path):
    from tests.test_platforms import CANVAS_EXPORT

    roster = tmp_path / "export.csv"
    roster.write_bytes(CANVAS_EXPORT.encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for uid in ("12346", "12350", "13000"):
            zf.writestr(f"smithjohn_{uid}_9{uid}_01_conv1d.ipynb", b"{ not json")
    (tmp_path / "submissions.zip").write_bytes(buffer.getvalue())
    proc = run_autograder("grade", tmp_path / "submissions.zip", "--out", tmp_path / "out",
                          "--seed", "5", "--roster", roster)
    assert proc.returncode == 0, proc.stderr
    assert "1 graded student(s) are not on the roster" in proc.stderr
    assert "smithjohn (13000)" in (tmp_path / "out" / "summary.html").read_text()
    with open(tmp_path / "out" / "canvas.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "Conv 1-D: 01_conv1d (4321)"
    assert [r[1] for r in rows[2:]] == ["12346", "12350", "12351", "99999", "13000"]
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as fh:
        grades = {r["student"]: r["name"] for r in csv.DictReader(fh)}
    assert grades == {"12346": "smithjohn", "12350": "smithjohn", "13000": "smithjohn"}
    bad = run_autograder("grade", tmp_path / "submissions.zip", "--out", tmp_path / "o2",
                         "--seed", "5", "--roster", tmp_path / "nope.csv")
    assert bad.returncode == 2 and "cannot be read" in bad.stderr
    assert not (tmp_path / "o2").exists()  # refused before grading
    flag = run_autograder("grade", tmp_path / "submissions.zip", "--out", tmp_path / "o3",
                          "--seed", "5", "--canvas-assignment", "01_conv1d=xyz")
    assert flag.returncode == 2 and "expects ASSIGNMENT=CANVAS_ID" in flag.stderr


def test_a_moodle_download_grades_under_participant_ids(tmp_path):
    from tests.conftest import solution_path

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("Jane Doe_1234567_assignsubmission_file_01_conv1d.ipynb",
                    solution_path("01_conv1d").read_bytes())
        zf.writestr("José García_1234568_assignsubmission_file/Untitled.ipynb", b"{ not json")
    (tmp_path / "moodle.zip").write_bytes(buffer.getvalue())
    proc = run_autograder("grade", tmp_path / "moodle.zip", "--out", tmp_path / "out",
                          "--seed", "5", "--assignment", "01_conv1d", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert {k: r["name"] for k, r in rows.items()} == {"1234567": "Jane Doe",
                                                       "1234568": "José García"}
    assert rows["1234567"]["01_conv1d"] == str(max_score("01_conv1d"))
    assert "not valid JSON" in rows["1234568"]["notes"]
    page = (tmp_path / "out" / "feedback" / "1234568" / "01_conv1d.html").read_text()
    assert "José García (1234568)" in page  # the name beside the key
    assert "José García (1234568)" in (tmp_path / "out" / "summary.html").read_text()
