"""Smoke tests for convplot.fast: render on Agg and check what is drawn."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import conv_ref
from conv_ref.fast import WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G
from convplot.fast import crossover, fft_pipeline, roofline, winograd_tile


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_winograd_tile_shows_the_transforms_and_the_output_of_the_reference():
    d, g = np.arange(16.0).reshape(4, 4), np.ones((3, 3))
    fig = winograd_tile(d, g, WINOGRAD_BT, WINOGRAD_G, WINOGRAD_AT)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"V = Bᵀ d B", "U = G g Gᵀ", "Y = Aᵀ M A"} <= set(texts)
    assert [float(v) for v in conv_ref.winograd_tile(d, g).ravel()] == [45, 54, 81, 90]
    assert {"45", "54", "81", "90"} <= set(texts)
    with pytest.raises(ValueError, match="winograd_tile: expected d"):
        winograd_tile(np.ones((3, 3)), g, WINOGRAD_BT, WINOGRAD_G, WINOGRAD_AT)


def test_fft_pipeline_ends_with_the_linear_correlation_in_its_top_left_block():
    x, w = np.arange(30.0).reshape(5, 6), np.array([[1.0, 0.0], [0.0, -1.0], [2.0, 1.0]])
    fig = fft_pipeline(x, w)
    assert len(fig.axes) == 6
    result = fig.axes[-1].images[0].get_array()
    assert result.shape == (7, 7)
    np.testing.assert_allclose(result[:3, :5], conv_ref.corr2d(x, w), atol=1e-10)
    (outline,) = fig.axes[-1].patches
    assert (outline.get_width(), outline.get_height()) == (5, 3)
    with pytest.raises(ValueError, match="fft_pipeline: expected a 2D input"):
        fft_pipeline(x, np.ones((6, 2)))


def test_crossover_marks_the_kernel_size_from_which_the_second_method_stays_faster():
    # FFT is faster at k=3 by noise, slower at 7, faster from 11 on.
    fig = crossover([3, 7, 11, 15], {"im2col + GEMM": [1e-3, 4e-3, 9e-3, 2e-2],
                                     "FFT": [0.9e-3, 4.5e-3, 4e-3, 4.5e-3]})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["FFT faster from k = 11"]
    assert len(ax.get_lines()) == 3  # two curves and the marker line
    never = crossover([3, 5], {"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert len(never.axes[0].texts) == 0
    with pytest.raises(ValueError, match="crossover: expected one time per kernel size"):
        crossover([3, 5], {"a": [1.0]})


def test_roofline_labels_each_method_with_its_fraction_of_peak():
    fig = roofline({"GEMM": (10.0, 40.0), "direct": (2.0, 4.0)}, peak_gflops=50.0,
                   bandwidth_gbs=5.0)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["80% of peak", "8% of peak"]
    roof = fig.axes[0].get_lines()[0].get_ydata()
    assert roof.max() == pytest.approx(50.0)
    with pytest.raises(ValueError, match="roofline: expected a positive peak"):
        roofline({}, 1.0, 1.0)
