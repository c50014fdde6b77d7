"""The pinned environment is consistent: constraints.txt, environment.yml, pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from tests.conftest import REPO


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_canon(name)] = version
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if m:
            pins[_canon(m.group(1))] = m.group(2)
    return pins


def _direct_dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [_canon(Requirement(d).name) for d in project["dependencies"]]


def test_torch_is_pinned_exactly():
    assert _constraints()["torch"] == "2.13.0"
    assert _environment_pins()["torch"] == "2.13.0"


def test_every_direct_dependency_is_pinned_in_constraints():
    pins = _constraints()
    missing = [d for d in _direct_dependencies() if d not in pins]
    assert not missing, f"not pinned in constraints.txt: {missing}"


def test_environment_yml_lists_the_direct_dependencies_at_the_pinned_versions():
    pins, env = _constraints(), _environment_pins()
    assert sorted(env) == sorted(_direct_dependencies())
    disagree = {n: (env[n], pins[n]) for n in env if env[n] != pins.get(n)}
    assert not disagree, f"environment.yml vs constraints.txt: {disagree}"


def test_environment_yml_uses_python_311():
    assert re.search(r"^\s*-\s*python=3\.11\s*$", (REPO / "environment.yml").read_text(), re.M)


def test_pyproject_declares_no_versions():
    """Versions live in constraints.txt only."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert all(not Requirement(d).specifier for d in project["dependencies"])
