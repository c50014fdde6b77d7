"""judge() on every kind of outcome, and score_problem()."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.cases import PUBLIC_SEED, generate_cases
from autograder.catalog import problem
from autograder.execution.outcome import CallOutcome
from autograder.scoring.judge import Definition, judge, score_problem
from conv_ref import cnn


@pytest.fixture(scope="module")
def conv1d_cases():
    return generate_cases("conv1d", PUBLIC_SEED, public=True)


def outcome(case, status, **kw):
    return CallOutcome(case.problem, case.name, status, **kw)


def test_right_answer_gets_the_points(conv1d_cases):
    case = conv1d_cases[0]
    result = judge(case, outcome(case, "ok", value=case.expected.copy(), seconds=0.01), 2.5)
    assert (result.passed, result.score, result.max_score, result.status) == (True, 2.5, 2.5, "ok")
    assert result.message == "" and result.public and result.seconds == 0.01
    json.dumps(result.to_dict(), allow_nan=False)


def test_wrong_answer_is_diagnosed(conv1d_cases):
    case = conv1d_cases[0]  # slides: [[1,2,3,4]] with [1,0,-1] -> [[-2,-2]]
    result = judge(case, outcome(case, "ok", value=np.array([[2.0, 2.0]])), 1.0)
    assert not result.passed and result.score == 0.0
    assert result.diagnosis == "flipped_kernel"
    assert "does not flip the kernel" in result.hint
    d = result.details
    assert d["stage"] == "values"
    assert d["inputs"]["x"]["values"] == [[1.0, 2.0, 3.0, 4.0]]
    assert d["expected"]["values"] == [[-2.0, -2.0]] and d["received"]["values"] == [[2.0, 2.0]]
    assert d["mismatch"]["count"] == 2
    json.dumps(result.to_dict(), allow_nan=False)


def test_shape_failures_are_diagnosed_too(conv1d_cases):
    case = conv1d_cases[0]
    result = judge(case, outcome(case, "ok", value=np.array([[-2.0]])), 1.0)
    assert result.details["stage"] == "shape" and result.diagnosis == "missing_plus_one"


def test_exceptions(conv1d_cases):
    case = conv1d_cases[0]
    result = judge(case, outcome(case, "raised", exc_type="IndexError", message="index 5",
                                 traceback="File 'cell', line 3"), 1.0)
    assert not result.passed and result.status == "raised"
    assert result.details["stage"] == "exception"
    assert "IndexError: index 5" in result.message
    assert result.details["exception"]["traceback"] == "File 'cell', line 3"


def test_error_cases_need_a_value_error(conv1d_cases):
    case = next(c for c in conv1d_cases if c.kind == "raises")
    ok = judge(case, outcome(case, "raised", exc_type="ValueError", message="conv1d: ..."), 1.0)
    assert ok.passed and ok.score == 1.0
    other = judge(case, outcome(case, "raised", exc_type="IndexError", message="oops"), 1.0)
    assert not other.passed and "expected ValueError, got IndexError" in other.message
    silent = judge(case, outcome(case, "ok", value=np.zeros(3)), 1.0)
    assert not silent.passed and silent.details["stage"] == "status"
    assert "raise ValueError" in silent.message


@pytest.mark.parametrize(("status", "words"), [
    ("not_implemented", "not implemented yet"),
    ("missing", "not defined in the notebook"),
    ("timeout", "took longer than"),
    ("crashed", "died"),
    ("forbidden", "torch.nn.functional.conv1d"),
    ("invalid_output", "not plain array data"),
    ("not_run", "`conv1d` was not run on this case: the run ended before it."),
])
def test_statuses_score_zero_with_a_reason(conv1d_cases, status, words):
    case = conv1d_cases[0]
    result = judge(case, outcome(case, status, forbidden_call="torch.nn.functional.conv1d"), 1.0)
    assert (result.passed, result.score, result.status) == (False, 0.0, status)
    assert words in result.message
    assert result.details["stage"] == "status"


@pytest.mark.parametrize(("status", "reason", "message"), [
    ("timeout", "the submission ran longer than 30 s",
     "`conv1d` did not finish: the submission ran longer than 30 s."),
    ("crashed", "exceeded the memory limit of 2.0 GiB in conv1d",
     "The process running `conv1d` died: exceeded the memory limit of 2.0 GiB in conv1d."),
    ("not_run", "the submission ran out of time in `corr1d` (case 'slides')",
     "`conv1d` was not run on this case: the submission ran out of time in `corr1d` "
     "(case 'slides')."),
])
def test_a_stopped_call_says_which_limit_stopped_it(conv1d_cases, status, reason, message):
    case = conv1d_cases[0]
    assert judge(case, outcome(case, status, message=reason), 1.0).message == message


DEF = Definition(cell=14, line=3, source="def conv1d(x, weight, bias=None, stride=1, padding=0):")


@pytest.mark.parametrize(("status", "reason", "message"), [
    ("timeout", "ran longer than 10 s",
     "`conv1d` (cell 14, line 3) did not finish: ran longer than 10 s."),
    ("crashed", "called os._exit(0) in `conv1d` (case 'slides')",
     "The process running `conv1d` (cell 14, line 3) died: called os._exit(0) in `conv1d` "
     "(case 'slides')."),
])
def test_a_call_that_ran_into_a_limit_names_the_place_of_its_def(conv1d_cases, status, reason,
                                                                  message):
    case = conv1d_cases[0]
    result = judge(case, outcome(case, status, message=reason), 1.0, DEF)
    assert (result.message, result.score) == (message, 0.0)
    assert {k: result.details[k] for k in ("cell", "line", "source")} == \
        {"cell": 14, "line": 3, "source": DEF.source}


@pytest.mark.parametrize("status", ["not_run", "missing", "not_implemented", "raised"])
def test_other_statuses_do_not_point_at_the_def(conv1d_cases, status):
    # A call that never ran, or one whose traceback already shows the place.
    case = conv1d_cases[0]
    result = judge(case, outcome(case, status, exc_type="IndexError", message="m"), 1.0, DEF)
    assert "cell 14" not in result.message
    assert not {"cell", "line", "source"} & set(result.details)


def test_network_cases_measure_returned_parameters_not_labels():
    case = generate_cases("train_digits", PUBLIC_SEED, public=True)[0]
    assert case.timeout == 90.0 and case.kind == "network"
    assert "X_test" not in repr(case.call())  # the held-out images stay with the grader
    labels = judge(case, outcome(case, "ok", value=case.expected.labels.copy()), 2.0)
    assert not labels.passed and labels.score == 0 and labels.details["stage"] == "type"
    assert "predicted labels: return the trained parameters" in labels.message
    untrained = cnn._init_params(np.random.default_rng(0), 8, 8)
    chance = judge(case, outcome(case, "ok", value=untrained), 2.0)
    assert not chance.passed and chance.details["stage"] == "values"
    assert chance.details["accuracy"] < 0.2 and "0.95 is needed" in chance.message
    assert all(layer["ok"] for layer in chance.details["layers"])


def test_score_problem_splits_points_and_flags(conv1d_cases):
    prob = problem("conv1d")
    outcomes = [outcome(c, "ok", value=c.expected) if c.kind != "raises"
                else outcome(c, "raised", exc_type="ValueError") for c in conv1d_cases]
    full = score_problem(prob, conv1d_cases, outcomes)
    assert full.score == prob.points and full.passed and full.flags == []
    outcomes[1] = outcome(conv1d_cases[1], "forbidden", forbidden_call="np.convolve")
    outcomes[2] = outcome(conv1d_cases[2], "timeout", message="ran longer than 10 s")
    partial = score_problem(prob, conv1d_cases, outcomes[:-1], DEF)  # the last never came
    share = prob.points / len(conv1d_cases)
    assert partial.score == pytest.approx(prob.points - 3 * share)
    assert partial.flags == ["crashed", "forbidden_call", "timeout"]
    assert partial.cases[2].details["cell"] == 14
    assert partial.cases[-1].status == "crashed"
    assert [c.name for c in partial.cases] == [c.name for c in conv1d_cases]


# ------------------------------------------------------------------- rules beyond the value


def _case(problem, index=0):
    return generate_cases(problem, PUBLIC_SEED, public=True)[index]


def test_a_call_that_modified_its_input_fails_whatever_it_returned():
    case = _case("shift")
    result = judge(case, outcome(case, "ok", value=case.expected, mutated=["x"]), 1.0)
    assert not result.passed and result.score == 0
    assert result.message.startswith("`shift` modified its input `x`: the caller's arrays")
    assert result.details["stage"] == "rule"


def test_a_view_fails_only_where_the_exercise_asks_for_a_new_array():
    case = _case("data_matrix")
    view = judge(case, outcome(case, "ok", value=case.expected, returned_view=True), 1.0)
    assert not view.passed and "returned a view of its input" in view.message
    other = _case("corr1d")
    assert judge(other, outcome(other, "ok", value=other.expected, returned_view=True),
                 1.0).passed


def test_a_tripped_call_names_the_function_and_what_to_write_instead():
    case = _case("corr2d")
    result = judge(case, outcome(case, "forbidden",
                                 forbidden_call="scipy.signal.correlate2d"), 1.0)
    assert result.message == ("`corr2d` calls `scipy.signal.correlate2d`, which is not allowed "
                              "in graded code: write the sum over kernel taps with NumPy "
                              "indexing or slicing.")


def test_a_raise_on_valid_arguments_shows_the_expected_value():
    case = next(c for c in generate_cases("conv_output_length", PUBLIC_SEED, public=True)
                if c.kwargs.get("padding"))
    result = judge(case, outcome(case, "raised", exc_type="ValueError", message="no padding"),
                   1.0)
    assert f"These arguments are valid: the expected answer is {case.expected}." in result.message
    assert result.details["expected"]["values"] == case.expected


def test_scan_proofs_in_the_notebook_score_the_function_zero_with_the_line():
    from autograder.intake.extract import SourceCell

    cases = generate_cases("corr1d", PUBLIC_SEED, public=True)
    right = [outcome(c, "ok", value=c.expected) for c in cases]
    cells = [SourceCell(0, "import numpy as np"),
             SourceCell(2, "def corr1d(x, h):\n    return np.correlate(x, h, 'valid')")]
    result = score_problem(problem("corr1d"), cases, right, cells=cells)
    assert result.score == 0 and result.flags == ["forbidden_call"]
    assert {c.status for c in result.cases} == {"forbidden"}
    assert "`corr1d` calls `numpy.correlate` (cell 3, line 2 in `corr1d`)" in \
        result.cases[0].message
    clean = [SourceCell(0, "import numpy as np"),
             SourceCell(2, "def corr1d(x, h):\n    return x[:len(x) - len(h) + 1] * 0")]
    assert score_problem(problem("corr1d"), cases, right, cells=clean).score == problem(
        "corr1d").points
