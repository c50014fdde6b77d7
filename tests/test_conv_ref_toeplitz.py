"""conv_ref.toeplitz: the slides' matrix views against conv1d_single, corr2d and the definitions."""

from __future__ import annotations

import numpy as np
import pytest

import conv_ref
from tests.test_conv_ref_naive import assert_matches


def naive_filter_matrix(h, n, stride, left, out):
    T = np.zeros((out, n))
    for i in range(out):
        for j, tap in enumerate(h):
            col = i * stride + j - left
            if 0 <= col < n:
                T[i, col] = tap
    return T


@pytest.mark.parametrize(("k", "n", "stride", "padding", "left"), [
    (3, 4, 1, 0, 0), (3, 7, 2, 1, 1), (4, 6, 1, "same", 1), (2, 5, 3, 2, 2), (5, 5, 1, "same", 2),
    (3, 6, 1, "valid", 0),
])
def test_filter_matrix_matches_naive_and_conv(k, n, stride, padding, left):
    rng = np.random.default_rng(k * n)
    h, x = rng.normal(size=k), rng.normal(size=n)
    T = conv_ref.filter_matrix(h, n, stride, padding)
    expected = naive_filter_matrix(h, n, stride, left, T.shape[0])
    assert_matches(T, expected, who="naive")
    assert_matches(T @ x, conv_ref.conv1d_single(x, h, 0.0, stride, padding), who="conv1d_single")


def test_filter_matrix_is_the_slides_centred_matrix():
    h = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # m = 5: h[m//2] = 3 on the diagonal
    T = conv_ref.filter_matrix(h, 7, padding="same")
    assert np.all(np.diag(T) == 3.0)
    assert T[0].tolist() == [3, 4, 5, 0, 0, 0, 0]  # first row: h_{m/2+1} ... h_m, then zeros
    assert T[-1].tolist() == [0, 0, 0, 0, 1, 2, 3]  # last row: h_1 ... h_{m/2+1}
    assert T[2].tolist() == [1, 2, 3, 4, 5, 0, 0]  # the first full row: h_1 at column 0


def test_filter_and_data_matrix_worked_example():
    x, h = np.array([1, 2, 3, 4]), np.array([1, 0, -1])
    assert (conv_ref.filter_matrix(h, 4) @ x).tolist() == [-2, -2]
    assert conv_ref.data_matrix(x, 3).tolist() == [[1, 2], [2, 3], [3, 4]]
    assert (h @ conv_ref.data_matrix(x, 3)).tolist() == [-2, -2]


@pytest.mark.parametrize(("k", "stride", "padding"), [(3, 1, 0), (2, 2, 1), (4, 1, "same"),
                                                      (1, 3, 0), (3, 2, 2)])
def test_data_matrix_definition_and_conv(k, stride, padding):
    rng = np.random.default_rng(k)
    x, h = rng.normal(size=8), rng.normal(size=k)
    X = conv_ref.data_matrix(x, k, stride, padding)
    left = (k - 1) // 2 if padding == "same" else padding
    right = k - 1 - left if padding == "same" else padding
    xp = np.concatenate([np.zeros(left), x, np.zeros(right)])
    for j, i in np.ndindex(*X.shape):
        assert X[j, i] == xp[i * stride + j]
    assert_matches(h @ X, conv_ref.conv1d_single(x, h, 0.0, stride, padding), who="conv1d_single")


@pytest.mark.parametrize(("kernel", "H", "W"), [((2, 2), 4, 4), ((1, 3), 3, 5), ((3, 2), 3, 2),
                                                ((1, 1), 2, 3)])
def test_doubly_block_toeplitz_matches_corr2d(kernel, H, W):
    rng = np.random.default_rng(H * W)
    K, X = rng.normal(size=kernel), rng.normal(size=(H, W))
    M = conv_ref.doubly_block_toeplitz(K, H, W)
    assert M.shape == ((H - kernel[0] + 1) * (W - kernel[1] + 1), H * W)
    assert_matches(M @ X.ravel(), conv_ref.corr2d(X, K).ravel(), who="corr2d")


def test_doubly_block_toeplitz_worked_example_and_block_structure():
    a = np.array([[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]])
    M = conv_ref.doubly_block_toeplitz(np.eye(2), 4, 4)
    assert (M @ a.ravel()).reshape(3, 3).tolist() == [[7, 15, 23], [9, 17, 25], [11, 19, 27]]
    blocks = M.reshape(3, 3, 4, 4).transpose(0, 2, 1, 3)  # (block row, block col, 3, 4)
    for p, r in np.ndindex(3, 4):
        if 0 < p and 0 < r:  # constant along block diagonals
            assert np.array_equal(blocks[p, r], blocks[p - 1, r - 1])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: conv_ref.filter_matrix(np.ones((2, 2)), 4), ValueError,
     r"filter_matrix: h expects a 1D kernel of shape \(K,\)"),
    (lambda: conv_ref.filter_matrix(np.ones(5), 4), ValueError,
     "filter_matrix: kernel size 5 .* larger than the padded input size 4"),
    (lambda: conv_ref.filter_matrix(np.ones(3), 0), ValueError,
     "filter_matrix: n expects an integer >= 1, got 0"),
    (lambda: conv_ref.filter_matrix(np.ones(3), 5, 2, "same"), ValueError,
     "filter_matrix: padding='same' expects stride 1"),
    (lambda: conv_ref.data_matrix(np.ones(3), 4), ValueError,
     "data_matrix: kernel size 4 .* larger than the padded input size 3"),
    (lambda: conv_ref.data_matrix(np.ones(3), 2, stride=0), ValueError,
     "data_matrix: stride expects integers >= 1, got 0"),
    (lambda: conv_ref.doubly_block_toeplitz(np.ones((3, 3)), 2, 4), ValueError,
     "doubly_block_toeplitz: kernel size 3 .* larger than the padded input size 2"),
    (lambda: conv_ref.doubly_block_toeplitz(np.ones(3), 2, 4), ValueError,
     r"doubly_block_toeplitz: K expects a 2D kernel of shape \(kH, kW\)"),
    (lambda: conv_ref.doubly_block_toeplitz(np.ones((1, 1)), 2, 0), ValueError,
     "doubly_block_toeplitz: W expects an integer >= 1, got 0"),
])
def test_toeplitz_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
