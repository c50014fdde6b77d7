"""Cases and known mistakes for 04_toeplitz: the matrix-multiplication views.

Worked examples: the slides' ``h=[1,0,-1]`` on ``x=[1,2,3,4]`` (View I and
View II give ``[-2,-2]``), the centred ``"same"`` matrix of ``h=[1,2,3]``, and
the worked-examples document's 4x4x2 input unfolded with 2x2 windows.
"""

from __future__ import annotations

import numpy as np

import conv_ref
from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, rerun
from autograder.cases.conv2d import W_WORKED, X_WORKED

X_SLIDES, H_SLIDES = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])


def _draw_1d(rng) -> tuple[int, int, int, int | str]:
    """``(n, K, stride, padding)`` of a valid 1D case; "same" only with stride 1."""
    n, K = int(rng.integers(4, 10)), int(rng.integers(1, 5))
    if rng.random() < 0.3:
        return n, K, 1, "same"
    return n, K, int(rng.integers(1, 3)), int(rng.integers(0, 3))


def _transposed(case: Case):
    return np.asarray(case.expected).swapaxes(-1, -2)


# ----------------------------------------------------------------------------- View I


def filter_matrix(cs: CaseSet, rng) -> None:
    cs.example("slides: h=[1,0,-1], n=4", (H_SLIDES, 4))
    cs.example("centred 'same' matrix: h=[1,2,3], n=4", (np.array([1.0, 2.0, 3.0]), 4),
               {"padding": "same"})
    cs.example("h of 3 taps, n=7, stride 2, padding 1", (fixed(41, 3), 7),
               {"stride": 2, "padding": 1})
    cs.example("'same' with an even kernel: h of 4 taps, n=6", (fixed(42, 4), 6),
               {"padding": "same"})
    for i in range(cs.n(2, 6)):
        n, K, s, p = _draw_1d(rng)
        cs.random(f"random {i + 1}: K={K}, n={n}, stride={s}, padding={p!r}", (randn(rng, K), n),
                  {"stride": s, "padding": p})
    cs.edge("kernel of size 1", (randn(rng, 1), 5))
    cs.edge("kernel as long as the signal", (randn(rng, 4), 4))
    cs.edge("'same' with an even kernel", (randn(rng, 4), 6), {"padding": "same"})
    cs.edge("stride larger than the kernel", (randn(rng, 2), 9), {"stride": 3, "padding": 1})
    cs.edge("large padding", (randn(rng, 2), 2), {"padding": 3})


def _shift_columns(direction: int):
    """The 'same' matrix moved one column: ``h[len(h)//2 +- 1]`` on the diagonal."""
    def fn(case: Case):
        if bound(case)["padding"] != "same" or len(bound(case)["h"]) < 2:
            return None
        T = np.asarray(case.expected)
        out = np.zeros_like(T)
        if direction > 0:
            out[:, 1:] = T[:, :-1]
        else:
            out[:, :-1] = T[:, 1:]
        return out
    return fn


def _padded_width(case: Case):
    """The matrix for the padded input: a column for every padded zero too."""
    args = bound(case)
    h, n, p = np.asarray(args["h"]), args["n"], args["padding"]
    total = len(h) - 1 if p == "same" else 0 if p == "valid" else 2 * p
    if total == 0:
        return None
    return conv_ref.filter_matrix(h, n + total, stride=args["stride"])


def _same_extra_left(case: Case, matrix: str):
    """'same' for an even kernel with the extra zero on the LEFT (the slides' Toeplitz form).

    The slides' Toeplitz matrix puts ``h_{floor(m/2)+1}`` on the diagonal, i.e. ``k // 2``
    zeros on the left and ``(k - 1) // 2`` on the right; PyTorch (and the reference) do the
    opposite. Odd kernels pad both sides equally, so only an even kernel shows the mistake.
    """
    args = bound(case)
    if args["padding"] != "same":
        return None
    if matrix == "filter":
        h, n = np.asarray(args["h"], dtype=float), args["n"]
        k = len(h)
        if k % 2:
            return None
        # Valid matrix of the padded input, then keep the n columns of the real entries.
        full = conv_ref.filter_matrix(h, n + k - 1)
        return full[:, k // 2:k // 2 + n]
    x, k = np.asarray(args["x"], dtype=float), args["k"]
    if k % 2:
        return None
    return conv_ref.data_matrix(np.pad(x, (k // 2, (k - 1) // 2)), k)


SAME_LEFT_TITLE = ("Your 'same' matrix puts the extra zero of an even-length filter on the "
                   "LEFT, as the slides' Toeplitz matrix (h_{floor(m/2)+1} on the diagonal) "
                   "does.")
SAME_LEFT_HINT = ("For an even filter the total padding `k - 1` is odd. PyTorch, and this "
                  "course, put `(k - 1) // 2` zeros on the left and the extra one on the "
                  "RIGHT: `left = (k - 1) // 2` (the slides' 2D formula with ceil(K/2) agrees).")

FILTER_MISTAKES = [
    Mistake("same_extra_left", SAME_LEFT_TITLE, SAME_LEFT_HINT,
            lambda case: _same_extra_left(case, "filter")),
    Mistake("padded_width", "Your matrix has a column for every entry of the PADDED input "
            "(`n + 2*p` columns).", "T multiplies the unpadded `x`: shape `(L_out, n)`. The "
            "padded zeros multiply nothing, so drop their columns (`T[:, p:p + n]`).",
            _padded_width),
    Mistake("toeplitz_transposed", "Your matrix is the transpose of the right one.",
            "T has one ROW per output position: shape `(L_out, n)`, with `T @ x` the output.",
            _transposed),
    m.flipped_kernel("h", (-1,)),
    m.stride_ignored(),
    Mistake("mis_centred", "Your 'same' matrix is off by one column: the wrong tap is on the "
            "main diagonal.", "For odd len(h), `h[len(h)//2]` sits on the main diagonal "
            "(padding `len(h)//2` on the left).", _shift_columns(+1)),
    Mistake("mis_centred", "Your 'same' matrix is off by one column: the wrong tap is on the "
            "main diagonal.", "For odd len(h), `h[len(h)//2]` sits on the main diagonal "
            "(padding `len(h)//2` on the left).", _shift_columns(-1)),
]

# ----------------------------------------------------------------------------- View II


def data_matrix(cs: CaseSet, rng) -> None:
    cs.example("slides: x=[1,2,3,4], k=3", (X_SLIDES, 3))
    cs.example("x=[1,2,3,4], k=2, stride 2, padding 1", (X_SLIDES, 2), {"stride": 2, "padding": 1})
    for i in range(cs.n(2, 6)):
        n, K, s, p = _draw_1d(rng)
        cs.random(f"random {i + 1}: n={n}, k={K}, stride={s}, padding={p!r}", (randn(rng, n), K),
                  {"stride": s, "padding": p})
    cs.example("'same' with an even kernel: x=[1,2,3,4], k=2", (X_SLIDES, 2),
               {"padding": "same"})
    cs.edge("k=1", (randn(rng, 5), 1))
    cs.edge("k as long as the signal", (randn(rng, 4), 4))
    cs.edge("large padding", (randn(rng, 2), 2), {"padding": 3})


DATA_MISTAKES = [
    Mistake("data_matrix_transposed", "Your matrix is the transpose of the right one.",
            "X has one ROW per kernel tap and one COLUMN per window: shape `(k, L_out)`.",
            _transposed),
    Mistake("rows_reversed", "Your matrix has its rows in reverse order.",
            "Row u holds the inputs that multiply `h[u]`: `X[u, i] = x_padded[i*stride + u]`. "
            "(The slides write h reversed, `[h_m ... h_1]`, with the rows reversed to match.)",
            lambda case: np.asarray(case.expected)[::-1]),
    m.stride_ignored(),
    m.padding_one_side("x", 1, "left"), m.padding_one_side("x", 1, "right"),
    Mistake("same_extra_left", SAME_LEFT_TITLE, SAME_LEFT_HINT,
            lambda case: _same_extra_left(case, "data")),
]

# ----------------------------------------------------------------------------- im2col


def im2col(cs: CaseSet, rng) -> None:
    cs.example("worked examples: 4x4x2 input, 2x2 windows", (X_WORKED, 2))
    cs.example("1x1 windows of a 2x2x2 input", (np.arange(8.0).reshape(2, 2, 2), 1))
    cs.example("batch of 2, kernel (2, 3), stride (2, 1), padding (1, 0), dilation 2",
               (fixed(43, 2, 2, 6, 7), (2, 3)), {"stride": (2, 1), "padding": (1, 0),
                                                 "dilation": 2})
    for i in range(cs.n(2, 6)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        C, H, W = int(rng.integers(1, 4)), int(rng.integers(3, 7)), int(rng.integers(3, 7))
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        kwargs = {"stride": int(rng.integers(1, 3)), "padding": int(rng.integers(0, 2)),
                  "dilation": int(rng.choice([1, 1, 2]))}
        if (k[0] - 1) * kwargs["dilation"] + 1 > H or (k[1] - 1) * kwargs["dilation"] + 1 > W:
            kwargs["dilation"] = 1
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*batch, C, H, W)))}, kernel_size={k}, "
                  + ", ".join(f"{a}={v}" for a, v in kwargs.items()),
                  (randn(rng, *batch, C, H, W), k), kwargs)
    cs.edge("window as large as the input", (randn(rng, 2, 3, 4), (3, 4)))
    cs.edge("stride (2, 1), padding (1, 0)", (randn(rng, 1, 2, 4, 5), (2, 2)),
            {"stride": (2, 1), "padding": (1, 0)})
    cs.edge("dilation 2", (randn(rng, 1, 5, 5), 2), {"dilation": 2})


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _im2col_layout(case: Case, order: str):
    """The reference with rows in (u, v, c) order, or positions enumerated column by column."""
    args = bound(case)
    x, e = np.asarray(args["x"]), np.asarray(case.expected)
    (kh, kw), C, lead = _pair(args["kernel_size"]), x.shape[-3], e.shape[:-2]
    if order == "ijc":
        if C == 1:
            return None
        rows = e.reshape(*lead, C, kh, kw, -1)
        return np.moveaxis(rows, -4, -2).reshape(e.shape)  # (..., kH, kW, C, L)
    h_out = conv_ref.conv_output_length(x.shape[-2], kh, _pair(args["stride"])[0],
                                        _pair(args["padding"])[0], _pair(args["dilation"])[0])
    w_out = e.shape[-1] // h_out
    if h_out == 1 or w_out == 1:
        return None
    return e.reshape(*e.shape[:-1], h_out, w_out).swapaxes(-1, -2).reshape(e.shape)


IM2COL_MISTAKES = [
    Mistake("rows_ijc", "Your rows are in (u, v, c) order: kernel tap first, channel last.",
            "Rows go in (c, u, v) C order, as torch.nn.functional.unfold: row `(c*kH + u)*kW + v`.",
            lambda case: _im2col_layout(case, "ijc")),
    Mistake("positions_column_major", "Your columns list the windows column by column.",
            "Windows go row by row: column `i*W_out + j` is the window at output (i, j).",
            lambda case: _im2col_layout(case, "ji")),
    Mistake("im2col_transposed", "Your matrix is the transpose of the right one.",
            "One ROW per (channel, kernel position), one COLUMN per window: `(C*kH*kW, L)`.",
            _transposed),
    Mistake("dilation_ignored", "Your windows ignore the dilation.",
            "With dilation d the window reads every d-th input: `x[p*s + i*d, q*s + j*d]`.",
            lambda case: None if bound(case)["dilation"] == 1 else rerun(case, dilation=1)),
    m.stride_ignored(),
]

# ----------------------------------------------------------------------------- conv2d_im2col


def conv2d_im2col(cs: CaseSet, rng) -> None:
    cs.example("worked examples: 4x4x2 input, three 2x2 kernels", (X_WORKED, W_WORKED))
    cs.example("worked examples with bias [1, 0, -1], stride 2, padding 1",
               (X_WORKED[None], W_WORKED, np.array([1.0, 0.0, -1.0])), {"stride": 2, "padding": 1})
    cs.example("batch of 2, two 3x2 kernels, bias", (fixed(44, 2, 2, 5, 4), fixed(45, 2, 2, 3, 2),
                                                     fixed(46, 2)))
    for i in range(cs.n(2, 6)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        H, W = int(rng.integers(3, 7)), int(rng.integers(3, 7))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        bias = randn(rng, c_out) if rng.random() < 0.7 else None
        cs.random(f"random {i + 1}: x {'x'.join(map(str, (*batch, c_in, H, W)))}, weight "
                  f"{c_out}x{c_in}x{kh}x{kw}, stride={s}, padding={p}",
                  (randn(rng, *batch, c_in, H, W), randn(rng, c_out, c_in, kh, kw), bias),
                  {"stride": s, "padding": p})
    cs.edge("1x1 kernel", (randn(rng, 3, 3, 3), randn(rng, 2, 3, 1, 1), randn(rng, 2)))
    cs.edge("as many input as output channels, padding 1",
            (randn(rng, 1, 2, 4, 4), randn(rng, 2, 2, 3, 3), randn(rng, 2)), {"padding": 1})
    cs.edge("stride larger than the kernel", (randn(rng, 2, 7, 7), randn(rng, 1, 2, 2, 2), None),
            {"stride": 3})
    cs.edge("padding 2", (randn(rng, 1, 4, 5), randn(rng, 2, 1, 2, 3), None), {"padding": 2})


def _weight_order(case: Case):
    w = np.asarray(bound(case)["weight"])
    if w.shape[1] == 1:
        return None
    # The student flattened the weight in (u, v, c) order against (c, u, v) rows.
    return rerun(case, weight=w.transpose(0, 2, 3, 1).reshape(w.shape))


IM2COL_CONV_MISTAKES = [
    m.flipped_kernel("weight", (-2, -1)), m.bias_ignored(), m.bias_per_input_channel(),
    m.weight_axes_swapped("(C_out, C_in, kH, kW)", 2), m.stride_ignored(),
    m.padding_one_side("x", 2, "left"), m.padding_one_side("x", 2, "right"),
    m.missing_plus_one(2),
    Mistake("weight_order_mismatch", "Your weight matrix is flattened in (u, v, c) order while "
            "the im2col rows are in (c, u, v) order.",
            "`weight.reshape(C_out, -1)` already matches the (c, u, v) rows; do not transpose it "
            "first.", _weight_order),
]

# ----------------------------------------------------------------------------- 2D Toeplitz


def doubly_block_toeplitz(cs: CaseSet, rng) -> None:
    cs.example("K=[[1,2]] on a 2x2 input", (np.array([[1.0, 2.0]]), 2, 2))
    cs.example("worked examples: K=[[1,0],[0,1]] on a 4x4 input", (W_WORKED[0, 0], 4, 4))
    cs.example("K=[[1,2],[3,4]] on a 3x4 input", (np.array([[1.0, 2.0], [3.0, 4.0]]), 3, 4))
    for i in range(cs.n(2, 5)):
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        H, W = kh + int(rng.integers(0, 3)), kw + int(rng.integers(0, 3))
        cs.random(f"random {i + 1}: K {kh}x{kw}, input {H}x{W}", (randn(rng, kh, kw), H, W))
    cs.edge("1x1 kernel", (randn(rng, 1, 1), 2, 3))
    cs.edge("kernel as large as the input", (randn(rng, 2, 3), 2, 3))
    cs.edge("non-square", (randn(rng, 1, 3), 4, 3))
    cs.edge("square 2x2 kernel on a 4x3 input", (randn(rng, 2, 2), 4, 3))


def _column_major(case: Case):
    args = bound(case)
    H, W = args["H"], args["W"]
    e = np.asarray(case.expected)
    kh, kw = np.shape(args["K"])
    h_out, w_out = H - kh + 1, W - kw + 1
    if (H == 1 or W == 1) and (h_out == 1 or w_out == 1):
        return None
    return e.reshape(h_out, w_out, H, W).transpose(1, 0, 3, 2).reshape(e.shape)


def _kernel_transposed(case: Case):
    K = np.asarray(bound(case)["K"])
    return rerun(case, K=K.T) if K.shape[0] == K.shape[1] else None


BLOCK_MISTAKES = [
    Mistake("toeplitz_transposed", "Your matrix is the transpose of the right one.",
            "M has one row per OUTPUT pixel: shape `(H_out*W_out, H*W)`.", _transposed),
    m.flipped_kernel("K", (-2, -1)),
    Mistake("column_major", "Your matrix numbers the pixels column by column (Fortran order).",
            "`X.ravel()` is row by row: pixel `(r, c)` is entry `r*W + c`, and output `(p, q)` "
            "is row `p*W_out + q`.", _column_major),
    Mistake("kernel_transposed",
            "Your matrix uses the kernel transposed (`K[j, i]` for `K[i, j]`).",
            "The first kernel index moves down the rows.", _kernel_transposed),
]

GENERATORS = {
    "filter_matrix": filter_matrix, "data_matrix": data_matrix, "im2col": im2col,
    "conv2d_im2col": conv2d_im2col, "doubly_block_toeplitz": doubly_block_toeplitz,
}
MISTAKES = {
    "filter_matrix": FILTER_MISTAKES, "data_matrix": DATA_MISTAKES, "im2col": IM2COL_MISTAKES,
    "conv2d_im2col": IM2COL_CONV_MISTAKES, "doubly_block_toeplitz": BLOCK_MISTAKES,
}
