"""Cases and known mistakes for the transposed convolutions of 06_variants.

Weights are PyTorch's ``(C_in, C_out, K...)``. `stride` and `padding` go by
keyword: the catalog's ``conv_transpose1d(x, weight, stride, padding)`` has no
bias, unlike the reference's signature.
"""

from __future__ import annotations

import numpy as np

from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun


def _draw(rng, spatial: int):
    """Inputs of a random transposed convolution with an output of at least 1 per axis."""
    batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    size = tuple(int(rng.integers(2, 6)) for _ in range(spatial))
    k = tuple(int(rng.integers(1, 4)) for _ in range(spatial))
    s = int(rng.integers(1, 4))
    p = int(rng.integers(0, 2))
    # L_out = (L-1)*s - 2p + K must stay >= 1
    p = p if all((n - 1) * s - 2 * p + kk >= 1 for n, kk in zip(size, k, strict=True)) else 0
    text = (f"x {'x'.join(map(str, (*batch, c_in, *size)))}, weight "
            f"{'x'.join(map(str, (c_in, c_out, *k)))}, stride={s}, padding={p}")
    return randn(rng, *batch, c_in, *size), randn(rng, c_in, c_out, *k), s, p, text


def conv_transpose1d(cs: CaseSet, rng) -> None:
    cs.example("[1,2,3] with kernel [1,1], stride 2", (np.array([[1.0, 2.0, 3.0]]),
                                                        np.ones((1, 1, 2))), {"stride": 2})
    cs.example("slides' kernel [1,0,-1] on [1,2]: filter_matrix(h, 4).T @ x",
               (np.array([[1.0, 2.0]]), np.array([[[1.0, 0.0, -1.0]]])))
    cs.example("2 to 2 channels, batch of 2, kernel of 3, stride 2, padding 1",
               (fixed(71, 2, 2, 4), fixed(72, 2, 2, 3)), {"stride": 2, "padding": 1})
    cs.example("2 to 3 channels, kernel of 2", (fixed(73, 2, 3), fixed(74, 2, 3, 2)))
    for i in range(cs.n(2, 6)):
        x, w, s, p, text = _draw(rng, 1)
        cs.random(f"random {i + 1}: {text}", (x, w), {"stride": s, "padding": p})
    cs.edge("kernel of size 1, stride 3", (randn(rng, 2, 3), randn(rng, 2, 2, 1)), {"stride": 3})
    cs.edge("one input value", (randn(rng, 1, 1, 1), randn(rng, 1, 2, 3)))
    cs.edge("padding 1, stride 2", (randn(rng, 2, 4), randn(rng, 2, 2, 3)),
            {"stride": 2, "padding": 1})
    cs.edge("as many input as output channels", (randn(rng, 2, 2, 4), randn(rng, 2, 2, 2)),
            {"stride": 2})


def conv_transpose2d(cs: CaseSet, rng) -> None:
    cs.example("2x2 ones kernel, stride 2: each input becomes a 2x2 block",
               (np.arange(1.0, 5.0).reshape(1, 2, 2), np.ones((1, 1, 2, 2))), {"stride": 2})
    cs.example("2 to 3 channels, 3x2 kernel, stride 2, padding 1, bias",
               (fixed(75, 2, 3, 3), fixed(76, 2, 3, 3, 2), fixed(77, 3)),
               {"stride": 2, "padding": 1})
    for i in range(cs.n(2, 6)):
        x, w, s, p, text = _draw(rng, 2)
        bias = randn(rng, w.shape[1]) if rng.random() < 0.6 else None
        cs.random(f"random {i + 1}: {text}", (x, w, bias), {"stride": s, "padding": p})
    cs.edge("1x1 kernel, stride 2", (randn(rng, 2, 2, 3), randn(rng, 2, 1, 1, 1), None),
            {"stride": 2})
    cs.edge("non-square kernel, padding 1", (randn(rng, 1, 1, 3, 4), randn(rng, 1, 2, 3, 2),
                                             randn(rng, 2)), {"padding": 1})
    cs.edge("as many input as output channels", (randn(rng, 2, 3, 3), randn(rng, 2, 2, 2, 2),
                                                 randn(rng, 2)), {"stride": 2})


def _cropped_one_side(spatial: int, side: str):
    """The full (uncropped) output with 2*padding removed from one side of each axis."""
    def fn(case: Case):
        p = bound(case)["padding"]
        if p == 0:
            return None
        full = np.asarray(rerun(case, padding=0))
        cut = slice(2 * p, None) if side == "left" else slice(0, -2 * p)
        return full[(Ellipsis, *[cut] * spatial)]
    return Mistake("cropped_one_side", f"Your output crops all the padding from the {side} side.",
                   "padding=p removes p entries from BOTH ends of the full output.", fn)


def _mistakes(spatial: int) -> list[Mistake]:
    axes = tuple(range(-spatial, 0))
    return [
        m.flipped_kernel("weight", axes, m.TRANSPOSED_FLIP_TITLE, m.TRANSPOSED_FLIP_HINT),
        # The convolution's mistake the other way round: its values (square
        # weights) are the same swap, its shape has weight.shape[0] channels.
        Mistake("weight_axes_swapped", "Your output reads the weight as `(C_out, C_in, ...)`.",
                "Transposed convolution weights are `(C_in, C_out, ...)`, as PyTorch's: the "
                "output has `weight.shape[1]` channels.",
                m.swapped_weight(), m.channels_from_weight_axis(0, spatial)),
        Mistake("padding_not_cropped", "Your output is the full output, without removing the "
                "padding.", "In a transposed convolution padding=p CROPS p entries from each "
                "end: `L_out = (L-1)*stride - 2*p + K`.",
                lambda case: None if bound(case)["padding"] == 0 else rerun(case, padding=0)),
        _cropped_one_side(spatial, "left"), _cropped_one_side(spatial, "right"),
        m.stride_ignored(),
    ]


GENERATORS = {"conv_transpose1d": conv_transpose1d, "conv_transpose2d": conv_transpose2d}
MISTAKES = {"conv_transpose1d": _mistakes(1),
            "conv_transpose2d": [*_mistakes(2), m.bias_ignored()]}
