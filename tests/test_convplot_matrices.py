"""Smoke tests for convplot.matrices: render on Agg and check what is drawn."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest

from convplot.grids import HIGHLIGHT as WINDOW
from convplot.grids import KERNEL
from convplot.matrices import (
    density,
    draw_growth,
    draw_matrices,
    draw_signal_pairs,
    draw_signals,
    draw_sparsity,
    window_rows,
)
from tests.conftest import axes_numbers


def test_draw_matrices_writes_every_entry_of_the_worked_example():
    T = np.array([[1, 0, -1, 0], [0, 1, 0, -1]])
    x = np.array([1, 2, 3, 4])
    y = T @ x  # the documents' [-2, -2]
    fig = draw_matrices({"T": T, "x": x, "y": y}, between=["@", "="])
    fig.canvas.draw()
    (ax,) = fig.axes
    assert len(ax.images) == 3
    expected = [*T.ravel(), *x, *y]
    assert axes_numbers(ax) == expected
    labels = [t.get_text() for t in ax.texts]
    assert "T\n2×4" in labels and "x\n4×1" in labels and "y\n2×1" in labels
    assert "@" in labels and "=" in labels


def test_draw_matrices_hide_zeros_and_no_negative_zero():
    a = np.array([[0.0, -0.0, 2.5], [-1.25, 0.0, 0.0]])
    ax = draw_matrices({"A": a}, hide_zeros=True).axes[0]
    assert axes_numbers(ax) == [2.5, -1.25]
    texts = [t.get_text() for t in draw_matrices({"A": a}).axes[0].texts]
    assert "-0" not in texts and texts.count("0") == 4


def test_draw_matrices_block_lines_split_the_matrix():
    m = np.arange(9 * 16, dtype=float).reshape(9, 16)
    ax = draw_matrices({"M": m}, blocks={"M": (3, 4)}, annotate=False).axes[0]
    assert axes_numbers(ax) == []
    # collections: cell grid (h, v) then block lines (h, v)
    hblocks, vblocks = ax.collections[2], ax.collections[3]
    assert [seg[0][1] for seg in hblocks.get_segments()] == [0, 3, 6, 9]
    assert [seg[0][0] for seg in vblocks.get_segments()] == [0, 4, 8, 12, 16]


def test_draw_matrices_shared_scale_gives_every_panel_the_same_limits():
    a, b = np.array([[1.0, -2.0]]), np.array([[8.0], [0.5]])
    own = draw_matrices({"a": a, "b": b}).axes[0].images
    assert [im.get_clim() for im in own] == [(-2.0, 2.0), (-8.0, 8.0)]
    shared = draw_matrices({"a": a, "b": b}, shared_scale=True).axes[0].images
    assert [im.get_clim() for im in shared] == [(-8.0, 8.0), (-8.0, 8.0)]


def test_draw_matrices_row_labels_name_each_row_left_of_its_panel():
    cols = np.arange(8.0).reshape(4, 2)
    labels = ["(0, 0, 0)", "(0, 0, 1)", "(0, 1, 0)", "(0, 1, 1)"]
    fig = draw_matrices({"w": np.ones((1, 4)), "cols": cols}, between=["@"],
                        row_labels={"cols": labels})
    fig.canvas.draw()
    (ax,) = fig.axes
    left_edge = ax.images[1].get_extent()[0]
    drawn = {t.get_text(): t.get_position() for t in ax.texts}
    for r, label in enumerate(labels):
        x, y = drawn[label]
        assert x < left_edge and y == pytest.approx(r + 0.5)
    assert axes_numbers(ax) == [1, 1, 1, 1, *cols.ravel()]


def test_draw_matrices_rejects_row_labels_that_do_not_fit():
    with pytest.raises(ValueError, match=r"row_labels\['A'\] expects 2 labels, one per row, got 1"):
        draw_matrices({"A": np.eye(2)}, row_labels={"A": ["only one"]})
    with pytest.raises(ValueError, match="row_labels names an unknown panel 'B'"):
        draw_matrices({"A": np.eye(2)}, row_labels={"B": ["a", "b"]})


def test_draw_sparsity_stretches_a_flat_matrix_and_labels_its_rows():
    flat = np.ones((3, 38))
    fig = draw_sparsity({"T": np.eye(40), "X": flat}, row_labels={"X": ["u=0", "u=1", "u=2"]})
    square_ax, flat_ax = fig.axes
    assert square_ax.get_aspect() == 1.0 and flat_ax.get_aspect() == "auto"
    assert [t.get_text() for t in flat_ax.get_yticklabels()] == ["u=0", "u=1", "u=2"]
    with pytest.raises(ValueError, match=r"row_labels\['X'\] expects 3 labels, got 2"):
        draw_sparsity({"X": flat}, row_labels={"X": ["a", "b"]})


def test_draw_matrices_large_matrix_is_not_annotated_by_default():
    ax = draw_matrices({"big": np.ones((60, 60))}).axes[0]
    assert axes_numbers(ax) == []
    assert ax.images[0].get_array().shape == (60, 60)


def test_draw_matrices_rejects_bad_panels():
    with pytest.raises(ValueError, match=r"draw_matrices: between expects 1 signs .* got 2"):
        draw_matrices({"a": np.eye(2), "b": np.eye(2)}, between=["@", "="])
    with pytest.raises(ValueError, match=r"panel 'c' expects a non-empty 1-D or 2-D array"):
        draw_matrices({"c": np.zeros((2, 2, 2))})
    with pytest.raises(TypeError, match=r"panel 'z' is complex"):
        draw_matrices({"z": np.eye(2) * 1j})
    with pytest.raises(ValueError, match=r"blocks names unknown panels \['q'\]"):
        draw_matrices({"a": np.eye(2)}, blocks={"q": (1, 1)})


def test_draw_sparsity_shows_the_nonzero_pattern_and_density():
    band = np.eye(8) - np.eye(8, k=1)
    fig = draw_sparsity({"T": band, "X": np.ones((3, 6))})
    left, right = fig.axes
    np.testing.assert_array_equal(left.images[0].get_array(), band != 0)
    assert left.get_title() == f"T  8×8\ndensity {15 / 64:.1%}"
    assert right.get_title().endswith("density 100.0%")
    assert density(band) == 15 / 64


def test_draw_growth_plots_each_series():
    n = np.array([8, 16, 32])
    fig = draw_growth(n, {"view I": 3 / n}, {"view I": 8.0 * n**2, "view II": 24.0 * n})
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[0].get_ydata(), 3 / n)
    assert [line.get_label() for line in right.lines] == ["view I", "view II"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), 24.0 * n)
    with pytest.raises(ValueError, match=r"draw_growth: series 'bad' expects shape \(3,\)"):
        draw_growth(n, {"bad": np.ones(2)}, {})


def test_draw_signals_stems_and_highlights():
    x = np.array([0.0, 1.0, 3.0, 1.0, 0.0])
    fig = draw_signals({"x": x, "S x": np.roll(x, 1)}, highlight=[0, 4])
    top, bottom = fig.axes
    markers = top.containers[0].markerline
    np.testing.assert_array_equal(markers.get_ydata(), x)
    np.testing.assert_array_equal(bottom.containers[0].markerline.get_ydata(), np.roll(x, 1))
    assert len(top.patches) == 2  # one shaded span per highlighted index
    spans = draw_signals({"x": x}, highlight=np.flatnonzero(x == 1.0)).axes[0].patches
    assert [p.get_x() + p.get_width() / 2 for p in spans] == pytest.approx([1.0, 3.0])
    with pytest.raises(ValueError, match=r"draw_signals: signal 'm' expects a 1-D array"):
        draw_signals({"m": np.eye(2)})


def test_window_rows_draws_each_window_above_its_row_of_t():
    x = np.array([1, 2, 3, 4])
    T = np.array([[1, 0, -1, 0], [0, 1, 0, -1]])  # the documents' View I matrix of [1, 0, -1]
    ax = window_rows(x, T, [0, 1], 3).axes[0]
    assert axes_numbers(ax) == [*x, *T[0], *x, *T[1]]
    texts = [t.get_text() for t in ax.texts]
    assert "y[0] = 1·1 + 0·2 + (-1)·3 = -2" in texts
    assert "y[1] = 1·2 + 0·3 + (-1)·4 = -2" in texts
    red = mcolors.to_rgba(WINDOW)
    outlines = [(p.get_x(), p.get_y(), p.get_width()) for p in ax.patches
                if not p.get_fill() and p.get_edgecolor() == red]
    # Frame i (3 cells tall): the window on x, and the same columns of row i of T.
    assert outlines == [(0, 0, 3), (0, 1.2, 3), (1, 3, 3), (1, 4.2, 3)]
    taps = sorted((p.get_x(), p.get_y()) for p in ax.patches
                  if p.get_fill() and p.get_facecolor() == mcolors.to_rgba(KERNEL))
    assert taps == [(0, 1.2), (1, 1.2), (1, 4.2), (2, 1.2), (2, 4.2), (3, 4.2)]


def test_window_rows_rejects_bad_windows():
    T = np.eye(2, 4)
    with pytest.raises(ValueError, match=r"window_rows: window 1 \(columns 3..5\) is not inside"):
        window_rows(np.arange(4), T, [0, 3], 3)
    with pytest.raises(ValueError, match=r"window_rows: starts expects one window per row"):
        window_rows(np.arange(4), T, [0], 3)
    with pytest.raises(ValueError, match=r"window_rows: expects x of shape \(n,\) and T"):
        window_rows(np.arange(5), T, [0, 1], 3)
    with pytest.raises(ValueError, match=r"window_rows: width expects at least 1 column, got 0"):
        window_rows(np.arange(4), T, [0, 1], 0)


def test_draw_signal_pairs_marks_where_the_maximum_moved():
    x = np.array([0.0, 1.0, 3.0, 1.0, 0.0, -2.0])
    fig = draw_signal_pairs({"x": (x, np.roll(x, 2))}, columns=("x", "shifted"))
    left, right = fig.axes
    np.testing.assert_array_equal(right.containers[0].markerline.get_ydata(), np.roll(x, 2))
    assert [t.get_text() for t in left.texts] == ["max 3 at 2"]
    assert [t.get_text() for t in right.texts] == ["max 3 at 4"]
    (span,) = right.patches
    assert span.get_x() + span.get_width() / 2 == pytest.approx(4.0)
    assert left.get_ylim() == right.get_ylim()
    assert (left.get_title(), right.get_title()) == ("x", "shifted")
    with pytest.raises(ValueError, match=r"draw_signal_pairs: row 'b' expects two 1-D signals"):
        draw_signal_pairs({"b": (x, x[:3])})
