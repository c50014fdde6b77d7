"""In-memory notebooks with nbgrader metadata, and cells for the worker pool, for the tests."""

from __future__ import annotations

import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.utils import compute_checksum

from autograder.execution.run import Cell

SETUP = "import numpy as np\nfrom autograder import check"


def solution_cell(name: str, source: str):
    """A student's answer cell for graded function `name`."""
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "solution": True, "grade": False, "locked": False, "grade_id": name, "schema_version": 3,
    }
    return cell


def check_cell(name: str, points: int):
    """A locked check cell with nbgrader's checksum, as the release has it."""
    cell = new_code_cell(f'check("{name}", {name})')
    cell.metadata["nbgrader"] = {
        "solution": False, "grade": True, "locked": True, "points": points,
        "grade_id": f"check_{name}", "schema_version": 3,
    }
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return cell


def locked_markdown(grade_id: str, text: str):
    cell = new_markdown_cell(text)
    cell.metadata["nbgrader"] = {
        "solution": False, "grade": False, "locked": True, "grade_id": grade_id,
        "schema_version": 3,
    }
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return cell


def notebook(answers: dict[str, str], points: dict[str, int] | None = None, extra=()):
    """A notebook: setup cell, then per function an answer cell and a check cell."""
    cells = [new_code_cell(SETUP)]
    for name, source in answers.items():
        cells += [solution_cell(name, source), check_cell(name, (points or {}).get(name, 1))]
    cells += list(extra)
    nb = new_notebook(cells=cells)
    nbformat.validate(nb)
    return nb


def to_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def cells(*sources: str) -> list[Cell]:
    """Pool cells numbered from 1, each source dedented (tests write them indented)."""
    return [Cell(i + 1, textwrap.dedent(s)) for i, s in enumerate(sources)]
