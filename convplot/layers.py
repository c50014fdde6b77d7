"""Drawings for notebooks 06-07: layer variants, receptive fields, the backward pass, a small CNN.

Numbered grids reuse `convplot.grids` (same colours, same cell style), so a value
can be followed from one picture to the next. Each public function returns the
Figure; the notebook calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from convplot.grids import (
    HIGHLIGHT,
    INPUT,
    KERNEL,
    OUTPUT,
    PADDING,
    _figsize,
    _finish,
    draw_array,
    fmt,
)

# Distinct, light fills for pooling windows: a window and its output cell share one.
WINDOW_COLOURS = ("#f4cccc", "#d9ead3", "#cfe2f3", "#fff2cc", "#d9d2e9", "#fce5cd",
                  "#d0e0e3", "#ead1dc", "#c9daf8")
DIVERGING = "RdBu_r"


def _as_grid(name: str, values) -> np.ndarray:
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2:
        raise ValueError(f"{name}: expected a 2D array, got shape {grid.shape}")
    return grid


def stamps_1d(x, h, stride: int = 1) -> Figure:
    """A 1D transposed convolution as stamps: row ``i`` is ``x[i] * h`` placed at ``i*stride``.

    The bottom row is the sum of the stamps, ``conv_transpose1d(x, h, stride)``
    without padding, of length ``(len(x) - 1)*stride + len(h)``.

    Parameters
    ----------
    x : array_like of shape (n,)
    h : array_like of shape (k,)
    stride : int
    """
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    if x.ndim != 1 or h.ndim != 1 or stride < 1:
        raise ValueError(
            f"stamps_1d: expected 1D x and h and stride >= 1, got shapes {x.shape}, {h.shape} "
            f"and stride={stride}"
        )
    length = (len(x) - 1) * stride + len(h)
    total = np.zeros(length)
    fig, ax = plt.subplots(figsize=_figsize(length + 3, len(x) + 2))
    for i, value in enumerate(x):
        total[i * stride:i * stride + len(h)] += value * h
        draw_array(ax, value * h, x0=3 + i * stride, y0=i, colour=KERNEL)
        ax.text(2.7, i + 0.5, f"x[{i}]·h", ha="right", va="center", fontsize=10)
    ax.plot([3, 3 + length], [len(x) + 0.25, len(x) + 0.25], color="#555555", linewidth=1.2)
    draw_array(ax, total, x0=3, y0=len(x) + 0.5, colour=OUTPUT)
    ax.text(2.7, len(x) + 1.0, "sum", ha="right", va="center", fontsize=10)
    _finish(ax, length + 3, len(x) + 1.5, f"Transposed convolution, stride {stride}: "
            "every input stamps a scaled kernel")
    return fig


def dilated_taps(size: int, kernel_size: int, dilations: Sequence[int]) -> Figure:
    """Which pixels of a ``size x size`` input one dilated kernel reads, one panel per dilation.

    The kernel sits at the top-left corner; its taps are filled, the span it
    covers, ``d*(k-1) + 1`` pixels per side, is outlined.
    """
    fig, axes = plt.subplots(1, len(dilations), figsize=(min(10, 3.2 * len(dilations)), 3.4))
    for ax, d in zip(np.atleast_1d(axes), dilations, strict=True):
        span = d * (kernel_size - 1) + 1
        if span > size:
            raise ValueError(
                f"dilated_taps: a {kernel_size}-tap kernel with dilation {d} spans {span} "
                f"pixels, more than size={size}"
            )
        for r in range(size):
            for c in range(size):
                tap = r < span and c < span and r % d == 0 and c % d == 0
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor=KERNEL if tap else INPUT,
                                       edgecolor="#555555", linewidth=0.6))
        ax.add_patch(Rectangle((0, 0), span, span, fill=False, edgecolor=HIGHLIGHT,
                               linewidth=2.5))
        _finish(ax, size, size, f"dilation {d}: {kernel_size * kernel_size} weights, "
                f"{span}x{span} span")
    fig.tight_layout()
    return fig


def annotated_heatmap(values, title: str | None = None, cmap: str = "viridis") -> Figure:
    """A 2D array as a heatmap with every value written in its cell (e.g. a checkerboard)."""
    grid = _as_grid("annotated_heatmap", values)
    height, width = grid.shape
    fig, ax = plt.subplots(figsize=_figsize(width, height, scale=0.55))
    image = ax.imshow(grid, cmap=cmap)
    middle = (grid.min() + grid.max()) / 2
    for r in range(height):
        for c in range(width):
            # Light text on the dark half of the colour map, dark text on the light half.
            colour = "white" if grid[r, c] < middle else "black"
            ax.text(c, r, fmt(grid[r, c]), ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def _cell_text(value: float) -> str:
    return "-∞" if value == -np.inf else fmt(value)


def pooling_windows(x, pooled, kernel_size: int, stride: int, padding: int = 0,
                    pad_value: float = 0.0, title: str | None = None) -> Figure:
    """Pooling windows on the input, each in its own colour, next to the pooled output.

    Output cell ``(i, j)`` is filled with the colour of the window it summarises,
    which starts at row ``i*stride`` and column ``j*stride`` of the padded input.

    Parameters
    ----------
    x : array_like of shape (H, W)
        The input, without padding.
    pooled : array_like of shape (H_out, W_out)
    kernel_size, stride, padding : int
    pad_value : float
        What the border is filled with: ``-inf`` for max pooling, 0 for average pooling.
    """
    x = np.pad(_as_grid("pooling_windows", x), padding, constant_values=pad_value)
    pooled = _as_grid("pooling_windows", pooled)
    height, width = x.shape
    fig, ax = plt.subplots(figsize=_figsize(width + pooled.shape[1] + 2, height))
    for r in range(height):
        for c in range(width):
            border = min(r, c, height - 1 - r, width - 1 - c) < padding
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=PADDING if border else "white",
                                   edgecolor="#555555", linewidth=0.8,
                                   linestyle="--" if border else "-"))
            ax.text(c + 0.5, r + 0.5, _cell_text(x[r, c]), ha="center", va="center",
                    fontsize=10, color="#666666" if border else "black", zorder=4)
    x_out = width + 2
    top = (height - pooled.shape[0]) / 2
    for i in range(pooled.shape[0]):
        for j in range(pooled.shape[1]):
            colour = WINDOW_COLOURS[(i * pooled.shape[1] + j) % len(WINDOW_COLOURS)]
            # Overlapping windows are inset a little so that every outline stays visible.
            inset = 0.08 * ((i + j) % 3) if stride < kernel_size else 0.0
            ax.add_patch(Rectangle((j * stride + inset, i * stride + inset),
                                   kernel_size - 2 * inset, kernel_size - 2 * inset,
                                   facecolor=colour, alpha=0.5, edgecolor="#333333",
                                   linewidth=1.5, zorder=2))
            ax.add_patch(Rectangle((x_out + j, top + i), 1, 1, facecolor=colour,
                                   edgecolor="#555555", linewidth=0.8))
            ax.text(x_out + j + 0.5, top + i + 0.5, _cell_text(pooled[i, j]), ha="center",
                    va="center", fontsize=10)
    ax.text(width / 2, -0.3, "input", ha="center", va="bottom", fontsize=10)
    ax.text(x_out + pooled.shape[1] / 2, top - 0.3, "output", ha="center", va="bottom",
            fontsize=10)
    ax.text(width + 1, height / 2, "→", ha="center", va="center", fontsize=20)
    _finish(ax, x_out + pooled.shape[1], height, title)
    return fig


def cost_bars(labels: Sequence[str], standard: Sequence[float], separable: Sequence[float],
              quantity: str = "parameters") -> Figure:
    """Standard versus depthwise-separable cost per setting, on a log scale, with the ratio.

    Parameters
    ----------
    labels : sequence of str
        One setting per group of bars, e.g. ``"C=64, k=3"``.
    standard, separable : sequence of float
        The cost of each layer for every setting.
    quantity : str
        What is counted, for the axis label ("parameters", "multiply-adds", ...).
    """
    if not len(labels) == len(standard) == len(separable):
        raise ValueError(
            f"cost_bars: got {len(labels)} labels, {len(standard)} standard and "
            f"{len(separable)} separable costs; expected one of each per setting"
        )
    positions = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(min(10, 1.6 * len(labels) + 2.5), 3.4))
    ax.bar(positions - 0.2, standard, 0.4, color=INPUT, edgecolor="#555555", label="standard")
    bars = ax.bar(positions + 0.2, separable, 0.4, color=KERNEL, edgecolor="#555555",
                  label="depthwise separable")
    ax.bar_label(bars, labels=[f"÷{s / p:.1f}" for s, p in zip(standard, separable, strict=True)],
                 fontsize=9)
    ax.set_yscale("log")
    ax.set_xticks(positions, labels)
    ax.set_ylabel(f"{quantity} (log scale)")
    ax.legend(frameon=False, fontsize=9)
    ax.margins(y=0.15)
    fig.tight_layout()
    return fig


def _stack_positions(layers, n_input: int) -> list[np.ndarray]:
    """Centre of every unit of every layer, in input-pixel coordinates (input first)."""
    centres = [np.arange(n_input, dtype=float)]
    jump = 1
    for kernel, stride, dilation in layers:
        span = dilation * (kernel - 1)
        count = (len(centres[-1]) - span - 1) // stride + 1
        if count < 1:
            raise ValueError(
                f"receptive_field_stack: layer (kernel={kernel}, stride={stride}, "
                f"dilation={dilation}) does not fit on {len(centres[-1])} units; "
                f"use a longer input than n_input={n_input}"
            )
        centres.append(centres[-1][np.arange(count) * stride] + span * jump / 2)
        jump *= stride
    return centres


def receptive_field_stack(layers, n_input: int) -> Figure:
    """A 1D stack of layers; the units that one top unit depends on are highlighted.

    The input is the bottom row. Each unit is drawn at the centre of the input
    pixels it sees; lines join a highlighted unit to the units it reads.

    Parameters
    ----------
    layers : list of (int, int, int)
        ``(kernel, stride, dilation)`` per layer, input side first; no padding.
    n_input : int
        Number of input pixels.
    """
    centres = _stack_positions(layers, n_input)
    # Walk down from the middle unit of the top layer.
    active = [np.array([len(centres[-1]) // 2])]
    for kernel, stride, dilation in reversed(layers):
        taps = active[0][:, None] * stride + np.arange(kernel)[None, :] * dilation
        active.insert(0, np.unique(taps))
    # Equal aspect: the height follows from the width, plus room for the title.
    width_in = min(10.0, 0.45 * (n_input + 8))
    fig, ax = plt.subplots(figsize=(width_in, width_in * len(centres) / (n_input + 8) + 0.6))
    for level, (row, lit) in enumerate(zip(centres, active, strict=True)):
        y = level
        if level > 0:
            kernel, stride, dilation = layers[level - 1]
            for unit in lit:
                for tap in range(kernel):
                    below = centres[level - 1][unit * stride + tap * dilation]
                    ax.plot([row[unit], below], [y - 0.35, y - 0.65], color=HIGHLIGHT,
                            linewidth=0.8, alpha=0.7)
            name = f"layer {level}: k={kernel}, s={stride}, d={dilation}"
        else:
            name = "input"
        for unit, centre in enumerate(row):
            ax.add_patch(Rectangle((centre - 0.35, y - 0.35), 0.7, 0.7,
                                   facecolor=HIGHLIGHT if unit in lit else INPUT,
                                   edgecolor="#555555", linewidth=0.6))
        ax.text(-1.0, y, name, ha="right", va="center", fontsize=9)
    size = int(active[0].max() - active[0].min() + 1)
    # Room on the left for the row names.
    ax.set_xlim(-8.0, n_input)
    ax.set_ylim(-0.7, len(centres) - 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"One top unit sees {size} input pixels", fontsize=11)
    fig.tight_layout()
    return fig


def receptive_field_map(grad, top_left: tuple[int, int], size: int,
                        title: str | None = None) -> Figure:
    """Where a gradient reaches in the input, with the computed receptive field outlined.

    Parameters
    ----------
    grad : array_like of shape (H, W)
        Gradient of one output pixel with respect to the input (its magnitude is drawn).
    top_left : (int, int)
        Row and column of the receptive field's first pixel.
    size : int
        Side of the receptive field in pixels.
    """
    grad = np.abs(_as_grid("receptive_field_map", grad))
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.imshow(grad, cmap="Greys")
    row, col = top_left
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor=HIGHLIGHT,
                           linewidth=2.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"|gradient| of one output pixel; box: {size}x{size}", fontsize=10)
    fig.tight_layout()
    return fig


def loss_curve(losses: Sequence[float], title: str = "Training loss") -> Figure:
    """Mean training loss per epoch."""
    losses = np.asarray(losses, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", markersize=3, color="#3d85c6")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def filter_grid(weight, title: str = "Learned filters", per_row: int = 8) -> Figure:
    """Every filter of a ``(C_out, 1, kH, kW)`` weight as a small image, one colour scale.

    Blue is negative, red positive, white zero: the same scale for all filters,
    so their strengths can be compared. Filters fill rows of `per_row`.
    """
    weight = np.asarray(weight, dtype=float)
    if weight.ndim != 4 or weight.shape[1] != 1:
        raise ValueError(f"filter_grid: expected weight of shape (C_out, 1, kH, kW), "
                         f"got {weight.shape}")
    limit = np.abs(weight).max() or 1.0
    return _image_grid(weight[:, 0], range(len(weight)), per_row, (1.2, 1.4), title,
                       cmap=DIVERGING, vmin=-limit, vmax=limit)


def _image_grid(images, titles, per_row: int, cell: tuple[float, float], title: str,
                **imshow) -> Figure:
    """Small titled images in rows of `per_row`; `cell` is one image's (width, height) in inches."""
    cols = min(per_row, len(images))
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(min(10, cell[0] * cols + 0.5), cell[1] * rows + 0.4), squeeze=False
    )
    for index, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if index < len(images):
            ax.imshow(images[index], **imshow)
            ax.set_title(str(titles[index]), fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def misclassified(images, true, predicted, limit: int = 10) -> Figure:
    """Up to `limit` images whose predicted label differs from the true one.

    Parameters
    ----------
    images : array_like of shape (N, H, W) or (N, 1, H, W)
    true, predicted : array_like of shape (N,)
    limit : int
    """
    images = np.asarray(images, dtype=float).reshape(len(true), *np.shape(images)[-2:])
    true, predicted = np.asarray(true), np.asarray(predicted)
    wrong = np.flatnonzero(true != predicted)[:limit]
    fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(min(10, 1.1 * max(len(wrong), 1)
                                                                 + 0.6), 1.9))
    axes = np.atleast_1d(axes)
    for ax, index in zip(axes, wrong, strict=False):
        ax.imshow(images[index], cmap="gray_r")
        ax.set_title(f"{predicted[index]} (is {true[index]})", fontsize=9)
        ax.axis("off")
    if not len(wrong):
        axes[0].text(0.5, 0.5, "none misclassified", ha="center", va="center")
        axes[0].axis("off")
    fig.suptitle("Misclassified: predicted (true)", fontsize=11)
    fig.tight_layout()
    return fig


def sample_images(images, labels, per_row: int = 10, title: str = "Samples") -> Figure:
    """Images in rows of `per_row`, each titled with its label (e.g. digits and their classes).

    Parameters
    ----------
    images : array_like of shape (N, H, W) or (N, 1, H, W)
    labels : array_like of shape (N,)
    per_row : int
    title : str
    """
    labels = np.asarray(labels)
    images = np.asarray(images, dtype=float)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or len(images) != len(labels) or not len(labels):
        raise ValueError(
            f"sample_images: expected N >= 1 images of shape (N, H, W) or (N, 1, H, W) and N "
            f"labels, got images {np.shape(images)} and {len(labels)} labels"
        )
    return _image_grid(images, labels, per_row, (0.9, 1.05), title, cmap="gray_r")


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def gradient_flow(x_shape: Sequence[int], weight_shape: Sequence[int],
                  out_shape: Sequence[int], label: str = "conv2d") -> Figure:
    """The forward and the backward pass of a convolution as boxes with their array shapes.

    Top row, left to right: ``x``, ``weight`` and ``bias`` go into the layer, ``out``
    comes out. Bottom row, right to left: ``dout`` goes into the backward pass and
    ``dx``, ``dweight`` and ``dbias`` come out, each shaped like the array it is the
    gradient of.

    Parameters
    ----------
    x_shape : sequence of 4 int
        ``(N, C_in, H, W)``.
    weight_shape : sequence of 4 int
        ``(C_out, C_in, kH, kW)``.
    out_shape : sequence of 4 int
        ``(N, C_out, H_out, W_out)``.
    label : str
        The forward operation, written in its box (e.g. ``"conv2d, stride 2, padding 1"``);
        the text before the first comma names the backward box (``conv2d_backward``).
    """
    x_shape, weight_shape, out_shape = (tuple(int(s) for s in v)
                                        for v in (x_shape, weight_shape, out_shape))
    if not len(x_shape) == len(weight_shape) == len(out_shape) == 4:
        raise ValueError(
            f"gradient_flow: expected 4-D shapes, got x {x_shape}, weight {weight_shape} and "
            f"out {out_shape}"
        )
    if x_shape[1] != weight_shape[1] or out_shape[:2] != (x_shape[0], weight_shape[0]):
        raise ValueError(
            f"gradient_flow: shapes do not fit one convolution: x {x_shape}, weight "
            f"{weight_shape}, out {out_shape}; expected weight[1] == x[1], out[0] == x[0] and "
            "out[1] == weight[0]"
        )
    bias_shape = (weight_shape[0],)
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    box = {"boxstyle": "round,pad=0.35", "edgecolor": "#555555", "linewidth": 0.8}
    # Arrows join the edges of two text boxes; the shrink clears the rounded padding.
    arrow = {"arrowstyle": "-|>", "color": "#555555", "linewidth": 1.2, "shrinkA": 7,
             "shrinkB": 7}
    rows = (
        # (y, arrays on the left, operation, array on the right, fill, arrows point right)
        (3.0, [("x", x_shape), ("weight", weight_shape), ("bias", bias_shape)], label,
         ("out", out_shape), INPUT, True),
        (0.0, [("dx", x_shape), ("dweight", weight_shape), ("dbias", bias_shape)],
         f"{label.split(',')[0]}_backward", ("dout", out_shape), OUTPUT, False),
    )
    for y, arrays, operation, (name, shape), fill, forward in rows:
        middle = ax.text(4.6, y, operation, ha="center", va="center", fontsize=10,
                         bbox={**box, "facecolor": KERNEL})
        end = ax.text(8.3, y, f"{name}\n{_shape_text(shape)}", ha="center", va="center",
                      fontsize=9, bbox={**box, "facecolor": fill})
        pairs = [(middle, end)] if forward else [(end, middle)]
        for k, (array, array_shape) in enumerate(arrays):
            side = ax.text(1.0, y + 0.9 * (1 - k), f"{array}\n{_shape_text(array_shape)}",
                           ha="center", va="center", fontsize=9, bbox={**box, "facecolor": fill})
            pairs.append((side, middle) if forward else (middle, side))
        for source, target in pairs:
            # From the right edge of the source box to the left edge of the target, or back.
            right = source.get_position()[0] < target.get_position()[0]
            ax.annotate("", xy=(0 if right else 1, 0.5), xycoords=target,
                        xytext=(1 if right else 0, 0.5), textcoords=source, arrowprops=arrow)
    ax.text(4.6, 4.35, "forward →", ha="center", va="center", fontsize=10, fontweight="bold")
    ax.text(4.6, 1.35, "← backward", ha="center", va="center", fontsize=10, fontweight="bold")
    ax.text(4.6, -0.6, "(also reads x and weight,\nsaved by the forward pass)", ha="center",
            va="top", fontsize=8, color="#555555")
    ax.set_xlim(0.0, 9.2)
    ax.set_ylim(-1.5, 4.6)
    ax.axis("off")
    fig.tight_layout()
    return fig
