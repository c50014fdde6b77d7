"""Step 1: loading and validating submissions."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.intake.notebook import json_depth, load_notebook, read_notebook_file
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


def _honest_raw():
    return json.loads(to_bytes(notebook({"corr1d": "def corr1d(x, h):\n    return x"})))


@pytest.mark.parametrize(("change", "error"), [
    (lambda nb: nb["cells"][1].__setitem__("metadata", "x"),
     "the metadata of cell 2 is str, expected an object"),
    (lambda nb: nb.__setitem__("cells", [1, 2]), "cell 1 is int, expected an object"),
    (lambda nb: nb.__setitem__("cells", {"a": 1}), "cells is dict, expected a list of cells"),
    (lambda nb: nb.__setitem__("nbformat_minor", "x"),
     "nbformat_minor is 'x', expected an integer"),
    (lambda nb: nb.__setitem__("metadata", []), "the notebook's metadata is not an object"),
])
def test_shapes_nbformat_itself_trips_on_are_schema_errors(change, error):
    raw = _honest_raw()
    change(raw)
    loaded = load_notebook(json.dumps(raw).encode())
    assert loaded.notebook is None
    assert loaded.error == f"the notebook does not follow the nbformat schema: {error}"


def test_nesting_far_deeper_than_a_notebook_is_refused_before_anything_recurses():
    deep = b'{"nbformat": 4, "cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert load_notebook(deep).error.startswith("the file nests lists or objects more than 64")
    raw = _honest_raw()
    raw["metadata"]["deep"] = json.loads("[" * 200 + "]" * 200)  # parses, still refused
    assert "more than 64 levels deep" in load_notebook(json.dumps(raw).encode()).error
    nested: list = []
    for _ in range(4999):
        nested = [nested]
    assert json_depth(nested) == 5000  # iterative: no recursion


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                        max_size=3)))
def test_any_json_loads_or_gives_a_reason(value):
    for doc in (value, {**_honest_raw(), "cells": value}, {**_honest_raw(), "metadata": value}):
        loaded = load_notebook(json.dumps(doc).encode())
        assert (loaded.notebook is None) == isinstance(loaded.error, str)
