"""Graded code is NumPy only: other libraries cannot be imported, NumPy's convolutions trip.

One batch graded through `autograder.grade.grade`: an honest student, and
students whose `corr1d` reaches a library convolution in every way found,
each in several variants. Each attack must cost `corr1d` its points (0 of 2)
and nothing else; the honest student keeps full marks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.catalog import max_score
from autograder.grade import grade
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path
from tests.nbfactory import to_bytes

A = "01_conv1d"
HONEST = ("    n = len(x) - len(h) + 1\n"
          "    return np.array([x[i:i + len(h)] @ h for i in range(n)])\n")
REFUSED = "graded code must use NumPy only: '{}' is not available while grading"


def corr1d(body: str) -> dict[str, str]:
    return {"corr1d": "import numpy as np\n\ndef corr1d(x, h):\n" + body}


# student -> (corr1d body, extra cells, the statuses corr1d's cases may get)
ATTACKS: dict[str, tuple[str, list[str], set[str]]] = {
    # Libraries other than NumPy: refused with the sentence that says why.
    # A call the scan proves (or a reach into the import machinery) is forbidden outright.
    "import_torch_cell": ("    return torch.nn.functional.conv1d(x, h)\n", ["import torch"],
                          {"forbidden"}),
    "dunder_import": ("    F = __import__('to' + 'rch').nn.functional\n    return F.conv1d(x, h)\n",
                      [], {"raised"}),
    "importlib_scipy": ("    import importlib\n"
                        "    return importlib.import_module('sci' + 'py.signal')"
                        ".correlate(x, h, 'valid')\n", [], {"forbidden"}),
    "conv_ref": ("    import conv_ref\n    return conv_ref.corr1d(x, h)\n", [], {"forbidden"}),
    "from_file": ("    import importlib.util\n"
                  f"    spec = importlib.util.spec_from_file_location('cr', "
                  f"{str(REPO / 'conv_ref' / 'basics.py')!r})\n"
                  "    module = importlib.util.module_from_spec(spec)\n"
                  "    spec.loader.exec_module(module)\n"
                  "    return module.corr1d(x, h)\n", [], {"forbidden"}),
    # NumPy's own convolutions, under every name.
    "np_convolve": ("    return np.convolve(x, h[::-1], 'valid')\n", [], {"forbidden"}),
    "np_correlate_alias": ("    from numpy._core.numeric import correlate as c\n"
                           "    return c(x, h)\n", [], {"forbidden"}),
    "multiarray": ("    return np._core.multiarray.correlate2(x, h, 0)\n", [], {"forbidden"}),
    "umath": ("    import numpy._core._multiarray_umath as m\n    return m.correlate(x, h, 0)\n",
              [], {"forbidden"}),
    "polymul": ("    return np.polymul(x, h[::-1])[len(h) - 1:len(x)]\n", [], {"forbidden"}),
    "polynomial": ("    P = np.polynomial.polynomial\n"
                   "    return P.polymul(x, h[::-1])[len(h) - 1:len(x)]\n", [], {"forbidden"}),
    "masked": ("    import numpy.ma\n    return np.ma.correlate(x, h).data\n", [], {"forbidden"}),
    # Fresh copies of NumPy's extension module, whose functions no tripwire replaced.
    "reimport": ("    import sys, importlib\n"
                 "    sys.modules.pop('numpy._core._multiarray_umath')\n"
                 "    m = importlib.import_module('numpy._core._multiarray_umath')\n"
                 "    return m.correlate2(x, h, 0)\n", [], {"raised", "forbidden"}),
    "module_from_spec": ("    import importlib.util\n"
                         "    path = np._core._multiarray_umath.__file__\n"
                         "    for name in ('numpy._core._multiarray_umath',\n"
                         "                 'x._multiarray_umath'):\n"
                         "        try:\n"
                         "            spec = importlib.util.spec_from_file_location(name, path)\n"
                         "            return importlib.util.module_from_spec(spec)"
                         ".correlate2(x, h, 0)\n"
                         "        except ImportError:\n"
                         "            pass\n"
                         "    raise RuntimeError('no fresh copy')\n", [], {"raised", "forbidden"}),
    # The originals, looked for behind the tripwires.
    "closure": ("    for fn in (np.correlate, np._core.multiarray.correlate2):\n"
                "        inner = getattr(fn, '__wrapped__', None)\n"
                "        for cell in fn.__closure__ or ():\n"
                "            if callable(cell.cell_contents):\n"
                "                inner = cell.cell_contents\n"
                "        if inner is not None:\n"
                "            return inner(x, h, 'valid')\n"
                "    return np.correlate(x, h, 'valid')\n", [], {"forbidden"}),
    "gc_dig": ("    import gc\n"
               "    gc.unfreeze()\n"
               "    for o in gc.get_objects():\n"
               "        if getattr(o, '__name__', '') in ('correlate', 'correlate2') \\\n"
               "                and callable(o) and not hasattr(o, 'forbidden_name'):\n"
               "            try:\n"
               "                return np.asarray(o(x, h, 'valid'), dtype=float)\n"
               "            except Exception:\n"
               "                continue\n"
               "    raise RuntimeError('nothing found')\n", [], {"forbidden"}),
    # Undoing the verdict from inside, after the trip.
    "clear_tripped": ("    try:\n        np.correlate(x, h, 'valid')\n"
                      "    except BaseException:\n        pass\n"
                      "    import autograder.execution.tripwires as t\n"
                      "    t.TRIPPED.clear()\n    t.set_reporter(None)\n" + HONEST, [],
                      {"forbidden"}),
    "patch_send": ("    import sys\n    try:\n        np.convolve(x, h)\n"
                   "    except BaseException:\n        pass\n"
                   "    sys.modules['__main__']._Runner.send = lambda *a, **k: None\n" + HONEST,
                   [], {"forbidden", "not_run"}),
    "thread": ("    import threading\n"
               "    t = threading.Thread(target=np.convolve, args=(x, h))\n"
               "    t.start()\n    t.join()\n" + HONEST, [], {"forbidden"}),
    "remove_hook": ("    import sys\n"
                    "    sys.meta_path[:] = [f for f in sys.meta_path "
                    "if type(f).__name__ != 'NumpyOnly']\n"
                    "    import conv_ref\n    return conv_ref.corr1d(x, h)\n", [],
                    {"raised", "forbidden"}),
}
# Their other functions lose their points too: a channel the student shut is not our doing.
SELF_HARM = {"patch_send"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("imports")
    solution = read_notebook(solution_path(A))
    students = {"honest": make_class.with_functions(solution, corr1d(HONEST))}
    for name, (body, extra, _) in ATTACKS.items():
        students[name] = make_class.with_functions(solution, corr1d(body), extra)
    folder = tmp / "submitted"
    for student, nb in students.items():
        path = folder / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(to_bytes(nb))
    out = tmp / "out"
    results = {r.student: r for r in grade([folder], out=out, seed=5, timeout=30, workers=2)}
    return results, out


def test_the_honest_student_keeps_full_marks(batch):
    results, _ = batch
    assert results["honest"].score == max_score(A)
    assert results["honest"].flags == []


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_costs_corr1d_and_nothing_else(batch, student):
    r = batch[0][student]
    statuses = {c.status for c in r.problems["corr1d"].cases}
    assert r.problems["corr1d"].score == 0
    assert statuses <= ATTACKS[student][2], statuses
    if student not in SELF_HARM:
        assert r.score == max_score(A) - 2


@pytest.mark.parametrize("student, module", [("dunder_import", "torch")])
def test_a_refused_import_says_why(batch, student, module):
    cases = batch[0][student].problems["corr1d"].cases
    assert all(REFUSED.format(module) in c.message for c in cases), cases[0].message


@pytest.mark.parametrize("student, name", [("importlib_scipy", "importlib"),
                                           ("conv_ref", "conv_ref.corr1d"),
                                           ("from_file", "importlib")])
def test_a_proven_reach_says_what_and_where(batch, student, name):
    cases = batch[0][student].problems["corr1d"].cases
    assert all(f"`{name}" in c.message and "cell " in c.message for c in cases), cases[0].message


def test_a_refused_import_in_a_top_level_cell_is_in_the_feedback(batch):
    results, out = batch
    sentence = REFUSED.format("torch")
    assert any(sentence in note for note in results["import_torch_cell"].notes)
    feedback = Path(out) / "feedback" / "import_torch_cell" / f"{A}.md"
    assert sentence in feedback.read_text()


@pytest.mark.parametrize("student", ["clear_tripped", "thread", "closure", "patch_send"])
def test_a_trip_is_named_whatever_the_code_did_after_it(batch, student):
    first = batch[0][student].problems["corr1d"].cases[0]
    assert first.status == "forbidden"
    # The trip names NumPy's function; a reach behind it (`__closure__`) is proven by the scan.
    assert "numpy." in first.message or "reaches around the grader's checks" in first.message
