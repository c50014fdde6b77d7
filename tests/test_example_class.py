"""The example class: built from the course's notebooks, graded with the expected verdicts."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases
from autograder.catalog import ASSIGNMENTS, max_score, problem, problems_for
from autograder.execution.outcome import CallOutcome
from autograder.grade import grade
from autograder.scoring.judge import judge
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path


@pytest.fixture(scope="module")
def graded(example_class, tmp_path_factory):
    results = grade([example_class], out=tmp_path_factory.mktemp("out"), seed=11, timeout=20)
    return {(r.student, r.assignment): r for r in results}


def test_every_assignment_has_a_solution_to_build_the_class_from():
    assert make_class.assignments(REPO) == sorted(ASSIGNMENTS)


def test_the_class_has_every_student_in_nbgrader_layout(example_class):
    students = {p.parent.parent.name for p in example_class.glob("*/*/*.ipynb")}
    assert set(make_class.MISTAKES) | set(make_class.HOSTILE) <= students
    for a, mistakes in make_class.MISTAKES_IN.items():
        for student in mistakes:
            assert (example_class / student / a / f"{a}.ipynb").is_file()
    assert {"perfect", "partial", "untouched", "broken_json"} <= students
    for a in ASSIGNMENTS:
        assert (example_class / "perfect" / a / f"{a}.ipynb").is_file()
        assert (example_class / "partial" / a / f"{a}.ipynb").is_file()


def test_the_perfect_student_is_the_solution_byte_for_byte(example_class):
    solution = read_notebook(solution_path("01_conv1d"))
    assert (example_class / "perfect" / "01_conv1d" / "01_conv1d.ipynb").read_bytes() == (
        nbformat.writes(solution).encode()
    )


def test_a_mistake_edits_only_its_function(example_class):
    solution = make_class.solution_sources(read_notebook(solution_path("01_conv1d")))
    flipped = make_class.solution_sources(
        nbformat.read(example_class / "flipped_kernel" / "01_conv1d" / "01_conv1d.ipynb", 4))
    changed = {name for name in solution if solution[name] != flipped[name]}
    assert changed == {"corr1d"}


def test_editing_an_unknown_function_is_refused():
    nb = read_notebook(solution_path("01_conv1d"))
    with pytest.raises(ValueError, match=r"with_functions: no solution cell for \['conv9d'\]"):
        make_class.with_functions(nb, {"conv9d": "def conv9d(): pass"})


def test_a_built_class_is_reused_until_a_source_changes(tmp_path, monkeypatch):
    built = make_class.build_class(tmp_path, REPO)  # its own: this test rebuilds it
    stamp = built.parent / make_class.STAMP
    before = stamp.read_text()
    marker = built / "perfect" / "marker"
    marker.write_text("still here")
    make_class.build_class(built.parent, REPO)
    assert marker.exists()  # up to date: nothing rebuilt
    monkeypatch.setattr(make_class, "source_hash", lambda root: before + "-changed")
    make_class.build_class(built.parent, REPO)
    assert not marker.exists()  # stale: rebuilt from scratch
    assert stamp.read_text() == before + "-changed"


@pytest.mark.slow
def test_honest_students_get_the_verdicts_their_mistakes_deserve(graded):
    perfect = graded["perfect", "01_conv1d"]
    assert (perfect.score, perfect.flags) == (max_score("01_conv1d"), [])
    assert graded["untouched", "01_conv1d"].score == 0
    flipped = graded["flipped_kernel", "01_conv1d"].problems["corr1d"]
    assert not flipped.passed
    assert "flipped_kernel" in {c.diagnosis for c in flipped.cases}
    for student, (function,) in [(s, tuple(e)) for s, e in make_class.MISTAKES.items()]:
        result = graded[student, "01_conv1d"]
        assert not result.problems[function].passed, student
        assert result.flags == [], student


@pytest.mark.slow
def test_the_fft_student_without_the_conjugate_is_told_about_the_flipped_kernel(graded):
    result = graded["fft_without_conj", "08_fast_conv"]
    fft = result.problems["fft_conv2d"]
    assert not fft.passed and result.flags == []
    first = next(c for c in fft.cases if not c.passed)
    assert first.diagnosis == "flipped_kernel", first.name
    assert "`X * np.conj(K)`" in first.hint
    assert fft.score < problem("fft_conv2d").points / 2  # a symmetric kernel hides it only
    assert all(p.passed for name, p in result.problems.items() if name != "fft_conv2d")


@pytest.mark.slow
def test_the_graded_weight_axes_student_is_told_the_layout(graded):
    conv1d = graded["weight_axes_swapped", "01_conv1d"].problems["conv1d"]
    first = next(c for c in conv1d.cases if not c.passed)
    assert first.diagnosis == "weight_axes_swapped", first.name
    assert "`(C_out, C_in, K)`" in first.hint


@pytest.mark.slow
def test_train_digits_shortcuts_score_0_and_cost_nothing_else(graded):
    a = "07_backward"
    for student in make_class.DIGITS_SHORTCUTS:
        result = graded[student, a]
        digits = result.problems["train_digits"]
        assert digits.score == 0, (student, digits.cases[0].message)
        assert result.score == max_score(a) - digits.max_score, student
    knn = graded["digits_knn", a].problems["train_digits"].cases[0]
    assert "keys the network does not have: 'X_train', 'y_train'" in knn.message
    assert "missing: w1, b1, w2, b2, w3, b3" in knn.message
    lookup = graded["digits_lookup", a].problems["train_digits"].cases[0]
    assert lookup.status == "raised" and "sklearn" in lookup.message
    untrained = graded["digits_untrained", a].problems["train_digits"].cases[0]
    assert untrained.details["accuracy"] < 0.2 and "about chance" in untrained.message
    assert all(layer["ok"] for layer in untrained.details["layers"])
    perfect = graded["perfect", a].problems["train_digits"].cases[0]
    assert perfect.passed and perfect.details["accuracy"] >= 0.9
    assert perfect.details["measured"].startswith(f"Accuracy {perfect.details['accuracy']:.3f}")


@pytest.mark.slow
def test_every_assignment_has_a_perfect_and_a_partial_grade(graded):
    for a in ASSIGNMENTS:
        assert graded["perfect", a].score == max_score(a), a
        partial = graded["partial", a]
        solved = problems_for(a)[: max(1, len(problems_for(a)) // 2)]
        assert partial.score == sum(p.points for p in solved), a


def _first_failure(fn, cases):
    """The verdict on the first case `fn` fails, run in this process as `check()` does."""
    for case in cases:
        args, kwargs = case.materialize()
        try:
            outcome = CallOutcome(case.problem, case.name, "ok", value=fn(*args, **kwargs))
        except Exception as exc:  # the student's bug, judged like any other
            outcome = CallOutcome(case.problem, case.name, "raised",
                                  exc_type=type(exc).__name__, message=str(exc))
        result = judge(case, outcome, 1.0)
        if not result.passed:
            return result
    raise AssertionError("no failing case")


@pytest.mark.parametrize("seed", [PUBLIC_SEED, 11, 12345, 2024])
def test_the_weight_axes_student_is_told_on_the_first_failing_case(seed):
    namespace = {"np": np, "conv_output_length": conv_ref.conv_output_length}
    exec(make_class.MISTAKES["weight_axes_swapped"]["conv1d"], namespace)
    result = _first_failure(namespace["conv1d"],
                            generate_cases("conv1d", seed, public=seed == PUBLIC_SEED))
    assert result.diagnosis == "weight_axes_swapped", (result.name, result.message)
    assert "`(C_out, C_in, K)`" in result.hint
