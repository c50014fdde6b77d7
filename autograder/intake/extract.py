"""Step 3: the student's code, as plain Python cells.

Kept: code cells in notebook order. Dropped: check cells (nbgrader grade cells
that are not solution cells; the grader has its own cases) and cells tagged
``demo`` (illustrations that call PyTorch on purpose and are slow). IPython
syntax is translated with IPython's own transformer, then every
``get_ipython()`` call is removed, so the sandbox runs plain Python: shell
escapes (``!cmd``, ``%%bash``, ``%system``, ``%pip``) are not run and are
reported; ``%%time``-like cell magics keep their body; other magics are
dropped, with a note when they could matter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from IPython.core.inputtransformer2 import TransformerManager
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_grade, is_solution

from autograder.intake.scan import UNPARSABLE

DEMO_TAG = "demo"

# Cell magics that run their body in another program.
SHELL_CELL_MAGICS = frozenset(
    {"bash", "sh", "script", "system", "sx", "perl", "ruby", "python", "python2", "python3",
     "pypy", "cmd", "powershell"}
)
# Cell magics whose body is ordinary Python in the kernel: the body runs once.
BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
# Line magics that start a shell or an installer.
SHELL_LINE_MAGICS = frozenset({"system", "sx", "pip", "conda", "mamba", "sc"})
# Line magics that only configure the front end: dropped without a note.
QUIET_LINE_MAGICS = frozenset(
    {"matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "pinfo", "pinfo2",
     "precision", "pprint"}
)

_transformer = TransformerManager()


@dataclass
class SourceCell:
    """One code cell to run.

    Attributes
    ----------
    index : int
        Position of the cell in the notebook (0-based, markdown cells count).
    source : str
        Plain Python; line numbers match the notebook cell's.
    """

    index: int
    source: str


@dataclass
class Extracted:
    """The student's code and what was left out of it.

    Attributes
    ----------
    cells : list of SourceCell
    shell_escapes : list of str
        Each escape as the student wrote it, with its cell, e.g.
        ``"cell 3: !pip install scipy"``.
    notes : list of str
        Sentences for the feedback about anything not run.
    """

    cells: list[SourceCell] = field(default_factory=list)
    shell_escapes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_check_cell(cell: NotebookNode) -> bool:
    """nbgrader's test cells: graded, but not written by the student."""
    return is_grade(cell) and not is_solution(cell)


def is_demo_cell(cell: NotebookNode) -> bool:
    """Cells the notebooks tag ``demo``: illustrations, never graded."""
    return DEMO_TAG in cell.get("metadata", {}).get("tags", [])


def extract_code(nb: NotebookNode) -> Extracted:
    """The code cells of `nb` to run, as plain Python.

    Parameters
    ----------
    nb : NotebookNode
        A validated nbformat-4 notebook.
    """
    out = Extracted()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_check_cell(cell) or is_demo_cell(cell):
            continue
        source = _plain_python(cell.source, f"cell {index + 1}", out)
        if source.strip():
            out.cells.append(SourceCell(index, source))
    return out


def _shell_escape(out: Extracted, where: str, text: str) -> None:
    out.shell_escapes.append(f"{where}: {text}")
    out.notes.append(
        f"`{text}` ({where}) was not run: the grader does not run shell commands. "
        "Everything the course needs is already installed."
    )


def _not_run(out: Extracted, where: str, text: str) -> None:
    out.notes.append(f"`{text}` ({where}) was not run: the grader runs Python only.")


def _plain_python(source: str, where: str, out: Extracted) -> str:
    """Translate one cell's IPython syntax and strip every ``get_ipython()`` call."""
    first, _, body = source.partition("\n")
    if first.startswith("%%"):
        magic = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if magic in SHELL_CELL_MAGICS:
            _shell_escape(out, where, first.strip())
            return ""
        if magic not in BODY_CELL_MAGICS:
            _not_run(out, where, first.strip())
            return ""
        # The magic line becomes blank so that line numbers still match the cell.
        return "\n" + _plain_python(body, where, out)
    try:
        # Valid Python has no IPython syntax in it: skip the (slow) transformer.
        tree, code = ast.parse(source), source
    except UNPARSABLE:
        try:
            code = _transformer.transform_cell(source)
        except Exception:  # IPython's tokenizer gave up: the sandbox says why it cannot run
            return source
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return code  # the sandbox reports the syntax error with its line
        except UNPARSABLE:
            # Nested deeper than Python compiles, or null bytes: nothing in it can run,
            # and the sandbox says why.
            return source
    spans = []
    for node in ast.walk(tree):
        described = _ipython_call(node)
        if described is None:
            continue
        kind, text = described
        if kind == "shell":
            _shell_escape(out, where, text)
        elif kind == "noted":
            _not_run(out, where, text)
        spans.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))
    return _replace_spans(code, spans, "None")


def _ipython_call(node: ast.AST) -> tuple[str, str] | None:
    """("shell" | "noted" | "quiet", the magic as written) for a ``get_ipython().x(...)`` call."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "get_ipython"
    ):
        return None
    method = node.func.attr
    args = [a.value if isinstance(a, ast.Constant) else "..." for a in node.args]
    if method in ("system", "getoutput"):
        return "shell", "!" + str(args[0] if args else "")
    if method == "run_line_magic" and args:
        name, line = str(args[0]), str(args[1]) if len(args) > 1 else ""
        text = f"%{name} {line}".strip()
        if name in SHELL_LINE_MAGICS:
            return "shell", text
        return ("quiet" if name in QUIET_LINE_MAGICS else "noted"), text
    return "noted", f"get_ipython().{method}(...)"


def _replace_spans(code: str, spans: list[tuple[int, int, int, int]], text: str) -> str:
    """Replace (line, col, end_line, end_col) spans (ast's UTF-8 byte columns) with `text`."""
    lines = [line.encode("utf-8") for line in code.splitlines(keepends=True)]
    # From the last span backwards, so earlier offsets stay valid; spans never nest
    # because get_ipython() calls do not take each other as arguments.
    for line, col, end_line, end_col in sorted(spans, reverse=True):
        head = lines[line - 1][:col]
        tail = lines[end_line - 1][end_col:]
        lines[line - 1 : end_line] = [head + text.encode("utf-8") + tail]
    return b"".join(lines).decode("utf-8")
