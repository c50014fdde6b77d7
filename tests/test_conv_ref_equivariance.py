"""conv_ref.equivariance: shifts, circular convolution, circulants and their eigenvalues."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import conv_ref
from tests.test_conv_ref_naive import assert_matches, t


def naive_circular(x, w):
    n, c = len(x), len(w) // 2
    return np.array([sum(w[j] * x[(i + j - c) % n] for j in range(len(w))) for i in range(n)])


@pytest.mark.parametrize(("k", "circular", "expected"), [
    (1, True, [4, 1, 2, 3]), (-1, True, [2, 3, 4, 1]), (5, True, [4, 1, 2, 3]),
    (1, False, [0, 1, 2, 3]), (-2, False, [3, 4, 0, 0]), (4, False, [0, 0, 0, 0]),
    (0, False, [1, 2, 3, 4]),
])
def test_shift_examples(k, circular, expected):
    assert conv_ref.shift(np.array([1, 2, 3, 4]), k, circular).tolist() == expected


def test_shift_acts_on_the_last_axis():
    x = np.arange(6).reshape(2, 3)
    assert conv_ref.shift(x, 1).tolist() == [[2, 0, 1], [5, 3, 4]]


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 1), (5, -2), (4, 7)])
def test_shift_matrix_is_the_shift_and_a_permutation(n, k):
    S = conv_ref.shift_matrix(n, k)
    x = np.random.default_rng(n).normal(size=n)
    assert_matches(S @ x, conv_ref.shift(x, k), who="shift")
    assert_matches(S @ S.T, np.eye(n), who="identity")


@pytest.mark.parametrize(("n", "k"), [(5, 3), (6, 1), (4, 4), (3, 5), (7, 2)])
def test_circular_conv1d_matches_naive_and_circulant(n, k):
    rng = np.random.default_rng(n + k)
    x, w = rng.normal(size=n), rng.normal(size=k)
    y = conv_ref.circular_conv1d(x, w)
    assert_matches(y, naive_circular(x, w), who="naive")
    assert_matches(conv_ref.circulant(w, n) @ x, y, who="circular_conv1d")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_circular_conv1d_matches_torch_circular_padding(k):
    rng = np.random.default_rng(k)
    x, w = rng.normal(size=6), rng.normal(size=k)
    layer = torch.nn.Conv1d(1, 1, k, padding=k // 2, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(t(w).reshape(1, 1, k))
        ref = layer(t(x).reshape(1, 1, 6))[0, 0]
    assert_matches(conv_ref.circular_conv1d(x, w), ref)


def test_circulant_worked_example_commutes_with_shift():
    C = conv_ref.circulant(np.array([1, 0, -1]), 4)
    assert (C @ np.array([1, 2, 3, 4])).tolist() == [2, -2, -2, 2]
    S = conv_ref.shift_matrix(4)
    assert np.array_equal(C @ S, S @ C)
    assert np.array_equal(C @ S.T, S.T @ C)


def test_equivariance_gap():
    x = np.random.default_rng(0).normal(size=8)
    w = np.array([1.0, -2.0, 0.5])
    assert conv_ref.equivariance_gap(lambda v: conv_ref.circular_conv1d(v, w), x, 3) == 0.0
    zero_pad = conv_ref.equivariance_gap(lambda v: conv_ref.conv1d_single(v, w, padding=1), x)
    # Only the wrapped-around border entries differ; compute them directly.
    shifted = conv_ref.conv1d_single(conv_ref.shift(x), w, padding=1)
    expected = np.max(np.abs(shifted - conv_ref.shift(conv_ref.conv1d_single(x, w, padding=1))))
    assert zero_pad == expected > 0
    assert conv_ref.equivariance_gap(np.cumsum, np.arange(5)) == 6.0


@pytest.mark.parametrize(("k", "n"), [(3, 4), (1, 5), (4, 6), (7, 3), (2, 8)])
def test_circulant_eigenvalues_by_direct_multiplication(k, n):
    rng = np.random.default_rng(k * n)
    w = rng.normal(size=k)
    C, lam = conv_ref.circulant(w, n), conv_ref.circulant_eigenvalues(w, n)
    assert lam.shape == (n,) and np.iscomplexobj(lam)
    F = np.exp(2j * np.pi * np.outer(np.arange(n), np.arange(n)) / n)  # F[t, m]
    for m in range(n):
        np.testing.assert_allclose(C @ F[:, m], lam[m] * F[:, m], atol=1e-12)


def test_circulant_eigenvalues_worked_example():
    # w = [1, 0, -1] on n = 4: C = S - S^T has eigenvalues w^-m - w^m = -2i sin(2 pi m / 4).
    lam = conv_ref.circulant_eigenvalues(np.array([1, 0, -1]), 4)
    np.testing.assert_allclose(lam, [0, -2j, 0, 2j], atol=1e-12)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.shift(np.ones(3), 1.5), TypeError, "shift: k expects an integer, got 1.5"),
    (lambda: conv_ref.shift(np.float64(1.0)), ValueError, "shift: x expects at least 1 dimension"),
    (lambda: conv_ref.shift_matrix(0), ValueError, "shift_matrix: n expects an integer >= 1"),
    (lambda: conv_ref.circular_conv1d(np.ones(3), np.ones((2, 2))), ValueError,
     r"circular_conv1d: w expects a 1D kernel of shape \(K,\)"),
    (lambda: conv_ref.circular_conv1d(np.ones(0), np.ones(2)), ValueError,
     r"circular_conv1d: x expects a non-empty last axis \(..., n\), got shape \(0,\)"),
    (lambda: conv_ref.circular_conv1d(np.ones(3), np.ones(0)), ValueError,
     "circular_conv1d: w expects at least one tap"),
    (lambda: conv_ref.circulant(np.ones(3), 0), ValueError,
     "circulant: n expects an integer >= 1, got 0"),
    (lambda: conv_ref.circulant(np.ones(0), 3), ValueError,
     "circulant: w expects at least one tap"),
    (lambda: conv_ref.equivariance_gap("f", np.ones(3)), TypeError,
     "equivariance_gap: f expects a function, got str"),
    (lambda: conv_ref.equivariance_gap(lambda v: v[:2], np.ones(3)), ValueError,
     r"equivariance_gap: f expects to map shape \(3,\) to the same shape, got \(2,\)"),
    (lambda: conv_ref.equivariance_gap(np.sin, np.ones((2, 2))), ValueError,
     r"equivariance_gap: x expects a 1D signal of shape \(n,\)"),
    (lambda: conv_ref.circulant_eigenvalues(np.ones(2), -1), ValueError,
     "circulant_eigenvalues: n expects an integer >= 1, got -1"),
    (lambda: conv_ref.circulant_eigenvalues(np.ones((2, 1)), 3), ValueError,
     r"circulant_eigenvalues: w expects a 1D kernel of shape \(K,\)"),
])
def test_equivariance_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
