"""Forbidden library functions, replaced by tripwires while student code runs.

A pattern is a dotted name whose parts may be shell globs:
``"torch.nn.functional.conv*"``, ``"torch.nn.Conv*.forward"``, ``"conv_ref.*"``.
The warm worker resolves the patterns once (`plan`), including every other
module attribute that refers to the same function (``np.convolve`` is also
``numpy._core.numeric.convolve``), and installs the tripwires (`Plan.install`)
before it forks any child. Packages the worker does not import up front
(PyTorch, SciPy: graded code may not import them at all,
`autograder.execution.import_policy`) get their tripwires in the child, from an import
hook, should a submission get them imported anyway.

A tripwire records the dotted name in `TRIPPED`, tells the grader at once
through the reporter the child sets (`set_reporter`: a ``trip`` frame on the
results channel), and raises `ForbiddenCall`. The grader's record is the one
that counts: the student's code can clear `TRIPPED` or catch the exception,
not unsay a frame already written. Tripwires made with ``numpy_may_call``
(`STRIDE_TRICKS`) let NumPy's own callers through (``np.vectorize`` with a
signature uses ``as_strided``) and trip only for everyone else.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DEFAULT_FORBIDDEN: tuple[str, ...] = (
    "torch.nn.functional.conv*",
    "torch.nn.functional.unfold",
    "torch.nn.functional.fold",
    "torch.nn.functional.*pool*",
    "torch.nn.functional.pad",
    "torch.conv*",
    "torch.nn.Conv*.forward",
    "numpy.convolve",
    "numpy.correlate",
    "numpy.polymul",  # a convolution under another name (np.polynomial's polymul calls convolve)
    "numpy._core.multiarray.correlate*",  # what numpy.correlate calls, reachable on its own
    "numpy._core._multiarray_umath.correlate*",  # the extension module that defines them
    "scipy.signal.*convolve*",
    "scipy.signal.*correlate*",
    "scipy.ndimage.convolve*",
    "scipy.ndimage.correlate*",
    "conv_ref.*",
)

# NumPy modules forbidden until an assignment allows them (`autograder.catalog.ALLOWED_FROM`,
# which the grader reads: the catalog is the grader's, and this module runs inside the sandbox
# too): `forbidden_for`.
STRIDE_TRICKS: tuple[str, ...] = (
    "numpy.lib.stride_tricks.as_strided",
    "numpy.lib.stride_tricks.sliding_window_view",
)
FFT: tuple[str, ...] = ("numpy.fft.*",)
GUARDED: dict[str, tuple[str, ...]] = {"numpy.lib.stride_tricks": STRIDE_TRICKS, "numpy.fft": FFT}

# Names of forbidden functions called in this process, in order.
TRIPPED: list[str] = []
# Called with the dotted name when a tripwire fires (the child's `_Runner.trip`).
_reporter: Callable[[str], None] | None = None


def set_reporter(report: Callable[[str], None] | None) -> None:
    """Have every tripwire call `report(name)` the moment it fires."""
    global _reporter
    _reporter = report


def forbidden_for(allowed: Iterable[str]) -> tuple[str, ...]:
    """Patterns forbidden on top of `DEFAULT_FORBIDDEN` when the modules `allowed` are allowed.

    `allowed` is `autograder.catalog.allowed_calls` of the assignment. NumPy's own
    modules may call what these patterns name (``plan(..., numpy_may_call=True)``).

    >>> forbidden_for(()) == STRIDE_TRICKS + FFT, forbidden_for(GUARDED)
    (True, ())
    """
    allowed = set(allowed)
    return tuple(p for module, patterns in GUARDED.items() if module not in allowed
                 for p in patterns)


class ForbiddenCall(BaseException):  # noqa: N818 - read as "forbidden call", like KeyboardInterrupt
    """Raised by a tripwire; a BaseException so that ``except Exception`` does not hide it."""


def _trip(name: str) -> None:
    TRIPPED.append(name)
    if _reporter is not None:
        _reporter(name)
    raise ForbiddenCall(f"{name} may not be used in graded code")


def tripwire(name: str, original: Callable | None = None) -> Callable:
    """A stand-in for the forbidden function `name`.

    With `original`, calls from NumPy's own modules go through to it (the
    original then stays reachable from the stand-in: only for functions
    anyone could rewrite in a few lines of NumPy, never for a convolution).
    """
    if original is None:
        def forbidden(*args, **kwargs):
            _trip(name)
    else:
        def forbidden(*args, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if isinstance(caller, str) and caller.startswith("numpy."):
                return original(*args, **kwargs)
            _trip(name)

    forbidden.__name__ = forbidden.__qualname__ = name.rsplit(".", 1)[-1]
    forbidden.forbidden_name = name
    return forbidden


def _import_prefix(parts: list[str]) -> tuple[object, int] | None:
    """Import the longest glob-free module prefix of `parts`; return it and its length."""
    for n in range(len(parts), 0, -1):
        if any(ch in "".join(parts[:n]) for ch in "*?["):
            continue
        try:
            return importlib.import_module(".".join(parts[:n])), n
        except ImportError:
            continue
    return None


def _belongs(obj: object, package: str) -> bool:
    """Whether `obj` is defined in `package` (not, say, NumPy re-exported by it)."""
    if isinstance(obj, types.ModuleType):
        owner = obj.__name__
    else:
        owner = getattr(obj, "__module__", None) or package
    return owner == package or owner.startswith(package + ".")


def _resolve(pattern: str) -> list[tuple[object, str, str, object]]:
    """(owner, attribute, dotted name, object) for every match of `pattern`."""
    parts = pattern.split(".")
    found = _import_prefix(parts)
    if found is None:
        return []  # the library is not installed, so nothing can call it
    root, n = found
    package = parts[0]
    matches = []

    seen: set[int] = set()

    def walk(obj: object, dotted: str, rest: list[str]) -> None:
        part, rest = rest[0], rest[1:]
        names = [part] if not any(ch in part for ch in "*?[") else sorted(
            a for a in dir(obj) if fnmatch.fnmatchcase(a, part) and not a.startswith("_"))
        for name in names:
            attr = inspect.getattr_static(obj, name, None)
            if attr is None or not _belongs(attr, package):
                continue
            if isinstance(attr, types.ModuleType):
                if id(attr) not in seen:  # packages import each other: visit each once
                    seen.add(id(attr))
                    walk(attr, f"{dotted}.{name}", rest or ["*"])
            elif rest:
                walk(attr, f"{dotted}.{name}", rest)
            elif callable(attr) and not isinstance(attr, type):
                matches.append((obj, name, f"{dotted}.{name}", attr))

    if n == len(parts):
        walk(root, pattern, ["*"])  # a whole module: everything defined in it
    else:
        walk(root, ".".join(parts[:n]), parts[n:])
    return matches


@dataclass
class Plan:
    """Where each tripwire goes: (object, attribute, tripwire)."""

    sites: list[tuple[object, str, Callable]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The dotted names covered, sorted."""
        return sorted({fn.forbidden_name for _, _, fn in self.sites})

    def install(self) -> None:
        """Replace every forbidden function, for good, in this process."""
        for owner, attr, fn in self.sites:
            try:
                setattr(owner, attr, fn)
            except (AttributeError, TypeError):
                continue  # a read-only alias; the canonical name is still covered


def plan(patterns: Iterable[str], numpy_may_call: bool = False) -> Plan:
    """Resolve `patterns` and find every module-level alias of what they name.

    Parameters
    ----------
    patterns : iterable of str
        Dotted names with globs, e.g. `DEFAULT_FORBIDDEN`.
    numpy_may_call : bool
        Let NumPy's own modules call the originals (`STRIDE_TRICKS`).

    Returns
    -------
    Plan
    """
    # id -> (original, tripwire); the originals stay referenced, so ids stay unique.
    found: dict[int, tuple[object, Callable]] = {}
    sites: list[tuple[object, str, Callable]] = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"tripwires.plan: patterns expects dotted names, got {pattern!r}")
        for owner, attr, dotted, obj in _resolve(pattern):
            wire = found.setdefault(
                id(obj), (obj, tripwire(dotted, obj if numpy_may_call else None)))[1]
            sites.append((owner, attr, wire))
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attr, value in list(namespace.items()):
            entry = found.get(id(value))
            if entry is not None and entry[0] is value:
                sites.append((module, attr, entry[1]))
    return Plan(sites)
