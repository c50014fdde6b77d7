"""Cases and known mistakes for 08_fast_conv: work counts, FFT and Winograd convolution.

Worked examples: the slides' ``x=[1,2,3,4]``, ``h=[1,0,-1]`` (``[-2, -2]``) through
the FFT and through F(2, 3); the blog's 4x4x2 input with three 2x2 kernels
through the FFT; the layers of the notebook's "which algorithm" table
(3x3 64->64 on 56x56, 7x7 stride 2 on 224x224, 1x1 64->256) for the counts.

The FFT and Winograd answers are exact only in exact arithmetic: their cases
carry an absolute tolerance that follows the float error of the transforms
(`_transform_atol`), far below what any mistake changes.
"""

from __future__ import annotations

import numpy as np

import conv_ref
from autograder.cases import _mistakes as m
from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn
from autograder.cases.conv2d import W_WORKED, X_WORKED
from conv_ref.fast import WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G, WORK_NAMES

X_SLIDES = np.array([1.0, 2.0, 3.0, 4.0])
H_SLIDES = np.array([1.0, 0.0, -1.0])


def _transform_atol(x, weight, points: int) -> float:
    """Float error of a transform-based correlation, with room for another summation order.

    An FFT of `points` samples rounds each output by about ``eps * log2(points)``
    times ``sum |x| |w|`` over one output's terms; Winograd's transforms (points=16) by
    a few eps times the same sum.
    """
    x, w = np.abs(np.asarray(x, float)), np.abs(np.asarray(weight, float))
    terms = float(w.reshape(w.shape[0], -1).sum(axis=1).max()) * float(x.max(initial=0.0))
    return float(64 * np.finfo(np.float64).eps * np.log2(max(points, 2)) * max(terms, 1.0))


def _fft_points(x, weight, padding) -> int:
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h, w = np.shape(x)[-2:]
    kh, kw = np.shape(weight)[-2:]
    return (h + 2 * ph + kh - 1) * (w + 2 * pw + kw - 1)


def _dims(shape) -> str:
    return "x".join(map(str, shape))


# ----------------------------------------------------------------------------- conv_work


def conv_work(cs: CaseSet, rng) -> None:
    opts = {"kind": "exact", "output_names": WORK_NAMES}
    cs.example("one 4x4 image, one 3x3 kernel", ((1, 1, 4, 4), (1, 1, 3, 3)), **opts)
    cs.example("ResNet 3x3: 64 -> 64 channels, 56x56, padding 1",
               ((1, 64, 56, 56), (64, 64, 3, 3)), {"padding": 1}, **opts)
    cs.example("ResNet stem: 7x7 stride 2, padding 3, 3 -> 64 channels, 224x224",
               ((1, 3, 224, 224), (64, 3, 7, 7)), {"stride": 2, "padding": 3}, **opts)
    cs.example("1x1: 64 -> 256 channels, batch of 8, 56x56", ((8, 64, 56, 56), (256, 64, 1, 1)),
               **opts)
    cs.example("unbatched (C, H, W), odd output 5x7, tuple padding",
               ((2, 5, 7), (3, 2, 3, 3)), {"padding": (1, 1)}, **opts)
    for i in range(cs.n(2, 8)):
        n, c_in, c_out = (int(v) for v in rng.integers(1, 9, 3))
        h, w = (int(v) for v in rng.integers(3, 40, 2))
        k = int(rng.choice([1, 3, 3, 5, 7]))
        stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, k // 2 + 1))
        cs.random(f"random {i + 1}: x {_dims((n, c_in, h, w))}, weight "
                  f"{_dims((c_out, c_in, k, k))}, stride {stride}, padding {padding}",
                  ((n, c_in, h, w), (c_out, c_in, k, k)),
                  {"stride": stride, "padding": padding}, **opts)
    cs.edge("non-square kernel 3x5, stride (2, 1)", ((2, 4, 9, 11), (6, 4, 3, 5)),
            {"stride": (2, 1), "padding": (1, 2)}, **opts)
    cs.edge("kernel as large as the input", ((1, 2, 5, 5), (1, 2, 5, 5)), **opts)
    cs.edge("3x3 stride 2: no Winograd", ((1, 3, 8, 8), (4, 3, 3, 3)), {"stride": 2}, **opts)
    cs.error("channels differ", ((1, 3, 8, 8), (4, 2, 3, 3)), public=True)
    cs.error("kernel larger than the padded input", ((1, 1, 4, 4), (1, 1, 7, 7)))
    cs.error("stride 0", ((1, 1, 4, 4), (1, 1, 3, 3)), {"stride": 0})
    cs.error("x_shape of 2 numbers", ((4, 4), (1, 1, 3, 3)))


def _layer(case: Case) -> dict:
    """The layer's sizes, named as in `conv_ref.conv_work`'s docstring."""
    b = bound(case)
    x_shape = tuple(b["x_shape"])
    n, c_in, h, w = (1, *x_shape) if len(x_shape) == 3 else x_shape
    c_out, _, kh, kw = b["w_shape"]
    (sh, sw), (ph, pw) = ((v, v) if isinstance(v, int) else tuple(v)
                          for v in (b["stride"], b["padding"]))
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    return dict(n=n, c_in=c_in, h=h, w=w, c_out=c_out, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw,
                h_out=h_out, w_out=w_out)


def _work_variant(item: str, change):
    """The right counts with item `item` replaced by ``change(layer)`` (None: not shown)."""
    index = WORK_NAMES.index(item)

    def fn(case: Case):
        value = change(_layer(case))
        if value is None:
            return None
        right = list(case.expected)
        right[index] = int(value)
        return tuple(right)

    return fn


def _fft_products(s: dict, hf: int, wf: int) -> int:
    return s["n"] * s["c_out"] * s["c_in"] * hf * wf


def _winograd_floor(s: dict) -> int | None:
    if (s["kh"], s["kw"], s["sh"], s["sw"]) != (3, 3, 1, 1):
        return None
    return s["n"] * s["c_out"] * s["c_in"] * 16 * (s["h_out"] // 2) * (s["w_out"] // 2)


WORK_MISTAKES = [
    Mistake("im2col_whole_batch", "Your im2col size is that of the whole batch.",
            "`im2col_elements` is the buffer of ONE image, `(C_in*kH*kW, H_out*W_out)`; "
            "libraries build it image by image (or in chunks) to bound the memory.",
            _work_variant("im2col_elements", lambda s: s["n"] * s["c_in"] * s["kh"] * s["kw"]
                          * s["h_out"] * s["w_out"] if s["n"] > 1 else None)),
    Mistake("fft_circular_size", "Your FFT size is the padded input's, `(Hp, Wp)`: that product "
            "is a circular correlation.",
            "To get a linear result, zero-pad to `Hf = Hp + kH - 1`, `Wf = Wp + kW - 1` before "
            "the transform; count `Hf * (Wf // 2 + 1)` spectrum entries per channel pair.",
            _work_variant("fft_products", lambda s: _fft_products(
                s, s["h"] + 2 * s["ph"], (s["w"] + 2 * s["pw"]) // 2 + 1))),
    Mistake("fft_full_spectrum", "Your FFT count uses the full complex spectrum `Hf * Wf`.",
            "`np.fft.rfft2` of a real array keeps only `Wf // 2 + 1` columns (the rest are "
            "complex conjugates): count `Hf * (Wf // 2 + 1)`.",
            _work_variant("fft_products", lambda s: _fft_products(
                s, s["h"] + 2 * s["ph"] + s["kh"] - 1, s["w"] + 2 * s["pw"] + s["kw"] - 1))),
    Mistake("winograd_floor", "Your Winograd count leaves out the last, partial tile.",
            "An odd output size still needs a tile for its last row/column: "
            "`ceil(H_out / 2) * ceil(W_out / 2)` tiles of 16 products.",
            _work_variant("winograd_mults", _winograd_floor)),
    Mistake("direct_stride_ignored", "Your direct count is that of stride 1.",
            "With stride s only every s-th window is computed: use `H_out` and `W_out` from "
            "the output-size formula.",
            _work_variant("direct_macs", lambda s: None if (s["sh"], s["sw"]) == (1, 1) else
                          s["n"] * s["c_out"] * s["c_in"] * s["kh"] * s["kw"]
                          * (s["h"] + 2 * s["ph"] - s["kh"] + 1)
                          * (s["w"] + 2 * s["pw"] - s["kw"] + 1))),
]

# ----------------------------------------------------------------------------- fft_conv2d


def _fft_case(add, name: str, x, weight, bias=None, stride=1, padding=0) -> None:
    atol = _transform_atol(x, weight, _fft_points(x, weight, padding))
    kwargs = {"stride": stride, "padding": padding}
    add(name, (x, weight, bias), kwargs, atol=atol)


def fft_conv2d(cs: CaseSet, rng) -> None:
    _fft_case(cs.example, "slides: x=[[[1,2,3,4]]], weight=[[[[1,0,-1]]]]",
              X_SLIDES[None, None], H_SLIDES[None, None, None])
    _fft_case(cs.example, "worked examples: 4x4x2 input, three 2x2 kernels", X_WORKED, W_WORKED)
    _fft_case(cs.example, "batch of 2, 5x5 kernel, padding 2, bias",
              fixed(81, 2, 2, 7, 6), fixed(82, 3, 2, 5, 5), fixed(83, 3), padding=2)
    _fft_case(cs.example, "stride 2 by subsampling, padding (1, 0)",
              fixed(84, 1, 8, 9), fixed(85, 2, 1, 3, 2), stride=2, padding=(1, 0))
    for i in range(cs.n(2, 8)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        c_in, c_out = (int(v) for v in rng.integers(1, 4, 2))
        h, w = (int(v) for v in rng.integers(4, 12, 2))
        kh, kw = int(rng.integers(1, min(h, 6) + 1)), int(rng.integers(1, min(w, 6) + 1))
        stride = int(rng.integers(1, 3)) if rng.random() < 0.6 else (
            int(rng.integers(1, 3)), int(rng.integers(1, 4)))
        padding = int(rng.integers(0, 3))
        bias = randn(rng, c_out) if rng.random() < 0.6 else None
        x = randn(rng, *batch, c_in, h, w)
        _fft_case(cs.random, f"random {i + 1}: x {_dims(x.shape)}, weight "
                  f"{_dims((c_out, c_in, kh, kw))}, stride {stride}, padding {padding}",
                  x, randn(rng, c_out, c_in, kh, kw), bias, stride, padding)
    _fft_case(cs.edge, "kernel as large as the input", randn(rng, 2, 6, 5),
              randn(rng, 2, 2, 6, 5))
    _fft_case(cs.edge, "large 9x9 kernel on 16x16, padding 4", randn(rng, 1, 1, 16, 16),
              randn(rng, 2, 1, 9, 9), randn(rng, 2), padding=4)
    _fft_case(cs.edge, "1x1 kernel, stride 3", randn(rng, 2, 3, 7, 7), randn(rng, 2, 3, 1, 1),
              stride=3)
    _fft_case(cs.edge, "large values (1e6) and small ones", 1e6 * randn(rng, 1, 2, 8, 8),
              1e-3 * randn(rng, 2, 2, 3, 3))


def _padded(case: Case) -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    b = bound(case)
    x = np.asarray(b["x"], float)
    x = x if x.ndim == 4 else x[None]
    ph, pw = (b["padding"],) * 2 if isinstance(b["padding"], int) else tuple(b["padding"])
    stride = b.get("stride", 1)
    sh, sw = (stride, stride) if isinstance(stride, int) else tuple(stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return xp, np.asarray(b["weight"], float), (sh, sw), (ph, pw)


def _like(case: Case, y: np.ndarray) -> np.ndarray:
    b = bound(case)
    if b["bias"] is not None:
        y = y + np.asarray(b["bias"], float)[:, None, None]
    return y if np.ndim(b["x"]) == 4 else y[0]


def _wrap_around(case: Case):
    """The convolution theorem at the padded input's own size, read from index 0.

    ``irfft2(X * rfft2(flipped kernel))[:H_out, :W_out]`` over ``(Hp, Wp)``: each
    output is the circular correlation ``kH - 1`` rows (``kW - 1`` columns) earlier,
    whose windows wrap around the image.
    """
    xp, w, (sh, sw), _ = _padded(case)
    kh, kw = w.shape[2:]
    if (kh, kw) == (1, 1):
        return None
    hp, wp = xp.shape[2:]
    spectra = np.fft.rfft2(xp)[:, None] * np.fft.rfft2(w[..., ::-1, ::-1], s=(hp, wp))
    full = np.fft.irfft2(spectra.sum(axis=2), s=(hp, wp))
    return _like(case, full[:, :, :hp - kh + 1:sh, :wp - kw + 1:sw])


def _full_window(case: Case):
    """The linear (zero-padded) result read from index 0: the 'full' correlation's first rows."""
    xp, w, (sh, sw), _ = _padded(case)
    kh, kw = w.shape[2:]
    if (kh, kw) == (1, 1):
        return None
    hp, wp = xp.shape[2:]
    full = conv_ref.conv2d(np.pad(xp, ((0, 0), (0, 0), (kh - 1, 0), (kw - 1, 0))), w)
    return _like(case, full[:, :, :hp - kh + 1:sh, :wp - kw + 1:sw])


FFT_MISTAKES = [
    m.flipped_kernel(
        "weight", (-2, -1),
        title="Your output equals the convolution with the kernel flipped: the spectra were "
              "multiplied as `X * K`.",
        hint="The convolution theorem gives convolution. Cross-correlation, which conv2d "
             "computes, multiplies by the conjugate: `X * np.conj(K)` (or flip the kernel "
             "before its transform)."),
    Mistake("wrap_around", "Your output wraps around: it is the circular correlation of the "
            "padded input, read kH-1 rows and kW-1 columns too early.",
            "Zero-pad to `(Hp + kH - 1, Wp + kW - 1)` (`s=` of `np.fft.rfft2`) so that no "
            "window wraps, and keep the entries where the kernel fits: with `X * conj(K)` "
            "they start at index 0, with `X * K` at `[kH-1, kW-1]`.", _wrap_around),
    Mistake("full_window", "Your output is the start of the full (zero-padded) correlation: "
            "its windows begin kH-1 rows above and kW-1 columns left of the image.",
            "After `X * K` (the kernel flipped), the valid outputs start at `[kH-1, kW-1]` of "
            "the inverse transform; crop from there, or use `X * conj(K)` and crop from 0.",
            _full_window),
    m.stride_ignored(), m.bias_ignored(),
]

# ----------------------------------------------------------------------------- winograd_f23


def _winograd_1d_case(add, name: str, x, g) -> None:
    add(name, (x, g), atol=_transform_atol(x, np.asarray(g)[None], 16))


def winograd_f23(cs: CaseSet, rng) -> None:
    _winograd_1d_case(cs.example, "slides: x=[1,2,3,4], h=[1,0,-1]", X_SLIDES, H_SLIDES)
    _winograd_1d_case(cs.example, "three tiles: x=0..7, g=[1,2,3]", np.arange(8.0),
                      np.array([1.0, 2.0, 3.0]))
    _winograd_1d_case(cs.example, "odd output length 5: the last tile padded",
                      fixed(91, 7), fixed(92, 3))
    for i in range(cs.n(2, 6)):
        n = int(rng.integers(3, 20))
        _winograd_1d_case(cs.random, f"random {i + 1}: length {n}", randn(rng, n), randn(rng, 3))
    _winograd_1d_case(cs.edge, "length 3: one output", randn(rng, 3), randn(rng, 3))
    _winograd_1d_case(cs.edge, "long signal of 101", randn(rng, 101), randn(rng, 3))


def _winograd_1d_with(g_matrix=WINOGRAD_G, bt=WINOGRAD_BT, at=WINOGRAD_AT, step=2):
    def fn(case: Case):
        x, g = (np.asarray(v, float) for v in case.args)
        n_out = x.shape[0] - 2
        tiles = -(-n_out // 2)
        xp = np.concatenate([x, np.zeros(step * tiles + 4)])
        d = np.stack([xp[step * t:step * t + 4] for t in range(tiles)])
        return ((d @ bt.T) * (g_matrix @ g) @ at.T).reshape(-1)[:n_out]
    return fn


_G_NO_HALVES = WINOGRAD_G * np.array([[1.0], [2.0], [2.0], [1.0]])
G_TITLE = "Your output is what G without its 1/2 factors gives."
G_HINT = ("F(2, 3)'s filter transform is `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], "
          "[0, 0, 1]]` (Lavin & Gray 2016): the halves are what make "
          "`m2 + m3` and `m2 - m3` the right sums.")
SEAM_TITLE = "Your tiles do not overlap: each starts 4 inputs after the last."
SEAM_HINT = ("A tile of 2 outputs reads 4 inputs, so consecutive tiles OVERLAP by 2 (the "
             "kernel size minus 1): tile t reads `x[2t : 2t + 4]`.")

BT_TITLE = "Your output uses `B` where `B^T` belongs: the data transform is transposed."
BT_HINT = ("The data transform is `B^T @ d` (in 2D `B^T d B`) with `B^T = [[1, 0, -1, 0], "
           "[0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]` as written: its rows act on the tile.")

F23_MISTAKES = [
    m.flipped_kernel("g", (0,)),
    Mistake("winograd_g_without_halves", G_TITLE, G_HINT, _winograd_1d_with(g_matrix=_G_NO_HALVES)),
    Mistake("winograd_b_not_transposed", BT_TITLE, BT_HINT, _winograd_1d_with(bt=WINOGRAD_BT.T)),
    Mistake("tile_seams", SEAM_TITLE, SEAM_HINT, _winograd_1d_with(step=4)),
]

# ----------------------------------------------------------------------------- winograd_tile


def winograd_tile(cs: CaseSet, rng) -> None:
    def add(to, name, d, g):
        to(name, (d, g), atol=_transform_atol(d, g[None], 16))

    add(cs.example, "d = 0..15, g = ones: [[45, 54], [81, 90]]", np.arange(16.0).reshape(4, 4),
        np.ones((3, 3)))
    add(cs.example, "the worked examples' channel A, Laplacian kernel", X_WORKED[0],
        np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]))
    add(cs.example, "a kernel with no symmetry", fixed(93, 4, 4), fixed(94, 3, 3))
    for i in range(cs.n(2, 6)):
        add(cs.random, f"random {i + 1}", randn(rng, 4, 4), randn(rng, 3, 3))
    add(cs.edge, "large values", 1e6 * randn(rng, 4, 4), randn(rng, 3, 3))


def _tile_with(g_matrix=WINOGRAD_G, bt=WINOGRAD_BT, at=WINOGRAD_AT):
    def fn(case: Case):
        d, g = (np.asarray(v, float) for v in case.args)
        return at @ ((g_matrix @ g @ g_matrix.T) * (bt @ d @ bt.T)) @ at.T
    return fn


TILE_MISTAKES = [
    m.flipped_kernel("g", (0, 1)),
    Mistake("winograd_g_without_halves", G_TITLE, G_HINT, _tile_with(g_matrix=_G_NO_HALVES)),
    Mistake("winograd_b_not_transposed", BT_TITLE, BT_HINT, _tile_with(bt=WINOGRAD_BT.T)),
]

# ----------------------------------------------------------------------------- winograd_conv2d


def _winograd_conv_case(add, name: str, x, weight, bias=None, padding=0) -> None:
    add(name, (x, weight, bias), {"padding": padding}, atol=_transform_atol(x, weight, 16))


def winograd_conv2d(cs: CaseSet, rng) -> None:
    _winograd_conv_case(cs.example, "one 4x4 tile: d = 0..15, g = ones",
                        np.arange(16.0).reshape(1, 4, 4), np.ones((1, 1, 3, 3)))
    _winograd_conv_case(cs.example, "the worked examples' 4x4x2 input, padding 1, two 3x3 kernels",
                        X_WORKED, fixed(95, 2, 2, 3, 3), padding=1)
    _winograd_conv_case(cs.example, "odd output 5x3: partial tiles, batch of 2, bias",
                        fixed(96, 2, 2, 7, 5), fixed(97, 3, 2, 3, 3), fixed(98, 3))
    for i in range(cs.n(2, 6)):
        batch = (int(rng.integers(1, 3)),) if rng.random() < 0.5 else ()
        c_in, c_out = (int(v) for v in rng.integers(1, 4, 2))
        h, w = (int(v) for v in rng.integers(3, 13, 2))
        padding = int(rng.integers(0, 2)) if rng.random() < 0.7 else (
            int(rng.integers(0, 2)), int(rng.integers(0, 2)))
        bias = randn(rng, c_out) if rng.random() < 0.5 else None
        x = randn(rng, *batch, c_in, h, w)
        _winograd_conv_case(cs.random, f"random {i + 1}: x {_dims(x.shape)}, {c_out} output "
                            f"channels, padding {padding}", x, randn(rng, c_out, c_in, 3, 3),
                            bias, padding)
    _winograd_conv_case(cs.edge, "3x3 input: one output", randn(rng, 1, 3, 3),
                        randn(rng, 2, 1, 3, 3))
    _winograd_conv_case(cs.edge, "32x32 image, 4 -> 4 channels", randn(rng, 1, 4, 32, 32),
                        randn(rng, 4, 4, 3, 3), randn(rng, 4), 1)


def _winograd_conv_with(g_matrix=WINOGRAD_G, bt=WINOGRAD_BT, step=2):
    """The tiled F(2x2, 3x3) with other transforms or another tile step."""
    def fn(case: Case):
        xp, w, _, _ = _padded(case)
        n, _, hp, wp = xp.shape
        h_out, w_out = hp - 2, wp - 2
        th, tw = -(-h_out // 2), -(-w_out // 2)
        xp = np.pad(xp, ((0, 0), (0, 0), (0, step * th + 4 - hp), (0, step * tw + 4 - wp)))
        u = np.einsum("ai,ocij,bj->ocab", g_matrix, w, g_matrix)
        y = np.zeros((n, w.shape[0], 2 * th, 2 * tw))
        for s in range(th):
            for t in range(tw):
                d = xp[:, :, step * s:step * s + 4, step * t:step * t + 4]
                v = np.einsum("ai,ncij,bj->ncab", bt, d, bt)
                y[:, :, 2 * s:2 * s + 2, 2 * t:2 * t + 2] = np.einsum(
                    "ia,noab,jb->noij", WINOGRAD_AT, np.einsum("ocab,ncab->noab", u, v),
                    WINOGRAD_AT)
        return _like(case, y[:, :, :h_out, :w_out])
    return fn


def _partial_tiles_dropped(case: Case):
    shape = np.shape(case.expected)
    cut = (*shape[:-2], shape[-2] // 2 * 2, shape[-1] // 2 * 2)
    return None if cut == shape or 0 in cut else cut


def _whole_tiles_only(case: Case):
    cut = _partial_tiles_dropped(case)
    return None if cut is None else np.asarray(case.expected)[..., :cut[-2], :cut[-1]]


WINOGRAD_CONV_MISTAKES = [
    m.flipped_kernel("weight", (-2, -1)),
    Mistake("tile_seams", "Your tiles do not overlap: each 4x4 input tile starts 4 pixels "
            "after the last, so the outputs at the seams read the wrong pixels.",
            "A 4x4 input tile gives a 2x2 output tile; consecutive tiles overlap by 2 (the "
            "kernel size minus 1): tile (s, t) reads `x[..., 2s:2s+4, 2t:2t+4]`.",
            _winograd_conv_with(step=4)),
    Mistake("winograd_g_without_halves", G_TITLE, G_HINT,
            _winograd_conv_with(g_matrix=_G_NO_HALVES)),
    Mistake("winograd_b_not_transposed", BT_TITLE, BT_HINT,
            _winograd_conv_with(bt=WINOGRAD_BT.T)),
    Mistake("partial_tiles_dropped", "Your output leaves out the last row or column of an odd "
            "output size: the partial tiles were dropped.",
            "When H_out or W_out is odd, pad the input at the bottom/right with zeros up to a "
            "whole number of tiles, then crop the output back to `(H_out, W_out)`.",
            _whole_tiles_only, shape=_partial_tiles_dropped),
    m.bias_ignored(),
]

GENERATORS = {"conv_work": conv_work, "fft_conv2d": fft_conv2d, "winograd_f23": winograd_f23,
              "winograd_tile": winograd_tile, "winograd_conv2d": winograd_conv2d}
MISTAKES = {"conv_work": WORK_MISTAKES, "fft_conv2d": FFT_MISTAKES,
            "winograd_f23": F23_MISTAKES, "winograd_tile": TILE_MISTAKES,
            "winograd_conv2d": WINOGRAD_CONV_MISTAKES}
