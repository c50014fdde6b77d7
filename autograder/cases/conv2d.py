"""Cases and known mistakes for 02_conv2d: corr2d, pad2d, conv2d.

Worked example: the worked-examples document's 4x4x2 input with three 2x2 kernels, whose first
output channel is ``Y1 = [[13,21,29],[19,27,35],[25,33,41]]``.
"""

from __future__ import annotations

import numpy as np

from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun

# The worked-examples document's input: channel A counts down the columns, channel B is the
# row number.
A_WORKED = np.arange(1.0, 17.0).reshape(4, 4).T
B_WORKED = np.repeat(np.arange(1.0, 5.0)[:, None], 4, axis=1)
X_WORKED = np.stack([A_WORKED, B_WORKED])  # (2, 4, 4)
W_WORKED = np.array([
    [[[1, 0], [0, 1]], [[1, 1], [1, 1]]],
    [[[0, 1], [1, 0]], [[0, 0], [0, 1]]],
    [[[1, 1], [1, 1]], [[-1, -1], [-1, -1]]],
], dtype=float)  # (C_out=3, C_in=2, 2, 2)

PAD_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}

# ----------------------------------------------------------------------------- corr2d


def corr2d(cs: CaseSet, rng) -> None:
    cs.example("worked examples: channel A with [[1,0],[0,1]]", (A_WORKED, W_WORKED[0, 0]))
    cs.example("worked examples: channel B with [[1,1],[1,1]]", (B_WORKED, W_WORKED[0, 1]))
    cs.example("non-symmetric 2x2 kernel [[1,2],[3,4]] on channel A",
               (A_WORKED, np.array([[1.0, 2.0], [3.0, 4.0]])))
    for i in range(cs.n(2, 5)):
        H, W = int(rng.integers(3, 9)), int(rng.integers(3, 9))
        kh, kw = int(rng.integers(1, min(H, 4) + 1)), int(rng.integers(1, min(W, 4) + 1))
        cs.random(f"random {i + 1}: X {H}x{W}, K {kh}x{kw}", (randn(rng, H, W), randn(rng, kh, kw)))
    cs.edge("kernel of size 1x1", (randn(rng, 4, 5), randn(rng, 1, 1)))
    cs.edge("kernel as large as the input", (randn(rng, 3, 4), randn(rng, 3, 4)))
    cs.edge("non-square input and kernel", (randn(rng, 3, 7), randn(rng, 2, 3)))
    cs.edge("integer inputs", (rng.integers(-5, 6, (5, 5)), rng.integers(-2, 3, (2, 2))))


def _transposed_kernel(case: Case):
    K = np.asarray(bound(case)["K"])
    return rerun(case, K=K.T) if K.shape[0] == K.shape[1] else None


CORR2D_MISTAKES = [
    m.flipped_kernel("K", (-2, -1)),
    Mistake("kernel_transposed",
            "Your output uses the kernel transposed (`K[j, i]` for `K[i, j]`).",
            "The first kernel index moves down the rows, the second along the columns.",
            _transposed_kernel),
    m.missing_plus_one(2),
]

# ----------------------------------------------------------------------------- pad2d


def _sides(padding) -> tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` of an int, ``(pH, pW)`` or 4-tuple padding."""
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        return tuple(padding)
    if isinstance(padding, (tuple, list)):
        return padding[1], padding[1], padding[0], padding[0]
    return (padding,) * 4


def pad2d(cs: CaseSet, rng) -> None:
    cs.example("(left, right, top, bottom) = (1, 0, 0, 1)",
               (np.arange(4.0).reshape(2, 2), (1, 0, 0, 1)))
    cs.example("replicate, padding 1", (np.arange(4.0).reshape(2, 2), 1), {"mode": "replicate"})
    forms = (lambda: int(rng.integers(1, 3)),
             lambda: (int(rng.integers(0, 3)), int(rng.integers(0, 3))),
             lambda: tuple(int(v) for v in rng.integers(0, 3, 4)))
    for i in range(cs.n(4, 8)):
        mode = PAD_MODES[i % 4]
        lead = [(), (int(rng.integers(1, 3)),), (1, 2)][int(rng.integers(0, 3))]
        H, W = int(rng.integers(3, 6)), int(rng.integers(3, 6))
        padding = forms[i % 3]()
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*lead, H, W)))}, padding={padding}, "
                  f"mode={mode!r}", (randn(rng, *lead, H, W), padding), {"mode": mode})
    cs.edge("reflect with the largest padding allowed", (randn(rng, 3, 4), (3, 3, 2, 2)),
            {"mode": "reflect"})
    cs.edge("circular, padding on one side only", (randn(rng, 2, 3, 3), (0, 2, 1, 0)),
            {"mode": "circular"})
    cs.edge("zero padding", (randn(rng, 1, 2, 2), 0), {"mode": "replicate"})


def _pad_variant(transform):
    """A mistake computed with np.pad from ``transform(x, sides, mode) -> (widths, np_mode)``."""
    def fn(case: Case):
        args = bound(case)
        x = np.asarray(args["x"], dtype=float)
        out = transform(x, _sides(args["padding"]), args["mode"])
        if out is None:
            return None
        widths, np_mode = out
        return np.pad(x, widths, mode=np_mode)
    return fn


def _widths(x, left, right, top, bottom):
    return [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]


PAD2D_MISTAKES = [
    Mistake("pad_order_swapped", "Your output pads the rows with (left, right) and the columns "
            "with (top, bottom).",
            "Like torch.nn.functional.pad, the tuple starts with the LAST axis: "
            "(left, right, top, bottom).",
            _pad_variant(lambda x, s, mode: (_widths(x, s[2], s[3], s[0], s[1]),
                                             _NUMPY_MODE[mode]))),
    Mistake("symmetric_instead_of_reflect", "Your output mirrors including the edge value "
            "(np.pad mode 'symmetric').",
            "'reflect' mirrors around the edge without repeating it: `[1,2,3]` -> `[2,1,2,3,2]`.",
            _pad_variant(lambda x, s, mode: (_widths(x, *s), "symmetric")
                         if mode == "reflect" else None)),
    Mistake("padded_all_axes", "Your output is padded along every axis, not only the last two.",
            "Pad only H and W: np.pad needs (0, 0) for the leading axes.",
            _pad_variant(lambda x, s, mode: ([(s[2], s[3])] * (x.ndim - 1) + [(s[0], s[1])],
                                             _NUMPY_MODE[mode]) if x.ndim > 2 else None)),
    Mistake("mode_ignored", "Your output is padded with zeros whatever the mode.",
            "Each mode fills differently: 'reflect' mirrors, 'replicate' repeats the edge, "
            "'circular' wraps around.",
            _pad_variant(lambda x, s, mode: (_widths(x, *s), "constant")
                         if mode != "zeros" else None)),
]

# ----------------------------------------------------------------------------- conv2d


def _draw_conv2d(rng, allow_same: bool = True) -> tuple[tuple, dict, str]:
    """Inputs of a random conv2d case and a short description."""
    batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    H, W = int(rng.integers(4, 8)), int(rng.integers(4, 8))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kwargs: dict = {}
    if allow_same and rng.random() < 0.25:
        kwargs["padding"] = "same"
    else:
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 4)))
        kwargs["stride"] = s[0] if rng.random() < 0.5 else s
        kwargs["padding"] = int(rng.integers(0, 3)) if rng.random() < 0.6 else (
            int(rng.integers(0, 2)), int(rng.integers(0, 3)))
    if kwargs["padding"] != 0 and rng.random() < 0.5:
        kwargs["padding_mode"] = PAD_MODES[int(rng.integers(1, 4))]
    bias = randn(rng, c_out) if rng.random() < 0.7 else None
    args = (randn(rng, *batch, c_in, H, W), randn(rng, c_out, c_in, kh, kw), bias)
    shape = "x".join(map(str, (*batch, c_in, H, W)))
    options = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return args, kwargs, f"x {shape}, weight {c_out}x{c_in}x{kh}x{kw}, {options}"


def conv2d(cs: CaseSet, rng) -> None:
    # Two kernels first: as many output as input channels, so that a weight
    # read as (C_in, C_out, kH, kW) gives wrong values, which can be named,
    # rather than the exception the three kernels mostly make it raise.
    cs.example("worked examples: 4x4x2 input, its first two 2x2 kernels", (X_WORKED, W_WORKED[:2]))
    cs.example("worked examples: 4x4x2 input, three 2x2 kernels", (X_WORKED, W_WORKED))
    cs.example("worked example as a batch of 1, with bias", (X_WORKED[None], W_WORKED,
                                                           np.array([1.0, 0.0, -1.0])))
    x, w = fixed(21, 2, 2, 5, 6), fixed(22, 2, 2, 2, 3)
    cs.example("stride (1, 2), padding (0, 1)", (x, w, np.array([0.5, -1.0])),
               {"stride": (1, 2), "padding": (0, 1)})
    cs.example("stride 2, padding (2, 1)", (x, w, None), {"stride": 2, "padding": (2, 1)})
    cs.example("'same' with an even 2x2 kernel", (x, fixed(23, 2, 2, 2, 2), None),
               {"padding": "same"})
    for mode in PAD_MODES[1:]:
        cs.example(f"padding 1, padding_mode={mode!r}", (x[0], w, None),
                   {"padding": 1, "padding_mode": mode})
    for i in range(cs.n(3, 8)):
        args, kwargs, text = _draw_conv2d(rng)
        cs.random(f"random {i + 1}: {text}", args, kwargs)
    cs.edge("1x1 kernel, stride 2", (randn(rng, 2, 5, 5), randn(rng, 3, 2, 1, 1), None),
            {"stride": 2})
    cs.edge("kernel as large as the input", (randn(rng, 1, 3, 4), randn(rng, 2, 1, 3, 4),
                                             randn(rng, 2)))
    cs.edge("'same' with an even kernel (extra padding bottom/right)",
            (randn(rng, 1, 2, 5, 6), randn(rng, 2, 2, 2, 4), None), {"padding": "same"})
    cs.edge("non-square stride and padding", (randn(rng, 2, 6, 7), randn(rng, 2, 2, 3, 2),
                                              randn(rng, 2)), {"stride": (2, 3), "padding": (1, 2)})
    cs.edge("large padding", (randn(rng, 1, 2, 2), randn(rng, 1, 1, 2, 2), None), {"padding": 3})
    cs.edge("as many input as output channels", (randn(rng, 3, 4, 4), randn(rng, 3, 3, 2, 2),
                                                 randn(rng, 3)), {"padding": 1})
    cs.edge("padding (1, 2), padding_mode='reflect'", (randn(rng, 2, 4, 5),
                                                       randn(rng, 1, 2, 3, 3), None),
            {"padding": (1, 2), "padding_mode": "reflect"})
    cs.error("channel mismatch: x has 3 channels, weight expects 2",
             (randn(rng, 3, 5, 5), randn(rng, 2, 2, 3, 3)), public=True)
    cs.error("kernel larger than the padded input", (randn(rng, 1, 3, 3), randn(rng, 1, 1, 4, 4)))
    cs.error("stride 0", (randn(rng, 1, 4, 4), randn(rng, 1, 1, 2, 2)), {"stride": 0})
    cs.error("padding='same' with stride 2", (randn(rng, 1, 4, 4), randn(rng, 1, 1, 3, 3)),
             {"stride": 2, "padding": "same"})


def _zeros_only(mistake: Mistake) -> Mistake:
    """`mistake` restricted to zero padding (its variant pads with zeros)."""
    def fn(case: Case):
        return mistake.fn(case) if bound(case)["padding_mode"] == "zeros" else None
    return Mistake(mistake.id, mistake.title, mistake.hint, fn)


def _same_extra_first(case: Case):
    args = bound(case)
    w = np.asarray(args["weight"])
    totals = [k - 1 for k in w.shape[-2:]]
    if args["padding"] != "same" or args["padding_mode"] != "zeros" or all(t % 2 == 0
                                                                          for t in totals):
        return None
    x = np.asarray(args["x"])
    pads = [(0, 0)] * (x.ndim - 2) + [(t - t // 2, t // 2) for t in totals]
    return rerun(case, x=np.pad(x, pads), padding=0)


def _axes_swapped(name: str):
    def fn(case: Case):
        value = bound(case)[name]
        if not isinstance(value, tuple) or value[0] == value[1]:
            return None
        return rerun(case, **{name: value[::-1]})
    return fn


def _mode_ignored(case: Case):
    return None if bound(case)["padding_mode"] == "zeros" else rerun(case, padding_mode="zeros")


CONV2D_MISTAKES = [
    m.flipped_kernel("weight", (-2, -1)), m.bias_ignored(), m.bias_per_input_channel(),
    m.weight_axes_swapped("(C_out, C_in, kH, kW)", 2), m.stride_ignored(),
    _zeros_only(m.padding_one_side("x", 2, "left")),
    _zeros_only(m.padding_one_side("x", 2, "right")),
    m.missing_plus_one(2),
    Mistake("same_extra_first", "Your 'same' padding puts the odd extra row/column at the "
            "top/left.",
            "PyTorch, and this course, put the extra element of 'same' padding at the "
            "bottom/right: `(k - 1) // 2` before, `k // 2` after.",
            _same_extra_first),
    Mistake("stride_axes_swapped", "Your output uses the stride (sH, sW) the wrong way round.",
            "stride=(sH, sW): the first value is for the rows (H), the second for the columns.",
            _axes_swapped("stride")),
    Mistake("padding_axes_swapped", "Your output uses the padding (pH, pW) the wrong way round.",
            "padding=(pH, pW): the first value pads the rows (top and bottom).",
            _axes_swapped("padding")),
    Mistake("padding_mode_ignored", "Your output is the one for `padding_mode='zeros'`.",
            "Pad the input with `pad2d(x, padding, mode=padding_mode)` first, then convolve "
            "without padding.", _mode_ignored),
]

GENERATORS = {"corr2d": corr2d, "pad2d": pad2d, "conv2d": conv2d}
MISTAKES = {"corr2d": CORR2D_MISTAKES, "pad2d": PAD2D_MISTAKES, "conv2d": CONV2D_MISTAKES}
