"""Cases and known mistakes for 01_conv1d: output size, corr1d, conv1d_single, conv1d.

Worked examples: the slides' ``x=[1,2,3,4]``, ``h=[1,0,-1]`` -> ``[-2,-2]`` and
the blog's ``[2,3,4]`` with kernel sizes 1 and 2, stride 2 and padding 1.
"""

from __future__ import annotations

import numpy as np

from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn

X_SLIDES, H_SLIDES = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
X_BLOG = np.array([2.0, 3.0, 4.0])
W_BLOG, B_BLOG = np.array([0.5, -1.0]), 0.25  # the blog's weights are random; these are exact


def _draw_1d(rng, max_k: int = 5) -> tuple[int, int, int, int]:
    """``(L, K, stride, padding)`` with at least one output position."""
    while True:
        L, K = int(rng.integers(3, 13)), int(rng.integers(1, max_k + 1))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if K <= L + 2 * p:
            return L, K, s, p


# ----------------------------------------------------------------------------- conv_output_length


def conv_output_length(cs: CaseSet, rng) -> None:
    cs.example("slides: n=4, k=3", (4, 3), kind="exact")
    cs.example("2D example: n=4, k=2", (4, 2), kind="exact")
    cs.example("blog: n=3, k=2, stride=2, padding=1", (3, 2), {"stride": 2, "padding": 1},
               kind="exact")
    for i in range(cs.n(2, 5)):
        while True:
            n, k = int(rng.integers(5, 33)), int(rng.integers(1, 8))
            s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 4)), int(rng.integers(1, 4))
            if d * (k - 1) + 1 <= n + 2 * p:
                break
        cs.random(f"random {i + 1}: n={n}, k={k}, stride={s}, padding={p}, dilation={d}",
                  (n, k), {"stride": s, "padding": p, "dilation": d}, kind="exact")
    cs.edge("kernel as long as the input: n=7, k=7", (7, 7), kind="exact")
    cs.edge("kernel of size 1: n=6, k=1, stride=4", (6, 1), {"stride": 4}, kind="exact")
    cs.edge("stride larger than the kernel: n=10, k=2, stride=3", (10, 2), {"stride": 3},
            kind="exact")
    cs.edge("large padding: n=3, k=2, padding=5", (3, 2), {"padding": 5}, kind="exact")
    cs.error("kernel longer than the padded input: n=3, k=5", (3, 5), public=True)
    cs.error("stride 0", (8, 3), {"stride": 0})
    cs.error("dilated kernel longer than the input: n=5, k=3, dilation=3", (5, 3), {"dilation": 3})


def _size(n, k, stride=1, padding=0, dilation=1, plus_one=1, ceil=False) -> int:
    span = n + 2 * padding - dilation * (k - 1) - 1
    return (-(-span // stride) if ceil else span // stride) + plus_one


def _size_variant(**change):
    def fn(case: Case):
        return _size(**{**bound(case), **change}) if case.kind == "exact" else None
    return fn


def _size_one_side(case: Case):
    b = bound(case)
    return _size(**{**b, "n": b["n"] - b["padding"]}) if case.kind == "exact" else None


SIZE_MISTAKES = [
    Mistake("missing_plus_one", "Your answer is one less than the right size: the +1 is missing.",
            "The first window also counts: `L_out = floor((n + 2*p - d*(k-1) - 1) / s) + 1`.",
            _size_variant(plus_one=0)),
    Mistake("padding_one_side", "Your answer adds the padding once instead of twice.",
            "padding=p adds p zeros on each side: the padded length is `n + 2*p`.", _size_one_side),
    Mistake("dilation_ignored", "Your answer ignores the dilation.",
            "A kernel of size k with dilation d spans `d*(k-1) + 1` input positions.",
            _size_variant(dilation=1)),
    Mistake("ceil_instead_of_floor", "Your answer rounds up instead of down.",
            "A window that does not fit completely is dropped: use floor division //.",
            _size_variant(ceil=True)),
    Mistake("stride_ignored", "Your answer is the size for stride 1.",
            "Divide the span by the stride before adding 1.", _size_variant(stride=1)),
]

# ----------------------------------------------------------------------------- corr1d


def corr1d(cs: CaseSet, rng) -> None:
    cs.example("slides: x=[1,2,3,4], h=[1,0,-1]", (X_SLIDES, H_SLIDES))
    cs.example("blog: x=[2,3,4], h=[0.5,-1]", (X_BLOG, W_BLOG))
    for i in range(cs.n(2, 5)):
        L, K, _, _ = _draw_1d(rng)
        K = min(K, L)
        cs.random(f"random {i + 1}: L={L}, K={K}", (randn(rng, L), randn(rng, K)))
    cs.edge("kernel of size 1", (randn(rng, 6), randn(rng, 1)))
    cs.edge("kernel as long as the input", (randn(rng, 5), randn(rng, 5)))
    cs.edge("integer inputs", (rng.integers(-5, 6, 9), rng.integers(-3, 4, 3)))


CORR1D_MISTAKES = [m.flipped_kernel("h", (-1,)), m.missing_plus_one(1)]

# ----------------------------------------------------------------------------- conv1d_single


def conv1d_single(cs: CaseSet, rng) -> None:
    cs.example("slides: x=[1,2,3,4], h=[1,0,-1]", (X_SLIDES, H_SLIDES))
    cs.example("blog: kernel size 1, w=0.5, bias=1", (X_BLOG, np.array([0.5]), 1.0))
    cs.example("blog: kernel size 2, stride 1", (X_BLOG, W_BLOG, B_BLOG))
    cs.example("blog: kernel size 2, stride 2", (X_BLOG, W_BLOG, B_BLOG), {"stride": 2})
    cs.example("blog: kernel size 2, stride 2, padding 1", (X_BLOG, W_BLOG, B_BLOG),
               {"stride": 2, "padding": 1})
    cs.example("padding 2, stride 3 on 8 values", (fixed(11, 8), fixed(12, 3), -0.5),
               {"stride": 3, "padding": 2})
    for i in range(cs.n(2, 6)):
        L, K, s, p = _draw_1d(rng)
        cs.random(f"random {i + 1}: L={L}, K={K}, stride={s}, padding={p}",
                  (randn(rng, L), randn(rng, K), float(randn(rng, 1)[0])),
                  {"stride": s, "padding": p})
    cs.edge("kernel of size 1, stride 3", (randn(rng, 7), randn(rng, 1), 0.5), {"stride": 3})
    cs.edge("kernel as long as the input", (randn(rng, 4), randn(rng, 4), -1.0))
    cs.edge("large padding: L=3, K=2, padding=4", (randn(rng, 3), randn(rng, 2), 0.0),
            {"padding": 4})
    cs.edge("stride larger than the kernel", (randn(rng, 11), randn(rng, 2), 0.1), {"stride": 4})


SINGLE_MISTAKES = [
    m.flipped_kernel("h", (-1,)), m.bias_ignored(), m.stride_ignored(),
    m.padding_one_side("x", 1, "left"), m.padding_one_side("x", 1, "right"), m.total_padding(),
    m.missing_plus_one(1),
]

# ----------------------------------------------------------------------------- conv1d


def conv1d(cs: CaseSet, rng) -> None:
    cs.example("slides: x=[[1,2,3,4]], weight=[[[1,0,-1]]]",
               (X_SLIDES[None], H_SLIDES[None, None]))
    cs.example("blog: kernel size 2, stride 2, padding 1, bias 0.25",
               (X_BLOG[None], W_BLOG[None, None], np.array([B_BLOG])), {"stride": 2, "padding": 1})
    for i in range(cs.n(3, 7)):
        L, K, s, p = _draw_1d(rng)
        c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        if i == 0:
            # As many input as output channels (the examples have one of each):
            # a weight read as (C_in, C_out, K) then gives wrong values, which
            # can be named, where other shapes mostly make it raise.
            c_in = c_out = max(c_in, 2)
        batch = (int(rng.integers(1, 4)),) if rng.random() < 0.6 else ()
        bias = randn(rng, c_out) if rng.random() < 0.7 else None
        shape = "x".join(map(str, (*batch, c_in, L)))
        cs.random(f"random {i + 1}: x {shape}, {c_out} output channels, K={K}, stride={s}, "
                  f"padding={p}", (randn(rng, *batch, c_in, L), randn(rng, c_out, c_in, K), bias),
                  {"stride": s, "padding": p})
    cs.edge("one channel, batch of 1", (randn(rng, 1, 1, 8), randn(rng, 2, 1, 3), randn(rng, 2)))
    cs.edge("as many input as output channels", (randn(rng, 2, 3, 7), randn(rng, 3, 3, 2),
                                                 randn(rng, 3)), {"padding": 1})
    cs.edge("kernel as long as the input", (randn(rng, 2, 5), randn(rng, 3, 2, 5), None))
    cs.edge("large padding", (randn(rng, 1, 3), randn(rng, 1, 1, 2), randn(rng, 1)),
            {"padding": 4})
    cs.edge("stride larger than the kernel", (randn(rng, 2, 2, 10), randn(rng, 2, 2, 2), None),
            {"stride": 3})
    cs.error("channel mismatch: x has 2 channels, weight expects 3",
             (randn(rng, 2, 6), randn(rng, 4, 3, 3)), public=True)
    cs.error("kernel longer than the padded input", (randn(rng, 1, 3), randn(rng, 1, 1, 6)))
    cs.error("stride 0", (randn(rng, 1, 6), randn(rng, 1, 1, 2)), {"stride": 0})


CONV1D_MISTAKES = [
    m.flipped_kernel("weight", (-1,)), m.bias_ignored(), m.bias_per_input_channel(),
    m.weight_axes_swapped("(C_out, C_in, K)", 1), m.stride_ignored(),
    m.padding_one_side("x", 1, "left"), m.padding_one_side("x", 1, "right"), m.total_padding(),
    m.missing_plus_one(1),
]

GENERATORS = {
    "conv_output_length": conv_output_length,
    "corr1d": corr1d,
    "conv1d_single": conv1d_single,
    "conv1d": conv1d,
}
MISTAKES = {
    "conv_output_length": SIZE_MISTAKES,
    "corr1d": CORR1D_MISTAKES,
    "conv1d_single": SINGLE_MISTAKES,
    "conv1d": CONV1D_MISTAKES,
}
