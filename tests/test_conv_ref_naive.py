"""Naive-loop oracles for the conv_ref tests, and the checks that the oracles themselves hold.

Each oracle is the textbook definition written as plain Python loops over
every output entry: slow, obviously right, and independent of both conv_ref
and PyTorch. The other test modules import them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F


def as_tuple(value, n):
    """int or tuple -> tuple of n ints."""
    return (value,) * n if isinstance(value, int) else tuple(value)


def as_pairs(padding, n):
    """int or tuple of (symmetric) padding -> tuple of n (left, right) pairs."""
    return tuple((p, p) for p in as_tuple(padding, n))


def naive_conv(x, w, b=None, stride=1, pads=0, dilation=1, groups=1):
    """Zero-padded cross-correlation of x (N, C, *spatial) with w (O, C/g, *kernel), any rank.

    `pads` is an int, a tuple of ints, or a tuple of (left, right) pairs.
    """
    nd = x.ndim - 2
    stride, dilation = as_tuple(stride, nd), as_tuple(dilation, nd)
    if isinstance(pads, int) or isinstance(pads[0], int):
        pads = as_pairs(pads, nd)
    n_batch, c_in = x.shape[:2]
    c_out, c_per = w.shape[:2]
    kernel = w.shape[2:]
    spatial = x.shape[2:]
    xp = np.zeros((n_batch, c_in) + tuple(spatial[a] + sum(pads[a]) for a in range(nd)))
    xp[(slice(None), slice(None)) + tuple(slice(pads[a][0], pads[a][0] + spatial[a])
                                          for a in range(nd))] = x
    out = tuple((xp.shape[2 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                for a in range(nd))
    y = np.zeros((n_batch, c_out) + out)
    per_group_out = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            g = o // per_group_out
            for pos in np.ndindex(*out):
                total = 0.0 if b is None else b[o]
                for c in range(c_per):
                    for tap in np.ndindex(*kernel):
                        idx = tuple(pos[a] * stride[a] + tap[a] * dilation[a] for a in range(nd))
                        total += w[(o, c) + tap] * xp[(n, g * c_per + c) + idx]
                y[(n, o) + pos] = total
    return y


def naive_conv_transpose(x, w, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """Transposed convolution of x (N, C_in, *spatial) by scattering every input entry."""
    nd = x.ndim - 2
    stride, padding, output_padding, dilation = (
        as_tuple(v, nd) for v in (stride, padding, output_padding, dilation))
    n_batch, c_in = x.shape[:2]
    c_per_in, c_per_out = c_in // groups, w.shape[1]
    kernel = w.shape[2:]
    full = tuple((x.shape[2 + a] - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1
                 + output_padding[a] for a in range(nd))
    y = np.zeros((n_batch, c_per_out * groups) + full)
    for n in range(n_batch):
        for c in range(c_in):
            g = c // c_per_in
            for pos in np.ndindex(*x.shape[2:]):
                for o in range(c_per_out):
                    for tap in np.ndindex(*kernel):
                        idx = tuple(pos[a] * stride[a] + tap[a] * dilation[a] for a in range(nd))
                        y[(n, g * c_per_out + o) + idx] += x[(n, c) + pos] * w[(c, o) + tap]
    crop = tuple(slice(padding[a], full[a] - padding[a]) for a in range(nd))
    return y[(slice(None), slice(None)) + crop]


def naive_pool2d(x, kernel, stride, padding, dilation, ceil_mode, reduce, count_include_pad=True):
    """Max or average pooling of x (N, C, H, W) following PyTorch's window rules entry by entry."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation

    def length(n, k, s, p, d):
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        return out

    n_batch, c, h, w = x.shape
    oh, ow = length(h, kh, sh, ph, dh), length(w, kw, sw, pw, dw)
    y = np.zeros((n_batch, c, oh, ow))
    for n, ch, i, j in np.ndindex(n_batch, c, oh, ow):
        values, padded_count = [], 0
        for a, b in np.ndindex(kh, kw):
            r, q = i * sh + a * dh - ph, j * sw + b * dw - pw
            if r < h + ph and q < w + pw:  # inside the padded input
                padded_count += 1
            if 0 <= r < h and 0 <= q < w:
                values.append(x[n, ch, r, q])
        if reduce == "max":
            y[n, ch, i, j] = max(values)
        else:
            y[n, ch, i, j] = sum(values) / (padded_count if count_include_pad else len(values))
    return y


def assert_matches(ours, ref, atol=1e-10, who="torch"):
    """Shape, then dtype, then values, reported in that order."""
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert isinstance(ours, np.ndarray), f"type mismatch: ours={type(ours).__name__}"
    assert ours.shape == ref.shape, f"shape mismatch: ours={ours.shape} | {who}={ref.shape}"
    assert ours.dtype == ref.dtype, f"dtype mismatch: ours={ours.dtype} | {who}={ref.dtype}"
    bad = ~np.isclose(ours, ref, atol=atol, rtol=1e-10)
    assert not bad.any(), (
        f"value mismatch: {bad.sum()} / {bad.size} entries, max abs diff "
        f"{np.max(np.abs(ours - ref))}, first at {tuple(int(i) for i in np.argwhere(bad)[0])}"
    )


def t(a):
    """A float64 torch tensor from an array."""
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


# The oracles are checked once against PyTorch and the documents' worked examples,
# so that the other modules can lean on them.

@pytest.mark.parametrize("groups", [1, 2])
def test_naive_conv_matches_torch(groups):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 4, 5, 6)), rng.normal(size=(4, 4 // groups, 2, 3)), rng.normal(
        size=4)
    ref = F.conv2d(t(x), t(w), t(b), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                   groups=groups)
    assert_matches(naive_conv(x, w, b, (2, 1), (1, 2), (1, 2), groups), ref)


def test_naive_conv_worked_examples():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    assert naive_conv(x, np.array([[[1.0, 0.0, -1.0]]]))[0, 0].tolist() == [-2.0, -2.0]
    a = np.array([[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]], dtype=float)
    assert naive_conv(a[None, None], np.eye(2)[None, None])[0, 0].tolist() == [
        [7, 15, 23], [9, 17, 25], [11, 19, 27]]


def test_naive_conv_transpose_matches_torch():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 4, 3, 2)), rng.normal(size=(4, 3, 2, 3))
    ref = F.conv_transpose2d(t(x), t(w), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                             groups=2, dilation=(1, 2))
    assert_matches(naive_conv_transpose(x, w, (2, 3), (1, 0), (1, 2), (1, 2), 2), ref)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_naive_pool_matches_torch(ceil_mode):
    x = np.random.default_rng(2).normal(size=(1, 2, 5, 7))
    args = ((3, 2), (2, 3), (1, 1))
    assert_matches(naive_pool2d(x, *args, (1, 1), ceil_mode, "max"),
                   F.max_pool2d(t(x), *args, ceil_mode=ceil_mode))
    for include in (True, False):
        assert_matches(naive_pool2d(x, *args, (1, 1), ceil_mode, "avg", include),
                       F.avg_pool2d(t(x), *args, ceil_mode=ceil_mode, count_include_pad=include))
