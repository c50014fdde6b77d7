"""Every known mistake, submitted as an answer, is named."""

from __future__ import annotations

import numpy as np
import pytest

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases, mistakes_for
from autograder.catalog import PROBLEMS
from autograder.scoring.compare import compare
from autograder.scoring.diagnose import diagnose

SEED = 777
WITH_MISTAKES = [p.name for p in PROBLEMS if mistakes_for(p.name)]


def wrong_answers(name, mistake):
    """(case, wrong value) for every case on which the mistake changes the answer."""
    cases = generate_cases(name, PUBLIC_SEED, public=True) + generate_cases(name, SEED, False)
    for case in cases:
        if case.kind not in ("allclose", "exact", "answer"):
            continue
        try:
            wrong = mistake.fn(case)
        except (ValueError, TypeError, IndexError):
            continue
        if wrong is not None:
            yield case, wrong


@pytest.mark.parametrize(
    ("name", "index"),
    [(n, i) for n in WITH_MISTAKES for i in range(len(mistakes_for(n)))],
    ids=lambda v: str(v),
)
def test_every_mistake_is_named(name, index):
    mistake = mistakes_for(name)[index]
    named = 0
    for case, wrong in wrong_answers(name, mistake):
        found = diagnose(case, wrong)
        if found is None:
            # the variant happens to equal the right answer here: nothing to diagnose
            assert compare(case.expected, wrong, kind=case.kind, atol=case.atol).passed, (
                f"{mistake.id} not diagnosed on {case.name}")
            continue
        named += found.id == mistake.id
    assert named >= 1, f"{name}: no case shows {mistake.id}"


@pytest.mark.parametrize("name", WITH_MISTAKES)
def test_right_answers_have_no_diagnosis(name):
    for case in generate_cases(name, PUBLIC_SEED, public=True):
        assert diagnose(case, case.expected) is None


def test_flipped_kernel_is_named_in_plain_words():
    case = generate_cases("conv1d", PUBLIC_SEED, public=True)[0]
    # [[-2, -2]] -> [[2, 2]]: what the kernel [1, 0, -1] flipped gives
    mistake = diagnose(case, -case.expected)
    assert mistake.id == "flipped_kernel"
    assert "does not flip the kernel" in mistake.hint


def test_unrelated_wrong_answers_have_no_diagnosis():
    case = generate_cases("conv2d", PUBLIC_SEED, public=True)[0]
    assert diagnose(case, np.full_like(case.expected, 3.5)) is None
    assert diagnose(case, "not an array") is None


@pytest.mark.parametrize("name", ["conv1d_single", "conv1d"])
def test_padding_on_one_side_that_is_only_one_short_names_both_causes(name):
    """Left-only padding with p <= stride loses the last position, exactly as a strided output
    cut as ``full[:len//s*s:s]`` does: the diagnosis names the missing position and both causes,
    never "all the padding on the left" to a student who padded both sides."""
    named = 0
    for case in generate_cases(name, SEED, public=False):
        padding = case.kwargs.get("padding", 0)
        if case.kind != "allclose" or not padding:
            continue
        x = np.asarray(case.args[0])
        left_only = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(padding, 0)])
        wrong = getattr(conv_ref, name)(left_only, *case.args[1:], **{**case.kwargs, "padding": 0})
        if wrong.shape[-1] == np.asarray(case.expected).shape[-1] - 1:
            mistake = diagnose(case, wrong)
            assert mistake.id == "missing_plus_one", case.name
            assert "BOTH sides" in mistake.hint and "full[::s]" in mistake.hint
            named += 1
    assert named >= 1


# ------------------------------------------------------------------- mistakes seen in the shape

WITH_SHAPES = [(p, m.id) for p in WITH_MISTAKES for m in mistakes_for(p) if m.shape is not None]


def wrong_shapes(name, mistake):
    """(case, wrong shape) for every case on which the mistake changes the answer's shape."""
    for case in (generate_cases(name, PUBLIC_SEED, public=True)
                 + generate_cases(name, SEED, public=False)):
        if case.kind not in ("allclose", "exact", "answer"):
            continue
        shape = mistake.shape(case)
        if shape is not None and shape != np.shape(case.expected):
            yield case, shape


@pytest.mark.parametrize(("name", "mistake_id"), WITH_SHAPES, ids=lambda v: str(v))
def test_every_mistake_seen_in_the_shape_is_named(name, mistake_id):
    mistake = next(m for m in mistakes_for(name) if m.id == mistake_id)
    named = 0
    for case, shape in wrong_shapes(name, mistake):
        assert diagnose(case, np.ones(shape)).id == mistake_id, case.name
        named += 1
    assert named >= 1, f"{name}: no case shows {mistake_id} in its shape"


def test_a_wrong_channel_count_other_than_c_in_has_no_diagnosis():
    case = next(c for c in generate_cases("conv1d", SEED, public=False)
                if c.name == "one channel, batch of 1")  # x (1, 1, 8), weight (2, 1, 3)
    assert np.shape(case.expected) == (1, 2, 6)
    assert diagnose(case, np.ones((1, 1, 6))).id == "weight_axes_swapped"  # C_in = 1 channel
    assert diagnose(case, np.ones((1, 3, 6))) is None
    assert diagnose(case, [[[1.0, 2.0]], [[3.0]]]) is None  # ragged: no shape at all


def test_the_weight_layout_is_in_the_hint():
    hints = {name: next(m.hint for m in mistakes_for(name) if m.id == "weight_axes_swapped")
             for name in ("conv1d", "conv2d")}
    assert "`(C_out, C_in, K)`" in hints["conv1d"]
    assert "`(C_out, C_in, kH, kW)`" in hints["conv2d"]


# ------------------------------------------------------- diagnoses that point the right way


def _first_failure(problem, fn):
    from autograder.check import guarded_call
    from autograder.scoring.judge import judge

    for case in generate_cases(problem, PUBLIC_SEED, public=True):
        result = judge(case, guarded_call(case, fn), 1.0)
        if not result.passed:
            return result
    raise AssertionError(f"{problem}: every public case passed")


def test_a_strided_output_cut_short_is_not_told_about_one_sided_padding():
    from tests.agreement_variants import conv1d_single_truncated_stride

    r = _first_failure("conv1d_single", conv1d_single_truncated_stride)
    assert r.diagnosis == "missing_plus_one" and "full[::s]" in r.hint
    assert "all the padding on the left" not in r.hint


def test_eigenvalues_in_eigvals_order_are_named_and_not_told_to_pad():
    from tests.agreement_variants import circulant_eigenvalues_eigvals

    r = _first_failure("circulant_eigenvalues", circulant_eigenvalues_eigvals)
    assert r.diagnosis == "eigenvalues_unordered"
    assert "pad" not in r.message


def test_a_filter_matrix_of_the_padded_width_is_told_axis_1_is_n():
    from tests.agreement_variants import filter_matrix_padded_width

    r = _first_failure("filter_matrix", filter_matrix_padded_width)
    assert r.diagnosis == "padded_width"
    assert "axis 1 is `n`: one column per entry of the unpadded input" in r.message
    assert "output-size formula" not in r.message


def test_dx_with_a_rotated_kernel_is_told_it_rotated():
    case = next(c for c in generate_cases("conv2d_backward", PUBLIC_SEED, public=True)
                if np.asarray(c.args[2]).shape[-2:] != (1, 1) and c.name.startswith("batch"))
    w = np.asarray(case.args[2])
    rotated = conv_ref.conv2d_backward(*case.args[:2], w[..., ::-1, ::-1], **case.kwargs)[0]
    mistake = diagnose(case, (rotated, *case.expected[1:]))
    assert mistake.id == "dx_kernel_rotated" and "rotated by 180 degrees" in mistake.title


def test_zero_insertion_without_the_flip_is_told_to_flip():
    from tests.agreement_variants import conv_transpose1d_zero_insertion_unflipped

    r = _first_failure("conv_transpose1d", conv_transpose1d_zero_insertion_unflipped)
    assert r.diagnosis == "flipped_kernel"
    assert "must use the kernel flipped" in r.hint and "does not flip" not in r.hint


def test_a_transposed_weight_read_as_c_out_c_in_gets_the_layout():
    def conv_transpose1d(x, weight, stride=1, padding=0):
        x = np.asarray(x, dtype=float)
        K, L = weight.shape[-1], x.shape[-1]
        full = np.zeros((*x.shape[:-2], weight.shape[0], (L - 1) * stride + K))
        for i in range(L):  # weight read as (C_out, C_in, K)
            full[..., i * stride:i * stride + K] += np.einsum("...i,oik->...ok", x[..., i], weight)
        return full[..., padding:full.shape[-1] - padding]

    from autograder.check import guarded_call
    from autograder.scoring.judge import judge

    results = [judge(c, guarded_call(c, conv_transpose1d), 1.0)
               for c in generate_cases("conv_transpose1d", PUBLIC_SEED, public=True)]
    hints = [r.hint for r in results if r.diagnosis == "weight_axes_swapped"]
    raised = [r.message for r in results if r.status == "raised"]
    assert hints and "`(C_in, C_out, ...)`" in hints[0]
    assert raised and all("transposed-convolution weights are `(C_in, C_out, ...)`" in m
                          for m in raised)


def test_a_numeric_gradient_that_moves_x_is_told_so():
    from tests.agreement_variants import numeric_gradient_in_place

    r = _first_failure("numeric_gradient", numeric_gradient_in_place)
    assert r.message.startswith("`numeric_gradient` modified its input `x`")
    assert "first differing entry" not in r.message


def test_corr2d_is_not_given_the_padded_strided_size_formula():
    def corr2d(X, K):
        h, w = X.shape[0] - K.shape[0], X.shape[1] - K.shape[1] + 1  # one row short
        return np.array([[np.sum(X[i:i + K.shape[0], j:j + K.shape[1]] * K) for j in range(w)]
                         for i in range(h)])

    r = _first_failure("corr2d", corr2d)
    assert "`(H - kH + 1, W - kW + 1)`" in r.message and "2*p" not in r.message


def _case(name, case_name):
    return next(c for c in generate_cases(name, PUBLIC_SEED, public=True) if c.name == case_name)


def test_an_fft_that_wraps_around_is_named():
    """A student's convolution theorem at the padded input's own size, cropped from index 0."""
    case = _case("fft_conv2d", "worked examples: 4x4x2 input, three 2x2 kernels")
    x, w = case.args[0], case.args[1]
    spectra = np.einsum("chw,ochw->ohw", np.fft.rfft2(x),
                        np.fft.rfft2(w[..., ::-1, ::-1], s=x.shape[-2:]))
    wrapped = np.fft.irfft2(spectra, s=x.shape[-2:])[:, :3, :3]
    assert diagnose(case, wrapped).id == "wrap_around"
    convolved = conv_ref.fft_conv2d(x, w[..., ::-1, ::-1])  # X * K, cropped right
    assert diagnose(case, convolved).id == "flipped_kernel"


def test_winograd_tiles_that_do_not_overlap_are_named():
    """A student's loop that starts every 4x4 tile 4 pixels after the last."""
    case = _case("winograd_conv2d", "odd output 5x3: partial tiles, batch of 2, bias")
    x, w, b = case.args
    xp = np.pad(x, ((0, 0), (0, 0), (0, 8), (0, 8)))
    y = np.zeros((2, 3, 6, 4))
    for n, o, s, t in np.ndindex(2, 3, 3, 2):
        y[n, o, 2 * s:2 * s + 2, 2 * t:2 * t + 2] = sum(
            conv_ref.winograd_tile(xp[n, c, 4 * s:4 * s + 4, 4 * t:4 * t + 4], w[o, c])
            for c in range(2))
    seams = y[:, :, :5, :3] + b[:, None, None]
    assert diagnose(case, seams).id == "tile_seams"
    assert diagnose(case, case.expected[..., :4, :2]).id == "partial_tiles_dropped"


def test_wrong_winograd_matrices_are_named():
    case = _case("winograd_tile", "a kernel with no symmetry")
    d, g = case.args
    g_ones = conv_ref.fast.WINOGRAD_G * [[1], [2], [2], [1]]  # the halves left out
    at, bt = conv_ref.fast.WINOGRAD_AT, conv_ref.fast.WINOGRAD_BT
    assert diagnose(case, at @ ((g_ones @ g @ g_ones.T) * (bt @ d @ bt.T)) @ at.T).id == (
        "winograd_g_without_halves")
    g_ = conv_ref.fast.WINOGRAD_G
    assert diagnose(case, at @ ((g_ @ g @ g_.T) * (bt.T @ d @ bt)) @ at.T).id == (
        "winograd_b_not_transposed")


@pytest.mark.parametrize("name", ["filter_matrix", "data_matrix"])
def test_same_padding_with_the_extra_zero_on_the_left_is_named(name):
    # The slides' Toeplitz matrix for an even filter: k // 2 zeros on the left, the extra
    # one there instead of on the right. Built here from np.pad, independently of the case.
    case = next(c for c in generate_cases(name, PUBLIC_SEED, public=True)
                if c.name.startswith("'same' with an even kernel"))
    args = dict(zip(("h", "n") if name == "filter_matrix" else ("x", "k"), case.args,
                    strict=True))
    if name == "filter_matrix":
        h, n = np.asarray(args["h"]), args["n"]
        k = len(h)
        # Row i of T is h placed so that its tap k // 2 sits on column i.
        wrong = np.zeros((n, n))
        for i in range(n):
            for u in range(k):
                if 0 <= i + u - k // 2 < n:
                    wrong[i, i + u - k // 2] = h[u]
    else:
        x, k = np.asarray(args["x"]), args["k"]
        xp = np.pad(x, (k // 2, (k - 1) // 2))
        wrong = np.stack([xp[u:u + len(x)] for u in range(k)])
    assert not np.allclose(wrong, case.expected)
    mistake = diagnose(case, wrong)
    assert mistake is not None and mistake.id == "same_extra_left"
    assert "RIGHT" in mistake.hint and "(k - 1) // 2" in mistake.hint
