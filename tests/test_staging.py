"""The staged folder the sandbox runs from: the worker's modules, their packages, nothing else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.execution import staging

REPO = Path(__file__).resolve().parents[1]


def _py_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.py")}


@pytest.fixture
def stage():
    made = staging.stage(bind_numpy=False)
    yield made
    made.cleanup()


def test_stage_holds_the_worker_modules_with_their_package_files(stage):
    staged = _py_files(stage.site / "autograder")
    modules = {m.removeprefix("autograder.").replace(".", "/") + ".py"
               for m in staging.worker_modules()}
    assert "execution/worker.py" in modules
    assert staged == modules | {"__init__.py", "execution/__init__.py"}
    # The top __init__ is the stand-in's (check only), the folder's is the real one.
    assert (stage.site / "autograder" / "__init__.py").read_bytes() == \
        (REPO / "autograder/execution/standins/autograder/__init__.py").read_bytes()
    assert (stage.site / "autograder/execution/__init__.py").read_bytes() == \
        (REPO / "autograder/execution/__init__.py").read_bytes()


def test_stage_holds_no_reading_scoring_or_writing_step(stage):
    for folder in ("intake", "scoring", "outputs", "cases"):
        assert not (stage.site / "autograder" / folder).exists()
    for name in ("check.py", "grade.py", "catalog.py"):
        assert not (stage.site / "autograder" / name).exists()


@pytest.mark.parametrize("folder", ["intake", "execution", "scoring", "outputs"])
def test_folder_init_imports_nothing(folder):
    tree = ast.parse((REPO / "autograder" / folder / "__init__.py").read_text())
    assert ast.get_docstring(tree)
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_staged_worker_imports_from_the_stage_alone(stage):
    # -S: the standard library and the stage alone, as the worker runs.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "import autograder.execution.wire as w, autograder.execution.outcome as o; "
            "print(w.__file__.startswith(sys.argv[1]), o.__file__.startswith(sys.argv[1]))")
    out = subprocess.run([sys.executable, "-S", "-c", code, str(stage.site)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_a_worker_module_importing_a_never_staged_one_is_refused(monkeypatch, tmp_path):
    package = tmp_path / "autograder"
    (package / "execution").mkdir(parents=True)
    (package / "execution" / "worker.py").write_text("from autograder.scoring import judge\n")
    monkeypatch.setattr(staging, "PACKAGE", package)
    with pytest.raises(RuntimeError, match=r"worker imports autograder\.scoring"):
        staging.worker_modules()
