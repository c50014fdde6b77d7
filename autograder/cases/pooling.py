"""Cases and known mistakes for pooling and receptive fields (06_variants).

Pooling inputs are mostly negative near the borders, so that padding with
zeros instead of ``-inf`` changes a max pool's answer.
"""

from __future__ import annotations

import numpy as np

import conv_ref
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun

ARANGE_4x4 = np.arange(16.0).reshape(1, 4, 4)


def _pool_cases(cs: CaseSet, rng) -> None:
    cs.example("arange(16) as 1x4x4, 2x2 windows", (ARANGE_4x4, 2))
    cs.example("3x3 windows, stride 2, padding 1, negative values",
               (-np.abs(fixed(81, 2, 2, 5, 5)) - 0.5, 3), {"stride": 2, "padding": 1})
    cs.example("2x3 windows, stride 1, padding (1, 1)", (fixed(82, 2, 4, 6) - 1.0, (2, 3)),
               {"stride": 1, "padding": (1, 1)})
    for i in range(cs.n(2, 6)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        C, H, W = int(rng.integers(1, 4)), int(rng.integers(3, 8)), int(rng.integers(3, 8))
        k = int(rng.integers(1, 4)) if rng.random() < 0.6 else (int(rng.integers(1, 4)),
                                                                 int(rng.integers(1, 4)))
        kh, kw = (k, k) if isinstance(k, int) else k
        kwargs = {"stride": None if rng.random() < 0.4 else int(rng.integers(1, 3)),
                  "padding": int(rng.integers(0, min(kh, kw) // 2 + 1))}
        x = randn(rng, *batch, C, H, W) - 1.0  # mostly negative: zeros are not neutral
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*batch, C, H, W)))}, kernel_size={k}, "
                  f"stride={kwargs['stride']}, padding={kwargs['padding']}", (x, k), kwargs)
    cs.edge("padding 1 on negative values", (-np.abs(randn(rng, 2, 4, 4)) - 0.5, 3),
            {"stride": 2, "padding": 1})
    cs.edge("kernel of size 1, stride 2", (randn(rng, 1, 2, 4, 5), 1), {"stride": 2})
    cs.edge("stride larger than the kernel", (randn(rng, 1, 7, 7), 2), {"stride": 3})
    cs.edge("non-square windows", (randn(rng, 2, 5, 6), (2, 3)), {"padding": (1, 1)})


def max_pool2d(cs: CaseSet, rng) -> None:
    _pool_cases(cs, rng)


def avg_pool2d(cs: CaseSet, rng) -> None:
    _pool_cases(cs, rng)


def _zero_padded_max(case: Case):
    a = bound(case)
    p = a["padding"]
    ph, pw = (p, p) if isinstance(p, int) else p
    if ph == pw == 0:
        return None
    x = np.asarray(a["x"], dtype=float)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    return rerun(case, x=padded, padding=0, stride=a["stride"] or a["kernel_size"])


def _stride_one(case: Case):
    return rerun(case, stride=1) if bound(case)["stride"] is None else None


def _excluding_padding(case: Case):
    a = bound(case)
    if np.all(np.asarray(a["padding"]) == 0):
        return None
    return conv_ref.avg_pool2d(a["x"], a["kernel_size"], a["stride"], a["padding"],
                               count_include_pad=False)


STRIDE_DEFAULT = Mistake(
    "stride_default_one", "Your output uses stride 1 when stride is None.",
    "Like PyTorch, `stride=None` means `stride = kernel_size`: windows do not overlap.",
    _stride_one)

MAX_MISTAKES = [
    Mistake("pool_padded_with_zeros", "Your max pool pads with zeros, which beat negative values.",
            "Pad with -inf (or ignore the padding) so that padding never wins the max.",
            _zero_padded_max),
    STRIDE_DEFAULT,
]
AVG_MISTAKES = [
    Mistake("avg_excludes_padding", "Your average divides by the number of real (unpadded) "
            "entries.", "With `count_include_pad=True` (PyTorch's default) every window divides by "
            "`kH*kW`, padding included.", _excluding_padding),
    STRIDE_DEFAULT,
    Mistake("sum_instead_of_mean", "Your output is the sum of each window, not its mean.",
            "Divide by `kH*kW`.", lambda case: np.asarray(case.expected) * np.prod(
                np.broadcast_to(bound(case)["kernel_size"], 2))),
]

# ----------------------------------------------------------------------------- receptive field


def receptive_field(cs: CaseSet, rng) -> None:
    names = ("size", "jump")
    cs.example("two 3x3 layers", ([(3, 1, 1), (3, 1, 1)],), kind="exact", output_names=names)
    cs.example("7/2, 3/2, then 3 with dilation 2", ([(7, 2, 1), (3, 2, 1), (3, 1, 2)],),
               kind="exact", output_names=names)
    for i in range(cs.n(2, 5)):
        layers = [(int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                  for _ in range(int(rng.integers(1, 6)))]
        cs.random(f"random {i + 1}: {layers}", (layers,), kind="exact", output_names=names)
    cs.edge("no layers", ([],), kind="exact", output_names=names)
    cs.edge("one 1x1 layer with stride 2", ([(1, 2, 1)],), kind="exact", output_names=names)
    cs.edge("strided then dilated", ([(2, 2, 1), (2, 2, 1), (3, 1, 4)],), kind="exact",
            output_names=names)


def _field(layers, use_jump=True, use_dilation=True, jump_first=False) -> tuple[int, int]:
    size, jump = 1, 1
    for k, s, d in layers:
        if jump_first:
            jump *= s
        size += (d if use_dilation else 1) * (k - 1) * (jump if use_jump else 1)
        if not jump_first:
            jump *= s
    return size, jump


def _field_variant(**options):
    return lambda case: _field(bound(case)["layers"], **options)


FIELD_MISTAKES = [
    Mistake("jump_ignored", "Your size adds k - 1 per layer without multiplying by the jump.",
            "Each layer adds `d*(k - 1)*jump`: after strides, neighbouring outputs are jump "
            "inputs apart.", _field_variant(use_jump=False)),
    Mistake("dilation_ignored", "Your size ignores the dilation.",
            "A dilated kernel spans `d*(k - 1) + 1` inputs.", _field_variant(use_dilation=False)),
    Mistake("jump_updated_first", "Your size uses each layer's own stride in its jump.",
            "Add `d*(k - 1)*jump` with the jump of the layers BEFORE, then multiply jump by the "
            "stride.", _field_variant(jump_first=True)),
]

GENERATORS = {"max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d,
              "receptive_field": receptive_field}
MISTAKES = {"max_pool2d": MAX_MISTAKES, "avg_pool2d": AVG_MISTAKES,
            "receptive_field": FIELD_MISTAKES}
