"""Grids with their numbers: arrays, sliding windows, padding at the border, feature maps.

Every figure draws arrays as boxes of unit size with the value written inside,
in one colour per role (input, kernel, output) so that a reader can follow a
number from one picture to the next. Padding cells are grey with dashed edges; the
current window is outlined in red. Each public function returns the Figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

INPUT = "#cfe2f3"
KERNEL = "#fce5cd"
OUTPUT = "#d9ead3"
PADDING = "#eeeeee"
HIGHLIGHT = "#cc0000"
CURRENT = "#93c47d"

# np.pad's names for the padding modes of torch.nn.functional.pad.
_NP_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def fmt(value: float) -> str:
    """The text written in a cell: integers without a decimal point, others to 3 digits.

    >>> fmt(3.0), fmt(-0.0), fmt(0.5), fmt(2 / 3)
    ('3', '0', '0.5', '0.667')
    """
    value = float(value)
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def _as_2d(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return values[None, :]
    if values.ndim != 2:
        raise ValueError(f"convplot: expected a 1D or 2D array, got shape {values.shape}")
    return values


def draw_array(ax: Axes, values, x0: float = 0.0, y0: float = 0.0, colour: str = INPUT,
               pad: int = 0, label: str | None = None, fontsize: float = 10) -> tuple[int, int]:
    """Draw an array as numbered boxes with its top-left corner at ``(x0, y0)``.

    Parameters
    ----------
    ax : Axes
        Axes whose y axis points down (see `_finish`).
    values : array_like of shape (W,) or (H, W)
        A 1D array is drawn as one row.
    colour : str
        Fill of the ordinary cells.
    pad : int
        Width of the border drawn as padding (grey, dashed edges).
    label : str, optional
        Written above the grid.

    Returns
    -------
    (height, width) : tuple of int
        The size of the drawn grid in cells.
    """
    grid = _as_2d(values)
    height, width = grid.shape
    # A 1D array is padded at its two ends only.
    pad_rows = pad if np.ndim(values) == 2 else 0
    for r in range(height):
        for c in range(width):
            border = (min(c, width - 1 - c) < pad) or (min(r, height - 1 - r) < pad_rows)
            ax.add_patch(Rectangle(
                (x0 + c, y0 + r), 1, 1, facecolor=PADDING if border else colour,
                edgecolor="#555555", linewidth=0.8, linestyle="--" if border else "-",
            ))
            ax.text(x0 + c + 0.5, y0 + r + 0.5, fmt(grid[r, c]), ha="center", va="center",
                    fontsize=fontsize, color="#666666" if border else "black")
    if label:
        ax.text(x0 + width / 2, y0 - 0.3, label, ha="center", va="bottom", fontsize=fontsize)
    return height, width


def outline(ax: Axes, x0: float, y0: float, width: float, height: float,
            colour: str = HIGHLIGHT) -> None:
    """Outline a window of cells (the current position of the kernel)."""
    ax.add_patch(Rectangle((x0, y0), width, height, fill=False, edgecolor=colour, linewidth=2.5))


def _figsize(width: float, height: float, scale: float = 0.5) -> tuple[float, float]:
    """Figure size for a drawing of ``width x height`` cells, at most 10 inches wide."""
    scale = min(scale, 10 / (width + 1))
    return (width + 1) * scale, (height + 1.5) * scale


def _finish(ax: Axes, width: float, height: float, title: str | None = None) -> None:
    # Rows grow downwards, like the printed arrays; a margin keeps labels inside.
    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(height + 0.3, -1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)


def show_array(values, title: str | None = None, colour: str = INPUT, pad: int = 0) -> Figure:
    """One array as a numbered grid, its padding border (``pad`` cells) in grey."""
    grid = _as_2d(values)
    fig, ax = plt.subplots(figsize=_figsize(grid.shape[1], grid.shape[0]))
    draw_array(ax, values, colour=colour, pad=pad)
    _finish(ax, grid.shape[1], grid.shape[0], title)
    return fig


def grid_equation(*items, labels=None, colours=None, title: str | None = None) -> Figure:
    """Arrays and symbols in one row, e.g. ``grid_equation(x, "⋆", h, "=", y)``.

    Parameters
    ----------
    *items : array_like of shape (W,) or (H, W), or str
        Arrays are drawn as grids, strings as large symbols between them.
    labels : list of str, optional
        One label per array, written above it.
    colours : list of str, optional
        One fill colour per array; by default input, kernel, then output colours.
    """
    arrays = [item for item in items if not isinstance(item, str)]
    labels = labels or [None] * len(arrays)
    colours = colours or ([INPUT, KERNEL, OUTPUT, KERNEL, OUTPUT] * len(arrays))[:len(arrays)]
    if len(labels) != len(arrays) or len(colours) != len(arrays):
        raise ValueError(
            f"grid_equation: got {len(arrays)} arrays but {len(labels)} labels and "
            f"{len(colours)} colours; expected one of each per array"
        )
    # A symbol takes room in proportion to its text; an array its columns plus a gap.
    widths = [max(1.2, 0.4 * len(item) + 0.6) if isinstance(item, str)
              else _as_2d(item).shape[1] + 0.6 for item in items]
    height = max(_as_2d(a).shape[0] for a in arrays)
    fig, ax = plt.subplots(figsize=_figsize(sum(widths), height))
    x, k = 0.0, 0
    for item, w in zip(items, widths, strict=True):
        if isinstance(item, str):
            ax.text(x + w / 2 - 0.3, height / 2, item, ha="center", va="center",
                    fontsize=20 if len(item) <= 2 else 14)
        else:
            rows = _as_2d(item).shape[0]
            draw_array(ax, item, x0=x, y0=(height - rows) / 2, colour=colours[k], label=labels[k])
            k += 1
        x += w
    _finish(ax, x - 0.6, height, title)
    return fig


def _padded(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(np.asarray(x, dtype=float), padding)


def _slide_1d_outputs(xp: np.ndarray, h: np.ndarray, stride: int, bias: float,
                      caller: str) -> list[float]:
    """Every output of ``h`` sliding over the padded input ``xp``, in order."""
    n_out = (len(xp) - len(h)) // stride + 1
    if n_out < 1:
        raise ValueError(
            f"{caller}: kernel of size {len(h)} does not fit the padded input of length {len(xp)}"
        )
    return [float(h @ xp[i * stride:i * stride + len(h)]) + bias for i in range(n_out)]


def _slide_1d_frame(ax: Axes, xp: np.ndarray, h: np.ndarray, outputs: list[float], step: int,
                    stride: int, padding: int, top: float, labels: bool,
                    bias: float = 0.0) -> None:
    """One frame at height ``top``: the window of output ``step`` and the outputs up to it."""
    n_out = len(outputs)
    start = step * stride
    draw_array(ax, xp, y0=top, pad=padding, label="input x" if labels else None)
    outline(ax, start, top, len(h), 1)
    draw_array(ax, h, x0=start, y0=top + 1.2, colour=KERNEL)
    out_x = len(xp) + 1.5
    for j in range(n_out):
        ax.add_patch(Rectangle((out_x + j, top), 1, 1, edgecolor="#555555", linewidth=0.8,
                               facecolor=CURRENT if j == step else OUTPUT))
        # Outputs after the current one are not computed yet: their boxes stay empty.
        if j <= step:
            ax.text(out_x + j + 0.5, top + 0.5, fmt(outputs[j]), ha="center", va="center",
                    fontsize=8)
    ax.text(out_x, top + 1.7, f"y[{step}] = {fmt(outputs[step])}", va="center", fontsize=10)
    if bias:
        # Spell out the bias: the window's sum of products alone is not the output.
        ax.text(out_x, top + 2.5, f"= {fmt(outputs[step] - bias)} + b, b = {fmt(bias)}",
                va="center", fontsize=9, color="#555555")
    if labels:
        ax.text(out_x + n_out / 2, top - 0.3, "output y", ha="center", va="bottom")


def _slide_1d_width(xp: np.ndarray, n_out: int) -> float:
    return len(xp) + 1.5 + max(n_out, 3)


def slide_1d(x, h, stride: int = 1, padding: int = 0, bias: float = 0.0) -> Figure:
    """Frames of a 1D kernel sliding over ``x``: one row per output position.

    Each frame shows the zero-padded input with the current window outlined, the
    kernel under the window, and the output computed so far. The kernel is not
    flipped (deep-learning convolution is cross-correlation).

    Parameters
    ----------
    x : array_like of shape (n,)
    h : array_like of shape (k,)
    stride, padding : int
    bias : float
        Added to every output, as in ``nn.Conv1d``.
    """
    xp, h = _padded(x, padding), np.asarray(h, dtype=float)
    outputs = _slide_1d_outputs(xp, h, stride, bias, "slide_1d")
    n_out, frame = len(outputs), 3.2
    width = _slide_1d_width(xp, n_out)
    fig, ax = plt.subplots(figsize=_figsize(width, frame * n_out))
    for i in range(n_out):
        _slide_1d_frame(ax, xp, h, outputs, i, stride, padding, top=i * frame, labels=i == 0,
                        bias=bias)
    _finish(ax, width, frame * n_out - 1)
    return fig


def slide_1d_step(x, h, step: int, stride: int = 1, padding: int = 0,
                  bias: float = 0.0) -> Figure:
    """One frame of `slide_1d`: the window of output ``step``, the outputs up to it.

    Drawn for an interactive slider that moves the kernel one position at a time.

    Parameters
    ----------
    x : array_like of shape (n,)
    h : array_like of shape (k,)
    step : int
        Output position, ``0 <= step < L_out``.
    stride, padding : int
    bias : float
        Added to every output, as in ``nn.Conv1d``.
    """
    xp, h = _padded(x, padding), np.asarray(h, dtype=float)
    outputs = _slide_1d_outputs(xp, h, stride, bias, "slide_1d_step")
    if not 0 <= step < len(outputs):
        raise ValueError(
            f"slide_1d_step: step expects an output position in [0, {len(outputs) - 1}], "
            f"got {step}"
        )
    width = _slide_1d_width(xp, len(outputs))
    fig, ax = plt.subplots(figsize=_figsize(width, 2.8 if bias else 2.2))
    _slide_1d_frame(ax, xp, h, outputs, step, stride, padding, top=0, labels=True, bias=bias)
    _finish(ax, width, 2.8 if bias else 2.2)
    return fig


def _window_sum(xp: np.ndarray, kernel: np.ndarray, r: int, c: int) -> float:
    kh, kw = kernel.shape
    return float(np.sum(xp[r:r + kh, c:c + kw] * kernel))


def slide_2d(X, K, stride: int = 1, padding: int = 0, steps=None) -> Figure:
    """Frames of a 2D kernel sliding over ``X`` (zero padding drawn at the border).

    Each frame outlines the window of one output, draws the kernel (orange) under
    the output grid, and writes the stride and where the window starts, so that
    the jump of ``stride`` pixels between neighbouring outputs is visible.

    Parameters
    ----------
    X : array_like of shape (H, W)
    K : array_like of shape (kH, kW)
    stride, padding : int
    steps : list of (int, int), optional
        Output positions ``(i, j)`` to draw, one frame each; by default the first
        two positions of the first row and the first position of the second row.
    """
    Xp, K = _padded(X, padding), np.asarray(K, dtype=float)
    h_out = (Xp.shape[0] - K.shape[0]) // stride + 1
    w_out = (Xp.shape[1] - K.shape[1]) // stride + 1
    if h_out < 1 or w_out < 1:
        raise ValueError(
            f"slide_2d: kernel of shape {K.shape} does not fit the padded input of shape {Xp.shape}"
        )
    steps = steps or [(0, 0), (0, min(1, w_out - 1)), (min(1, h_out - 1), 0)]
    kh, kw = K.shape
    height = max(Xp.shape[0], h_out + kh + 2.2)
    fig, axes = plt.subplots(1, len(steps), figsize=(min(10, 3.4 * len(steps)), 3.6))
    axes = np.atleast_1d(axes)
    for ax, (i, j) in zip(axes, steps, strict=True):
        r, c = i * stride, j * stride
        draw_array(ax, Xp, pad=padding, fontsize=8)
        outline(ax, c, r, kw, kh)
        out_x = Xp.shape[1] + 1
        draw_array(ax, K, x0=out_x, y0=h_out + 1.8, colour=KERNEL, fontsize=8, label="kernel")
        ax.text(0, -0.25, f"stride {stride}: window at ({i}·{stride}, {j}·{stride}) = ({r}, {c})",
                va="bottom", fontsize=8)
        for a in range(h_out):
            for b in range(w_out):
                ax.add_patch(Rectangle((out_x + b, a), 1, 1, edgecolor="#555555", linewidth=0.8,
                                       facecolor=CURRENT if (a, b) == (i, j) else OUTPUT))
        ax.text(out_x + j + 0.5, i + 0.5, fmt(_window_sum(Xp, K, r, c)),
                ha="center", va="center", fontsize=8)
        _finish(ax, out_x + max(w_out, kw), height + 0.8, f"output ({i}, {j})")
    fig.tight_layout()
    return fig


def multichannel_1d(x, weight, steps) -> Figure:
    """Multiple features to multiple features in 1D, one frame per (output feature, position).

    Each frame draws the input features as rows, outlines the window that
    kernel ``o`` covers at position ``i`` (it spans every input feature), draws
    that kernel, and highlights output ``y[o, i]`` in the output grid.

    Parameters
    ----------
    x : array_like of shape (C_in, n)
    weight : array_like of shape (C_out, C_in, k)
    steps : list of (int, int)
        ``(o, i)`` pairs: output feature ``o`` at spatial position ``i``.
    """
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if x.ndim != 2 or weight.ndim != 3 or weight.shape[1] != x.shape[0]:
        raise ValueError(
            f"multichannel_1d: expected x (C_in, n) and weight (C_out, C_in, k), "
            f"got {x.shape} and {weight.shape}"
        )
    c_out, c_in, k = weight.shape
    l_out = x.shape[1] - k + 1
    cols = min(2, len(steps))
    rows = -(-len(steps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10 if cols == 2 else 6, 0.4 * (c_in + 3) * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[len(steps):]:
        ax.axis("off")
    for ax, (o, i) in zip(axes, steps, strict=False):
        draw_array(ax, x, label="input (C_in rows)")
        outline(ax, i, 0, k, c_in)
        kx = x.shape[1] + 1
        draw_array(ax, weight[o], x0=kx, colour=KERNEL, label=f"kernel {o + 1}")
        ox = kx + k + 1.5
        for a in range(c_out):
            for b in range(l_out):
                ax.add_patch(Rectangle((ox + b, a * c_in / c_out), 1, c_in / c_out,
                                       edgecolor="#555555", linewidth=0.8,
                                       facecolor=CURRENT if (a, b) == (o, i) else OUTPUT))
        value = float(np.sum(weight[o] * x[:, i:i + k]))
        ax.text(ox + i + 0.5, (o + 0.5) * c_in / c_out, fmt(value), ha="center", va="center")
        ax.text(ox + l_out / 2, -0.3, "output (C_out rows)", ha="center", va="bottom")
        _finish(ax, ox + l_out, c_in, f"output feature {o + 1}, position {i + 1}")
    fig.tight_layout()
    return fig


def padding_modes(x, pad: int, modes=("zeros", "reflect", "replicate", "circular")) -> Figure:
    """The same array padded in several modes, side by side, the border in grey.

    Parameters
    ----------
    x : array_like of shape (H, W)
    pad : int
        Border width on every side.
    modes : sequence of str
        Names as ``torch.nn.functional.pad`` (``"zeros"`` is its ``"constant"``).
    """
    unknown = [m for m in modes if m not in _NP_PAD_MODES]
    if unknown:
        raise ValueError(
            f"padding_modes: unknown modes {unknown}; expected some of {list(_NP_PAD_MODES)}"
        )
    x = np.asarray(x, dtype=float)
    fig, axes = plt.subplots(1, len(modes), figsize=(min(10, 2.6 * len(modes)), 3))
    for ax, mode in zip(np.atleast_1d(axes), modes, strict=True):
        padded = np.pad(x, pad, mode=_NP_PAD_MODES[mode])
        draw_array(ax, padded, pad=pad, fontsize=8)
        outline(ax, pad, pad, x.shape[1], x.shape[0], colour="#3d85c6")
        _finish(ax, padded.shape[1], padded.shape[0], mode)
    fig.tight_layout()
    return fig


def feature_maps(maps, titles, cmap: str | None = None, shared: bool = False) -> Figure:
    """Images or feature maps side by side, with colour bars that give their values.

    Parameters
    ----------
    maps : sequence of ndarray of shape (H, W)
    titles : sequence of str
    cmap : str, optional
        Colour map; by default grey for separate scales and a diverging map
        (negative blue, zero white, positive red) for a shared scale.
    shared : bool
        False: each map has its own scale and its own colour bar. True: one
        zero-centred scale ``[-max|v|, max|v|]`` over all maps and one colour
        bar, so that equal colours mean equal values in every panel (use it for
        signed responses such as edge maps).
    """
    if len(maps) != len(titles):
        raise ValueError(
            f"feature_maps: got {len(maps)} maps and {len(titles)} titles; expected one title each"
        )
    maps = [np.asarray(m, dtype=float) for m in maps]
    fig, axes = plt.subplots(1, len(maps), figsize=(min(10, 2.7 * len(maps)), 2.8),
                             layout="constrained")
    axes = np.atleast_1d(axes)
    scale = {}
    if shared:
        limit = max(float(np.abs(m).max()) for m in maps) or 1.0
        scale = {"vmin": -limit, "vmax": limit}
    cmap = cmap or ("RdBu_r" if shared else "gray")
    for ax, image, title in zip(axes, maps, titles, strict=True):
        shown = ax.imshow(image, cmap=cmap, **scale)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        if not shared:
            fig.colorbar(shown, ax=ax, shrink=0.8)
    if shared:
        fig.colorbar(shown, ax=list(axes), shrink=0.8, label="one scale, 0 = white")
    return fig


def count_bars(counts: dict[str, int], title: str | None = None) -> Figure:
    """A bar per named count, the number written on top (e.g. parameters per layer)."""
    fig, ax = plt.subplots(figsize=(min(10, 1.8 * len(counts) + 2), 3.2))
    colours = [(INPUT, KERNEL, OUTPUT)[i % 3] for i in range(len(counts))]
    bars = ax.bar(list(counts), list(counts.values()), color=colours, edgecolor="#555555")
    ax.bar_label(bars, labels=[f"{v:,}" for v in counts.values()])
    ax.set_ylabel("parameters")
    ax.margins(y=0.15)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
