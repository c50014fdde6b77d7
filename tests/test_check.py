"""check(): the notebooks' self-check."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import conv_ref
from autograder import check
from autograder.catalog import PROBLEMS
from autograder.check import render_html, render_text


@pytest.mark.parametrize("name", [p.name for p in PROBLEMS if p.name != "train_digits"])
def test_the_reference_passes(name, capsys):
    assert check(name, getattr(conv_ref, name)) is None
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: all ") and "public cases passed." in out


def flipped_conv1d(x, weight, bias=None, stride=1, padding=0):
    return conv_ref.conv1d(x, np.flip(weight, -1), bias, stride, padding)


def test_flipped_kernel_fails_with_the_diagnosis(capsys):
    with pytest.raises(AssertionError, match="conv1d: .* public cases failed") as info:
        check("conv1d", flipped_conv1d)
    assert "flips the kernel" in str(info.value)
    out = capsys.readouterr().out
    assert "FAIL  slides: x=[[1,2,3,4]], weight=[[[1,0,-1]]]" in out
    assert "PASS  channel mismatch" in out
    lines = out.splitlines()
    first = lines.index("First failing case: slides: x=[[1,2,3,4]], weight=[[[1,0,-1]]]")
    assert lines[first + 1:first + 4] == [
        "Inputs:", "  x: array (1, 4) float64 = [[1. 2. 3. 4.]]",
        "  weight: array (1, 1, 3) float64 = [[[ 1.  0. -1.]]]"]
    assert "Expected:\n[[-2. -2.]]\nReceived:\n[[2. 2.]]" in out
    assert "Likely mistake: Your output equals the textbook" in out


def test_not_implemented_is_friendly(capsys):
    def corr1d(x, h):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="^corr1d is not implemented yet$"):
        check("corr1d", corr1d)
    assert "corr1d: not implemented yet" in capsys.readouterr().out


def test_exceptions_show_the_students_frames_only(capsys):
    def corr1d(x, h):
        return helper(x)

    def helper(x):
        return x[len(x) + 1]

    with pytest.raises(AssertionError, match="raised IndexError"):
        check("corr1d", corr1d)
    out = capsys.readouterr().out
    assert "in corr1d" in out and "in helper" in out and "return x[len(x) + 1]" in out
    assert "autograder/check.py" not in out and "IndexError: index" in out


def test_inputs_are_copies():
    def corr1d(x, h):
        y = conv_ref.corr1d(x, h)
        x[:] = 0  # writes into the input; the next cases must not see it
        return y

    check("corr1d", corr1d)


def test_unknown_names_and_non_functions():
    with pytest.raises(ValueError, match="check: no graded function named 'conv3d'; expected "
                                         "one of conv_output_length, corr1d"):
        check("conv3d", conv_ref.conv2d)
    with pytest.raises(TypeError, match="check: fn expects your function conv1d, got ndarray"):
        check("conv1d", np.zeros(3))


def test_html_rendering_is_a_table_with_the_details():
    from autograder.cases import PUBLIC_SEED, generate_cases
    from autograder.check import _call
    from autograder.judge import judge

    results = [judge(c, _call(c, flipped_conv1d), 1.0)
               for c in generate_cases("conv1d", PUBLIC_SEED, public=True)]
    page = render_html("conv1d", results)
    assert page.count("<tr>") == len(results) + 1
    assert "&lt;" not in render_text("conv1d", results)  # text stays plain
    assert "Likely mistake" in page and "<pre" in page


def test_importing_check_stays_light():
    code = ("import sys; from autograder import check; import conv_ref; "
            "check('corr1d', conv_ref.corr1d); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'autograder.sandbox', 'sklearn', "
            "'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("[]")
