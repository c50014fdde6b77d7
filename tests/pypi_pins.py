"""Whether every pin of constraints.txt installs on a Python version, from PyPI's own metadata.

For each ``name==version`` the simple index (PEP 691 JSON) must list a file of
that version that is not yanked, whose Requires-Python admits the Python
version, and that is a wheel this Python on Linux x86-64 can install (pure
Python, ``abi3`` from an older CPython, or built for this CPython).

    python tests/pypi_pins.py 3.11.0 3.12.0    # exit 1 and the pins that fail
"""

from __future__ import annotations

import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

INDEX = "https://pypi.org/simple"
CONSTRAINTS = Path(__file__).resolve().parents[1] / "constraints.txt"
LINUX = ("manylinux", "linux_x86_64")


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """``name -> version`` of every pin."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[name.strip()] = version.strip()
    return out


def index_files(name: str) -> list[dict]:
    """The files PyPI lists for a project (PEP 691)."""
    request = urllib.request.Request(f"{INDEX}/{canonicalize_name(name)}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["files"]


def _installable(tag: Tag, python: Version) -> bool:
    cp = f"cp{python.major}{python.minor}"
    linux = tag.platform == "any" or (tag.platform.startswith(LINUX) and "x86_64" in tag.platform)
    if not linux:
        return False
    if tag.abi == "none" and tag.interpreter.startswith("py"):
        return tag.interpreter in ("py3", f"py{python.major}{python.minor}")
    if tag.abi == "abi3":
        return tag.interpreter.startswith("cp") and int(tag.interpreter[3:] or 0) <= python.minor
    return tag.interpreter == cp


def problems(version: str, files: list[dict], python: Version) -> list[str]:
    """Why no file of `version` installs on `python` (empty when one does)."""
    why = []
    for f in files:
        name = f["filename"]
        if not name.endswith(".whl"):
            continue
        try:
            _, wheel_version, _, tags = parse_wheel_filename(name)
        except (ValueError, InvalidVersion):
            continue
        if wheel_version != Version(version):
            continue
        if f.get("yanked"):
            why.append(f"{name} is yanked ({f['yanked']})" if isinstance(f["yanked"], str)
                       else f"{name} is yanked")
            continue
        requires = f.get("requires-python")
        if requires and python not in SpecifierSet(requires):
            why.append(f"{name} requires Python {requires}")
            continue
        if any(_installable(t, python) for t in tags):
            return []
    return why[:2] or [f"no wheel of {version} for CPython {python} on Linux x86-64"]


def check(pythons: list[str], path: Path = CONSTRAINTS) -> dict[str, list[str]]:
    """``"name==version" -> reasons`` for every pin that fails on one of `pythons`."""
    wanted = pins(path)
    with ThreadPoolExecutor(8) as pool:
        listed = dict(zip(wanted, pool.map(index_files, wanted), strict=True))
    failed: dict[str, list[str]] = {}
    for name, version in wanted.items():
        for python in map(Version, pythons):
            for reason in problems(version, listed[name], python):
                failed.setdefault(f"{name}=={version}", []).append(f"Python {python}: {reason}")
    return failed


if __name__ == "__main__":
    failures = check(sys.argv[1:] or ["3.11.0", "3.12.0"])
    for pin, reasons in failures.items():
        print(pin, *reasons, sep="\n  ")
    sys.exit(1 if failures else 0)
