"""conv_ref.fast: work counts against a counting oracle, FFT and Winograd against direct sums.

Three independent oracles: PyTorch's conv2d, the naive loop of
`tests.test_conv_ref_naive`, and loops that count what each algorithm does
(`count_*`), written from the algorithms rather than from the formulas.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import conv_ref
from conv_ref.fast import WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G, WORK_NAMES
from tests.test_conv_ref_naive import naive_conv

RNG = np.random.default_rng(8)


def t(a):
    return None if a is None else torch.from_numpy(np.asarray(a, dtype=np.float64))


# ----------------------------------------------------------------------------- counting oracle


def count_direct(n, c_in, h, w, c_out, kh, kw, stride, padding):
    """Multiply-adds of the direct loop, one per (output, tap) it visits."""
    (sh, sw), (ph, pw) = stride, padding
    windows = itertools.product(range(0, h + 2 * ph - kh + 1, sh),
                                range(0, w + 2 * pw - kw + 1, sw), range(kh), range(kw))
    macs = sum(1 for _ in windows)  # one (window, tap) of one (image, output, input channel)
    return macs * n * c_out * c_in


def count_fft_products(n, c_in, h, w, c_out, kh, kw, padding):
    """Spectrum entries multiplied: the sizes of the arrays np.fft.rfft2 really returns."""
    ph, pw = padding
    size = (h + 2 * ph + kh - 1, w + 2 * pw + kw - 1)
    spectrum = np.fft.rfft2(np.zeros((h + 2 * ph, w + 2 * pw)), s=size)
    return n * c_out * c_in * spectrum.size


class CountingArray(np.ndarray):
    """An array that counts the elementwise multiplications done with it."""

    products = 0

    def __mul__(self, other):
        CountingArray.products += np.broadcast(self, other).size
        return np.multiply(np.asarray(self), np.asarray(other)).view(CountingArray)


def count_winograd(n, c_in, h, w, c_out, padding):
    """Products of F(2x2, 3x3) tiling, by running one tile per position and counting."""
    ph, pw = padding
    h_out, w_out = h + 2 * ph - 2, w + 2 * pw - 2
    CountingArray.products = 0
    u = (WINOGRAD_G @ np.ones((3, 3)) @ WINOGRAD_G.T).view(CountingArray)
    v = WINOGRAD_BT @ np.ones((4, 4)) @ WINOGRAD_BT.T
    for _ in itertools.product(range(0, h_out, 2), range(0, w_out, 2)):
        _ = u * v  # the 16 products of one tile
    return CountingArray.products * n * c_out * c_in


LAYERS = [
    # (x_shape, w_shape, stride, padding)
    ((1, 1, 4, 4), (1, 1, 3, 3), 1, 0),
    ((2, 3, 9, 7), (4, 3, 3, 3), 1, 1),
    ((1, 2, 11, 8), (3, 2, 5, 3), (2, 1), (2, 1)),
    ((3, 4, 6, 6), (2, 4, 1, 1), 3, 0),
    ((1, 2, 7, 5), (2, 2, 3, 3), 1, (1, 0)),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), LAYERS)
def test_conv_work_matches_the_counting_oracle(x_shape, w_shape, stride, padding):
    n, c_in, h, w = x_shape
    c_out, _, kh, kw = w_shape
    stride2 = (stride, stride) if isinstance(stride, int) else stride
    padding2 = (padding, padding) if isinstance(padding, int) else padding
    got = dict(zip(WORK_NAMES, conv_ref.conv_work(x_shape, w_shape, stride, padding),
                   strict=True))
    assert got["direct_macs"] == count_direct(n, c_in, h, w, c_out, kh, kw, stride2, padding2)
    x = RNG.standard_normal(x_shape)
    buffer = conv_ref.im2col(x[0], (kh, kw), stride, padding)
    assert got["im2col_elements"] == buffer.size
    assert got["fft_products"] == count_fft_products(n, c_in, h, w, c_out, kh, kw, padding2)
    if (kh, kw, *stride2) == (3, 3, 1, 1):
        assert got["winograd_mults"] == count_winograd(n, c_in, h, w, c_out, padding2)
    else:
        assert got["winograd_mults"] == 0
    y = conv_ref.conv2d(x, RNG.standard_normal(w_shape), stride=stride, padding=padding)
    assert got["min_traffic"] == x.size + int(np.prod(w_shape)) + y.size


def test_conv_work_of_an_unbatched_input_is_that_of_a_batch_of_one():
    assert conv_ref.conv_work((2, 5, 7), (3, 2, 3, 3)) == conv_ref.conv_work((1, 2, 5, 7),
                                                                             (3, 2, 3, 3))


def test_winograd_needs_16_products_where_the_direct_sum_needs_36():
    direct, _, _, winograd, _ = conv_ref.conv_work((1, 1, 4, 4), (1, 1, 3, 3))
    assert (direct, winograd) == (36, 16)


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    (((1, 3, 8, 8), (4, 2, 3, 3)), {}, "w_shape expects 3 input channels"),
    (((1, 1, 4, 4), (1, 1, 7, 7)), {}, "kernel size 7 .* larger than the padded input"),
    (((1, 1, 4, 4), (1, 1, 3, 3)), {"stride": 0}, "stride expects integers >= 1"),
    (((4, 4), (1, 1, 3, 3)), {}, "x_shape expects a tuple of 3 or 4 integers"),
    (((1, 1, 4, 4), (1, 1, 0, 3)), {}, "w_shape expects a tuple of 4 integers >= 1"),
])
def test_conv_work_rejects_bad_layers(args, kwargs, match):
    with pytest.raises(ValueError, match=f"conv_work: {match}"):
        conv_ref.conv_work(*args, **kwargs)


# ----------------------------------------------------------------------------- FFT


@settings(max_examples=40, deadline=None)
@given(batch=st.sampled_from([(), (1,), (2,)]), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 6), kw=st.integers(1, 6),
       stride=st.sampled_from([1, 2, 3, (2, 1)]), padding=st.sampled_from([0, 1, 2, (0, 3)]),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_fft_conv2d_equals_conv2d_and_pytorch(batch, c_in, c_out, h, w, kh, kw, stride, padding,
                                              bias, seed):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if kh > h + 2 * ph or kw > w + 2 * pw:
        with pytest.raises(ValueError, match="fft_conv2d: kernel size"):
            conv_ref.fft_conv2d(np.zeros((*batch, c_in, h, w)), np.zeros((c_out, c_in, kh, kw)),
                                None, stride, padding)
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*batch, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in, kh, kw))
    b = rng.standard_normal(c_out) if bias else None
    got = conv_ref.fft_conv2d(x, weight, b, stride, padding)
    want = conv_ref.conv2d(x, weight, b, stride, padding)
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    torch_y = F.conv2d(t(x if batch else x[None]), t(weight), t(b), stride, padding)
    np.testing.assert_allclose(got, torch_y.numpy() if batch else torch_y.numpy()[0], atol=1e-12)


def test_fft_conv2d_matches_the_naive_loop_on_a_large_kernel():
    x, weight = RNG.standard_normal((2, 2, 20, 17)), RNG.standard_normal((3, 2, 9, 11))
    got = conv_ref.fft_conv2d(x, weight, stride=(2, 3), padding=(4, 5))
    np.testing.assert_allclose(got, naive_conv(x, weight, stride=(2, 3), pads=(4, 5)),
                               atol=1e-11)


def test_fft_without_the_extra_padding_wraps_around():
    """The reason for padding to Hp + kH - 1: the circular product differs from conv2d."""
    x, w = RNG.standard_normal((6, 6)), RNG.standard_normal((3, 3))
    circular = np.fft.irfft2(np.fft.rfft2(x) * np.fft.rfft2(w[::-1, ::-1], s=x.shape), s=x.shape)
    valid = conv_ref.corr2d(x, w)
    assert not np.allclose(circular[:4, :4], valid)
    np.testing.assert_allclose(circular[2:, 2:], valid, atol=1e-12)  # no wrap where it fits


def test_fft_conv2d_keeps_float32_and_its_error_grows_like_the_fft():
    x, w = RNG.standard_normal((1, 4, 32, 32)), RNG.standard_normal((4, 4, 7, 7))
    exact = conv_ref.conv2d(x, w)
    y32 = conv_ref.fft_conv2d(x.astype(np.float32), w.astype(np.float32))
    assert y32.dtype == np.float32
    err64 = np.abs(conv_ref.fft_conv2d(x, w) - exact).max()
    err32 = np.abs(y32 - exact).max()
    assert err64 < 1e-11 < 1e-6 < err32 < 1e-3


@pytest.mark.parametrize(("args", "match"), [
    ((np.zeros((3, 4, 4)), np.zeros((1, 2, 3, 3))), "weight expects 3 input channels"),
    ((np.zeros((4, 4)), np.zeros((1, 1, 3, 3))), "x expects"),
    ((np.zeros((1, 4, 4)), np.zeros((2, 1, 3, 3)), np.zeros(3)), "bias expects shape"),
])
def test_fft_conv2d_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=f"fft_conv2d: {match}"):
        conv_ref.fft_conv2d(*args)


def test_fft_conv2d_does_not_modify_its_inputs():
    x, w = RNG.standard_normal((2, 5, 5)), RNG.standard_normal((1, 2, 3, 3))
    before = x.copy(), w.copy()
    conv_ref.fft_conv2d(x, w, padding=1)
    assert np.array_equal(x, before[0]) and np.array_equal(w, before[1])


# ----------------------------------------------------------------------------- Winograd


def test_winograd_matrices_are_lavin_and_grays():
    """F(2, 3) on symbols: y0 = d0 g0 + d1 g1 + d2 g2, y1 = d1 g0 + d2 g1 + d3 g2."""
    for d, g in itertools.product(np.eye(4), np.eye(3)):
        y = WINOGRAD_AT @ ((WINOGRAD_G @ g) * (WINOGRAD_BT @ d))
        assert np.array_equal(y, [d[:3] @ g, d[1:] @ g])


@pytest.mark.parametrize("length", [3, 4, 5, 8, 31])
def test_winograd_f23_equals_the_direct_correlation(length):
    x, g = RNG.standard_normal(length), RNG.standard_normal(3)
    np.testing.assert_allclose(conv_ref.winograd_f23(x, g), conv_ref.corr1d(x, g), atol=1e-13)
    torch_y = F.conv1d(t(x)[None, None], t(g)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(conv_ref.winograd_f23(x, g), torch_y, atol=1e-13)


def test_winograd_tile_equals_the_direct_2x2_output():
    for _ in range(20):
        d, g = RNG.standard_normal((4, 4)), RNG.standard_normal((3, 3))
        np.testing.assert_allclose(conv_ref.winograd_tile(d, g), conv_ref.corr2d(d, g),
                                   atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(batch=st.sampled_from([(), (2,)]), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       h=st.integers(1, 11), w=st.integers(1, 11), padding=st.sampled_from([0, 1, (1, 0)]),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_winograd_conv2d_equals_the_naive_loop_and_pytorch(batch, c_in, c_out, h, w, padding,
                                                           bias, seed):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*batch, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in, 3, 3))
    b = rng.standard_normal(c_out) if bias else None
    if h + 2 * ph < 3 or w + 2 * pw < 3:
        with pytest.raises(ValueError, match="winograd_conv2d: kernel size"):
            conv_ref.winograd_conv2d(x, weight, b, padding)
        return
    got = conv_ref.winograd_conv2d(x, weight, b, padding)
    x4 = x if batch else x[None]
    want = naive_conv(x4, weight, b, pads=padding)
    np.testing.assert_allclose(got, want if batch else want[0], atol=1e-12)
    torch_y = F.conv2d(t(x4), t(weight), t(b), 1, padding).numpy()
    np.testing.assert_allclose(got, torch_y if batch else torch_y[0], atol=1e-12)


def test_winograd_keeps_float32_within_single_precision():
    """F(2x2, 3x3)'s transforms (entries 1 and 1/2) add little rounding: float32 stays float32."""
    x, w = RNG.standard_normal((1, 16, 32, 32)), RNG.standard_normal((8, 16, 3, 3))
    exact = conv_ref.conv2d(x, w)
    y32 = conv_ref.winograd_conv2d(x.astype(np.float32), w.astype(np.float32))
    assert y32.dtype == np.float32
    scale = np.abs(x).max() * np.abs(w).sum(axis=(1, 2, 3)).max()
    assert 1e-9 < np.abs(y32 - exact).max() / scale < 1e-5
    assert np.abs(conv_ref.winograd_conv2d(x, w) - exact).max() / scale < 1e-14


@pytest.mark.parametrize(("fn", "args", "match"), [
    ("winograd_f23", (np.zeros(5), np.zeros(4)), "g expects shape"),
    ("winograd_f23", (np.zeros(2), np.zeros(3)), "x expects at least 3 samples"),
    ("winograd_f23", (np.zeros((2, 5)), np.zeros(3)), "x expects a 1D signal"),
    ("winograd_tile", (np.zeros((4, 5)), np.zeros((3, 3))), "d expects shape"),
    ("winograd_tile", (np.zeros((4, 4)), np.zeros((2, 2))), "g expects shape"),
    ("winograd_conv2d", (np.zeros((1, 5, 5)), np.zeros((1, 1, 5, 5))), "weight expects kernels"),
])
def test_winograd_rejects_bad_arguments(fn, args, match):
    with pytest.raises(ValueError, match=f"{fn}: {match}"):
        getattr(conv_ref, fn)(*args)
