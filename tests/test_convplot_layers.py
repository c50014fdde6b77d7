"""Smoke tests for convplot.layers: render on Agg and check what is drawn."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from convplot.grids import HIGHLIGHT, KERNEL
from convplot.layers import (
    annotated_heatmap,
    cost_bars,
    dilated_taps,
    filter_grid,
    gradient_flow,
    loss_curve,
    misclassified,
    pooling_windows,
    receptive_field_map,
    receptive_field_stack,
    sample_images,
    stamps_1d,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _numbers(ax) -> list[float]:
    out = []
    for text in _texts(ax):
        try:
            out.append(float(text.replace("-∞", "-inf")))
        except ValueError:
            continue
    return out


def _filled(ax, colour) -> list[tuple[float, float]]:
    target = mcolors.to_rgba(colour)
    return [(p.get_x(), p.get_y()) for p in ax.patches
            if p.get_fill() and p.get_facecolor() == target]


def test_stamps_1d_draws_each_stamp_and_their_sum_the_transposed_convolution():
    x, h = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])
    ax = stamps_1d(x, h, stride=2).axes[0]
    y = F.conv_transpose1d(torch.tensor(x).view(1, 1, -1), torch.tensor(h).view(1, 1, -1),
                           stride=2).numpy().ravel()
    assert np.array_equal(y, [1, 1, 3, 2, 5, 3, 3])
    assert _numbers(ax) == [1, 1, 1, 2, 2, 2, 3, 3, 3, *y]
    assert [t for t in _texts(ax) if "·h" in t] == ["x[0]·h", "x[1]·h", "x[2]·h"]


def test_stamps_1d_rejects_a_zero_stride():
    with pytest.raises(ValueError, match=r"stamps_1d: .*stride=0"):
        stamps_1d([1.0], [1.0], stride=0)


def test_annotated_heatmap_writes_every_value_over_the_image():
    values = np.arange(6.0).reshape(2, 3) / 2
    fig = annotated_heatmap(values, title="half steps")
    ax = fig.axes[0]
    assert _numbers(ax) == list(values.ravel())
    assert np.array_equal(ax.images[0].get_array(), values)
    assert ax.get_title() == "half steps"


def test_annotated_heatmap_rejects_a_vector():
    with pytest.raises(ValueError, match=r"annotated_heatmap: expected a 2D array, got shape"):
        annotated_heatmap(np.ones(3))


def test_pooling_windows_shows_padded_input_and_output_in_matching_colours():
    x = np.arange(16.0).reshape(4, 4)
    pooled = conv_ref.max_pool2d(x[None], 3, stride=2, padding=1)[0]
    ax = pooling_windows(x, pooled, 3, 2, padding=1, pad_value=-np.inf).axes[0]
    numbers = _numbers(ax)
    padded = np.pad(x, 1, constant_values=-np.inf)
    assert numbers[:36] == list(padded.ravel())
    assert numbers[36:] == list(pooled.ravel())
    # Each window (3x3, translucent) and its output cell share one fill colour.
    windows = [p for p in ax.patches if p.get_alpha() == 0.5]
    assert len(windows) == pooled.size
    for window in windows:
        opaque = mcolors.to_rgba(window.get_facecolor(), alpha=1.0)
        assert len(_filled(ax, opaque)) == 1
    assert {round(w.get_width()) for w in windows} == {3}


def test_cost_bars_labels_the_ratio_and_checks_lengths():
    fig = cost_bars(["a", "b"], [900, 400], [100, 200], quantity="multiply-adds")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["÷9.0", "÷2.0"]
    assert ax.get_yscale() == "log" and "multiply-adds" in ax.get_ylabel()
    with pytest.raises(ValueError, match=r"cost_bars: got 2 labels, 1 standard and 2 separable"):
        cost_bars(["a", "b"], [1], [1, 2])


@pytest.mark.parametrize("layers, n_input", [
    ([(3, 1, 1), (3, 1, 1)], 9),
    ([(3, 1, 1), (3, 1, 2), (3, 1, 4)], 18),
    ([(3, 2, 1), (3, 2, 1)], 13),
])
def test_receptive_field_stack_highlights_the_receptive_field(layers, n_input):
    ax = receptive_field_stack(layers, n_input).axes[0]
    size, _ = conv_ref.receptive_field(layers)
    lit = sorted(x + 0.35 for x, y in _filled(ax, HIGHLIGHT) if abs(y + 0.35) < 1e-9)
    assert lit[-1] - lit[0] + 1 == size
    assert ax.get_title() == f"One top unit sees {size} input pixels"
    assert len(_texts(ax)) == len(layers) + 1


def test_receptive_field_stack_rejects_an_input_too_short():
    with pytest.raises(ValueError, match=r"does not fit on 4 units; use a longer input"):
        receptive_field_stack([(5, 1, 1)], 4)


def test_receptive_field_map_outlines_the_box():
    grad = np.zeros((8, 8))
    grad[2:5, 1:4] = -1.0
    ax = receptive_field_map(grad, (2, 1), 3).axes[0]
    box = [p for p in ax.patches if not p.get_fill()][0]
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (0.5, 1.5, 3, 3)
    assert np.array_equal(ax.images[0].get_array(), np.abs(grad))


def test_loss_curve_plots_one_point_per_epoch():
    ax = loss_curve([2.0, 1.0, 0.5]).axes[0]
    line = ax.lines[0]
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [2.0, 1.0, 0.5]


def test_filter_grid_draws_every_filter_on_one_symmetric_scale():
    weight = np.arange(-8.0, 10.0).reshape(2, 1, 3, 3)
    fig = filter_grid(weight)
    images = [ax.images[0] for ax in fig.axes]
    assert len(images) == 2
    for image, kernel in zip(images, weight[:, 0], strict=True):
        assert np.array_equal(image.get_array(), kernel)
        assert image.get_clim() == (-9.0, 9.0)
    with pytest.raises(ValueError, match=r"filter_grid: expected weight of shape"):
        filter_grid(np.ones((2, 3, 3, 3)))


def test_filter_grid_wraps_into_rows_and_leaves_spare_axes_empty():
    fig = filter_grid(np.ones((11, 1, 3, 3)), per_row=4)
    assert len(fig.axes) == 12
    assert [bool(ax.images) for ax in fig.axes] == [True] * 11 + [False]
    assert fig.axes[10].get_title() == "10"


def test_misclassified_shows_only_the_wrong_predictions():
    images = np.arange(4 * 64, dtype=float).reshape(4, 1, 8, 8)
    fig = misclassified(images, np.array([0, 1, 2, 3]), np.array([0, 7, 2, 5]))
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["7 (is 1)", "5 (is 3)"]
    assert np.array_equal(shown[0].images[0].get_array(), images[1, 0])


def test_misclassified_says_so_when_everything_is_right():
    fig = misclassified(np.zeros((2, 8, 8)), np.array([1, 2]), np.array([1, 2]))
    assert "none misclassified" in _texts(fig.axes[0])


def test_dilated_taps_fills_the_taps_and_outlines_the_span():
    fig = dilated_taps(7, 3, [1, 3])
    for ax, d in zip(fig.axes, [1, 3], strict=True):
        taps = sorted(_filled(ax, KERNEL))
        assert taps == sorted((float(c), float(r)) for r in range(0, 3 * d, d)
                              for c in range(0, 3 * d, d))
        span = [p for p in ax.patches if not p.get_fill()][0]
        assert span.get_width() == span.get_height() == 2 * d + 1
    with pytest.raises(ValueError, match=r"dilated_taps: a 3-tap kernel with dilation 4 spans 9"):
        dilated_taps(7, 3, [4])


def test_sample_images_titles_every_image_with_its_label():
    images = np.arange(3 * 64, dtype=float).reshape(3, 1, 8, 8)
    fig = sample_images(images, np.array([7, 0, 7]), per_row=2, title="digits")
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["7", "0", "7"]
    assert np.array_equal(shown[2].images[0].get_array(), images[2, 0])
    assert len(fig.axes) == 4 and fig.texts[0].get_text() == "digits"
    with pytest.raises(ValueError, match=r"sample_images: expected N >= 1 images .* 2 labels"):
        sample_images(images, [1, 2])


def test_gradient_flow_writes_each_gradient_with_the_shape_of_its_array():
    x_shape, w_shape = (2, 3, 7, 7), (4, 3, 3, 3)
    y = F.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), stride=2, padding=1)
    ax = gradient_flow(x_shape, w_shape, y.shape, "conv2d, stride 2, padding 1").axes[0]
    texts = [t.get_text() for t in ax.texts]
    for name, shape in [("x", x_shape), ("dx", x_shape), ("weight", w_shape),
                        ("dweight", w_shape), ("bias", (4,)), ("dbias", (4,)),
                        ("out", (2, 4, 4, 4)), ("dout", (2, 4, 4, 4))]:
        label = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        assert f"{name}\n{label}" in texts
    assert "conv2d, stride 2, padding 1" in texts and "conv2d_backward" in texts
    # Three arrays into each operation and one out of it.
    assert sum(type(t).__name__ == "Annotation" for t in ax.texts) == 8


def test_gradient_flow_rejects_shapes_of_two_different_layers():
    with pytest.raises(ValueError, match=r"gradient_flow: shapes do not fit one convolution"):
        gradient_flow((2, 3, 7, 7), (4, 5, 3, 3), (2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"gradient_flow: expected 4-D shapes"):
        gradient_flow((3, 7, 7), (4, 3, 3, 3), (2, 4, 5, 5))
