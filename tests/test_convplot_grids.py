"""Smoke tests for convplot.grids: render on Agg and check what is drawn."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplot.grids import (
    HIGHLIGHT,
    KERNEL,
    PADDING,
    count_bars,
    feature_maps,
    fmt,
    grid_equation,
    multichannel_1d,
    padding_modes,
    show_array,
    slide_1d,
    slide_1d_step,
    slide_2d,
)
from tests.conftest import axes_numbers


def _outlines(ax, colour=HIGHLIGHT) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of the unfilled rectangles drawn in `colour`."""
    target = mcolors.to_rgba(colour)
    return [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in ax.patches
            if not p.get_fill() and p.get_edgecolor() == target]


def _cells(ax, colour) -> list[tuple[float, float]]:
    target = mcolors.to_rgba(colour)
    return [(p.get_x(), p.get_y()) for p in ax.patches
            if p.get_fill() and p.get_facecolor() == target]


def test_fmt_writes_integers_without_decimals():
    assert [fmt(v) for v in (3.0, -0.0, -2, 0.5, 2 / 3, -3.75)] == \
        ["3", "0", "-2", "0.5", "0.667", "-3.75"]


def test_show_array_writes_every_entry_row_by_row():
    values = np.array([[1, 5, 9, 13], [2, 6, 10, 14]])
    fig = show_array(values, title="A")
    fig.canvas.draw()
    (ax,) = fig.axes
    assert axes_numbers(ax) == values.ravel().tolist()
    assert ax.get_title() == "A"


def test_show_array_marks_the_padding_border_of_a_2d_array():
    padded = np.pad(np.ones((2, 3)), 1)
    (ax,) = show_array(padded, pad=1).axes
    # Every cell of the ring is padding; the 2x3 interior is not.
    assert len(_cells(ax, PADDING)) == padded.size - 6


def test_a_1d_array_is_padded_at_its_two_ends_only():
    (ax,) = show_array(np.array([0, 2, 3, 4, 0]), pad=1).axes
    assert sorted(_cells(ax, PADDING)) == [(0, 0), (4, 0)]


def test_grid_equation_draws_the_worked_example_and_its_symbols():
    x, h, y = np.array([1, 2, 3, 4]), np.array([1, 0, -1]), np.array([-2, -2])
    fig = grid_equation(x, "⋆", h, "=", y, labels=["x", "h", "y"])
    fig.canvas.draw()
    (ax,) = fig.axes
    assert axes_numbers(ax) == [1, 2, 3, 4, 1, 0, -1, -2, -2]
    texts = [t.get_text() for t in ax.texts]
    assert {"⋆", "=", "x", "h", "y"} <= set(texts)


def test_grid_equation_rejects_a_wrong_number_of_labels():
    with pytest.raises(ValueError, match="grid_equation: got 2 arrays but 1 labels"):
        grid_equation([1], "+", [2], labels=["only one"])


def test_slide_1d_frames_the_slides_example():
    fig = slide_1d([1, 2, 3, 4], [1, 0, -1])
    fig.canvas.draw()
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert "y[0] = -2" in texts and "y[1] = -2" in texts
    # One window per frame, moving one cell to the right, three cells wide.
    windows = _outlines(ax)
    assert [(w[0], w[2]) for w in windows] == [(0, 3), (1, 3)]


def test_slide_1d_pads_both_ends_and_moves_by_the_stride():
    w0, w1, b = 0.5, -2.0, 0.25
    (ax,) = slide_1d([2, 3, 4], [w0, w1], stride=2, padding=1, bias=b).axes
    texts = [t.get_text() for t in ax.texts]
    # The blog's windows (0, 2) and (3, 4).
    assert f"y[0] = {fmt(0 * w0 + 2 * w1 + b)}" in texts
    assert f"y[1] = {fmt(3 * w0 + 4 * w1 + b)}" in texts
    assert [w[0] for w in _outlines(ax)] == [0, 2]
    assert (0, 0) in _cells(ax, PADDING) and (4, 0) in _cells(ax, PADDING)


def test_slide_1d_rejects_a_kernel_longer_than_the_input():
    with pytest.raises(ValueError, match="slide_1d: kernel of size 4 does not fit"):
        slide_1d([1, 2, 3], [1, 1, 1, 1])


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_slide_1d_step_shows_one_window_and_the_outputs_so_far(step):
    x, h = np.array([1, 2, 3, 4, 3, 2]), np.array([1, 0, -1])
    expected = np.correlate(x, h, mode="valid")  # [-2, -2, 0, 2]
    fig = slide_1d_step(x, h, step)
    fig.canvas.draw()
    (ax,) = fig.axes
    # Input, kernel, then the outputs computed up to this step and no further.
    assert axes_numbers(ax) == [*x, *h, *expected[:step + 1]]
    assert f"y[{step}] = {fmt(expected[step])}" in [t.get_text() for t in ax.texts]
    assert [(w[0], w[2]) for w in _outlines(ax)] == [(step, 3)]


def test_slide_1d_spells_out_the_bias():
    # The blog's last case with b = 0.25: y[0] = 0*0.5 + 2*(-2) + 0.25 = -3.75.
    ax = slide_1d([2, 3, 4], [0.5, -2.0], stride=2, padding=1, bias=0.25).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "y[0] = -3.75" in texts and "= -4 + b, b = 0.25" in texts
    no_bias = [t.get_text() for t in slide_1d([2, 3, 4], [0.5, -2.0]).axes[0].texts]
    assert not any("+ b" in t for t in no_bias)


def test_slide_1d_step_pads_and_strides_like_slide_1d():
    (ax,) = slide_1d_step([2, 3, 4], [0.5, -2.0], 1, stride=2, padding=1, bias=0.25).axes
    assert [w[0] for w in _outlines(ax)] == [2]
    assert "y[1] = -6.25" in [t.get_text() for t in ax.texts]  # 3 * 0.5 + 4 * (-2) + 0.25
    assert (0, 0) in _cells(ax, PADDING) and (4, 0) in _cells(ax, PADDING)


def test_slide_1d_step_rejects_a_step_past_the_last_output():
    with pytest.raises(ValueError, match=r"slide_1d_step: step expects .* \[0, 1\], got 2"):
        slide_1d_step([1, 2, 3, 4], [1, 0, -1], 2)
    with pytest.raises(ValueError, match="slide_1d_step: kernel of size 4 does not fit"):
        slide_1d_step([1, 2, 3], [1, 1, 1, 1], 0)


def test_slide_2d_writes_each_window_sum():
    X = np.arange(1, 17).reshape(4, 4)
    K = np.array([[1, 0], [0, 1]])
    steps = [(0, 0), (0, 1), (2, 3)]
    fig = slide_2d(X, K, padding=1, steps=steps)
    fig.canvas.draw()
    padded = np.pad(X, 1)
    for ax, (i, j) in zip(fig.axes, steps, strict=True):
        # The last number written is the output of the frame's window.
        assert axes_numbers(ax)[-1] == np.sum(padded[i:i + 2, j:j + 2] * K)
        assert _outlines(ax) == [(j, i, 2, 2)]
        assert ax.get_title() == f"output ({i}, {j})"


def test_slide_2d_moves_by_the_stride():
    fig = slide_2d(np.ones((5, 5)), np.ones((3, 3)), stride=2, padding=1, steps=[(1, 1)])
    (ax,) = fig.axes
    assert _outlines(ax) == [(2, 2, 3, 3)]
    assert axes_numbers(ax)[-1] == 9
    texts = [t.get_text() for t in ax.texts]
    assert "stride 2: window at (1·2, 1·2) = (2, 2)" in texts


def test_slide_2d_draws_the_kernel_beside_each_frame():
    K = np.array([[1.0, -7.0], [3.0, 5.0]])
    fig = slide_2d(np.arange(16).reshape(4, 4), K, steps=[(0, 0), (1, 2)])
    for ax in fig.axes:
        kernel_cells = _cells(ax, KERNEL)
        assert len(kernel_cells) == 4
        assert "kernel" in [t.get_text() for t in ax.texts]
        # -7 appears only in the kernel: the input is 0..15 and the outputs are sums.
        assert -7.0 in axes_numbers(ax)


def test_slide_2d_rejects_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"slide_2d: kernel of shape \(5, 5\) does not fit"):
        slide_2d(np.ones((3, 3)), np.ones((5, 5)))


def test_multichannel_1d_writes_the_sum_over_input_features():
    x = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
    w = np.array([[[1, 0, -1], [1, 0, -1]], [[0, 1, 0], [0, 0, 0]], [[1, 1, 1], [-1, -1, -1]]])
    steps = [(0, 0), (1, 1), (2, 2)]
    fig = multichannel_1d(x, w, steps)
    fig.canvas.draw()
    expected = F.conv1d(torch.tensor(x[None], dtype=torch.float64),
                        torch.tensor(w, dtype=torch.float64)).numpy()[0]
    # Frames fill a grid two columns wide; the unused fourth panel stays empty.
    assert len(fig.axes) == 4 and not fig.axes[3].patches
    for ax, (o, i) in zip(fig.axes[:3], steps, strict=True):
        numbers = axes_numbers(ax)
        assert numbers[:x.size] == x.ravel().tolist()
        assert numbers[x.size:x.size + w[o].size] == w[o].ravel().tolist()
        assert numbers[-1] == expected[o, i]
        assert _outlines(ax) == [(i, 0, 3, 2)]


def test_multichannel_1d_rejects_mismatched_channels():
    with pytest.raises(ValueError, match=r"multichannel_1d: expected x \(C_in, n\)"):
        multichannel_1d(np.ones((3, 5)), np.ones((2, 2, 3)), [(0, 0)])


def test_padding_modes_match_pytorch():
    x = np.arange(1, 10, dtype=float).reshape(3, 3)
    modes = ("zeros", "reflect", "replicate", "circular")
    fig = padding_modes(x, 2, modes)
    fig.canvas.draw()
    for ax, mode in zip(fig.axes, modes, strict=True):
        torch_mode = "constant" if mode == "zeros" else mode
        expected = F.pad(torch.from_numpy(x)[None, None], (2, 2, 2, 2), mode=torch_mode)
        assert axes_numbers(ax) == expected.numpy().ravel().tolist()
        assert ax.get_title() == mode
        assert len(_cells(ax, PADDING)) == 7 * 7 - 9


def test_padding_modes_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match=r"padding_modes: unknown modes \['mirror'\]"):
        padding_modes(np.ones((3, 3)), 1, ["mirror"])


def test_feature_maps_shows_each_map_with_its_title_and_colour_bar():
    maps = [np.arange(6.0).reshape(2, 3), -np.eye(3)]
    fig = feature_maps(maps, ["ramp", "edges"])
    panels = [ax for ax in fig.axes if ax.images]
    for ax, image, title in zip(panels, maps, ["ramp", "edges"], strict=True):
        (shown,) = ax.images
        np.testing.assert_array_equal(shown.get_array(), image)
        assert ax.get_title() == title
        # Its own scale: from the map's minimum to its maximum, with a colour bar.
        assert shown.get_clim() == (image.min(), image.max())
        assert shown.colorbar is not None


def test_feature_maps_shared_scale_is_zero_centred_with_one_colour_bar():
    maps = [np.array([[0.0, 2.0]]), np.array([[-5.0, 1.0]])]
    fig = feature_maps(maps, ["a", "b"], shared=True)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_clim() for im in images] == [(-5.0, 5.0), (-5.0, 5.0)]
    assert sum(im.colorbar is not None for im in images) == 1
    assert len(fig.axes) == 3  # two maps and one colour bar


def test_feature_maps_needs_one_title_per_map():
    with pytest.raises(ValueError, match="feature_maps: got 2 maps and 1 titles"):
        feature_maps([np.eye(2), np.eye(2)], ["one"])


def test_count_bars_draws_each_count_with_its_number():
    counts = {"plain 3x3": 590080, "bottleneck": 70016}
    fig = count_bars(counts, title="parameters")
    fig.canvas.draw()
    (ax,) = fig.axes
    assert [bar.get_height() for bar in ax.patches] == list(counts.values())
    assert [t.get_text() for t in ax.texts] == ["590,080", "70,016"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(counts)
