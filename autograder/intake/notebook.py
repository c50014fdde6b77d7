"""Step 1: load and validate a submitted notebook.

A submission that cannot be read is not an exception for the batch: it gives a
`LoadedNotebook` with ``notebook=None`` and the reason in ``error``, which
becomes that student's row with 0 points.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import nbformat
from nbformat.notebooknode import NotebookNode
from nbformat.v4.rwbase import rejoin_lines

# The course's notebooks are nbformat 4; version 3 (IPython 2) has worksheets
# and a different cell layout, and converting it silently would grade a
# notebook the student never saw in that form.
SUPPORTED_MAJOR = 4
# Honest notebooks nest a few levels (cells, outputs, widget state); far deeper
# JSON is refused before any recursive code (nbformat, jsonschema) walks it.
MAX_JSON_DEPTH = 64


@dataclass
class LoadedNotebook:
    """A submission's bytes and, when valid, its parsed notebook.

    Attributes
    ----------
    sha256 : str
        Hash of the file's bytes (part of the resume key).
    notebook : NotebookNode or None
        The validated nbformat-4 notebook; None when it could not be loaded.
    error : str or None
        Why the notebook could not be loaded, for the student and the TA.
    """

    sha256: str
    notebook: NotebookNode | None = None
    error: str | None = None


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def load_notebook(data: bytes) -> LoadedNotebook:
    """Parse and validate notebook bytes.

    Parameters
    ----------
    data : bytes
        The file as submitted.

    Returns
    -------
    LoadedNotebook
        ``error`` says what is wrong: not UTF-8, not JSON, not a notebook, an
        unsupported nbformat version, or a schema violation.
    """
    digest = sha256_of(data)
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return LoadedNotebook(digest, error=f"the file is not UTF-8 text ({exc.reason})")
    except json.JSONDecodeError as exc:
        return LoadedNotebook(
            digest, error=f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); was it saved from Jupyter?"
        )
    except RecursionError:
        return LoadedNotebook(digest, error=_too_deep())
    if json_depth(raw) > MAX_JSON_DEPTH:
        return LoadedNotebook(digest, error=_too_deep())
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return LoadedNotebook(digest, error="the file is JSON but not a Jupyter notebook")
    if raw["nbformat"] != SUPPORTED_MAJOR:
        return LoadedNotebook(
            digest, error=f"the notebook is nbformat {raw['nbformat']!r:.40}, expected "
            f"{SUPPORTED_MAJOR}; open it in a current Jupyter and save it again"
        )
    shape = _shape_error(raw)
    if shape:
        return LoadedNotebook(digest, error=f"the notebook does not follow the nbformat schema: "
                                            f"{shape}")
    try:
        # The schema first, on the JSON as read: nbformat's own conversion assumes
        # a well-formed notebook (cells that are objects, an integer minor version).
        nbformat.validate(raw)
        # On disk, sources are lists of lines; every later step expects strings.
        nb = rejoin_lines(nbformat.from_dict(raw))
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return LoadedNotebook(
            digest, error=f"the notebook does not follow the nbformat schema: {exc.message:.500}"
        )
    except Exception as exc:  # whatever else nbformat trips on is the file's fault too
        return LoadedNotebook(
            digest, error=f"the notebook does not follow the nbformat schema "
            f"({type(exc).__name__}: {str(exc):.300})"
        )
    return LoadedNotebook(digest, notebook=nb)


def json_depth(value) -> int:
    """How deeply lists and objects nest in parsed JSON (iterative: any depth is safe).

    >>> json_depth({"a": [1, [2]]}), json_depth(3)
    (3, 0)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _shape_error(raw: dict) -> str:
    """What nbformat's own code would trip on before its schema check could say it."""
    minor = raw.get("nbformat_minor")
    if type(minor) is not int:
        return f"nbformat_minor is {minor!r:.40}, expected an integer"
    cells = raw.get("cells")
    if not isinstance(cells, list):
        return f"cells is {type(cells).__name__}, expected a list of cells"
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            return f"cell {i} is {type(cell).__name__}, expected an object"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"the metadata of cell {i} is {type(cell['metadata']).__name__}, " \
                   "expected an object"
    if not isinstance(raw.get("metadata", {}), dict):
        return "the notebook's metadata is not an object"
    return ""


def _too_deep() -> str:
    return (f"the file nests lists or objects more than {MAX_JSON_DEPTH} levels deep; "
            "a Jupyter notebook never does")


def read_notebook_file(path) -> LoadedNotebook:
    """Load a notebook from a path; an unreadable file gives ``error``, not an exception."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return LoadedNotebook(sha256_of(b""), error=f"the file could not be read: {exc.strerror}")
    return load_notebook(data)
