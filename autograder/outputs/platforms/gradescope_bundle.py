"""Build the zip uploaded to Gradescope as the assignment's autograder.

    python -m autograder.outputs.platforms.gradescope_bundle \
        --out gradescope/autograder.zip [--seed N]

Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once when
it builds the image and ``run_autograder`` for every submission. The zip holds:

- ``setup.sh``: Python 3.11 and bubblewrap from apt, a virtualenv, and the
  project installed with the pinned ``constraints.txt`` (PyTorch's CPU build);
- ``run_autograder``: ``autograder gradescope``;
- ``constraints.txt``; ``project/``: a source copy of the packages;
- ``notebooks/<a>/<a>.ipynb``: the release notebooks (locked-cell integrity);
- ``autograder.toml``: the grading seed. The zip is for instructors only.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from autograder import catalog
from autograder.grade import COURSE_ROOT, resolve_seed

PACKAGES = ("autograder", "conv_ref", "convplot")
PROJECT_FILES = ("pyproject.toml", "README.md")
# Fixed timestamps: the same sources give the same zip.
EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP_SH = """\
#!/usr/bin/env bash
# Runs once, as root, when Gradescope builds the autograder image (Ubuntu 22.04: Python
# 3.10; 24.04: Python 3.12). The course supports Python 3.11.x and 3.12: the newest of
# those already there is used, else Python 3.11 from apt (deadsnakes on older Ubuntu).
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap: the grader's sandbox (without it, resource limits only).
apt-get install -y -qq bubblewrap || echo "bubblewrap unavailable: sandbox uses limits only"
supported() { "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))'; }
PY=""
for candidate in python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
    PY=$(command -v "$candidate"); break
  fi
done
if [ -z "$PY" ]; then
  if ! apt-get install -y -qq python3.11 python3.11-venv; then
    apt-get install -y -qq software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
  fi
  PY=$(command -v python3.11)
fi
V=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
"$PY" -m venv /autograder/venv 2>/dev/null || {
  apt-get install -y -qq "python$V-venv" && "$PY" -m venv /autograder/venv; }
# The versions the course was tested with; PyTorch's CPU wheels (no CUDA download).
PIP_CONSTRAINT=/autograder/source/constraints.txt /autograder/venv/bin/pip install --quiet \\
  --extra-index-url https://download.pytorch.org/whl/cpu -c constraints.txt ./project
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Runs for every submission: grades /autograder/submission into
# /autograder/results/results.json (seed and release notebooks in /autograder/source).
# AUTOGRADER_ROOT and AUTOGRADER_VENV move both, to try the bundle outside Gradescope.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT"
export MPLBACKEND=Agg
exec "${AUTOGRADER_VENV:-$ROOT/venv}/bin/python" -m autograder gradescope --root "$ROOT"
"""


def build_bundle(
    out: Path, seed: int | None = None, repo: Path = COURSE_ROOT, release_dir: Path | None = None
) -> Path:
    """Write the Gradescope autograder zip to `out` and return its path.

    Parameters
    ----------
    out : Path
    seed : int, optional
        The grading seed; default as for grading (``$AUTOGRADER_SEED``, else
        ``autograder.toml`` in `repo`).
    repo : Path
        The course repository (packages, ``pyproject.toml``, ``constraints.txt``).
    release_dir : Path, optional
        Holds ``<a>/<a>.ipynb`` for every assignment; default ``repo/notebooks``.

    Raises
    ------
    ValueError
        No grading seed, or an assignment without its release notebook.
    """
    repo = Path(repo)
    release_dir = Path(release_dir) if release_dir is not None else repo / "notebooks"
    seed = resolve_seed(seed, repo)
    notebooks = {a: release_dir / a / f"{a}.ipynb" for a in catalog.ASSIGNMENTS}
    missing = [a for a, path in notebooks.items() if not path.is_file()]
    if missing:
        raise ValueError(
            f"gradescope_bundle: no release notebook for {', '.join(missing)} in "
            f"{str(release_dir)!r}; run `make release` first"
        )
    files: dict[str, bytes | Path] = {
        "setup.sh": SETUP_SH.encode(),
        "run_autograder": RUN_AUTOGRADER.encode(),
        "constraints.txt": repo / "constraints.txt",
        "autograder.toml": f"grading_seed = {seed}\n".encode(),
    }
    for name in PROJECT_FILES:
        files[f"project/{name}"] = repo / name
    for package in PACKAGES:
        for path in sorted((repo / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"project/{path.relative_to(repo).as_posix()}"] = path
    for a, path in notebooks.items():
        files[f"notebooks/{a}/{a}.ipynb"] = path
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            content = files[name]
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out PATH [--seed N]``; exit status 2 with a message on error."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.outputs.platforms.gradescope_bundle",
        description="Build the Gradescope autograder zip.")
    parser.add_argument("--out", type=Path, required=True, help="the zip to write")
    parser.add_argument("--seed", type=int, help="grading seed (default: as `autograder grade`)")
    args = parser.parse_args(argv)
    try:
        path = build_bundle(args.out, seed=args.seed)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope")
    return 0


if __name__ == "__main__":
    sys.exit(main())
