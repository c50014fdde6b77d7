"""Static rules that cost a function its points: proven forbidden calls, forbidden loops."""

from __future__ import annotations

from autograder.intake.extract import SourceCell
from autograder.scoring.rules import forbidden_message, instead, violations, violations_of_function


def rules(*sources, assignment="01_conv1d"):
    return violations([SourceCell(i, s) for i, s in enumerate(sources)], assignment)


def test_a_proof_in_a_helper_costs_every_graded_function_that_calls_it():
    found = rules(
        "import numpy as np",
        "def helper(x, h):\n    return np.convolve(x, h[::-1], 'valid')",
        "def corr1d(x, h):\n    return helper(x, h)",
        "def conv1d_single(x, h, bias=0.0, stride=1, padding=0):\n"
        "    return corr1d(np.pad(x, padding), h)[::stride] + bias",
        "def conv1d(x, weight, bias=None, stride=1, padding=0):\n    return x",
        "def unused(x):\n    return np.correlate(x, x)",
    )
    assert set(found) == {"corr1d", "conv1d_single"}
    (v,) = found["corr1d"]
    assert v.rule == "forbidden_call" and v.name == "numpy.convolve"
    assert v.message == ("`corr1d` calls `numpy.convolve` (cell 2, line 2 in `helper`, a "
                         "helper it calls), which is not allowed in graded code: write the sum "
                         "over kernel taps with NumPy indexing or slicing.")


def test_suspicions_and_calls_outside_graded_functions_cost_nothing():
    found = rules("import numpy as np\nimport scipy.signal\ny = np.convolve([1, 2], [1])",
                  "def corr1d(x, h):\n    f = getattr(np, 'convolve')\n    return f(x, h)")
    assert found == {}


def test_loops_cost_conv1x1_and_conv2d_im2col_but_not_their_graded_helpers():
    found = rules(
        "import numpy as np",
        "def conv1x1(x, weight, bias=None):\n    w = weight.reshape(len(weight), -1)\n"
        "    return np.stack([w @ x[:, i] for i in range(x.shape[1])], axis=1)",
        "def conv2d_param_count(c_in, c_out, kernel_size, bias=True, groups=1):\n"
        "    total = 0\n    for _ in range(c_out):\n        total += 1\n    return total",
        assignment="03_one_by_one")
    assert set(found) == {"conv1x1"}
    assert found["conv1x1"][0].message.startswith(
        "`conv1x1` has a `for` loop at cell 2, line 3: the exercise asks for one `np.einsum`")
    im2col = rules(
        "import numpy as np",
        "def im2col(x, kernel_size, stride=1, padding=0, dilation=1):\n"
        "    return np.stack([x[..., i:i + 2] for i in range(3)])",
        "def pair(v):\n    return tuple(int(a) for a in v) if np.ndim(v) else (v, v)",
        "def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):\n"
        "    s = pair(stride)\n    return weight.reshape(len(weight), -1) @ im2col(x, 2, s)",
        assignment="04_toeplitz")
    assert im2col == {}  # im2col may loop; a generator over a tuple is not a loop over positions
    helper_loop = rules(
        "def rows(x):\n    out = []\n    while len(out) < 3:\n        out.append(x)\n"
        "    return out",
        "def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):\n    return rows(x)",
        assignment="04_toeplitz")
    assert "`while` loop (in its helper `rows`) at cell 1, line 3" in \
        helper_loop["conv2d_im2col"][0].message


def test_the_checked_function_is_read_with_its_helpers_and_real_lines():
    import numpy as np

    def helper(x, h):
        return np.correlate(x, h, "valid")

    def my_corr1d(x, h):
        return helper(x, h)

    (v,) = violations_of_function("corr1d", my_corr1d)
    line = helper.__code__.co_firstlineno + 1
    assert v.message.startswith(f"`corr1d` calls `numpy.correlate` (line {line} in `helper`, "
                                "a helper it calls)")
    assert violations_of_function("corr1d", lambda x, h: x) == []
    assert violations_of_function("corr1d", max) == []  # no source: the tripwires apply
    (given,) = violations_of_function("corr1d", np.correlate)
    assert given.message.startswith("`corr1d` calls `numpy.correlate`, which is not allowed")


def test_what_to_write_instead_never_says_write_it_with_numpy_for_numpy():
    assert instead("numpy.convolve") == "write the sum over kernel taps with NumPy indexing or " \
                                        "slicing"
    assert "reference solution" in instead("conv_ref.basics.corr1d")
    assert "04_toeplitz" in instead("numpy.lib.stride_tricks.sliding_window_view")
    assert "NumPy" in instead("torch.nn.functional.conv2d")
    assert forbidden_message("corr2d", "scipy.signal.correlate2d").startswith(
        "`corr2d` calls `scipy.signal.correlate2d`, which is not allowed in graded code:")


def test_a_parser_failure_deep_in_a_stack_is_retried_in_a_fresh_thread(monkeypatch):
    import threading

    from autograder.scoring import rules as module

    real = module._violations

    def fails_on_the_main_thread(cells, assignment):
        if threading.current_thread() is threading.main_thread():
            raise SystemError("AST constructor recursion depth mismatch")
        return real(cells, assignment)

    monkeypatch.setattr(module, "_violations", fails_on_the_main_thread)
    found = rules("import numpy as np\ndef corr1d(x, h):\n    return np.convolve(x, h)")
    assert list(found) == ["corr1d"]

    def always_fails(cells, assignment):
        raise SystemError("AST constructor recursion depth mismatch")

    monkeypatch.setattr(module, "_violations", always_fails)
    assert rules("def corr1d(x, h):\n    return x") == {}  # never a crash of the batch


FFT_CORR1D = ("import numpy as np",
              "def corr1d(x, h):\n    n = len(x) + len(h) - 1\n"
              "    y = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(h, n)), n)\n"
              "    return y[:len(x) - len(h) + 1]")
FFT_CONV2D = ("from numpy.fft import rfft2 as transform",
              "def fft_conv2d(x, weight, bias=None, stride=1, padding=0):\n"
              "    return transform(x)")


def test_the_fft_is_allowed_where_the_catalog_says_and_forbidden_before():
    from autograder import catalog

    assert "numpy.fft" in catalog.allowed_calls("08_fast_conv")
    assert "numpy.fft" not in catalog.allowed_calls("04_toeplitz")
    found = rules(*FFT_CORR1D)["corr1d"]
    assert {(v.rule, v.name) for v in found} == {("forbidden_call", "numpy.fft.irfft"),
                                                  ("forbidden_call", "numpy.fft.rfft")}
    assert all("`np.fft` comes in 05_equivariance" in v.message for v in found)
    assert rules(*FFT_CONV2D, assignment="08_fast_conv") == {}
    (v,) = rules(FFT_CONV2D[0], FFT_CONV2D[1].replace("fft_conv2d", "conv2d_im2col"),
                 assignment="04_toeplitz")["conv2d_im2col"]
    assert v.name == "numpy.fft.rfft2"  # resolved through the import alias


def test_check_applies_the_same_fft_rule_as_grading():
    """`check()` reads the function as grading reads the notebook, and trips at run time."""
    import numpy as np

    from autograder.cases import PUBLIC_SEED, generate_cases
    from autograder.check import guarded_call

    def corr1d(x, h):
        n = len(x) + len(h) - 1
        return np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(h, n)), n)[:len(x) - 2]

    assert {v.name for v in violations_of_function("corr1d", corr1d)} == {
        "numpy.fft.irfft", "numpy.fft.rfft"}
    case = generate_cases("corr1d", PUBLIC_SEED, public=True)[0]
    outcome = guarded_call(case, corr1d)
    assert (outcome.status, outcome.forbidden_call) == ("forbidden", "numpy.fft.rfft")

    def winograd_f23(x, g):  # an FFT answer, allowed in 08
        n = len(x)
        return np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(g, n)), n)[:n - 2]

    assert violations_of_function("winograd_f23", winograd_f23) == []
    case = generate_cases("winograd_f23", PUBLIC_SEED, public=True)[0]
    assert guarded_call(case, winograd_f23).status == "ok"
    assert np.fft.rfft.__module__.startswith("numpy")  # the tripwires were put back


def test_the_catalog_the_scan_and_the_tripwires_guard_the_same_modules():
    from autograder import catalog
    from autograder.execution import tripwires
    from autograder.intake import scan

    assert set(catalog.ALLOWED_FROM) == set(tripwires.GUARDED) == set(scan._GUARDED)
    for module, first in catalog.ALLOWED_FROM.items():
        assert first in catalog.ASSIGNMENTS
        before = catalog.ASSIGNMENTS[catalog.ASSIGNMENTS.index(first) - 1]
        assert module in catalog.allowed_calls(first)
        assert module not in catalog.allowed_calls(before)
        # the scan's reason names the assignment the catalog names
        assert all(first in reason for _, reason in scan._GUARDED[module])
