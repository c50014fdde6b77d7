"""Stated rules that cost a graded function its points, read from the code (nothing runs).

Two kinds, the same in `check()` and in official grading:

- **Forbidden calls proven by the scan**: a direct call of a forbidden
  function by name (`autograder.intake.scan.Finding.proof`: ``np.convolve(x, h)``,
  ``scipy.signal.correlate2d(...)``, ``conv_ref.conv1d(...)``, import aliases
  resolved) inside a graded function or a helper it calls. Findings that only
  look suspicious stay flags for a TA.
- **Loops where an exercise forbids them** (`NO_LOOPS`): a ``for`` or
  ``while`` statement, or a comprehension over ``range``/``np.ndindex``, in
  the function or a helper it calls (other graded functions have rules of
  their own and are not followed).

Official grading reads the notebook's cells (`violations`); `check()` reads
the source of the checked function and its helpers (`violations_of_function`).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autograder import catalog
from autograder.intake.scan import (
    PROOF_REASONS,
    REFERENCE_PROOF_REASONS,
    UNPARSABLE,
    Finding,
    rules_for,
    scan_cells,
    with_deep_stack,
)

if TYPE_CHECKING:
    from autograder.intake.extract import SourceCell


@dataclass(frozen=True)
class Cell:
    """A cell as the scan reads it (`autograder.intake.extract.SourceCell` without its imports)."""

    index: int
    source: str

# Graded functions whose exercise forbids Python loops, and what it asks for instead.
NO_LOOPS: dict[str, str] = {
    "conv1x1": "one `np.einsum` or matrix product over the channels, no Python loop over "
               "pixels or channels",
    "conv2d_im2col": "one matrix product of the flattened weight with your `im2col`, no Python "
                     "loop over output positions",
}
_LOOP_ITERABLES = frozenset({"range", "ndindex", "product", "ndenumerate", "enumerate", "zip"})


def instead(name: str) -> str:
    """What to write instead of the forbidden function `name` (a resolved dotted name)."""
    leaf = name.rsplit(".", 1)[-1]
    if name.startswith("conv_ref"):
        return ("`conv_ref` is the course's reference solution: write your own code (your "
                "functions from this notebook may call each other)")
    if "stride_tricks" in name:
        return ("`sliding_window_view` and `as_strided` come in 04_toeplitz: here, loop over the "
                "kernel taps and add shifted slices of the input")
    if name.startswith("numpy.fft"):
        return ("`np.fft` comes in 05_equivariance: here, write the sum over the kernel taps "
                "with NumPy indexing or slicing")
    if "pool" in leaf:
        return "take the windows with slicing and reduce them with `.max` or `.mean`"
    if name.startswith("numpy.") or "2d" in leaf or "nd" in leaf.lower():
        return "write the sum over kernel taps with NumPy indexing or slicing"
    return ("write it with NumPy: a loop over the kernel taps, or im2col and one matrix "
            "product")


def forbidden_message(problem: str, name: str, where: str = "", reason: str = "") -> str:
    """The student's message for a forbidden call `name` made by graded function `problem`.

    With a `reason` of `autograder.intake.scan.REFERENCE_PROOF_REASONS` (the import machinery,
    the garbage collector, C calls, the grader's internals), the message says that.
    """
    at = f" ({where})" if where else ""
    if reason in REFERENCE_PROOF_REASONS:
        shown = "a name bound from one" if name.startswith("<escape>") else f"`{name}`"
        return (f"`{problem}` uses {shown}{at}, which {reason}: graded code may use NumPy "
                "only, without the import machinery, the garbage collector, C calls or the "
                "grader's own modules.")
    return (f"`{problem}` calls `{name}`{at}, which is not allowed in graded code: "
            f"{instead(name)}.")


@dataclass(frozen=True)
class Violation:
    """A rule a graded function breaks.

    Attributes
    ----------
    problem : str
    rule : str
        ``"forbidden_call"`` or ``"loop"``.
    message : str
        For the student: what, where (cell and line, or line), and what to write instead.
    name : str
        The forbidden function's dotted name, or the loop's keyword.
    """

    problem: str
    rule: str
    message: str
    name: str = ""


# ----------------------------------------------------------------------------- call graph


def _top_level_defs(cells: list[SourceCell]) -> dict[str, tuple[int, ast.FunctionDef]]:
    """name -> (cell index, node) of the last notebook-level ``def`` of each name."""
    found: dict[str, tuple[int, ast.FunctionDef]] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except UNPARSABLE:
            continue  # the sandbox reports it; nothing in it can run
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = (cell.index, node)
    return found


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _helpers(name: str, defs: dict, follow_graded: bool) -> list[str]:
    """`name` and every notebook function it reaches through the names it uses."""
    graded = {p.name for p in catalog.PROBLEMS}
    seen, todo = [name], [name]
    while todo:
        for used in sorted(_names_used(defs[todo.pop()][1])):
            if used in defs and used not in seen and (follow_graded or used not in graded):
                seen.append(used)
                todo.append(used)
    return seen


# ----------------------------------------------------------------------------- loops


def _loops(node: ast.AST) -> list[tuple[str, int]]:
    """(keyword, line) of each loop in `node`: statements, and comprehensions over ranges."""
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.For | ast.AsyncFor | ast.While):
            found.append(("while" if isinstance(n, ast.While) else "for", n.lineno))
        elif isinstance(n, ast.comprehension):
            call = n.iter.func if isinstance(n.iter, ast.Call) else None
            leaf = call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", None)
            if leaf in _LOOP_ITERABLES:
                found.append(("for", n.iter.lineno))
    return sorted(found, key=lambda f: f[1])


def _loop_violation(problem: str, function: str, keyword: str, where: str) -> Violation:
    inside = "" if function == problem else f" (in its helper `{function}`)"
    return Violation(problem, "loop", (
        f"`{problem}` has a `{keyword}` loop{inside} at {where}: the exercise asks for "
        f"{NO_LOOPS[problem]}. Loops are not allowed in this function or the helpers it calls; "
        "it scores 0 until the loop is gone."), keyword)


# ----------------------------------------------------------------------------- official grading


def violations(cells: list[SourceCell], assignment: str) -> dict[str, list[Violation]]:
    """The rules each graded function of `assignment` breaks in the notebook's `cells`.

    Parameters
    ----------
    cells : list of SourceCell
        The extracted code, as the scan reads it.
    assignment : str

    Returns
    -------
    dict
        problem name -> its violations (only problems with at least one).
    """
    try:
        return _violations(cells, assignment)
    except SystemError:
        # CPython 3.11's parser can fail with "AST constructor recursion depth mismatch"
        # when called deep in a stack; a fresh thread starts with an empty one.
        try:
            return with_deep_stack(_violations, cells, assignment)
        except (SystemError, RecursionError, MemoryError):
            return {}  # unreadable: the run-time tripwires still apply


def _violations(cells: list[SourceCell], assignment: str) -> dict[str, list[Violation]]:
    if assignment not in catalog.ASSIGNMENTS:
        return {}
    defs = _top_level_defs(cells)
    proofs: dict[str, list[Finding]] = {}
    try:
        findings = scan_cells(cells, assignment)
    except (RecursionError, MemoryError):
        findings = []  # code too deep to read: the run-time tripwires still apply
    for finding in findings:
        if finding.proof and finding.scope is not None:
            proofs.setdefault(finding.scope, []).append(finding)
    found: dict[str, list[Violation]] = {}
    for p in catalog.problems_for(assignment):
        if p.name not in defs:
            continue
        out = []
        named = set()
        for helper in _helpers(p.name, defs, follow_graded=True):
            for f in proofs.get(helper, []):
                if (helper, f.name) in named:
                    continue  # the first call of each name says it all
                named.add((helper, f.name))
                # "cell N, line M in `f`": the feedback names the cell by the function.
                where = f"cell {f.cell + 1}, line {f.line} in `{helper}`"
                if helper != p.name:
                    where += ", a helper it calls"
                out.append(Violation(p.name, "forbidden_call",
                                     forbidden_message(p.name, f.name, where, f.reason), f.name))
        if p.name in NO_LOOPS:
            for helper in _helpers(p.name, defs, follow_graded=False):
                cell, node = defs[helper]
                for keyword, line in _loops(node)[:1]:
                    out.append(_loop_violation(p.name, helper, keyword,
                                               f"cell {cell + 1}, line {line}"))
        if out:
            found[p.name] = out
    return found


# ----------------------------------------------------------------------------- check()


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _enclosing(f: types.FunctionType) -> dict[str, object]:
    """The values of `f`'s free variables (a function defined inside another)."""
    values = {}
    for name, cell in zip(f.__code__.co_freevars, f.__closure__ or (), strict=True):
        try:
            values[name] = cell.cell_contents
        except ValueError:
            continue  # not bound yet
    return values


def _import_line(alias: str, value: object) -> str | None:
    """An import statement that binds `alias` to `value`, for the scan to resolve names."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__} as {alias}"
    module, name = getattr(value, "__module__", None), getattr(value, "__name__", None)
    if isinstance(module, str) and isinstance(name, str) and name.isidentifier():
        if module == "builtins":
            return None
        return f"from {_public_module(module, name, value)} import {name} as {alias}"
    return None


def _function_cells(fn) -> tuple[list[SourceCell], dict[int, int]] | None:
    """Cells for the scan: one of imports for the globals used, then one per function.

    Functions followed are `fn` and the functions of the same namespace
    (the notebook) it reaches by name. Also returns, per cell, the line its
    function starts at in its file or notebook cell. None when `fn`'s source
    cannot be read (a built-in, a function typed at a prompt without history).
    """
    fn = inspect.unwrap(fn)
    if not isinstance(fn, types.FunctionType):
        return None
    namespace = fn.__globals__
    functions: dict[str, types.FunctionType] = {}
    seen: dict[str, object] = {}  # every global or enclosing-scope name the functions use
    todo = [fn]
    while todo:
        f = todo.pop()
        if f.__name__ in functions:
            continue
        functions[f.__name__] = f
        scope = {**namespace, **_enclosing(f)}
        for name in _code_names(f.__code__) | set(f.__code__.co_freevars):
            if name not in scope:
                continue
            value = seen.setdefault(name, scope[name])
            if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
                todo.append(value)
    imports = [line for name in sorted(set(seen) - set(functions))
               if (line := _import_line(name, seen[name])) is not None]
    cells, first_lines = [Cell(0, "\n".join(imports))], {}
    for f in functions.values():
        try:
            source = textwrap.dedent(inspect.getsource(f))
        except (OSError, TypeError):
            if f is fn:
                return None
            continue
        first_lines[len(cells)] = f.__code__.co_firstlineno
        cells.append(Cell(len(cells), source))
    return cells, first_lines


_LIBRARIES = ("numpy", "scipy", "torch", "conv_ref", "sklearn")


def _library_name(fn) -> str | None:
    """``module.name`` of a function defined in a library, None for the student's own."""
    module = getattr(inspect.unwrap(fn), "__module__", None) or ""
    name = getattr(fn, "__name__", "")
    if module.split(".")[0] in _LIBRARIES and name:
        return f"{_public_module(module, name, fn)}.{name}"
    return None


def _public_module(module: str, name: str, value: object) -> str:
    """The package itself when it exports `value` as `name` (``numpy``, not ``numpy._core``)."""
    root = sys.modules.get(module.split(".")[0])
    return root.__name__ if getattr(root, name, None) is value else module


def violations_of_function(problem: str, fn) -> list[Violation]:
    """The rules graded function `problem` breaks, read from `fn`'s source and its helpers.

    Lines are those of the file or notebook cell `fn` was defined in. A
    function whose source cannot be read has no static violations (the
    run-time tripwires still apply).
    """
    library = _library_name(fn)
    if library is not None:
        # `check("corr1d", np.correlate)`: the library's own source is not the answer's.
        if any(re.match(pattern + r"\Z", library) and reason in PROOF_REASONS
               for pattern, reason in rules_for(catalog.problem(problem).assignment)):
            return [Violation(problem, "forbidden_call", forbidden_message(problem, library),
                              library)]
        return []
    read = _function_cells(fn)
    if read is None:
        return []
    cells, first_lines = read
    defined = _top_level_defs(cells[1:2])
    if not defined:
        return []  # a lambda: no def to follow
    cells = _renamed(cells, next(iter(defined)), problem)
    assignment = catalog.problem(problem).assignment
    return [Violation(v.problem, v.rule, _lines(v.message, first_lines), v.name)
            for v in violations(cells, assignment).get(problem, [])]


def _renamed(cells: list[SourceCell], old: str, new: str) -> list[SourceCell]:
    """`cells` with the checked function's ``def old`` renamed to `new`, lines unchanged."""
    if old == new:
        return cells
    first = cells[1]
    lines = first.source.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(f"def {old}("):
            lines[i] = line.replace(f"def {old}(", f"def {new}(", 1)
            break
    return [cells[0], Cell(first.index, "\n".join(lines)), *cells[2:]]


def _lines(message: str, first_lines: dict[int, int]) -> str:
    """The scan's "cell i, line j" of the synthetic cells as the line in the real source."""

    def real(match: re.Match) -> str:
        index, line = int(match.group(1)) - 1, int(match.group(2))
        if index in first_lines:
            return f"line {first_lines[index] + line - 1}"
        return match.group(0)

    return re.sub(r"cell (\d+), line (\d+)", real, message)
