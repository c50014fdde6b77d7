"""What the sandbox may run: the worker's modules, NumPy and stand-ins, staged outside the course.

The course root holds what students must never reach (``solutions/``,
``submitted/``, ``autograder.toml``, results, the case generators and
``conv_ref``), and the worker's code lives inside it. So the grader copies
the few modules the worker needs (`worker_modules`: what
``autograder.execution.worker`` imports, followed through every ``autograder.*``
import) into a temporary folder of its own, next to the stand-ins of
`autograder.execution.standins` for the notebooks' setup imports, and the sandbox sees
that folder instead of the course::

    <stage>/site/autograder/   stand-in __init__ (check) + execution/: worker, sandbox, wire, ...
    <stage>/site/convplot/     stand-in: every drawing accepts anything, draws nothing
    <stage>/site/matplotlib/   stand-in, with pyplot and the usual submodules
    <stage>/site/numpy/        NumPy: bound there by bubblewrap, a link without it
    <stage>/site/numpy.libs/   NumPy's own shared libraries (OpenBLAS), likewise

The site folder is the worker's whole ``sys.path`` besides the standard
library (``python -S``), so without bubblewrap the stand-ins still come first
and the venv's other packages (PyTorch, SciPy) are not on the path at all.
"""

from __future__ import annotations

import ast
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The ``autograder`` package root: this file sits one level down, in ``execution/``.
PACKAGE = Path(__file__).resolve().parents[1]
STANDINS = Path(__file__).resolve().parent / "standins"
# Modules the sandbox must never hold: the reference, the case generators, the graders' steps
# (whole folders: reading, scoring and writing all happen outside), and the cluster's
# client (Dask: it talks to the scheduler, which student code must not reach).
NEVER_STAGED = ("conv_ref", "autograder.cases", "autograder.check", "autograder.grade",
                "autograder.catalog", "autograder.intake", "autograder.scoring",
                "autograder.outputs", "autograder.dispatch", "dask", "distributed")
# Submodules notebooks import from the stand-in Matplotlib (``import matplotlib.colors``).
MATPLOTLIB_SUBMODULES = ("animation", "axes", "cm", "colors", "figure", "gridspec", "lines",
                         "patches", "ticker", "widgets")
_STANDIN_SUBMODULE = '''"""Stand-in: every name exists, accepts anything and draws nothing."""

from {package} import __getattr__  # noqa: F401
'''


@dataclass
class Stage:
    """A staged folder: `site` goes first on the worker's path; `binds` are for bubblewrap.

    Attributes
    ----------
    root : Path
        The temporary folder, removed by `cleanup`.
    site : Path
        The worker's ``PYTHONPATH``.
    binds : list of (Path, Path)
        NumPy's folders and where they go inside `site` (read-only binds).
    """

    root: Path
    site: Path
    binds: list[tuple[Path, Path]]

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _imports(path: Path) -> set[str]:
    """The ``autograder.*`` modules one source file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def worker_modules(start: str = "autograder.execution.worker") -> list[str]:
    """Every ``autograder`` module that `start` needs, followed through their imports.

    Raises
    ------
    RuntimeError
        When one of them imports a module of `NEVER_STAGED` (the reference or
        the case generators), which would put secrets within the sandbox's reach.
    """
    todo, seen = [start], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in _imports(PACKAGE.parent / (name.replace(".", "/") + ".py")):
            root = imported.split(".")[0]
            if any(imported == n or imported.startswith(n + ".") for n in NEVER_STAGED):
                raise RuntimeError(f"staging: {name} imports {imported}, which must never be "
                                   "inside the sandbox")
            if root == "autograder" and (PACKAGE.parent / (imported.replace(".", "/")
                                                           + ".py")).is_file():
                todo.append(imported)
    return sorted(seen)


def _subpackages(modules: list[str]) -> list[str]:
    """The packages below ``autograder`` that hold `modules` (``autograder.execution``, ...).

    Their ``__init__`` files import nothing, so copying them stages no other
    module; ``autograder/__init__.py`` itself stays the stand-in's.
    """
    found = set()
    for name in modules:
        parts = name.split(".")[:-1]
        found.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return sorted(found)


def numpy_folders() -> list[Path]:
    """NumPy's package folder and, when the wheel has one, its ``numpy.libs`` beside it."""
    import numpy

    package = Path(os.path.realpath(numpy.__file__)).parent
    return [p for p in (package, package.parent / "numpy.libs") if p.is_dir()]


def stage(bind_numpy: bool) -> Stage:
    """Copy the worker's modules and the stand-ins into a new temporary folder.

    Parameters
    ----------
    bind_numpy : bool
        Under bubblewrap, leave empty folders where NumPy is bound; without
        it, link NumPy there.
    """
    root = Path(tempfile.mkdtemp(prefix="autograder-stage-"))
    site = root / "site"
    try:
        shutil.copytree(STANDINS, site, ignore=shutil.ignore_patterns("__pycache__"))
        (site / "__init__.py").unlink()  # the stand-ins' own docstring: not a package here
        modules = worker_modules()
        for package in _subpackages(modules):
            (site / package.replace(".", "/")).mkdir(parents=True, exist_ok=True)
            shutil.copy2(PACKAGE.parent / package.replace(".", "/") / "__init__.py",
                         site / package.replace(".", "/") / "__init__.py")
        for name in modules:
            shutil.copy2(PACKAGE.parent / (name.replace(".", "/") + ".py"),
                         site / (name.replace(".", "/") + ".py"))
        for package, names in (("convplot", _convplot_submodules()),
                               ("matplotlib", MATPLOTLIB_SUBMODULES)):
            for name in names:
                target = site / package / f"{name}.py"
                if not target.exists():
                    target.write_text(_STANDIN_SUBMODULE.format(package=package))
        binds = []
        for folder in numpy_folders():
            target = site / folder.name
            if bind_numpy:
                target.mkdir()
                binds.append((folder, target))
            else:
                target.symlink_to(folder, target_is_directory=True)
        # Readable by the submission's own user id, writable by nobody but the grader.
        for path in (root, *root.rglob("*")):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Stage(root, site, binds)


def _convplot_submodules() -> list[str]:
    """The real ``convplot``'s submodules, so that ``from convplot.layers import x`` works."""
    real = PACKAGE.parent / "convplot"
    return sorted(p.stem for p in real.glob("*.py") if not p.stem.startswith("_"))
