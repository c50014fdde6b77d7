"""fir_filter against np.convolve, and the LTI properties the notebook states."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import conv_ref

signals = arrays(np.float64, st.integers(1, 9), elements=st.floats(-10, 10, width=32))


@settings(max_examples=60, deadline=None)
@given(signals, signals)
def test_fir_filter_is_np_convolve_full(x, h):
    np.testing.assert_allclose(conv_ref.fir_filter(x, h), np.convolve(x, h, mode="full"),
                               atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(signals, signals, signals)
def test_convolution_commutes_and_associates_and_correlation_does_not(x, h, g):
    f = conv_ref.fir_filter
    np.testing.assert_allclose(f(x, h), f(h, x), atol=1e-6)
    np.testing.assert_allclose(f(f(x, h), g), f(x, f(h, g)), atol=1e-3)
    # full cross-correlation x ⋆ h is x ∗ flip(h): swapping the arguments reverses it
    np.testing.assert_allclose(f(x, h[::-1]), f(h, x[::-1])[::-1], atol=1e-6)


def test_correlation_is_not_commutative_on_an_example():
    x, h = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    assert not np.allclose(np.correlate(x, h, "full"), np.correlate(h, x, "full"))


def test_the_impulse_response_is_the_filter_and_the_system_is_shift_invariant():
    h = np.array([3.0, -1.0, 2.0])
    delta = np.eye(6)
    np.testing.assert_array_equal(conv_ref.fir_filter(delta[0], h)[:3], h)
    np.testing.assert_array_equal(conv_ref.fir_filter(delta[2], h)[2:5], h)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(conv_ref.fir_filter(x, [1, 0, -1]), [1, 2, 2, 2, -3, -4])


def test_fir_filter_keeps_float32_and_refuses_bad_shapes():
    x = np.ones(3, dtype=np.float32)
    assert conv_ref.fir_filter(x, x).dtype == np.float32
    with pytest.raises(ValueError, match="fir_filter: x expects a 1D signal"):
        conv_ref.fir_filter(np.ones((2, 2)), [1.0])
    with pytest.raises(ValueError, match="fir_filter: h expects at least one entry"):
        conv_ref.fir_filter([1.0], np.array([]))
