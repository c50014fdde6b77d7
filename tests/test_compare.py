"""compare(): type, shape, then values, with dtype-aware tolerances."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.scoring.compare import compare, summarize, tolerance


def test_the_expected_dtype_sets_the_precision_not_the_received_one():
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((4, 5)) * 10
    # a float64 answer passes at float64 precision; a float32-sized error fails
    assert compare(expected, expected * (1 + 1e-14)).passed
    assert not compare(expected, expected + 1e-5 * np.abs(expected)).passed
    # a float16 answer cannot widen the tolerance: rounding alone fails it
    result = compare(expected, expected.astype(np.float16))
    assert not result.passed and result.stage == "values"
    assert result.notes == [
        "Your function returned float16 values; expected float64, and they are compared at "
        "float64 precision. Compute in float64: start from np.zeros(..., dtype=float)."]
    # single precision, deep learning's own, is allowed its rounding and nothing more
    single = compare(expected, expected.astype(np.float32))
    assert single.passed
    assert "compared at single precision's rounding" in single.notes[0]
    assert not compare(expected, (expected * (1 + 5e-4)).astype(np.float32)).passed
    assert not compare(expected, (expected * (1 + 5e-5)).astype(np.float32)).passed
    # 0.05 % off, in float16: wrong
    assert not compare(np.array([1000.0]), np.array([1000.5], dtype=np.float16)).passed
    # values a float16 holds exactly still pass
    exact = np.array([0.5, -2.0, 3.25])
    assert compare(exact, exact.astype(np.float16)).passed


def test_summation_order_is_tolerated():
    rng = np.random.default_rng(1)
    terms = rng.standard_normal((6, 50))
    assert compare(terms.sum(axis=1), terms[:, ::-1].cumsum(axis=1)[:, -1]).passed


def test_integer_results_must_be_exact_integers():
    assert compare(3, np.int64(3), kind="exact").passed
    wrong = compare(3, 2, kind="exact")
    assert (wrong.stage, wrong.message) == ("values", "Expected 3, got 2.")
    float_answer = compare(3, 3.0, kind="exact")
    assert float_answer.stage == "type"
    assert "Expected an int, got float 3.0" in float_answer.message
    assert "//" in float_answer.message
    assert compare(1, True, kind="exact").stage == "type"


def test_integer_arrays_are_accepted_for_floats_with_a_note():
    result = compare(np.array([-2.0, -2.0]), np.array([-2, -2]))
    assert result.passed
    assert "int64" in result.notes[0]


def test_lists_are_converted_and_reported():
    result = compare(np.array([[1.0, 2.0]]), [[1, 2]])
    assert result.passed and "np.asarray" in result.notes[0]
    ragged = compare(np.zeros(2), [[1], [2, 3]])
    assert ragged.stage == "type"


def test_none_points_at_the_missing_return():
    result = compare(np.zeros(3), None)
    assert result.stage == "type" and "return" in result.message


def test_shape_stage_comes_before_values():
    result = compare(np.zeros((2, 3)), np.ones((2, 4)))
    assert result.stage == "shape"
    assert result.message.startswith("shape mismatch: expected (2, 3), got (2, 4).")
    assert "transposed" in compare(np.zeros((2, 3)), np.zeros((3, 2))).message
    assert "unbatched" in compare(np.zeros((2, 3)), np.zeros((1, 2, 3))).message
    assert compare(np.float64(1.0), np.ones(1)).stage == "type"


def test_nan_and_inf():
    e = np.array([1.0, np.nan, np.inf, -np.inf])
    assert compare(e, e.copy()).passed
    r = e.copy()
    r[0] = np.nan
    result = compare(e, r)
    assert not result.passed and result.details["mismatch"]["first_index"] == [0]
    assert result.details["mismatch"]["max_abs"] == "nan"
    assert not compare(e, np.array([1.0, 0.0, np.inf, -np.inf])).passed
    assert not compare(e, np.array([1.0, np.nan, -np.inf, -np.inf])).passed
    json.dumps(result.details, allow_nan=False)


def test_complex_values():
    lam = np.array([0, -2j, 0, 2j])
    assert compare(lam, lam + 1e-15).passed
    result = compare(lam, np.conj(lam))
    assert result.stage == "values" and result.details["mismatch"]["count"] == 2
    json.dumps(result.details, allow_nan=False)


def test_tuples_are_compared_item_by_item():
    expected = (np.zeros((2, 2)), np.ones(3), np.array([4.0]))
    names = ("dx", "dweight", "dbias")
    assert compare(expected, tuple(np.copy(e) for e in expected), names=names).passed
    result = compare(expected, (np.zeros((2, 2)), np.zeros(3), np.array([4.0])), names=names)
    assert result.details["item"] == "dweight" and result.message.startswith("dweight:")
    short = compare(expected, (np.zeros((2, 2)),), names=names)
    assert short.stage == "type" and "(dx, dweight, dbias)" in short.message
    assert compare((5, 1), [5, 1], kind="exact").passed
    assert not compare((5, 1), (5, 2), kind="exact").passed


def test_mismatch_details_follow_the_feedback_layout():
    e = np.arange(12.0).reshape(3, 4)
    r = e.copy()
    r[2, 3] = 100.0
    result = compare(e, r)
    d = result.details
    assert d["expected"] == {"type": "ndarray", "shape": [3, 4], "dtype": "float64",
                             "values": e.tolist()}
    m = d["mismatch"]
    assert (m["count"], m["total"], m["first_index"]) == (1, 12, [2, 3])
    assert m["max_abs"] == pytest.approx(89.0)
    assert m["differs"][2][3] is True and sum(map(sum, m["differs"])) == 1
    assert m["abs_diff_map"] is None
    assert "1 of 12 entries differ; the first at index [2, 3]: expected 11, got 100" in (
        result.message)
    json.dumps(d, allow_nan=False)


def test_large_outputs_get_a_downsampled_difference_map():
    e = np.zeros((40, 70))
    r = e.copy()
    r[39, 69] = 1.0
    m = compare(e, r).details["mismatch"]
    assert m["differs"] is None and compare(e, r).details["expected"]["values"] is None
    grid = np.array(m["abs_diff_map"])
    assert grid.shape == (32, 32) and grid[-1, -1] == 1.0 and grid.sum() == 1.0


def test_pattern_hints():
    e = np.arange(16.0).reshape(4, 4)
    assert "bias" in compare(e, e + 0.5).message
    border = e.copy()
    border[0, 0] = -1
    assert "border" in compare(e, border).message


def test_tolerance_follows_the_expected_dtype():
    e = np.array([10.0])
    assert tolerance(e, e) == tolerance(e, e.astype(np.float16)) == tolerance(e, e.astype(int))
    atol64, rtol64 = tolerance(e, e)
    atol32, rtol32 = tolerance(e.astype(np.float32), e)
    assert rtol64 < 1e-12 < rtol32 < 1e-4
    assert atol32 == pytest.approx(10 * rtol32)


def test_summaries_are_small_and_json_able():
    big = summarize(np.zeros((30, 30)))
    assert big["values"] is None and big["shape"] == [30, 30]
    assert summarize(3) == {"type": "int", "shape": [], "dtype": "int", "values": 3}
    assert summarize("same")["values"] == "same"
    assert summarize((3, 3))["values"] == [3, 3]
    json.dumps(summarize([(3, 1, 1), (3, 2, 1)]))
