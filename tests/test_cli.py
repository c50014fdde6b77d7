"""The command line: exit codes, messages without tracebacks, list and check."""

from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys

import pytest

from autograder import cli
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
