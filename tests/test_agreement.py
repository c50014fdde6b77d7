"""A green `check()` means the official grade agrees: every mistake fails both, every correct
answer passes both (`tests/agreement.py` holds the harness and prints the numbers)."""

from __future__ import annotations

import inspect
import textwrap

import pytest

from autograder.catalog import PROBLEMS, max_score
from tests import agreement, agreement_variants
from tests.conftest import read_notebook, solution_path
from tests.nbfactory import to_bytes


@pytest.fixture(scope="module")
def results():
    found = agreement.verdicts(agreement.all_variants())
    print(agreement.report(found))
    return found


def test_every_mistake_fails_both_and_every_correct_answer_passes_both(results):
    wrong = [r for r in results if not r.right]
    assert not wrong, agreement.report(results)


def test_the_population_covers_every_graded_function(results):
    graded = {p.name for p in PROBLEMS} - {"train_digits"}
    mistakes = {r.variant.problem for r in results if not r.variant.correct}
    correct = {r.variant.problem for r in results if r.variant.correct}
    assert graded <= mistakes and graded <= correct
    assert len(results) >= 200
    kinds = {r.variant.name for r in results if r.variant.correct}
    assert {"nested_list", "float32", "numpy_integers"} <= kinds


@pytest.mark.parametrize("problem, name", [
    ("filter_matrix", "catalogue: stride_ignored"), ("conv2d", "conv2d_width_stride_ignored"),
    ("im2col", "catalogue: dilation_ignored"), ("conv2d_param_count", "catalogue: groups_ignored"),
    ("conv2d_im2col", "catalogue: bias_ignored"),
    ("conv2d_im2col", "catalogue: weight_order_mismatch"),
    ("avg_pool2d", "catalogue: avg_excludes_padding"), ("circulant", "circulant_assigns"),
    ("circular_conv1d", "circular_conv1d_centre_low"), ("shift", "shift_negative_k_wrong"),
    ("conv2d_backward", "catalogue: dx_kernel_rotated"),
    ("circulant_eigenvalues", "circulant_eigenvalues_eigvals"),
    ("corr1d", "corr1d_np_convolve"), ("corr1d", "corr1d_np_correlate"),
    ("corr2d", "corr2d_scipy"), ("conv1x1", "conv1x1_pixel_loop"),
    ("conv2d_im2col", "conv2d_im2col_position_loop"), ("data_matrix", "data_matrix_returns_view"),
    ("shift", "shift_modifies_x"), ("numeric_gradient", "numeric_gradient_in_place"),
])
def test_the_mistakes_the_course_missed_are_caught_by_check(results, problem, name):
    (found,) = [r for r in results if (r.variant.problem, r.variant.name) == (problem, name)]
    assert (found.check, found.official) == (False, False)


def test_the_typed_variants_really_change_the_type():
    import numpy as np

    from autograder.cases import PUBLIC_SEED, generate_cases

    case = generate_cases("corr1d", PUBLIC_SEED, public=True)[0]
    answers = {v.name: v.fn(*case.materialize()[0]) for v in agreement_variants.VARIANTS
               if v.problem == "corr1d" and v.name in ("nested_list", "float32")}
    assert isinstance(answers["nested_list"], list)
    assert answers["float32"].dtype == np.float32


def _source(fn) -> str:
    """The function as a notebook cell would hold it: without the registering decorator."""
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    return "\n".join(line for line in lines if not line.startswith("@"))


def test_a_few_variants_get_the_same_verdict_from_the_sandbox(tmp_path):
    """End to end: the same answers in a notebook, graded by `autograder.grade` in the sandbox."""
    from autograder.grade import grade
    from examples import make_class

    v = agreement_variants
    students = {
        "honest": {},
        "convolve": {"corr1d": "import numpy as np\n\n" + _source(v.corr1d_np_convolve).replace(
            "corr1d_np_convolve", "corr1d")},
        "truncated": {"conv1d_single": _source(v._pad_last) + "\n\n" + _source(v._size)
                      + "\n\n" + _source(v.conv1d_single_truncated_stride).replace(
                          "conv1d_single_truncated_stride", "conv1d_single")},
        "loops": {"corr1d": _source(v.corr1d_position_loop_list).replace(
            "corr1d_position_loop_list", "corr1d")},
    }
    for student, edits in students.items():
        path = tmp_path / "submitted" / student / "01_conv1d" / "01_conv1d.ipynb"
        path.parent.mkdir(parents=True)
        nb = make_class.with_functions(read_notebook(solution_path("01_conv1d")), edits)
        path.write_bytes(to_bytes(nb))
    graded = {r.student: r for r in grade([tmp_path / "submitted"], out=tmp_path / "out",
                                          seed=agreement.OFFICIAL_SEED, timeout=60, workers=2)}
    assert graded["honest"].score == max_score("01_conv1d")
    assert graded["loops"].score == max_score("01_conv1d")  # a list, and loops: both allowed
    convolve = graded["convolve"].problems["corr1d"]
    assert convolve.score == 0 and "forbidden_call" in convolve.flags
    assert "`corr1d` calls `numpy.convolve` (cell " in convolve.cases[0].message
    assert graded["truncated"].problems["conv1d_single"].score < 3
    assert graded["truncated"].score == max_score("01_conv1d") - 3 + \
        graded["truncated"].problems["conv1d_single"].score
