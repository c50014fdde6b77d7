"""Cases and known mistakes for 05_equivariance: shifts, circulants and their spectrum.

Worked examples: ``x=[1,2,3,4]`` shifted by one (``[4,1,2,3]``), the slides'
``h=[1,0,-1]`` as a circular convolution and a circulant, and its eigenvalues
``[0, -2j, 0, 2j]`` for ``n=4``.
"""

from __future__ import annotations

import numpy as np

import conv_ref
from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun
from autograder.execution.functions import build_function
from autograder.execution.outcome import FunctionSpec

X4, H3 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])


def _odd_kernel(rng) -> np.ndarray:
    return randn(rng, int(rng.choice([1, 3, 3, 5])))


# ----------------------------------------------------------------------------- shift


def shift(cs: CaseSet, rng) -> None:
    cs.example("x=[1,2,3,4], k=1", (X4, 1))
    cs.example("x=[1,2,3,4], k=1, zeros enter", (X4, 1), {"circular": False})
    cs.example("x=[1,2,3,4], k=-1", (X4, -1))
    cs.example("x=[1,2,3,4], k=-1, zeros enter", (X4, -1), {"circular": False})
    cs.example("2 signals of 5, k=2", (fixed(51, 2, 5), 2))
    cs.example("2 signals of 5, k=-2, zeros enter", (fixed(52, 2, 5), -2), {"circular": False})
    for i in range(cs.n(2, 6)):
        lead = (int(rng.integers(1, 4)),) if rng.random() < 0.4 else ()
        n = int(rng.integers(3, 9))
        k, circular = int(rng.integers(-n + 1, n)), bool(rng.random() < 0.5)
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*lead, n)))}, k={k}, "
                  f"circular={circular}", (randn(rng, *lead, n), k), {"circular": circular})
    cs.edge("k=0", (randn(rng, 5), 0))
    cs.edge("k larger than n, circular", (randn(rng, 4), 6))
    cs.edge("k larger than n, zeros enter", (randn(rng, 4), -6), {"circular": False})
    cs.edge("2D input, shift along the last axis", (randn(rng, 3, 5), 2))
    cs.edge("2D input, zeros enter", (randn(rng, 2, 4), -1), {"circular": False})


def _first_axis(case: Case):
    args = bound(case)
    x = np.asarray(args["x"])
    if x.ndim < 2 or not args["circular"]:
        return None
    return np.roll(x, args["k"], axis=0)


SHIFT_MISTAKES = [
    Mistake("shift_wrong_direction", "Your output is shifted the other way.",
            "A shift by k moves entries RIGHT: `y[i] = x[i - k]` (`np.roll(x, k)`).",
            lambda case: rerun(case, k=-bound(case)["k"])),
    Mistake("wrapped_instead_of_zeros", "Your output wraps around although circular=False.",
            "With circular=False the entries that leave are dropped and zeros enter.",
            lambda case: None if bound(case)["circular"] else rerun(case, circular=True)),
    Mistake("zeros_instead_of_wrap", "Your output lets zeros in although circular=True.",
            "With circular=True the entries that leave on one side come back on the other.",
            lambda case: rerun(case, circular=False) if bound(case)["circular"] else None),
    Mistake("shifted_first_axis", "Your output is shifted along the first axis.",
            "Shift the LAST axis: np.roll(x, k, axis=-1).", _first_axis),
]


def shift_matrix(cs: CaseSet, rng) -> None:
    cs.example("n=4, k=1", (4, 1))
    cs.example("n=4, k=-1", (4, -1))
    for i in range(cs.n(1, 4)):
        n = int(rng.integers(2, 9))
        k = int(rng.integers(-n, n + 1))
        cs.random(f"random {i + 1}: n={n}, k={k}", (n, k))
    cs.edge("n=1", (1, 1))
    cs.edge("k=0: the identity", (5, 0))
    cs.edge("k larger than n", (3, 5))


SHIFT_MATRIX_MISTAKES = [
    Mistake("shift_wrong_direction", "Your matrix shifts the other way: it is S.T.",
            "S @ x must equal shift(x, k): row i has its 1 in column (i - k) % n.",
            lambda case: rerun(case, k=-bound(case)["k"])),
]

# ----------------------------------------------------------------------------- circular convolution


def circular_conv1d(cs: CaseSet, rng) -> None:
    cs.example("slides' kernel h=[1,0,-1] on x=[1,2,3,4]", (X4, H3))
    cs.example("even kernel of 4 taps, n=6", (fixed(53, 6), fixed(54, 4)))
    cs.example("kernel of 5 taps longer than the signal, n=3", (fixed(55, 3), fixed(56, 5)))
    for i in range(cs.n(2, 6)):
        n = int(rng.integers(3, 10))
        cs.random(f"random {i + 1}: n={n}", (randn(rng, n), _odd_kernel(rng)))
    cs.edge("kernel of size 1", (randn(rng, 5), randn(rng, 1)))
    cs.edge("even kernel", (randn(rng, 6), randn(rng, 4)))
    cs.edge("kernel longer than the signal", (randn(rng, 3), randn(rng, 5)))
    cs.edge("batch of signals (2, 5)", (randn(rng, 2, 5), randn(rng, 3)))


def _not_centred(case: Case):
    c = len(bound(case)["w"]) // 2
    return np.roll(case.expected, -c, axis=-1) if c else None


def _zero_padded(case: Case):
    args = bound(case)
    x, w = np.asarray(args["x"]), np.asarray(args["w"])
    if x.ndim != 1 or len(w) % 2 == 0 or len(w) > len(x):
        return None
    return conv_ref.conv1d_single(x, w, padding=len(w) // 2)


CIRCULAR_MISTAKES = [
    m.flipped_kernel("w", (-1,)),
    Mistake("not_centred", "Your output is not centred: it uses `x[(i + j) % n]` instead of "
            "`x[(i + j - len(w)//2) % n]`.", "The middle tap `w[len(w)//2]` multiplies `x[i]`.",
            _not_centred),
    Mistake("zero_padded", "Your output uses zero padding at the borders instead of wrapping.",
            "Circular: index (i + j - len(w)//2) % n wraps around the ends.", _zero_padded),
]


def circulant(cs: CaseSet, rng) -> None:
    cs.example("slides' kernel h=[1,0,-1], n=4", (H3, 4))
    cs.example("kernel of 5 taps, n=3: taps that land on the same column add up",
               (fixed(57, 5), 3))
    cs.example("even kernel of 2 taps, n=5", (fixed(58, 2), 5))
    for i in range(cs.n(2, 5)):
        cs.random(f"random {i + 1}", (_odd_kernel(rng), int(rng.integers(3, 8))))
    cs.edge("kernel of size 1", (randn(rng, 1), 4))
    cs.edge("even kernel", (randn(rng, 2), 5))
    cs.edge("kernel longer than n", (randn(rng, 5), 3))


def _circulant_not_centred(case: Case):
    c = len(bound(case)["w"]) // 2
    return np.roll(case.expected, c, axis=1) if c else None


CIRCULANT_MISTAKES = [
    Mistake("circulant_convolution", "Your matrix is the circulant of a convolution (the kernel "
            "flipped, which is also C transposed).",
            "`C @ x` must equal `circular_conv1d(x, w)`: cross-correlation, "
            "`C[i, (i + j - len(w)//2) % n] = w[j]`.",
            lambda case: rerun(case, w=np.asarray(bound(case)["w"])[::-1])),
    Mistake("circulant_transposed", "Your matrix is the transpose of the right one.",
            "Row i of C computes output i.", lambda case: np.asarray(case.expected).T),
    Mistake("not_centred", "Your matrix is not centred: `w[0]` is on the main diagonal.",
            "The middle tap `w[len(w)//2]` is on the main diagonal.", _circulant_not_centred),
]

# ----------------------------------------------------------------------------- equivariance gap


def _spec(rng, kind: str) -> FunctionSpec:
    return FunctionSpec(kind, {} if kind == "relu" else {"w": _odd_kernel(rng)})


def equivariance_gap(cs: CaseSet, rng) -> None:
    cs.example("circular convolution with [1,0,-1]: gap 0",
               (FunctionSpec("circular_conv", {"w": H3}), X4))
    cs.example("zero-padded convolution with [1,0,-1]: gap > 0",
               (FunctionSpec("zero_pad_conv", {"w": H3}), X4))
    cs.example("decreasing signal [4,3,2,1] with zero-padded [1,0,-1]",
               (FunctionSpec("zero_pad_conv", {"w": H3}), X4[::-1].copy()))
    kinds = ("circular_conv", "zero_pad_conv", "relu")
    for i in range(cs.n(2, 6)):
        kind, n = kinds[i % 3], int(rng.integers(4, 10))
        k = int(rng.integers(-n + 1, n))
        cs.random(f"random {i + 1}: f={kind}, n={n}, k={k}", (_spec(rng, kind), randn(rng, n), k))
    cs.edge("k=0", (_spec(rng, "zero_pad_conv"), randn(rng, 5), 0))
    cs.edge("k=n", (_spec(rng, "zero_pad_conv"), randn(rng, 5), 5))


def _gap(case: Case, zeros=False, back=1, reduce=np.max, absolute=True):
    """The gap with one misunderstanding: zero shifts, opposite shifts, another reduction."""
    args = bound(case)
    f, x, k = build_function(args["f"]), np.asarray(args["x"], dtype=float), args["k"]
    diff = f(conv_ref.shift(x, k, circular=not zeros)) - conv_ref.shift(
        f(x), back * k, circular=not zeros)
    return float(reduce(np.abs(diff) if absolute else diff))


GAP_MISTAKES = [
    Mistake("shift_directions_mismatch", "Your gap shifts f(x) the opposite way to x.",
            "Compare f(shift(x, k)) with shift(f(x), k): the same k on both sides.",
            lambda case: _gap(case, back=-1)),
    Mistake("zero_shift", "Your gap uses shifts that let zeros in.",
            "Use circular shifts (np.roll): then circular convolution has gap exactly 0.",
            lambda case: _gap(case, zeros=True)),
    Mistake("no_abs", "Your gap is the largest signed difference, not the largest `|difference|`.",
            "Take np.abs before np.max.", lambda case: _gap(case, absolute=False)),
    Mistake("sum_instead_of_max", "Your gap sums the differences instead of taking the largest.",
            "The gap is `max |f(shift(x, k)) - shift(f(x), k)|`.",
            lambda case: _gap(case, reduce=np.sum)),
]

# ----------------------------------------------------------------------------- eigenvalues


def circulant_eigenvalues(cs: CaseSet, rng) -> None:
    cs.example("slides' kernel h=[1,0,-1], n=4", (H3, 4))
    cs.example("non-symmetric kernel of 3 taps, n=5", (fixed(59, 3), 5))
    cs.example("even kernel of 4 taps, n=6", (fixed(60, 4), 6))
    for i in range(cs.n(2, 5)):
        cs.random(f"random {i + 1}", (_odd_kernel(rng), int(rng.integers(3, 9))))
    cs.edge("kernel of size 1", (randn(rng, 1), 4))
    cs.edge("even kernel", (randn(rng, 4), 6))
    cs.edge("n=1", (randn(rng, 3), 1))


def _uncentred_eigenvalues(case: Case):
    w, n = np.asarray(bound(case)["w"], dtype=float), bound(case)["n"]
    if len(w) < 2:
        return None
    return n * np.fft.ifft(np.bincount(np.arange(len(w)) % n, weights=w, minlength=n))


def _eigvals_order(case: Case):
    args = bound(case)
    return np.linalg.eigvals(conv_ref.circulant(np.asarray(args["w"], dtype=float), args["n"]))


EIGEN_MISTAKES = [
    Mistake("eigenvalues_unordered", "Your eigenvalues are those of `np.linalg.eigvals`: the "
            "right values in no particular order.", "`lam[m]` must belong to the Fourier mode "
            "`m` (column m of F): compute `lam = n * np.fft.ifft(c)` from C's first row `c`, "
            "or the sum `lam[m] = sum_t c[t] * exp(2j*pi*m*t/n)`.", _eigvals_order),
    Mistake("eigenvalues_conjugated", "Your eigenvalues are the complex conjugates of the right "
            "ones (`np.fft.fft` where `n * np.fft.ifft` is needed, or the other sign convention).",
            "With `F[t, m] = exp(+2j*pi*m*t/n)`, "
            "`lam[m] = sum_t c[t] * exp(+2j*pi*m*t/n) = n * np.fft.ifft(c)[m]`, "
            "`c` being C's first row.",
            lambda case: np.conj(case.expected)),
    Mistake("missing_factor_n", "Your eigenvalues are n times too small.",
            "`np.fft.ifft` divides by `n`: `lam = n * np.fft.ifft(c)`.",
            lambda case: np.asarray(case.expected) / bound(case)["n"]),
    Mistake("kernel_not_centred", "Your eigenvalues are those of the circulant with `w[0]` on "
            "the diagonal.", "C's first row c has `w[j]` at column `(j - len(w)//2) % n`.",
            _uncentred_eigenvalues),
]

GENERATORS = {
    "shift": shift, "shift_matrix": shift_matrix, "circular_conv1d": circular_conv1d,
    "circulant": circulant, "equivariance_gap": equivariance_gap,
    "circulant_eigenvalues": circulant_eigenvalues,
}
MISTAKES = {
    "shift": SHIFT_MISTAKES, "shift_matrix": SHIFT_MATRIX_MISTAKES,
    "circular_conv1d": CIRCULAR_MISTAKES, "circulant": CIRCULANT_MISTAKES,
    "equivariance_gap": GAP_MISTAKES, "circulant_eigenvalues": EIGEN_MISTAKES,
}
