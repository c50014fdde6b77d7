"""Shared test fixtures and helpers.

Everything a test needs is made here, in temporary folders: a clean clone runs
the whole suite without `make demo` or `make release` having been run first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
GRADED_CLASS_SEED = 4242  # the official seed of `graded_class`: no feedback may show it


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test drew, when it used Matplotlib at all."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture
def open_tmp():
    """A directory every user can enter, outside /tmp (the sandbox has a /tmp of its own).

    pytest's tmp_path sits in a 0700 directory that a dropped-privilege process cannot reach.
    """
    path = Path(tempfile.mkdtemp(dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


def axes_numbers(ax) -> list[float]:
    """Numbers written on Matplotlib axes, in drawing order (labels and symbols skipped)."""
    out = []
    for t in ax.texts:
        try:
            out.append(float(t.get_text()))
        except ValueError:
            continue
    return out


def solution_path(assignment: str) -> Path:
    """The instructor notebook ``solutions/<a>/<a>.ipynb``."""
    return REPO / "solutions" / assignment / f"{assignment}.ipynb"


def release_path(assignment: str) -> Path:
    """The student release ``notebooks/<a>/<a>.ipynb``."""
    return REPO / "notebooks" / assignment / f"{assignment}.ipynb"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, failing (not skipping) with a clear message when it is missing."""
    if not path.is_file():
        pytest.fail(
            f"{path.relative_to(REPO)} does not exist: every assignment of "
            "autograder.catalog.ASSIGNMENTS needs its solution notebook in solutions/ and "
            "its release in notebooks/ (make release)",
            pytrace=False,
        )
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def example_class(tmp_path_factory) -> Path:
    """The example class of ``examples/make_class.py``, built once per run in a temporary folder.

    Returns the ``submitted/<student>/<assignment>/<assignment>.ipynb`` folder.
    Tests must not change it; one that needs to, builds its own copy.
    """
    from examples import make_class

    return make_class.build_class(tmp_path_factory.mktemp("example_class"), REPO)


@pytest.fixture(scope="session")
def graded_class(example_class, tmp_path_factory):
    """Three 01_conv1d notebooks of the example class through the real pipeline.

    Returns the results (flipped_kernel, calls_torch, broken_json) and their output folder.
    """
    from autograder.grade import grade

    out = tmp_path_factory.mktemp("graded")
    notebooks = [example_class / s / "01_conv1d" / "01_conv1d.ipynb"
                 for s in ("flipped_kernel", "calls_torch", "broken_json")]
    return grade(notebooks, out=out, seed=GRADED_CLASS_SEED, workers=1), out


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium, driven by Playwright, shared by the browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    if path is None:  # the browser modules skip first, with the install command
        pytest.skip("Chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()
