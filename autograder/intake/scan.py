"""Step 4: static scan of the student's code for forbidden calls and imports.

The scan reads the code with `ast` (it runs nothing) and resolves aliases
(``import torch.nn.functional as F``, ``from numpy import convolve as cv``,
``G = F``, ``getattr(F, "conv2d")``) to dotted names, then matches them
against the course's rules. A finding flags the submission for review with
its cell and line. A direct call of a forbidden function by name is a proof
(`Finding.proof`) and costs the function that makes it its points
(`autograder.scoring.rules`), like the sandbox's run-time trip; the other findings
only look suspicious and flag the submission for a TA.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from autograder.catalog import ALLOWED_FROM, allowed_calls

if TYPE_CHECKING:  # extract imports nbgrader: too slow for check() in a notebook
    from autograder.intake.extract import SourceCell

T = TypeVar("T")
# What `ast.parse` raises on source it cannot read: a syntax error, nesting deeper
# than the parser's recursion limit, a null byte, memory; and, on some deeply
# nested input, CPython 3.11's "AST constructor recursion depth mismatch".
UNPARSABLE = (SyntaxError, RecursionError, ValueError, MemoryError, SystemError)

# (pattern on the resolved dotted name, reason). Patterns are anchored regexes.
_LIBRARY_CONV = "a library convolution; write it with NumPy"
_REFERENCE = "the course's reference solution"
_RULES_AFTER_ESCAPES: tuple[tuple[str, str], ...] = (
    (r"torch\.nn\.functional\.(conv\w*|unfold|fold|\w*pool\w*)", _LIBRARY_CONV),
    (r"torch\.(conv\w*|convolution|\w*pool\w*)", _LIBRARY_CONV),
    (r"torch\.nn\.(Conv\w*|LazyConv\w*|Unfold|Fold|\w*Pool\w*)", _LIBRARY_CONV),
    (r"torch\.nn\.(modules|grad)(\.\w+)*", _LIBRARY_CONV),
    (r".+\.unfold", "Tensor.unfold builds the windows for you"),
    (r"numpy\.(convolve|correlate)", _LIBRARY_CONV),
    # The kernels behind them, under names the run-time tripwires cannot all replace.
    (r"numpy\.(_core|core)(\.\w+)*\.(convolve|correlate\w*)", _LIBRARY_CONV),
    (r"torch\.(_C|ops)(\.\w+)*", "the library's internals"),
    (r"scipy\.(signal|ndimage)(\.\w+)*", _LIBRARY_CONV),
    (r"conv_ref(\.\w+)*", _REFERENCE),
    (r"(subprocess|socket|multiprocessing)(\.\w+)*", "not allowed here"),
    (r"os\.(system|popen|exec\w*|spawn\w*|fork\w*|posix_spawn\w*|kill\w*)", "runs a program"),
    (r"(__import__|builtins\.__import__|eval|exec|sys\.modules)", "dynamic code or imports"),
)
_STRIDE_TRICKS_REASON = f"allowed from {ALLOWED_FROM['numpy.lib.stride_tricks']} on only"
_STRIDE_TRICKS = (
    (r"numpy\.lib\._?stride_tricks\w*(\.\w+)*", _STRIDE_TRICKS_REASON),
    # The same windows without the module: an array made over another's buffer with strides.
    (r"(.+\.)?(__array_interface__|__array_struct__)(\.\w+)*", _STRIDE_TRICKS_REASON),
)
_FFT_REASON = f"allowed from {ALLOWED_FROM['numpy.fft']} on only"
_FFT = ((r"numpy\.fft(\.\w+)*", _FFT_REASON),)
# The rules of each module of `autograder.catalog.ALLOWED_FROM`, in force until it is allowed.
_GUARDED = {"numpy.lib.stride_tricks": _STRIDE_TRICKS, "numpy.fft": _FFT}
# Ways around every run-time check: the import machinery that rebuilds NumPy's untouched C
# functions, the objects the garbage collector tracks, C calls, the grader's own code. No
# exercise needs them, so any reference to one inside a graded function (or a helper it
# calls, or a name bound from one) proves the function reaches past the checks.
_ESCAPE = "reaches around the grader's checks"
_ESCAPES: tuple[tuple[str, str], ...] = (
    (r"(.+\.)?(__spec__|__loader__|__closure__|__wrapped__|__globals__|__subclasses__"
     r"|__builtins__|__self__|__code__)(\.\w+)*", _ESCAPE),
    (r"(.+\.)?(create_module|module_from_spec|spec_from_file_location|create_dynamic"
     r"|_ARRAY_API|_multiarray_umath|_stride_tricks_impl)(\.\w+)*", _ESCAPE),
    (r"(gc|_imp|ctypes|importlib|_ctypes|sys\.modules)(\.\w+)*", _ESCAPE),
    (r"autograder\.(?!check$)\w+(\.\w+)*", _ESCAPE),
    (r"<escape>(\..+)?", _ESCAPE),  # a name bound from one of the above
)
# Reasons of rules that name a forbidden function: a direct call of one by name is a proof.
PROOF_REASONS = frozenset({_LIBRARY_CONV, _REFERENCE, _STRIDE_TRICKS_REASON, _FFT_REASON})
# Reasons whose every reference inside a function is a proof, call or not.
REFERENCE_PROOF_REASONS = frozenset({_ESCAPE})
_RULES = (*_ESCAPES, *_RULES_AFTER_ESCAPES)
# Module roots whose attributes a submission must not reassign (np.allclose = ...).
_PATCHABLE_ROOTS = frozenset({"numpy", "torch", "scipy", "builtins", "math", "sys", "os"})


@dataclass(frozen=True)
class Finding:
    """One forbidden reference in the student's code.

    Attributes
    ----------
    cell : int
        Notebook position of the cell (0-based).
    line : int
        Line in that cell (1-based).
    name : str
        The resolved dotted name, e.g. ``"torch.nn.functional.conv1d"``.
    reason : str
    function : str or None
        The enclosing ``def``, when there is one.
    kind : str
        ``"forbidden"`` for calls/imports, ``"patch"`` for reassigning a
        library attribute.
    proof : bool
        A direct call of a forbidden function by its (resolved) name, e.g.
        ``np.convolve(x, h)``: proof that the code calls it, which costs the
        function its points (`autograder.scoring.rules`). Other findings (imports,
        ``getattr``, monkeypatching, ...) only look suspicious: a TA reviews them.
    scope : str or None
        The outermost enclosing ``def`` (the notebook-level function).
    """

    cell: int
    line: int
    name: str
    reason: str
    function: str | None = None
    kind: str = "forbidden"
    proof: bool = False
    scope: str | None = None

    def describe(self) -> str:
        where = f"cell {self.cell + 1}, line {self.line}"
        inside = f" in `{self.function}`" if self.function else ""
        if self.kind == "patch":
            return f"{where}{inside}: assigns to `{self.name}` (do not replace library functions)"
        if self.name.startswith("<escape>"):
            return f"{where}{inside}: uses a name bound from such a way around ({self.reason})"
        return f"{where}{inside}: `{self.name}` ({self.reason})"


def assignment_number(assignment: str) -> int:
    """The leading number of an assignment name: ``"04_toeplitz" -> 4``."""
    match = re.match(r"(\d+)", assignment)
    if match is None:
        raise ValueError(
            f"assignment_number: assignment {assignment!r} does not start with a number"
        )
    return int(match.group(1))


def rules_for(assignment: str) -> tuple[tuple[str, str], ...]:
    """The forbidden-name rules in force for `assignment`, the first match deciding.

    The modules of `autograder.catalog.ALLOWED_FROM` that the assignment does not allow yet
    are forbidden like a library convolution.
    """
    assignment_number(assignment)  # a name without its number is an error
    allowed = allowed_calls(assignment)
    guarded = [rule for module, rules in _GUARDED.items() if module not in allowed
               for rule in rules]
    return (*guarded, *_RULES)


def scan_cells(cells: list[SourceCell], assignment: str) -> list[Finding]:
    """Forbidden references in `cells`, in notebook order, one per (cell, line, name).

    Parameters
    ----------
    cells : list of SourceCell
        The extracted code (magics already translated).
    assignment : str
        Decides whether ``numpy.lib.stride_tricks`` is allowed.
    """
    rules = [(re.compile(pattern + r"\Z"), reason) for pattern, reason in rules_for(assignment)]
    aliases: dict[str, str] = {}
    findings: dict[tuple[int, int, str], Finding] = {}
    for cell in cells:
        try:
            # Parsed at the normal recursion limit: whatever parses here, the kernel
            # could compile, and its depth is bounded by that limit.
            tree = ast.parse(cell.source)
        except UNPARSABLE:
            continue  # the sandbox reports it; nothing in it can run
        before = dict(aliases)
        visitor = _Visitor(cell.index, aliases, rules)
        try:
            visitor.visit(tree)
        except RecursionError:  # again from the start of the cell, with room to recurse
            aliases.clear()
            aliases.update(before)
            visitor = _Visitor(cell.index, aliases, rules)
            with_deep_stack(visitor.visit, tree)
        for f in visitor.findings:
            findings.setdefault((f.cell, f.line, f.name), f)
    return list(findings.values())


# A tree `ast.parse` accepts is at most a few thousand levels deep; visiting it
# takes a few frames per level.
_DEEP_RECURSION_LIMIT = 50_000
_DEEP_STACK_BYTES = 512 * 2**20  # reserved, not used, unless the tree is that deep
_deep_lock = threading.Lock()


def with_deep_stack(fn: Callable[..., T], *args) -> T:
    """``fn(*args)``, with room to recurse through any tree `ast.parse` accepts.

    A recursive walk of ``y = 1 + 1 + ...`` with 600 terms exhausts Python's
    default recursion limit; it runs instead in a thread with a large stack and
    a raised limit (restored after).
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    with _deep_lock:
        old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
        threading.stack_size(_DEEP_STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="deep-ast")
            sys.setrecursionlimit(_DEEP_RECURSION_LIMIT)
            thread.start()
            thread.join()
        finally:
            sys.setrecursionlimit(old_limit)
            threading.stack_size(old_stack)
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Visitor(ast.NodeVisitor):
    """Walks one cell, sharing the alias table across cells as the kernel would."""

    def __init__(self, cell: int, aliases: dict[str, str], rules) -> None:
        self.cell, self.aliases, self.rules = cell, aliases, rules
        self.functions: list[str] = []
        self.findings: list[Finding] = []

    # -- bindings -----------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # `import a.b.c` binds `a`
                root = alias.name.split(".")[0]
                self.aliases[root] = root
            self._check(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = full
            if not self._check(module, node):
                self._check(full, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        before = len(self.findings)
        self.generic_visit(node)
        value = self._resolve(node.value)
        if any(f.reason in REFERENCE_PROOF_REASONS for f in self.findings[before:]):
            value = "<escape>"  # `_k = fresh.correlate` at top level; `_k(x, h)` in a function
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._bind(target.id, value)
            elif isinstance(target, ast.Attribute):
                self._check_patch(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Attribute):
            self._check_patch(node.target)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._bind(node.name, None)  # a student's own `conv1d` shadows an imported one
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    # -- references -----------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        # `torch.tensor(x).unfold(...)` has no dotted name; its attribute still counts.
        name = self._resolve(node) or f"<expression>.{node.attr}"
        if not self._check(name, node):
            self.generic_visit(node)  # report `scipy.signal.x` once, not also `scipy.signal`

    def visit_Name(self, node: ast.Name) -> None:
        self._check(self.aliases.get(node.id, node.id), node)

    def visit_Call(self, node: ast.Call) -> None:
        name = self._resolve(node.func)
        if name == "numpy.ndarray" and any(k.arg == "strides" for k in node.keywords):
            # Overlapping windows over another array's buffer: `as_strided` by another name.
            self._check("numpy.lib.stride_tricks.as_strided", node, proof=True)
        if name is not None and self._check(name, node.func, proof=True):
            for child in (*node.args, *node.keywords):
                self.visit(child)
            return
        # getattr(F, "conv2d") is F.conv2d spelled differently.
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            base = self._resolve(node.args[0])
            if base is not None:
                self._check(f"{base}.{node.args[1].value}", node)
        self.generic_visit(node)

    # -- helpers --------------------------------------------------------------------
    def _bind(self, name: str, value: str | None) -> None:
        if value is None:
            self.aliases.pop(name, None)
        else:
            self.aliases[name] = value

    def _resolve(self, node: ast.AST) -> str | None:
        """The dotted name an expression stands for, or None if it is not a name."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def _check(self, name: str, node: ast.AST, proof: bool = False) -> bool:
        """Record a finding if `name` is forbidden; with `proof`, only for a forbidden function.

        A reference to a way around the checks (`REFERENCE_PROOF_REASONS`) inside a
        function is a proof whether it is called or not.
        """
        for pattern, reason in self.rules:
            if pattern.match(name):
                if reason in REFERENCE_PROOF_REASONS:
                    proof = bool(self.functions)
                elif proof and reason not in PROOF_REASONS:
                    return False
                self.findings.append(
                    Finding(self.cell, node.lineno, name, reason, self._function(), proof=proof,
                            scope=self.functions[0] if self.functions else None)
                )
                return True
        return False

    def _check_patch(self, target: ast.Attribute) -> None:
        name = self._resolve(target)
        if name is not None and name.split(".")[0] in _PATCHABLE_ROOTS:
            self.findings.append(
                Finding(self.cell, target.lineno, name, "replaces a library function",
                        self._function(), kind="patch",
                        scope=self.functions[0] if self.functions else None)
            )

    def _function(self) -> str | None:
        return self.functions[-1] if self.functions else None
