"""Convolution as a finite impulse response (FIR) system: the flipped, full convolution."""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _check_ndim, _common_float


def fir_filter(x, h) -> np.ndarray:
    """Output of the FIR system with impulse response `h` on the finite signal `x`.

    ``y[n] = sum_k h[k] * x[n - k]`` for ``n = 0 .. len(x) + len(h) - 2``, with
    ``x`` zero outside its support: the signal-processing convolution ``h ∗ x``
    (the kernel IS flipped), in full, as ``np.convolve(x, h, mode="full")``.
    It is linear, shift invariant, commutative (``fir_filter(x, h) ==
    fir_filter(h, x)``) and associative, and ``fir_filter(delta, h) == h``.

    Parameters
    ----------
    x : array_like, shape (L,)
        The input signal.
    h : array_like, shape (K,)
        The impulse response (filter taps).

    Returns
    -------
    ndarray, shape (L + K - 1,)
        float64 for integer inputs, else the inputs' common float dtype.

    Raises
    ------
    ValueError
        If `x` or `h` is not a non-empty 1D array.

    Examples
    --------
    >>> fir_filter([1, 2, 3, 4], [1, 0, -1])
    array([ 1.,  2.,  2.,  2., -3., -4.])
    >>> fir_filter([1, 0, 0, 0], [3, 2, 1])  # the impulse gives back the filter
    array([3., 2., 1., 0., 0., 0.])
    """
    fn = "fir_filter"
    x, h = _common_float(fn, x=x, h=h)
    _check_ndim(x, fn, "x", (1,), "a 1D signal (L,)")
    _check_ndim(h, fn, "h", (1,), "a 1D impulse response (K,)")
    for name, arr in (("x", x), ("h", h)):
        if arr.size == 0:
            raise ValueError(f"{fn}: {name} expects at least one entry, got an empty array")
    y = np.zeros(len(x) + len(h) - 1, dtype=x.dtype)
    for k, tap in enumerate(h):  # each tap adds a delayed, scaled copy of x
        y[k:k + len(x)] += tap * x
    return y
