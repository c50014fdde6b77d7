"""Every known mistake, submitted as an answer, is named."""

from __future__ import annotations

import numpy as np
import pytest

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases, mistakes_for
from autograder.catalog import PROBLEMS
from autograder.compare import compare
from autograder.diagnose import diagnose

SEED = 777
WITH_MISTAKES = [p.name for p in PROBLEMS if mistakes_for(p.name)]


def wrong_answers(name, mistake):
    """(case, wrong value) for every case on which the mistake changes the answer."""
    cases = generate_cases(name, PUBLIC_SEED, public=True) + generate_cases(name, SEED, False)
    for case in cases:
        if case.kind not in ("allclose", "exact"):
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
        if case.kind not in ("allclose", "exact"):
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
