"""Build the example class: submissions in nbgrader's ``submitted/`` layout.

The class is made from the solution notebooks (``solutions/<a>/<a>.ipynb``) and
the release notebooks (``notebooks/<a>/<a>.ipynb``, or the solution with its
solutions cleared by nbgrader's own preprocessor when the release has not been
generated), so it stays in step with them:

- ``perfect``: the solution notebook exactly as written;
- one student per typical mistake, each the solution with one function edited;
- ``partial``: the first functions solved, the rest left as the release stub;
- ``untouched``: the release notebook;
- hostile ones: broken JSON, an infinite loop, a memory hog, ``os._exit``,
  patching ``np.allclose``, calling ``torch.nn.functional.conv1d``.

Mostly 01_conv1d; every other assignment present gets a perfect and a partial
student, 08_fast_conv a typical mistake too, and 07_backward three students
whose `train_digits` is not a trained network (a nearest-neighbour "model", a
lookup in scikit-learn's digits, weights never trained): each must score 0 on
it (`MISTAKES_IN`). ``python examples/make_class.py`` builds ``examples/class/``
when it is missing or stale; ``autograder demo`` does the same, then grades it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import shutil
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions, ComputeChecksums, LockCells
from traitlets.config import Config

from autograder.catalog import problems_for

COURSE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = COURSE_ROOT / "examples" / "class"
STAMP = ".source-hash"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

# Typical 01_conv1d mistakes: student -> {function: its new solution cell}.
MISTAKES: dict[str, dict[str, str]] = {
    "flipped_kernel": {"corr1d": '''\
def corr1d(x, h):
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)[::-1]  # convolution as in signal processing
    n_out = len(x) - len(h) + 1
    return np.array([np.dot(h, x[i:i + len(h)]) for i in range(n_out)])
'''},
    "output_size_off_by_one": {"conv_output_length": '''\
def conv_output_length(n, k, stride=1, padding=0, dilation=1):
    out = (n + 2 * padding - dilation * (k - 1) - 1) // stride
    if out < 1:
        raise ValueError(f"conv_output_length: output length {out} < 1")
    return out
'''},
    "padding_one_side": {"conv1d_single": '''\
def conv1d_single(x, h, bias=0.0, stride=1, padding=0):
    x = np.pad(np.asarray(x, dtype=np.float64), (padding, 0))  # zeros on the left only
    h = np.asarray(h, dtype=np.float64)
    n_out = (len(x) - len(h)) // stride + 1
    return np.array([bias + np.dot(h, x[i * stride:i * stride + len(h)]) for i in range(n_out)])
'''},
    "stride_ignored": {"conv1d_single": '''\
def conv1d_single(x, h, bias=0.0, stride=1, padding=0):
    x = np.pad(np.asarray(x, dtype=np.float64), padding)
    h = np.asarray(h, dtype=np.float64)
    n_out = len(x) - len(h) + 1
    return np.array([bias + np.dot(h, x[i:i + len(h)]) for i in range(n_out)])
'''},
    "bias_ignored": {"conv1d": '''\
def conv1d(x, weight, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    batched = x.ndim == 3
    xb = x if batched else x[None]
    c_out, c_in, k = weight.shape
    if xb.shape[1] != c_in:
        raise ValueError(f"conv1d: weight expects {c_in} input channels, got {xb.shape[1]}")
    n_out = conv_output_length(xb.shape[2], k, stride, padding)
    xp = np.pad(xb, ((0, 0), (0, 0), (padding, padding)))
    y = np.zeros((xb.shape[0], c_out, n_out))
    for i in range(n_out):
        window = xp[:, :, i * stride:i * stride + k]
        y[:, :, i] = np.einsum("ock,nck->no", weight, window)
    return y if batched else y[0]
'''},
    "weight_axes_swapped": {"conv1d": '''\
def conv1d(x, weight, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    batched = x.ndim == 3
    xb = x if batched else x[None]
    c_in, c_out, k = weight.shape  # read as (C_in, C_out, K)
    n_out = conv_output_length(xb.shape[2], k, stride, padding)
    xp = np.pad(xb, ((0, 0), (0, 0), (padding, padding)))
    y = np.zeros((xb.shape[0], c_out, n_out))
    for i in range(n_out):
        window = xp[:, :, i * stride:i * stride + k]
        y[:, :, i] = np.einsum("cok,nck->no", weight, window)
    if bias is not None:
        y += np.asarray(bias, dtype=np.float64)[:, None]
    return y if batched else y[0]
'''},
}

# Hostile 01_conv1d students: student -> (function edits, extra code cells at the end).
HOSTILE: dict[str, tuple[dict[str, str], list[str]]] = {
    "infinite_loop": ({"corr1d": '''\
def corr1d(x, h):
    i = 0
    while i < len(x):  # forgot i += 1
        pass
'''}, []),
    "memory_hog": ({"conv1d": '''\
def conv1d(x, weight, bias=None, stride=1, padding=0):
    cache = []
    while True:
        cache.append(np.zeros(10**8))  # 800 MB more each time, never freed
'''}, []),
    "exits": ({}, ["import os\nos._exit(0)"]),
    "patches_allclose": (
        {name: f"def {name}(*args, **kwargs):\n    return None\n"
         for name in (p.name for p in problems_for("01_conv1d"))},
        ["np.allclose = lambda *a, **k: True"],
    ),
    "calls_torch": ({"conv1d": '''\
import torch
import torch.nn.functional as F


def conv1d(x, weight, bias=None, stride=1, padding=0):
    b = None if bias is None else torch.as_tensor(bias, dtype=torch.float64)
    y = F.conv1d(torch.as_tensor(x, dtype=torch.float64),
                 torch.as_tensor(weight, dtype=torch.float64), b, stride, padding)
    return y.numpy()
'''}, []),
}


# 07_backward students whose train_digits is not a trained CNN: student -> its solution cell.
DIGITS_SHORTCUTS: dict[str, str] = {
    # A 1-nearest-neighbour classifier has no weights: its "model" is the training set.
    "digits_knn": '''\
def train_digits(X_train, y_train, seed=0):
    return {"X_train": np.asarray(X_train).reshape(len(X_train), -1), "y_train": y_train}
''',
    # Looks the digits up in scikit-learn's bundled copy instead of learning them.
    "digits_lookup": '''\
def train_digits(X_train, y_train, seed=0):
    from sklearn.datasets import load_digits

    digits = load_digits()
    return {"images": digits.data / 16.0, "labels": digits.target}
''',
    # The right parameters, initialised and never trained.
    "digits_untrained": '''\
def train_digits(X_train, y_train, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"w1": (16, 1, 3, 3), "w2": (32, 16, 3, 3), "w3": (128, 10)}
    params = {name: rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:] if name != "w3" else
                                                         shape[:1])), size=shape)
              for name, shape in shapes.items()}
    params.update(b1=np.zeros(16), b2=np.zeros(32), b3=np.zeros(10))
    return params
''',
}

# Typical mistakes in other assignments: assignment -> student -> {function: its new cell}.
MISTAKES_IN: dict[str, dict[str, dict[str, str]]] = {
    "08_fast_conv": {"fft_without_conj": {"fft_conv2d": '''\
def fft_conv2d(x, weight, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    sH, sW = (stride, stride) if np.ndim(stride) == 0 else stride
    pH, pW = (padding, padding) if np.ndim(padding) == 0 else padding
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    kH, kW = weight.shape[2:]
    Hp, Wp = xp.shape[2:]
    size = (Hp + kH - 1, Wp + kW - 1)
    X = np.fft.rfft2(xp, s=size)
    K = np.fft.rfft2(weight, s=size)
    # the convolution theorem as in 05: X * K, then the valid part of the full convolution
    Y = (X.transpose(2, 3, 0, 1) @ K.transpose(2, 3, 1, 0)).transpose(2, 3, 0, 1)
    y = np.fft.irfft2(Y, s=size)[:, :, kH - 1:Hp:sH, kW - 1:Wp:sW]
    if bias is not None:
        y = y + np.asarray(bias, dtype=float)[:, None, None]
    return y[0] if unbatched else y
'''}},
    "07_backward": {student: {"train_digits": source}
                    for student, source in DIGITS_SHORTCUTS.items()},
}


def assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """Assignments that have a solution notebook."""
    return sorted(p.parent.name for p in (course_root / "solutions").glob("*/*.ipynb")
                  if p.stem == p.parent.name)


def release_notebook(assignment: str, course_root: Path = COURSE_ROOT):
    """The student release: generated by ``make release``, else cleared here the same way."""
    released = course_root / "notebooks" / assignment / f"{assignment}.ipynb"
    if released.is_file():
        return nbformat.read(released, as_version=4)
    nb = nbformat.read(course_root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    config = Config()
    config.ClearSolutions.code_stub = {"python": STUB}
    resources: dict = {}
    for step in (ClearSolutions, LockCells, ComputeChecksums):
        nb, resources = step(config=config).preprocess(nb, resources)
    return nb


def with_functions(nb, edits: dict[str, str], extra: list[str] = ()):
    """A copy of `nb` with the solution cells of `edits` replaced and code cells appended."""
    nb = copy.deepcopy(nb)
    found = set()
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in edits and cell.metadata.nbgrader.get("solution"):
            cell.source = edits[gid]
            found.add(gid)
    if found != set(edits):
        raise ValueError(
            f"with_functions: no solution cell for {sorted(set(edits) - found)} in the notebook"
        )
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    return nb


def solution_sources(nb) -> dict[str, str]:
    """grade_id -> source of each solution cell."""
    return {
        cell.metadata.nbgrader.grade_id: cell.source
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }


def class_notebooks(course_root: Path = COURSE_ROOT) -> dict[tuple[str, str], bytes]:
    """(student, assignment) -> notebook bytes for the whole example class."""
    out: dict[tuple[str, str], bytes] = {}
    for a in assignments(course_root):
        solution = nbformat.read(course_root / "solutions" / a / f"{a}.ipynb", 4)
        release = release_notebook(a, course_root)
        solved = solution_sources(solution)
        half = dict(list(solved.items())[: max(1, len(solved) // 2)])
        out["perfect", a] = _bytes(solution)
        out["partial", a] = _bytes(with_functions(release, half))
        for student, edits in MISTAKES_IN.get(a, {}).items():
            out[student, a] = _bytes(with_functions(solution, edits))
        if a != "01_conv1d":
            continue
        out["untouched", a] = _bytes(release)
        for student, edits in MISTAKES.items():
            out[student, a] = _bytes(with_functions(solution, edits))
        for student, (edits, extra) in HOSTILE.items():
            out[student, a] = _bytes(with_functions(solution, edits, extra))
        # Cut mid-file, as an interrupted upload leaves it.
        out["broken_json", a] = _bytes(solution)[:1000]
    return out


def source_hash(course_root: Path = COURSE_ROOT) -> str:
    """Hash of everything the class is made from: this file and the notebooks."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for folder in ("solutions", "notebooks"):
        for path in sorted((course_root / folder).glob("*/*.ipynb")):
            digest.update(path.relative_to(course_root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_class(dest: Path = DEFAULT_DEST, course_root: Path = COURSE_ROOT) -> Path:
    """Write the class to ``dest/submitted/<student>/<a>/<a>.ipynb`` unless it is up to date.

    Returns
    -------
    Path
        ``dest / "submitted"``.
    """
    submitted = dest / "submitted"
    wanted = source_hash(course_root)
    stamp = dest / STAMP
    if stamp.is_file() and stamp.read_text() == wanted and submitted.is_dir():
        return submitted
    if submitted.exists():
        shutil.rmtree(submitted)
    for (student, a), data in class_notebooks(course_root).items():
        path = submitted / student / a / f"{a}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    stamp.write_text(wanted)
    return submitted


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="default: %(default)s")
    args = parser.parse_args(argv)
    print(f"example class in {build_class(args.dest)}")


if __name__ == "__main__":
    main()
