"""Shared test fixtures and helpers.

Everything a test needs is made here, in temporary folders: a clean clone runs
the whole suite without `make demo` or `make release` having been run first.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


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
