"""Cases and known mistakes for 06_variants: dilated kernels, grouped and separable convolutions.

Transposed convolutions are in `transposed.py`, pooling and receptive fields in `pooling.py`.
"""

from __future__ import annotations

import numpy as np

import conv_ref
from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun
from autograder.cases.conv2d import W_WORKED, X_WORKED


def _shape(*dims) -> str:
    return "x".join(map(str, dims))


def _batch(rng) -> tuple[int, ...]:
    return (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()


# ----------------------------------------------------------------------------- dilate_kernel


def dilate_kernel(cs: CaseSet, rng) -> None:
    cs.example("[[1,2],[3,4]] with dilation 2", (np.arange(1.0, 5.0).reshape(2, 2), 2))
    cs.example("2 kernels of 2x3 with dilation (1, 2)", (fixed(61, 2, 2, 3), (1, 2)))
    for i in range(cs.n(2, 5)):
        lead = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if rng.random() < 0.4 else ()
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        d = int(rng.integers(2, 4)) if rng.random() < 0.5 else (int(rng.integers(1, 4)),
                                                                  int(rng.integers(1, 4)))
        cs.random(f"random {i + 1}: w {_shape(*lead, kh, kw)}, dilation={d}",
                  (randn(rng, *lead, kh, kw), d))
    cs.edge("dilation 1: unchanged", (randn(rng, 3, 3), 1))
    cs.edge("1x1 kernel", (randn(rng, 1, 1), 3))
    cs.edge("dilation (1, 3)", (randn(rng, 2, 2), (1, 3)))


def _dilations(case: Case) -> tuple[int, int]:
    d = bound(case)["dilation"]
    return (d, d) if isinstance(d, int) else tuple(d)


def _trailing_zeros(case: Case):
    w, (dh, dw) = np.asarray(bound(case)["w"], dtype=float), _dilations(case)
    if dh == dw == 1:
        return None
    out = np.zeros((*w.shape[:-2], w.shape[-2] * dh, w.shape[-1] * dw))
    out[..., ::dh, ::dw] = w
    return out


DILATE_MISTAKES = [
    Mistake("dilation_zeros_off_by_one", "Your kernel has `dilation` zeros between taps.",
            "Dilation d puts d - 1 zeros between taps: dilation 1 is the kernel itself.",
            lambda case: rerun(case, dilation=tuple(d + 1 for d in _dilations(case)))),
    Mistake("trailing_zeros", "Your kernel has zeros after the last tap too.",
            "The result has shape `d*(k-1) + 1`: it ends with a tap.", _trailing_zeros),
    Mistake("dilation_axes_swapped", "Your kernel uses the dilation (dH, dW) the wrong way round.",
            "dilation=(dH, dW): the first value spreads the rows.",
            lambda case: rerun(case, dilation=_dilations(case)[::-1])
            if len(set(_dilations(case))) == 2 else None),
]

# ----------------------------------------------------------------------------- conv2d_general


def conv2d_general(cs: CaseSet, rng) -> None:
    cs.example("worked examples: 4x4x2 input, three 2x2 kernels", (X_WORKED, W_WORKED))
    cs.example("groups=2, 1x1 kernels", (np.arange(8.0).reshape(2, 2, 2), np.ones((2, 1, 1, 1))),
               {"groups": 2})
    cs.example("groups=2, stride 2, padding 1, dilation 2, bias",
               (fixed(62, 2, 4, 7, 7), fixed(63, 4, 2, 3, 2), fixed(64, 4)),
               {"groups": 2, "stride": 2, "padding": 1, "dilation": 2})
    cs.example("stride (1, 2), padding 'same', dilation (2, 1)",
               (fixed(65, 2, 6, 6), fixed(66, 3, 2, 2, 3), None),
               {"padding": "same", "dilation": (2, 1)})
    for i in range(cs.n(3, 8)):
        g = int(rng.choice([1, 2, 3]))
        c_in, c_out = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
        H, W, kh, kw = int(rng.integers(5, 9)), int(rng.integers(5, 9)), int(
            rng.integers(1, 4)), int(rng.integers(1, 4))
        kw_ = {"stride": int(rng.integers(1, 3)), "padding": int(rng.integers(0, 3)),
               "dilation": int(rng.choice([1, 2])), "groups": g}
        if rng.random() < 0.2:
            kw_.update(stride=1, padding="same")
        batch = _batch(rng)
        bias = randn(rng, c_out) if rng.random() < 0.6 else None
        cs.random(f"random {i + 1}: x {_shape(*batch, c_in, H, W)}, weight "
                  f"{_shape(c_out, c_in // g, kh, kw)}, "
                  + ", ".join(f"{a}={v!r}" for a, v in kw_.items()),
                  (randn(rng, *batch, c_in, H, W), randn(rng, c_out, c_in // g, kh, kw), bias),
                  kw_)
    cs.edge("depthwise: groups = channels", (randn(rng, 1, 3, 5, 5), randn(rng, 3, 1, 3, 3),
                                             randn(rng, 3)), {"groups": 3, "padding": 1})
    cs.edge("dilation (2, 1), stride (1, 2)", (randn(rng, 2, 6, 7), randn(rng, 2, 2, 2, 3), None),
            {"dilation": (2, 1), "stride": (1, 2)})
    cs.edge("dilated kernel as large as the input", (randn(rng, 1, 5, 5), randn(rng, 1, 1, 3, 3),
                                                     None), {"dilation": 2})
    cs.edge("groups=2 with 4 channels, 2 per group", (randn(rng, 4, 4, 4), randn(rng, 4, 2, 2, 2),
                                                      randn(rng, 4)), {"groups": 2})
    cs.error("input channels not divisible by groups", (randn(rng, 3, 5, 5),
                                                        randn(rng, 2, 1, 3, 3)), {"groups": 2},
             public=True)
    cs.error("weight expects 2 input channels per group, x has 4 channels, groups=1",
             (randn(rng, 4, 5, 5), randn(rng, 2, 2, 3, 3)))
    cs.error("dilated kernel larger than the padded input",
             (randn(rng, 1, 4, 4), randn(rng, 1, 1, 3, 3)), {"dilation": 2})
    cs.error("stride 0", (randn(rng, 1, 4, 4), randn(rng, 1, 1, 2, 2)), {"stride": 0})


def _groups_interleaved(case: Case):
    args = bound(case)
    x, g = np.asarray(args["x"]), args["groups"]
    c = x.shape[-3]
    if g == 1 or g == c:
        return None
    # The student's group j reads channels j, j+g, j+2g...: a permutation of the input channels.
    perm = np.arange(c).reshape(c // g, g).T.ravel()
    return rerun(case, x=x[..., perm, :, :])


GENERAL_MISTAKES = [
    m.flipped_kernel("weight", (-2, -1)), m.bias_ignored(), m.stride_ignored(),
    Mistake("dilation_ignored", "Your output ignores the dilation.",
            "With dilation d, tap `(i, j)` reads `x[p*s + i*d, q*s + j*d]`.",
            lambda case: None if np.all(np.asarray(bound(case)["dilation"]) == 1) else rerun(
                case, dilation=1)),
    Mistake("groups_interleaved", "Your groups take every g-th channel instead of consecutive "
            "channels.", "Group j uses input channels `j*C_in/g ... (j+1)*C_in/g - 1` and output "
            "channels `j*C_out/g ... (j+1)*C_out/g - 1`.", _groups_interleaved),
    m.weight_axes_swapped("(C_out, C_in // groups, kH, kW)", 2),
    m.missing_plus_one(2),
]

# ----------------------------------------------------------------------------- depthwise separable


def depthwise_separable_conv2d(cs: CaseSet, rng) -> None:
    cs.example("ones depthwise, pointwise [1,-1]", (np.arange(8.0).reshape(2, 2, 2),
                                                    np.ones((2, 1, 2, 2)),
                                                    np.array([1.0, -1.0]).reshape(1, 2, 1, 1)))
    cs.example("2 channels, 3x2 depthwise, 2 outputs, stride 2, padding 1",
               (fixed(67, 2, 2, 6, 5), fixed(68, 2, 1, 3, 2), fixed(69, 2, 2, 1, 1)),
               {"stride": 2, "padding": 1})
    for i in range(cs.n(2, 6)):
        batch, c, c_out = _batch(rng), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        H, W, kh, kw = int(rng.integers(4, 8)), int(rng.integers(4, 8)), int(
            rng.integers(1, 4)), int(rng.integers(1, 4))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        cs.random(f"random {i + 1}: x {_shape(*batch, c, H, W)}, depthwise {_shape(c, 1, kh, kw)}"
                  f", {c_out} output channels, stride={s}, padding={p}",
                  (randn(rng, *batch, c, H, W), randn(rng, c, 1, kh, kw),
                   randn(rng, c_out, c, 1, 1)), {"stride": s, "padding": p})
    cs.edge("one channel", (randn(rng, 1, 1, 5, 5), randn(rng, 1, 1, 3, 3),
                            randn(rng, 2, 1, 1, 1)), {"padding": 1})
    cs.edge("as many output as input channels, stride 2", (randn(rng, 3, 6, 6),
                                                           randn(rng, 3, 1, 2, 2),
                                                           randn(rng, 3, 3, 1, 1)), {"stride": 2})


def _pointwise_first(case: Case):
    a = bound(case)
    x, dw, pw = (np.asarray(a[k]) for k in ("x", "depthwise", "pointwise"))
    if pw.shape[0] != pw.shape[1]:
        return None
    mixed = conv_ref.conv2d(x, pw)
    return conv_ref.conv2d(mixed, dw, stride=a["stride"], padding=a["padding"], groups=dw.shape[0])


def _stride_twice(case: Case):
    a = bound(case)
    if np.all(np.asarray(a["stride"]) == 1):
        return None
    dw, pw = np.asarray(a["depthwise"]), np.asarray(a["pointwise"])
    per_channel = conv_ref.conv2d(np.asarray(a["x"]), dw, stride=a["stride"],
                                  padding=a["padding"], groups=dw.shape[0])
    return conv_ref.conv2d(per_channel, pw, stride=a["stride"])


def _depthwise_summed(case: Case):
    a = bound(case)
    dw = np.asarray(a["depthwise"])
    if dw.shape[0] == 1:
        return None
    # A full convolution whose filter c is depthwise[c] on every input channel.
    mixed = conv_ref.conv2d(np.asarray(a["x"]), np.repeat(dw, dw.shape[0], axis=1),
                            stride=a["stride"], padding=a["padding"])
    return conv_ref.conv2d(mixed, np.asarray(a["pointwise"]))


SEPARABLE_MISTAKES = [
    m.flipped_kernel("depthwise", (-2, -1)),
    Mistake("pointwise_first", "Your output applies the 1x1 pointwise convolution first.",
            "Depthwise first (one filter per channel, groups=C), then pointwise.",
            _pointwise_first),
    Mistake("stride_twice", "Your output applies the stride in both steps.",
            "Only the depthwise step has stride and padding; the 1x1 step keeps the size.",
            _stride_twice),
    Mistake("depthwise_sums_channels", "Your depthwise step sums over all input channels.",
            "Depthwise: output channel c sees only input channel c (groups=C).",
            _depthwise_summed),
]

GENERATORS = {
    "dilate_kernel": dilate_kernel, "conv2d_general": conv2d_general,
    "depthwise_separable_conv2d": depthwise_separable_conv2d,
}
MISTAKES = {
    "dilate_kernel": DILATE_MISTAKES, "conv2d_general": GENERAL_MISTAKES,
    "depthwise_separable_conv2d": SEPARABLE_MISTAKES,
}
