"""The Gradescope bundle installed the way ``setup.sh`` does, into a fresh venv, then graded.

It downloads and installs the whole pinned set (about ten minutes), so it runs
only when asked, with the Python to try:

    AUTOGRADER_FRESH_PYTHON=/usr/bin/python3.11 .venv/bin/pytest tests/test_gradescope_install.py

(Debian 12's python3.11 is 3.11.2, the oldest 3.11 a course is likely to have;
``AUTOGRADER_FRESH_PYPI_ONLY=1`` installs from PyPI alone, without PyTorch's CPU index.)
It runs setup.sh's own pip command, then the bundle's run_autograder under
Docker's default capabilities, as on Gradescope.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile

import pytest

from autograder import catalog
from autograder.outputs.platforms.gradescope_bundle import SETUP_SH, build_bundle
from tests.conftest import REPO
from tests.test_platforms import DOCKER_CAPS

PYTHON = os.environ.get("AUTOGRADER_FRESH_PYTHON")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not PYTHON, reason="set AUTOGRADER_FRESH_PYTHON to a python to install the bundle with")]


def test_the_bundle_installs_on_a_fresh_python_and_grades(open_tmp):
    root = open_tmp / "autograder"
    with zipfile.ZipFile(build_bundle(open_tmp / "autograder.zip", seed=4242, repo=REPO)) as z:
        z.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    subprocess.run([PYTHON, "-m", "venv", str(root / "venv")], check=True)
    # setup.sh's install line, with /autograder moved to root.
    install = next(line for line in SETUP_SH.replace("\\\n", " ").splitlines()
                   if "pip install" in line).replace("/autograder", str(root))
    if os.environ.get("AUTOGRADER_FRESH_PYPI_ONLY"):  # PyPI's torch instead of the CPU index
        install = re.sub(r"--extra-index-url \S+", "", install)
    proc = subprocess.run(["bash", "-c", install], cwd=root / "source", capture_output=True,
                          text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (root / "submission").mkdir()
    (root / "submission" / "answers.ipynb").write_bytes(
        (REPO / "solutions" / "01_conv1d" / "01_conv1d.ipynb").read_bytes())
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": "fk@example.edu"}], "assignment": {"title": "HW1 (01_conv1d)"}}))
    env = {k: v for k, v in os.environ.items()
           if k not in ("AUTOGRADER_SEED", "PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run(["setpriv", f"--bounding-set={DOCKER_CAPS}", "--",
                          str(root / "source" / "run_autograder")],
                         env={**env, "AUTOGRADER_ROOT": str(root)}, capture_output=True,
                         text=True, timeout=900, cwd=open_tmp)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(rf"from {re.escape(str(root / 'venv'))}/lib/python3\.\d+/site-packages",
                     run.stdout)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == catalog.max_score("01_conv1d"), results["output"]
