"""Translation equivariance: shifts, circular convolution, circulant matrices and their spectrum.

A circular convolution is multiplication by a circulant matrix ``C(w)``; every
circulant commutes with the shift ``S`` (``C S == S C``), which is why
convolution is translation equivariant, and all circulants share the Fourier
vectors as eigenvectors, with eigenvalues given by an FFT of the kernel.
"""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_callable, _check_ndim, _int_arg


def _check_int(value, fn: str, name: str) -> int:
    """`value` as a Python int of either sign (a shift amount)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} expects an integer, got {value!r}")
    return int(value)


def shift(x, k=1, circular=True):
    """Move the last axis right by `k` (left if ``k < 0``).

    Circular: ``y[..., i] = x[..., (i - k) % n]``. Otherwise ``y[..., i] = x[..., i - k]``
    where ``0 <= i - k < n`` and zeros enter elsewhere.

    Parameters
    ----------
    x : ndarray of shape (..., n)
    k : int
    circular : bool

    Returns
    -------
    ndarray of shape (..., n)

    Examples
    --------
    >>> shift(np.arange(4))
    array([3., 0., 1., 2.])
    >>> shift(np.arange(4), -1, circular=False)
    array([1., 2., 3., 0.])
    """
    fn = "shift"
    x = _as_float(x, fn, "x")
    if x.ndim < 1:
        raise ValueError(f"{fn}: x expects at least 1 dimension (..., n), got a scalar")
    k = _check_int(k, fn, "k")
    if circular:
        return np.roll(x, k, axis=-1)
    n = x.shape[-1]
    y = np.zeros_like(x)
    if abs(k) < n:
        if k >= 0:
            y[..., k:] = x[..., : n - k]
        else:
            y[..., :k] = x[..., -k:]
    return y


def shift_matrix(n, k=1):
    """The permutation ``S`` with ``S @ x == shift(x, k)`` (circular); ``S @ S.T == I``.

    ``S[i, (i - k) % n] = 1``, zeros elsewhere.

    Memory: ``n * n`` floats.

    Parameters
    ----------
    n : int
    k : int

    Returns
    -------
    ndarray of shape (n, n)

    Examples
    --------
    >>> shift_matrix(3)
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    fn = "shift_matrix"
    n = _int_arg(n, fn, "n", 1)
    k = _check_int(k, fn, "k")
    return np.roll(np.eye(n), k, axis=0)  # row i of the result is row (i - k) % n of I


def _circular_taps(w, n):
    """Input index ``(i + j - len(w)//2) % n`` read by output ``i`` with tap ``j``: (n, K)."""
    k = w.shape[0]
    return (np.arange(n)[:, None] + np.arange(k)[None, :] - k // 2) % n


def circular_conv1d(x, w):
    """Circular (wrap-around) cross-correlation, centred on the kernel's middle tap.

    ``y[i] = sum_j w[j] * x[(i + j - len(w)//2) % n]``; equals PyTorch's
    ``Conv1d(padding=len(w)//2, padding_mode="circular")`` for odd ``len(w)``.
    Kernels longer than the signal wrap around more than once.

    Parameters
    ----------
    x : ndarray of shape (..., n)
    w : ndarray of shape (K,)

    Returns
    -------
    ndarray of shape (..., n)

    Examples
    --------
    >>> circular_conv1d(np.arange(4), np.array([1, 0, -1]))
    array([ 2., -2., -2.,  2.])
    """
    fn = "circular_conv1d"
    x = _as_float(x, fn, "x")
    w = _as_float(w, fn, "w")
    _check_ndim(w, fn, "w", (1,), "a 1D kernel of shape (K,)")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"{fn}: x expects a non-empty last axis (..., n), got shape {x.shape}")
    if w.shape[0] < 1:
        raise ValueError(f"{fn}: w expects at least one tap, got shape {w.shape}")
    return x[..., _circular_taps(w, x.shape[-1])] @ w  # (..., n, K) @ (K,)


def circulant(w, n):
    """The circulant matrix ``C`` with ``C @ x == circular_conv1d(x, w)``.

    ``C[i, t] = sum of w[j] over the taps j with (i + j - len(w)//2) % n == t``;
    each row is the previous one shifted right by one, wrapping around.

    Memory: ``n * n`` floats.

    Parameters
    ----------
    w : ndarray of shape (K,)
    n : int

    Returns
    -------
    ndarray of shape (n, n)

    Examples
    --------
    >>> circulant(np.array([1, 0, -1]), 4)
    array([[ 0., -1.,  0.,  1.],
           [ 1.,  0., -1.,  0.],
           [ 0.,  1.,  0., -1.],
           [-1.,  0.,  1.,  0.]])
    """
    fn = "circulant"
    w = _as_float(w, fn, "w")
    _check_ndim(w, fn, "w", (1,), "a 1D kernel of shape (K,)")
    if w.shape[0] < 1:
        raise ValueError(f"{fn}: w expects at least one tap, got shape {w.shape}")
    n = _int_arg(n, fn, "n", 1)
    C = np.zeros((n, n), dtype=w.dtype)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, w.shape[0]))
    # add.at, not assignment: a kernel longer than n puts several taps on one entry.
    np.add.at(C, (rows, _circular_taps(w, n)), np.broadcast_to(w, (n, w.shape[0])))
    return C


def equivariance_gap(f, x, k=1):
    """How far `f` is from commuting with a circular shift by `k`.

    ``max |f(shift(x, k)) - shift(f(x), k)|``: 0 for circular convolution, > 0
    at the borders for zero padding.

    Parameters
    ----------
    f : callable
        Maps an ndarray of shape (n,) to an ndarray of shape (n,).
    x : ndarray of shape (n,)
    k : int

    Returns
    -------
    float

    Examples
    --------
    >>> equivariance_gap(lambda v: circular_conv1d(v, np.array([1, 2, 3])), np.arange(5))
    0.0
    >>> equivariance_gap(np.cumsum, np.arange(5))
    6.0
    """
    fn = "equivariance_gap"
    _check_callable(f, fn, "f")
    x = _as_float(x, fn, "x")
    _check_ndim(x, fn, "x", (1,), "a 1D signal of shape (n,)")
    k = _check_int(k, fn, "k")
    y_of_shifted = np.asarray(f(shift(x, k)))
    y = np.asarray(f(x))
    if y.shape != x.shape or y_of_shifted.shape != x.shape:
        raise ValueError(
            f"{fn}: f expects to map shape {x.shape} to the same shape, got {y.shape}"
        )
    return float(np.max(np.abs(y_of_shifted - shift(y, k))))


def circulant_eigenvalues(w, n):
    """Eigenvalues of ``circulant(w, n)`` for the Fourier vectors, computed with an FFT.

    With ``F[t, m] = exp(2j*pi*m*t/n)`` and ``c = circulant(w, n)[0]`` (the first
    row), ``C @ F[:, m] == lam[m] * F[:, m]`` where
    ``lam[m] = sum_t c[t] * exp(2j*pi*m*t/n) = n * np.fft.ifft(c)[m]``,
    since row ``i`` of ``C`` is ``c`` shifted right by ``i``.

    Parameters
    ----------
    w : ndarray of shape (K,)
    n : int

    Returns
    -------
    ndarray of shape (n,), complex

    Examples
    --------
    >>> np.round(circulant_eigenvalues(np.array([1, 0, -1]), 4), 12)
    array([0.+0.j, 0.-2.j, 0.+0.j, 0.+2.j])
    """
    fn = "circulant_eigenvalues"
    w = _as_float(w, fn, "w")
    _check_ndim(w, fn, "w", (1,), "a 1D kernel of shape (K,)")
    if w.shape[0] < 1:
        raise ValueError(f"{fn}: w expects at least one tap, got shape {w.shape}")
    n = _int_arg(n, fn, "n", 1)
    # First row of C: tap j lands on column (j - K//2) % n, several taps may share one.
    first_row = np.bincount((np.arange(w.shape[0]) - w.shape[0] // 2) % n, weights=w,
                            minlength=n)
    return n * np.fft.ifft(first_row)
