"""Which modules graded code may import: NumPy, the standard library and the notebook's setup.

Graded code is NumPy only (COURSE_SPEC). The child installs `NumpyOnly` first
on ``sys.meta_path`` before the student's first cell runs; an import that the
policy refuses raises `ImportError` with `refusal` as its message, which the
feedback shows as it is.

A student's own import (from a cell, directly, through ``__import__`` or
``importlib``) may name a module of the standard library, NumPy, or one of
the packages the notebooks' setup cells import (`SETUP_ROOTS`: the grader
provides them, or harmless stand-ins). Those packages may in turn import
their own dependencies (Matplotlib imports Pillow). `DENIED_ROOTS` (the
libraries with a convolution in them) are refused whoever asks. Modules the
worker had loaded are never loaded a second time: re-importing NumPy's
extension module after deleting it from ``sys.modules`` would give fresh,
untripped copies of its C functions.

This is a convenience layer inside the student's process, which can remove
it: the boundary is the sandbox's file system, where the denied libraries do
not exist. What the layer adds is the clear message.
"""

from __future__ import annotations

import _imp
import sys
from collections.abc import Iterable
from typing import Any

SETUP_ROOTS = frozenset({"autograder", "convplot", "matplotlib", "mpl_toolkits", "ipywidgets",
                         "IPython"})
ALLOWED_ROOTS = frozenset(sys.stdlib_module_names) | {"numpy"} | SETUP_ROOTS
DENIED_ROOTS = frozenset({
    "conv_ref", "torch", "torchvision", "torchaudio", "functorch", "triton", "scipy", "sklearn",
    "skimage", "jax", "jaxlib", "tensorflow", "keras", "cupy", "cupyx", "numba", "cv2",
    "numexpr", "pandas", "theano", "mxnet", "paddle", "astropy",
})
_IMPORT_MACHINERY = ("importlib", "importlib._bootstrap", "importlib._bootstrap_external",
                     "importlib.util", "importlib.abc", "importlib.machinery")


def refusal(name: str) -> str:
    """The message of a refused import of module `name`."""
    root = name.partition(".")[0]
    return f"graded code must use NumPy only: {root!r} is not available while grading"


def _importer() -> str:
    """The module that asked for the import under way: ``""`` for the student's own code."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        name = frame.f_globals.get("__name__")
        if not (filename.startswith("<frozen importlib") or name in _IMPORT_MACHINERY):
            break
        frame = frame.f_back
    if frame is None or frame.f_code.co_filename.startswith("<"):
        return ""  # a cell, or code the student compiled
    return name if isinstance(name, str) else ""


class NumpyOnly:
    """A ``sys.meta_path`` finder that refuses what graded code may not import.

    Parameters
    ----------
    loaded : iterable of str
        The modules the worker had imported: never imported again.
    """

    def __init__(self, loaded: Iterable[str]):
        self.loaded = frozenset(loaded)
        # Packages imported on behalf of a setup package: they may import their own modules.
        self.trusted: set[str] = set(SETUP_ROOTS)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        root = name.partition(".")[0]
        if root in DENIED_ROOTS:
            raise ImportError(refusal(name), name=name)
        if name in self.loaded:
            raise ImportError(f"graded code may not import {name!r} a second time", name=name)
        # The standard library's own private modules that `sys.stdlib_module_names` leaves
        # out: `sysconfig` reads the build's data (`numpy.testing` imports it).
        if root not in ALLOWED_ROOTS and not root.startswith("_sysconfigdata"):
            importer = _importer().partition(".")[0]
            if importer not in self.trusted and importer != root:
                raise ImportError(refusal(name), name=name)
            if importer in self.trusted:
                self.trusted.add(root)
        return None  # allowed: the usual finders look for it

    def invalidate_caches(self) -> None:
        pass


def _guard_extensions(loaded: frozenset[str]) -> None:
    """Refuse a second instance of an extension module the worker had loaded.

    ``importlib.util.module_from_spec`` on the extension's file bypasses
    ``sys.meta_path`` and builds new C functions from its method table. The
    shared library's entry point is found from the last part of the name
    (``PyInit__multiarray_umath``), so that part is what is compared, under
    any package and from any copy of the file.
    """
    create = _imp.create_dynamic

    def create_dynamic(spec: Any, *args: Any) -> Any:
        name = getattr(spec, "name", None)
        name = name if isinstance(name, str) else ""
        if name.rpartition(".")[2] in loaded or name.partition(".")[0] in DENIED_ROOTS:
            raise ImportError(f"graded code may not load the extension {name!r} again",
                              name=name)
        return create(spec, *args)

    _imp.create_dynamic = create_dynamic


def snapshot() -> tuple[frozenset[str], frozenset[str]]:
    """The modules loaded now, and the last name parts of the extension modules among them.

    Taken in the warm worker, once: in a child, walking every module would copy its pages.
    """
    extensions = frozenset(
        name.rpartition(".")[2] for name, module in list(sys.modules.items())
        if str(getattr(module, "__file__", "")).endswith((".so", ".pyd")))
    return frozenset(sys.modules), extensions


def install(loaded: tuple[frozenset[str], frozenset[str]] | None = None) -> NumpyOnly:
    """Put the policy first on ``sys.meta_path`` in this process (the child), and return it.

    `loaded` is a `snapshot` taken where the modules are the same (the worker before it
    forks); by default, one taken now.
    """
    modules, extensions = loaded or snapshot()
    finder = NumpyOnly(modules)
    sys.meta_path.insert(0, finder)
    _guard_extensions(extensions)
    return finder
