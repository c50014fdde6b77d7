"""The pinned set installs on every supported Python (3.11.0 up to 3.12), or make says so at once.

The PyPI checks read the index only (no download): every pin needs a wheel
that is not yanked and whose Requires-Python admits the oldest 3.11 and 3.12.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import urllib.error
import urllib.request

import pytest
from packaging.specifiers import SpecifierSet

from tests import pypi_pins
from tests.conftest import REPO

OLDEST, NEWEST = "3.11.0", "3.12.0"


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen(pypi_pins.INDEX + "/pip/", timeout=20).close()
    except (urllib.error.URLError, OSError):
        return False
    return True


needs_pypi = pytest.mark.skipif(not _pypi_reachable(), reason="PyPI is not reachable")


def test_the_checker_catches_a_pin_too_new_for_python_3_11_0(tmp_path):
    files = [{"filename": "soupsieve-4.1.2-py3-none-any.whl", "requires-python": ">=3.11.5"},
             {"filename": "soupsieve-3.0.1-py3-none-any.whl", "requires-python": ">=3.11",
              "yanked": "broken possessive quantifiers before 3.11.5"},
             {"filename": "numpy-2.4.6-cp312-cp312-manylinux_2_28_x86_64.whl"},
             {"filename": "foo-1.0-cp311-abi3-manylinux_2_17_x86_64.whl"}]
    v = pypi_pins.Version
    assert pypi_pins.problems("4.1.2", files, v(OLDEST)) == [
        "soupsieve-4.1.2-py3-none-any.whl requires Python >=3.11.5"]
    assert pypi_pins.problems("4.1.2", files, v("3.11.5")) == []
    assert "is yanked (broken possessive" in pypi_pins.problems("3.0.1", files, v(NEWEST))[0]
    assert pypi_pins.problems("2.4.6", files, v(NEWEST)) == []
    assert pypi_pins.problems("2.4.6", files, v(OLDEST)) == [
        f"no wheel of 2.4.6 for CPython {OLDEST} on Linux x86-64"]
    assert pypi_pins.problems("1.0", files, v(NEWEST)) == []  # abi3 from an older CPython


@needs_pypi
def test_every_pin_installs_on_the_oldest_and_newest_supported_python():
    assert pypi_pins.check([OLDEST, NEWEST]) == {}


@needs_pypi
@pytest.mark.slow
def test_pip_resolves_the_constraint_set_for_python_3_11_0(tmp_path):
    """pip's own resolver, for CPython 3.11.0 on Linux, from PyPI only (torch, whose CUDA
    wheels alone are gigabytes, is covered by the index check above)."""
    wanted = [line for line in (REPO / "constraints.txt").read_text().splitlines()
              if line.split("#")[0].strip() and not line.startswith("torch==")]
    (tmp_path / "req.txt").write_text("\n".join(wanted) + "\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
           "PIP_CONFIG_FILE": os.devnull}  # PyPI itself, not this machine's mirrors
    proc = subprocess.run(
        [shutil.which("pip", path=str(REPO / ".venv" / "bin")) or "pip", "install", "--dry-run",
         "--ignore-installed", "--no-deps", "--target", str(tmp_path / "t"),
         "--python-version", OLDEST, "--implementation", "cp", "--only-binary=:all:",
         "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
         "--platform", "linux_x86_64", "-r", str(tmp_path / "req.txt"),
         "--index-url", pypi_pins.INDEX],
        capture_output=True, text=True, env=env, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Would install" in proc.stdout


def test_pyproject_admits_exactly_the_supported_pythons():
    requires = SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())
                            ["project"]["requires-python"])
    for ok in ("3.11.0", "3.11.2", "3.11.9", "3.12.0", "3.12.9"):
        assert ok in requires
    for no in ("3.10.13", "3.13.0"):
        assert no not in requires


def test_make_stops_at_once_on_an_unsupported_python(tmp_path):
    for name in ("Makefile", "constraints.txt", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho 3.10\n")  # what the version probe prints on 3.10
    fake.chmod(0o755)
    proc = subprocess.run(["make", "env", f"PYTHON={fake}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert re.search(r"is Python 3\.10; the course supports Python 3\.11\.x and\s+3\.12\.x",
                     proc.stderr)
    assert not (tmp_path / ".venv").exists()  # stopped before creating anything
