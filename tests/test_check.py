"""check(): the notebooks' self-check."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import conv_ref
from autograder import check
from autograder.catalog import PROBLEMS
from autograder.check import _results, render_html, render_text


@pytest.mark.parametrize("name", [p.name for p in PROBLEMS
                                  if p.name != "train_digits" and not p.question])
def test_the_reference_passes_the_public_cases(name):  # values only: it may not call itself
    results = _results(name, getattr(conv_ref, name), rules=False)
    assert results and all(r.passed for r in results), [r.message for r in results]


def test_the_reference_itself_is_refused(capsys):
    with pytest.raises(AssertionError, match="`conv_ref` is the course's reference solution"):
        check("corr1d", conv_ref.corr1d)


def flipped_conv1d(x, weight, bias=None, stride=1, padding=0):
    x = np.pad(np.asarray(x, dtype=float), [(0, 0)] * (np.ndim(x) - 1) + [(padding, padding)])
    if x.shape[-2] != weight.shape[1]:
        raise ValueError("channel mismatch")
    K = weight.shape[-1]
    n = (x.shape[-1] - K) // stride + 1
    out = sum(np.einsum("oc,...cl->...ol", weight[:, :, K - 1 - j],
                        x[..., j:j + (n - 1) * stride + 1:stride]) for j in range(K))
    return out if bias is None else out + np.asarray(bias)[:, None]


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


def test_modifying_an_input_fails_and_the_next_case_gets_fresh_inputs(capsys):
    def corr1d(x, h):
        y = np.array([x[i:i + len(h)] @ h for i in range(len(x) - len(h) + 1)])
        x[:] = 0  # writes into the input; the next cases must not see it
        return y

    with pytest.raises(AssertionError, match="modified its input `x`"):
        check("corr1d", corr1d)
    out = capsys.readouterr().out
    assert "Work on a copy" in out and "Expected:" not in out


def test_np_convolve_is_refused_with_what_to_write_instead(capsys):
    def corr1d(x, h):
        return np.convolve(x, h[::-1], mode="valid")

    with pytest.raises(AssertionError) as info:
        check("corr1d", corr1d)
    message = str(info.value)
    assert "`corr1d` calls `numpy.convolve` (line " in message
    assert "not allowed in graded code: write the sum over kernel taps" in message
    assert "write the computation with NumPy" not in capsys.readouterr().out


def test_a_hidden_forbidden_call_trips_at_run_time_and_is_put_back():
    original = np.correlate

    def corr1d(x, h):
        return getattr(np, "cor" + "relate")(x, h, "valid")

    with pytest.raises(AssertionError, match="calls `numpy.correlate`, which is not allowed"):
        check("corr1d", corr1d)
    assert np.correlate is original and np.correlate([1, 2], [1], "valid").tolist() == [1, 2]


def test_a_loop_where_the_exercise_forbids_it_fails(capsys):
    def conv1x1(x, weight, bias=None):
        w = weight.reshape(weight.shape[0], -1)
        out = np.zeros((*x.shape[:-3], w.shape[0], *x.shape[-2:]))
        for i in range(x.shape[-2]):
            for j in range(x.shape[-1]):
                out[..., :, i, j] = x[..., :, i, j] @ w.T
        return out if bias is None else out + np.asarray(bias)[:, None, None]

    with pytest.raises(AssertionError, match="`conv1x1` has a `for` loop at line \\d+: the "
                                             "exercise asks for one `np.einsum`"):
        check("conv1x1", conv1x1)


def test_returning_a_view_where_a_new_array_is_asked_fails():
    from numpy.lib.stride_tricks import sliding_window_view

    def data_matrix(x, k, stride=1, padding=0):
        xp = np.pad(np.asarray(x, dtype=float), padding) if padding else np.asarray(x)
        return sliding_window_view(xp, k)[::stride].T

    with pytest.raises(AssertionError, match="returned a view of its input"):
        check("data_matrix", data_matrix)


def test_unknown_names_and_non_functions():
    with pytest.raises(ValueError, match="check: no graded function named 'conv3d'; expected "
                                         "one of conv_output_length, q_output_length, corr1d"):
        check("conv3d", conv_ref.conv2d)
    with pytest.raises(TypeError, match="check: fn expects your function conv1d, got ndarray"):
        check("conv1d", np.zeros(3))


def test_html_rendering_is_a_table_with_the_details():
    from autograder.cases import PUBLIC_SEED, generate_cases
    from autograder.check import _call
    from autograder.scoring.judge import judge

    results = [judge(c, _call(c, flipped_conv1d), 1.0)
               for c in generate_cases("conv1d", PUBLIC_SEED, public=True)]
    page = render_html("conv1d", results)
    assert page.count("<tr>") == len(results) + 1
    assert "&lt;" not in render_text("conv1d", results)  # text stays plain
    assert "Likely mistake" in page and "<pre" in page


def test_importing_check_stays_light():
    code = ("import sys; import numpy as np; from autograder import check; "
            "check('corr1d', lambda x, h: np.array([x[i:i + len(h)] @ h "
            "for i in range(len(x) - len(h) + 1)])); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'autograder.execution.sandbox', "
            "'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("[]")
