"""``check(name, fn)``: the self-check cell of every notebook.

Runs the public cases of one graded function on the student's own function,
in the student's kernel, and shows a verdict: an HTML table inside Jupyter,
plain text elsewhere. A failure raises `AssertionError`, so `nbgrader
autograde` records it. The comparison runs in the same process as the
student's code, which is fine for a self-check; official grading runs
elsewhere and trusts nothing from the student's process.

`check()` applies official grading's rules too, so that green here means no
penalty later: the forbidden library functions are tripwires while the
function runs (`guarded_call`), its source and its helpers' are scanned for
proven forbidden calls and forbidden loops (`autograder.scoring.rules`), and a call
that modifies its inputs, or returns a view where a new array is asked for,
fails (`autograder.scoring.judge`).

Importing this module costs NumPy only; calling `check` adds the case
generators and `conv_ref`: never PyTorch, Matplotlib or the sandbox.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import inspect
import sys
import sysconfig
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autograder import catalog
from autograder.execution.outcome import CallOutcome
from autograder.results import CaseResult

if TYPE_CHECKING:
    from autograder.cases import Case

TEXT_INPUT_LIMIT = 24  # input arrays up to this many entries are printed in full
_OWN_DIR = str(Path(__file__).resolve().parent)
_LIBRARY_DIRS = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


@functools.cache
def _public_cases(name: str) -> tuple[Case, ...]:
    # Cached: a notebook re-runs its check cells often and the cases never change.
    # Imported here, so that `import autograder` (also done by the sandbox worker) does not
    # load the reference.
    from autograder.cases import PUBLIC_SEED, generate_cases

    return tuple(generate_cases(name, PUBLIC_SEED, public=True))


def _student_traceback(exc: BaseException) -> str:
    """The traceback of `exc` with the grader's and libraries' frames left out."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith((_OWN_DIR, *_LIBRARY_DIRS))]
    shown = own or frames[-1:]
    return "".join(traceback.format_list(shown) + traceback.format_exception_only(exc)).rstrip()


def _call(case: Case, fn) -> CallOutcome:
    """Call `fn` on fresh copies of the case's inputs and record what happened."""
    args, kwargs = case.materialize()
    return _call_with(case, fn, args, kwargs)


def _call_with(case: Case, fn, args: tuple, kwargs: dict) -> CallOutcome:
    start = time.perf_counter()
    try:
        value = fn(*args, **kwargs)
    except NotImplementedError as exc:
        status = CallOutcome(case.problem, case.name, "not_implemented", message=str(exc))
    except Exception as exc:  # the student's bug, shown to the student
        status = CallOutcome(case.problem, case.name, "raised", exc_type=type(exc).__name__,
                             message=str(exc), traceback=_student_traceback(exc))
    else:
        status = CallOutcome(case.problem, case.name, "ok", value=value)
    status.seconds = time.perf_counter() - start
    return status


# ----------------------------------------------------------------------------- the grading rules


def _forbidden_sites(namespace: dict, assignment: str) -> list[tuple[object, str, object, object]]:
    """(owner, attribute, original, tripwire) for every forbidden function loaded here.

    Only libraries already imported count: one the student's code has not
    imported cannot be called by it (and importing PyTorch here would take
    seconds). `namespace` (the checked function's globals, the notebook's)
    gets its aliases too, e.g. ``cv = np.convolve``. The NumPy modules that
    `assignment` does not allow yet (`catalog.allowed_calls`) trip as in grading,
    NumPy's own callers excepted.
    """
    from autograder.execution import tripwires

    patterns = tuple(p for p in tripwires.DEFAULT_FORBIDDEN if p.split(".")[0] in sys.modules)
    guarded = tripwires.forbidden_for(catalog.allowed_calls(assignment))
    plans = [_plan(patterns, len(sys.modules), False), _plan(guarded, len(sys.modules), True)]
    sites = [(owner, attr, inspect.getattr_static(owner, attr), wire)
             for plan in plans for owner, attr, wire in plan.sites]
    wire_of = {id(original): wire for _, _, original, wire in sites}
    for attr, value in list(namespace.items()):
        if id(value) in wire_of:
            sites.append((namespace, attr, value, wire_of[id(value)]))
    return sites


@functools.lru_cache(maxsize=8)
def _plan(patterns: tuple[str, ...], modules: int, numpy_may_call: bool):
    # `modules` is part of the key only: a newly imported library is planned again.
    from autograder.execution import tripwires

    return tripwires.plan(patterns, numpy_may_call=numpy_may_call)


@contextlib.contextmanager
def _tripwires(namespace: dict, assignment: str):
    """The forbidden functions replaced by tripwires while the body runs, then put back."""
    sites = _forbidden_sites(namespace, assignment)
    installed = []
    try:
        for owner, attr, original, wire in sites:
            try:
                if isinstance(owner, dict):
                    owner[attr] = wire
                else:
                    setattr(owner, attr, wire)
            except (AttributeError, TypeError):
                continue  # a read-only alias; the canonical name is still covered
            installed.append((owner, attr, original))
        yield
    finally:
        for owner, attr, original in reversed(installed):
            if isinstance(owner, dict):
                owner[attr] = original
            else:
                setattr(owner, attr, original)


def _digest(value) -> bytes | None:
    """A fingerprint of an input's contents, to tell whether a call changed it."""
    if isinstance(value, np.ndarray):
        return hashlib.sha256(repr((value.shape, value.dtype.str)).encode()
                              + np.ascontiguousarray(value).tobytes()).digest()
    if isinstance(value, list):
        return hashlib.sha256(repr(value).encode()).digest()
    return None


def _shares_memory(value, inputs) -> bool:
    arrays = [a for a in inputs if isinstance(a, np.ndarray)]
    values = value if isinstance(value, tuple) else (value,)
    return any(isinstance(v, np.ndarray) and np.shares_memory(v, a)
               for v in values for a in arrays)


def guarded_call(case: Case, fn) -> CallOutcome:
    """Call `fn` on the case as official grading does: tripwires, inputs watched.

    The forbidden library functions are tripwires during the call (a trip
    gives status "forbidden"); inputs the call changed are listed in
    `CallOutcome.mutated`, and a returned array that shares memory with an
    input sets `CallOutcome.returned_view`.
    """
    from autograder.cases._core import signature
    from autograder.execution import tripwires

    args, kwargs = case.materialize()
    names = signature(case.problem)[0]
    named = {**dict(zip(names, args, strict=False)), **kwargs}
    before = {name: _digest(v) for name, v in named.items()}
    tripwires.TRIPPED.clear()
    try:
        with _tripwires(getattr(fn, "__globals__", {}), catalog.problem(case.problem).assignment):
            outcome = _call_with(case, fn, args, kwargs)
    except tripwires.ForbiddenCall:
        outcome = CallOutcome(case.problem, case.name, "raised")
    if tripwires.TRIPPED:
        name = tripwires.TRIPPED[0]
        tripwires.TRIPPED.clear()
        return CallOutcome(case.problem, case.name, "forbidden", forbidden_call=name,
                           message=f"called {name}, which graded code may not use")
    if outcome.status == "ok":
        outcome.mutated = [n for n, v in named.items()
                           if before[n] is not None and _digest(v) != before[n]]
        outcome.returned_view = _shares_memory(outcome.value, named.values())
    return outcome


# ----------------------------------------------------------------------------- rendering


def _values(summary: dict | None) -> str:
    """A summary's values as NumPy prints them, or its type and shape when too large."""
    if not summary:
        return "?"
    if summary.get("type") == "ndarray" and summary.get("values") is not None:
        with np.printoptions(precision=4, suppress=True, threshold=400, linewidth=88):
            return str(np.array(summary["values"], dtype=object if summary["dtype"].startswith(
                "complex") else None))
    if summary.get("type") == "ndarray":
        return f"array of shape {tuple(summary['shape'])}, dtype {summary['dtype']}"
    if "items" in summary:
        return "(" + ", ".join(_values(s) for s in summary["items"]) + ")"
    return str(summary.get("values"))


def _input_line(name: str, summary: dict) -> str:
    if summary.get("type") == "ndarray":
        small = summary.get("values") is not None and np.prod(summary["shape"]) <= TEXT_INPUT_LIMIT
        shown = f" = {_values(summary)}" if small else ""
        text = f"array {tuple(summary['shape'])} {summary['dtype']}{shown}"
        return f"{name}: " + text.replace("\n", "\n" + " " * (len(name) + 2))
    if summary.get("type") == "function":
        return f"{name}: the function {summary['values']}"
    return f"{name}: {_values(summary)}"


def _layer_line(layer: dict) -> str:
    """One parameter of a returned network: fits, or what is wrong with it."""
    shape = tuple(layer["expected"])
    return f"{layer['name']} {shape}: " + ("ok" if layer["ok"] else layer["problem"])


def _failure_lines(result: CaseResult) -> list[str]:
    """The first failing case, in the order: inputs, what differs, expected/received, mistake."""
    d = result.details
    lines = [f"First failing case: {result.name}", "Inputs:"]
    lines += ["  " + _input_line(k, v) for k, v in d.get("inputs", {}).items()]
    lines.append(f"Problem ({d.get('stage', result.status)}): {result.message}")
    if result.status == "raised" and d.get("exception", {}).get("traceback"):
        lines += ["Traceback (your code):", d["exception"]["traceback"]]
    if result.status == "raised" and "expected" in d:
        lines += ["Expected (these arguments are valid):", _values(d["expected"])]
    lines += [f"  {_layer_line(layer)}" for layer in d.get("layers", [])]
    if d.get("stage") in ("type", "shape", "values") and "expected" in d:
        lines += ["Expected:", _values(d["expected"]), "Received:", _values(d.get("received"))]
    if result.diagnosis:
        lines.append(f"Likely mistake: {result.hint}")
    lines += [f"Note: {n}" for n in d.get("notes", [])]
    return lines


def render_text(name: str, results: list[CaseResult]) -> str:
    """The verdict as plain text: one line per case, then the first failure in detail."""
    failed = [r for r in results if not r.passed]
    head = (f"{name}: all {len(results)} public cases passed." if not failed else
            f"{name}: {len(failed)} of {len(results)} public cases failed.")
    if failed and all(r.status == "not_implemented" for r in failed):
        head = f"{name}: not implemented yet. Write the function, run its cell, then this one."
        return head
    lines = [head] + [f"  {'PASS' if r.passed else 'FAIL'}  {r.name}" for r in results]
    # What the grader measured (a network's accuracy), shown when the case passed too.
    lines += [f"  {r.details['measured']}" for r in results
              if r.passed and r.details.get("measured")]
    if failed:
        lines += [""] + _failure_lines(failed[0])
    return "\n".join(lines)


def _measured_html(result: CaseResult) -> str:
    measured = result.details.get("measured") if result.passed else None
    return f"<br><span>{html.escape(str(measured))}</span>" if measured else ""


def render_html(name: str, results: list[CaseResult]) -> str:
    """The verdict as HTML for Jupyter: headline, one table row per case, failure in a <pre>."""
    head, _, detail = render_text(name, results).partition("\n\n")
    headline = head.splitlines()[0]
    color = "#1b5e20" if all(r.passed for r in results) else "#b00020"
    rows = "".join(
        f"<tr><td style='color:{'#1b5e20' if r.passed else '#b00020'}'>"
        f"{'pass' if r.passed else 'fail'}</td>"
        f"<td style='text-align:left'>{html.escape(r.name)}{_measured_html(r)}</td></tr>"
        for r in results)
    table = f"<table><tr><th>result</th><th style='text-align:left'>case</th></tr>{rows}</table>"
    pre = f"<pre style='white-space:pre-wrap'>{html.escape(detail)}</pre>" if detail else ""
    return (f"<div><p style='color:{color};font-weight:bold'>{html.escape(headline)}</p>"
            f"{table}{pre}</div>")


def _in_kernel() -> bool:
    """Whether we run in a Jupyter kernel (IPython is only looked at if already loaded)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _show(name: str, results: list[CaseResult]) -> None:
    if _in_kernel():
        from IPython.display import HTML, display

        display(HTML(render_html(name, results)))
    else:
        print(render_text(name, results))


def _summary(name: str, results: list[CaseResult]) -> str:
    failed = [r for r in results if not r.passed]
    if all(r.status == "not_implemented" for r in failed):
        return f"{name} is not implemented yet"
    first = failed[0]
    text = f"{name}: {len(failed)} of {len(results)} public cases failed; first: {first.name}: "
    text += first.message.split("\n")[0]
    mistake = next((r for r in failed if r.diagnosis), None)
    return text + (f" Likely mistake: {mistake.hint}" if mistake else "")


def _results(name: str, fn, rules: bool = True) -> list[CaseResult]:
    """The verdict on every public case; `rules` applies official grading's rules too.

    The rules: forbidden calls (tripwires during each call, and the static
    scan of `fn` and its helpers), loops an exercise forbids, inputs
    modified, a view returned where a new array is asked for. Without them,
    a function is judged on its values only (the course's own tests use that
    to check `conv_ref` against the cases).
    """
    from autograder.results import ProblemResult
    from autograder.scoring.judge import apply_violations, judge

    cases = _public_cases(name)
    if not rules:
        return [judge(case, _call(case, fn), 1.0) for case in cases]
    results = [judge(case, guarded_call(case, fn), 1.0) for case in cases]
    from autograder.scoring.rules import violations_of_function

    violations = violations_of_function(name, fn)
    if violations:
        results = apply_violations(ProblemResult(name, 0.0, 1.0, [], results), violations).cases
    return results


def check(name: str, fn) -> None:
    """Run the public cases of graded function `name` on `fn` and show the verdict.

    Parameters
    ----------
    name : str
        The graded function's name, e.g. ``"conv1d"``.
    fn : callable
        Your implementation.

    Raises
    ------
    AssertionError
        When a case fails, with a short summary (the details are shown above it).
    ValueError
        When `name` is not a graded function.
    """
    if name not in {p.name for p in catalog.PROBLEMS}:
        raise ValueError(f"check: no graded function named {name!r}; expected one of "
                         f"{', '.join(p.name for p in catalog.PROBLEMS)}")
    if not callable(fn):
        raise TypeError(
            f"check: fn expects your function {name}, got {type(fn).__name__} {fn!r:.40}")
    results = _results(name, fn)
    _show(name, results)
    if not all(r.passed for r in results):
        raise AssertionError(_summary(name, results))
