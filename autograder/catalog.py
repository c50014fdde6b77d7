"""The exercise catalog: every function students write, its assignment and points.

This table is the course specification (COURSE_SPEC.md) in code. Notebooks,
the reference package and the grader all follow it; tests check that each
solution notebook has exactly one solution cell and one check cell per entry,
with these points.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One graded function.

    Attributes
    ----------
    name : str
        The function name students define (and the `check(name, fn)` key).
    assignment : str
        The assignment folder, e.g. ``"01_conv1d"``.
    points : int
        Points for the function, split evenly over its cases.
    signature : str
        The signature students implement, as shown in the notebook.
    checks_errors : bool
        Marked (E) in the catalog: bad arguments must raise ``ValueError``.
    question : bool
        A self-test question: a function without arguments that returns the
        answer (`autograder.cases.questions`), not a computation.
    """

    name: str
    assignment: str
    points: int
    signature: str
    checks_errors: bool = False
    question: bool = False


def _q(assignment: str, name: str) -> Problem:
    """A self-test question: one point, no arguments."""
    return Problem(name, assignment, 1, f"{name}()", question=True)


def _p(assignment: str, points: int, signature: str, checks_errors: bool = False) -> Problem:
    return Problem(signature.split("(")[0], assignment, points, signature, checks_errors)


PROBLEMS: tuple[Problem, ...] = (
    # 01_conv1d (17 points)
    _p("01_conv1d", 2, "conv_output_length(n, k, stride=1, padding=0, dilation=1)", True),
    _q("01_conv1d", "q_output_length"),
    _p("01_conv1d", 2, "corr1d(x, h)"),
    _p("01_conv1d", 3, "conv1d_single(x, h, bias=0.0, stride=1, padding=0)"),
    _p("01_conv1d", 5, "conv1d(x, weight, bias=None, stride=1, padding=0)", True),
    _p("01_conv1d", 3, "fir_filter(x, h)"),
    _q("01_conv1d", "q_conv_properties"),
    # 02_conv2d (13 points)
    _p("02_conv2d", 2, "corr2d(X, K)"),
    _p("02_conv2d", 3, 'pad2d(x, padding, mode="zeros")'),
    _q("02_conv2d", "q_same_padding"),
    _p(
        "02_conv2d", 6,
        'conv2d(x, weight, bias=None, stride=1, padding=0, padding_mode="zeros")', True,
    ),
    _q("02_conv2d", "q_conv2d_output_shape"),
    # 03_one_by_one (10 points)
    _p("03_one_by_one", 3, "conv1x1(x, weight, bias=None)"),
    _p("03_one_by_one", 2, "conv2d_param_count(c_in, c_out, kernel_size, bias=True, groups=1)"),
    _p("03_one_by_one", 4, "network_stats(layers, input_shape)", True),
    _q("03_one_by_one", "q_double_resolution"),
    # 04_toeplitz (18 points)
    _p("04_toeplitz", 4, "filter_matrix(h, n, stride=1, padding=0)"),
    _p("04_toeplitz", 3, "data_matrix(x, k, stride=1, padding=0)"),
    _p("04_toeplitz", 4, "im2col(x, kernel_size, stride=1, padding=0, dilation=1)"),
    _p("04_toeplitz", 3, "conv2d_im2col(x, weight, bias=None, stride=1, padding=0)"),
    _p("04_toeplitz", 4, "doubly_block_toeplitz(K, H, W)"),
    # 05_equivariance (16 points)
    _p("05_equivariance", 2, "shift(x, k=1, circular=True)"),
    _p("05_equivariance", 2, "shift_matrix(n, k=1)"),
    _p("05_equivariance", 2, "circular_conv1d(x, w)"),
    _p("05_equivariance", 3, "circulant(w, n)"),
    _p("05_equivariance", 2, "equivariance_gap(f, x, k=1)"),
    _q("05_equivariance", "q_equivariant_padding"),
    _q("05_equivariance", "q_breaks_equivariance"),
    _p("05_equivariance", 3, "circulant_eigenvalues(w, n)"),
    # 06_variants (26 points)
    _p("06_variants", 2, "dilate_kernel(w, dilation)"),
    _p(
        "06_variants", 5,
        "conv2d_general(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)", True,
    ),
    _p(
        "06_variants", 3,
        "depthwise_separable_conv2d(x, depthwise, pointwise, stride=1, padding=0)",
    ),
    _p("06_variants", 4, "conv_transpose1d(x, weight, stride=1, padding=0)"),
    _q("06_variants", "q_transposed_equivalent"),
    _p("06_variants", 4, "conv_transpose2d(x, weight, bias=None, stride=1, padding=0)"),
    _q("06_variants", "q_output_padding"),
    _p("06_variants", 2, "max_pool2d(x, kernel_size, stride=None, padding=0)"),
    _p("06_variants", 2, "avg_pool2d(x, kernel_size, stride=None, padding=0)"),
    _p("06_variants", 2, "receptive_field(layers)"),
    # 07_backward (10 points)
    _p("07_backward", 6, "conv2d_backward(dout, x, weight, stride=1, padding=0)"),
    _p("07_backward", 2, "numeric_gradient(f, x, h=1e-6)"),
    _p("07_backward", 2, "train_digits(X_train, y_train, seed=0)"),
    # 08_fast_conv (17 points)
    _p("08_fast_conv", 3, "conv_work(x_shape, w_shape, stride=1, padding=0)", True),
    _p("08_fast_conv", 5, "fft_conv2d(x, weight, bias=None, stride=1, padding=0)"),
    _p("08_fast_conv", 2, "winograd_f23(x, g)"),
    _p("08_fast_conv", 3, "winograd_tile(d, g)"),
    _p("08_fast_conv", 4, "winograd_conv2d(x, weight, bias=None, padding=0)"),
)

# What `train_digits` returns: the trained parameters of notebook 07's network on 8x8
# digits, by name and shape (conv 3x3 x16, ReLU, pool; conv 3x3 x32, ReLU, pool; linear).
# The grader runs the network on them itself (`autograder.scoring.network`).
DIGITS_PARAMETERS: dict[str, tuple[int, ...]] = {
    "w1": (16, 1, 3, 3), "b1": (16,),
    "w2": (32, 16, 3, 3), "b2": (32,),
    "w3": (128, 10), "b3": (10,),
}

ASSIGNMENTS: tuple[str, ...] = tuple(dict.fromkeys(p.assignment for p in PROBLEMS))

# NumPy modules graded code may call from an assignment on; before it, a call is forbidden
# like a library convolution (`autograder.intake.scan.rules_for` and the tripwires that
# `autograder.execution.tripwires.forbidden_for` lists, in `check()` and in grading alike).
# Each computes convolution windows or a whole convolution in one call: stride tricks come
# with im2col (04), the FFT with the DFT (05); 08_fast_conv builds its FFT convolution on it.
ALLOWED_FROM: dict[str, str] = {
    "numpy.lib.stride_tricks": "04_toeplitz",
    "numpy.fft": "05_equivariance",
}


def _number(assignment: str) -> int | None:
    head = assignment.split("_", 1)[0]
    return int(head) if head.isdigit() else None


def allowed_calls(assignment: str) -> tuple[str, ...]:
    """The modules of `ALLOWED_FROM` that `assignment` allows, by its leading number.

    >>> allowed_calls("03_one_by_one"), allowed_calls("08_fast_conv")
    ((), ('numpy.lib.stride_tricks', 'numpy.fft'))
    """
    number = _number(assignment)
    return tuple(module for module, first in ALLOWED_FROM.items()
                 if number is not None and number >= _number(first))


def problems_for(assignment: str) -> tuple[Problem, ...]:
    """The problems of one assignment, in notebook order."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(
            f"problems_for: unknown assignment {assignment!r}; "
            f"expected one of {', '.join(ASSIGNMENTS)}"
        )
    return tuple(p for p in PROBLEMS if p.assignment == assignment)


def problem(name: str) -> Problem:
    """Look a problem up by its function name."""
    for p in PROBLEMS:
        if p.name == name:
            return p
    raise ValueError(
        f"problem: no graded function named {name!r}; "
        f"expected one of {', '.join(p.name for p in PROBLEMS)}"
    )


def max_score(assignment: str) -> int:
    """Total points of an assignment."""
    return sum(p.points for p in problems_for(assignment))
