"""Step 1: loading and validating submissions."""

from __future__ import annotations

import hashlib
import json

from autograder.notebook import load_notebook, read_notebook_file
from tests.nbfactory import notebook, to_bytes


def test_a_valid_notebook_loads_with_its_hash():
    data = to_bytes(notebook({"corr1d": "def corr1d(x, h):\n    return x"}))
    loaded = load_notebook(data)
    assert loaded.error is None
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    assert loaded.notebook.cells[1].metadata.nbgrader.grade_id == "corr1d"
    assert b'"def corr1d(x, h):\\n",' in data  # stored as a list of lines...
    assert loaded.notebook.cells[1].source == "def corr1d(x, h):\n    return x"  # ...read as text


def test_broken_json_is_an_error_with_the_position():
    loaded = load_notebook(b'{"cells": [\n  {"cell_type": "code",,}')
    assert loaded.notebook is None
    assert "not valid JSON (line 2, column" in loaded.error


def test_nbformat_3_is_refused_not_converted():
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}
    loaded = load_notebook(json.dumps(v3).encode())
    assert loaded.notebook is None
    assert "nbformat 3, expected 4" in loaded.error


def test_schema_violations_are_reported():
    nb = json.loads(to_bytes(notebook({"corr1d": "pass"})))
    del nb["cells"][0]["source"]
    loaded = load_notebook(json.dumps(nb).encode())
    assert loaded.notebook is None
    assert "does not follow the nbformat schema" in loaded.error


def test_json_that_is_not_a_notebook():
    assert load_notebook(b"[1, 2, 3]").error == "the file is JSON but not a Jupyter notebook"


def test_bytes_that_are_not_utf8():
    assert "not UTF-8" in load_notebook(b"\xff\xfe{}").error


def test_a_missing_file_is_an_error_not_an_exception(tmp_path):
    loaded = read_notebook_file(tmp_path / "nope.ipynb")
    assert loaded.notebook is None
    assert loaded.error == "the file could not be read: No such file or directory"
