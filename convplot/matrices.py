"""Pictures of the matrix views of convolution (notebooks 04 and 05).

Annotated matrix heatmaps laid out as equations (``T @ x = y``), the sliding
windows of View I next to the matrix rows they become, sparsity patterns, the
growth of the Toeplitz matrices with the input, and stacked or paired signals
for the shift-equivariance pictures. Every function takes arrays and
returns the Matplotlib Figure; the notebook calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from convplot.grids import INPUT, KERNEL, draw_array, outline

# Positive red, negative blue, zero white: a Toeplitz matrix's zeros stay blank.
CMAP = "RdBu_r"
GRID = "#b0b0b0"
BLOCK = "#202020"
HIGHLIGHT = "#f4a261"
LINE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
# Alternate dashes so series with equal values (density 1) stay visible on top of each other.
LINE_STYLES = ("o-", "s--", "^-", "D--")

# Figure budget (inches) and the largest / smallest cell drawn.
MAX_WIDTH, MAX_HEIGHT = 10.0, 4.0
MAX_CELL, MIN_ANNOTATED_CELL = 0.5, 0.17
GAP = 1.6  # cells between two panels (room for an operator sign)
TOP = 2.0  # cells above the panels for the two-line labels


def _as_matrix(name: str, value) -> np.ndarray:
    """A real 2-D array; 1-D arrays become column vectors (the ``x`` of ``T @ x``)."""
    a = np.asarray(value)
    if np.iscomplexobj(a):
        raise TypeError(f"draw_matrices: panel {name!r} is complex; pass its real part or abs")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.size == 0:
        raise ValueError(
            f"draw_matrices: panel {name!r} expects a non-empty 1-D or 2-D array, "
            f"got shape {a.shape}"
        )
    return a.astype(float)


def _label(value: float, fmt: str) -> str:
    # `+ 0.0` turns -0.0 into 0.0 so no cell reads "-0".
    return fmt.format(value + 0.0)


def _draw_panel(ax, a, x0, y0, *, annotate, hide_zeros, fmt, fontsize, blocks, vmax=None):
    """Draw matrix ``a`` with its top-left corner at data point (x0, y0), y pointing down.

    ``vmax`` fixes the colour scale ``[-vmax, vmax]``; by default the panel's own max |a|.
    """
    rows, cols = a.shape
    vmax = vmax or float(np.abs(a).max()) or 1.0
    ax.imshow(
        a, cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest",
        extent=(x0, x0 + cols, y0 + rows, y0),
    )
    lw = 0.5 if max(rows, cols) <= 40 else 0.0
    if lw:
        ax.hlines(y0 + np.arange(rows + 1), x0, x0 + cols, colors=GRID, linewidth=lw)
        ax.vlines(x0 + np.arange(cols + 1), y0, y0 + rows, colors=GRID, linewidth=lw)
    if blocks is not None:
        bh, bw = blocks
        ax.hlines(y0 + np.arange(0, rows + 1, bh), x0, x0 + cols, colors=BLOCK, linewidth=1.5)
        ax.vlines(x0 + np.arange(0, cols + 1, bw), y0, y0 + rows, colors=BLOCK, linewidth=1.5)
    if annotate:
        for (i, j), v in np.ndenumerate(a):
            if hide_zeros and v == 0:
                continue
            strong = abs(v) > 0.6 * vmax
            ax.text(
                x0 + j + 0.5, y0 + i + 0.5, _label(v, fmt), ha="center", va="center",
                fontsize=fontsize, color="white" if strong else "black",
            )


def draw_matrices(
    panels: Mapping[str, np.ndarray],
    *,
    between: Sequence[str] | None = None,
    blocks: Mapping[str, tuple[int, int]] | None = None,
    annotate: bool | None = None,
    hide_zeros: bool = False,
    fmt: str = "{:.3g}",
    title: str | None = None,
    shared_scale: bool = False,
    row_labels: Mapping[str, Sequence[str]] | None = None,
) -> Figure:
    """Draw matrices side by side as annotated heatmaps, all with the same cell size.

    Parameters
    ----------
    panels : mapping of str to ndarray of shape (rows, cols) or (rows,)
        Name -> matrix, drawn left to right; the name and shape label each panel.
        A 1-D array is drawn as a column vector (reshape to ``(1, n)`` for a row).
    between : sequence of str of length len(panels) - 1, optional
        Signs written between neighbouring panels, e.g. ``["@", "="]`` for ``T @ x = y``.
    blocks : mapping of str to (int, int), optional
        Panel name -> block shape ``(bh, bw)``; thick lines separate the blocks.
    annotate : bool, optional
        Write each entry in its cell. Default: when the cells are large enough to read.
    hide_zeros : bool
        Leave zero cells blank, so a sparse matrix shows its band.
    fmt : str
        ``str.format`` pattern for the numbers.
    title : str, optional
        Figure title.
    shared_scale : bool
        One zero-centred colour scale for all panels (the largest |entry| of any
        panel), so that equal colours mean equal values; use it when the panels
        are compared. By default each panel is scaled to its own largest |entry|.
    row_labels : mapping of str to sequence of str, optional
        Panel name -> one label per row, written to the left of the panel (e.g.
        the ``(c, u, v)`` of each im2col row).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes; each panel is an image, each number a text artist.
    """
    mats = {name: _as_matrix(name, v) for name, v in panels.items()}
    if not mats:
        raise ValueError("draw_matrices: panels expects at least one matrix, got none")
    signs = list(between) if between is not None else [""] * (len(mats) - 1)
    if len(signs) != len(mats) - 1:
        raise ValueError(
            f"draw_matrices: between expects {len(mats) - 1} signs for {len(mats)} panels, "
            f"got {len(signs)}"
        )
    blocks = dict(blocks or {})
    unknown = set(blocks) - set(mats)
    if unknown:
        raise ValueError(f"draw_matrices: blocks names unknown panels {sorted(unknown)}")
    row_labels = {name: list(labels) for name, labels in (row_labels or {}).items()}
    for name, labels in row_labels.items():
        if name not in mats:
            raise ValueError(f"draw_matrices: row_labels names an unknown panel {name!r}")
        if len(labels) != mats[name].shape[0]:
            raise ValueError(
                f"draw_matrices: row_labels[{name!r}] expects {mats[name].shape[0]} labels, "
                f"one per row, got {len(labels)}"
            )
    # Cells reserved left of a labelled panel: about a third of a cell per character.
    margins = {name: 0.33 * max(len(t) for t in labels) + 0.3
               for name, labels in row_labels.items()}
    vmax = (max(float(np.abs(a).max()) for a in mats.values()) or 1.0) if shared_scale else None

    height = max(a.shape[0] for a in mats.values())
    width = (sum(a.shape[1] for a in mats.values()) + GAP * (len(mats) - 1)
             + sum(margins.values()))
    # Label rows above the panels and a margin below; all in cell units.
    cell = min(MAX_CELL, MAX_WIDTH / (width + 0.5), MAX_HEIGHT / (height + TOP + 0.4))
    if annotate is None:
        annotate = cell >= MIN_ANNOTATED_CELL
    # A glyph is about 0.6 em wide: shrink the font until the longest number fits in its cell.
    longest = max(len(_label(v, fmt)) for a in mats.values() for v in a.ravel()) if annotate else 1
    fontsize = float(np.clip(cell * 72 * min(0.42, 1.4 / longest), 5, 12))

    fig = plt.figure(figsize=((width + 0.5) * cell, (height + TOP + 0.4) * cell))
    ax = fig.add_axes((0, 0, 1, 1))
    x = 0.0
    for k, (name, a) in enumerate(mats.items()):
        rows, cols = a.shape
        y0 = (height - rows) / 2  # centre each panel vertically
        if name in row_labels:
            x += margins[name]
            label_size = float(np.clip(cell * 72 * 0.5, 5, 9))
            for r, text in enumerate(row_labels[name]):
                ax.text(x - 0.15, y0 + r + 0.5, text, ha="right", va="center",
                        fontsize=label_size, family="monospace")
        _draw_panel(
            ax, a, x, y0, annotate=annotate, hide_zeros=hide_zeros, fmt=fmt,
            fontsize=fontsize, blocks=blocks.get(name), vmax=vmax,
        )
        ax.text(
            x + cols / 2, y0 - 0.25, f"{name}\n{rows}×{cols}", ha="center", va="bottom",
            fontsize=max(fontsize, 8), linespacing=1.1,
        )
        x += cols
        if k < len(signs):
            ax.text(
                x + GAP / 2, height / 2, signs[k], ha="center", va="center",
                fontsize=max(fontsize * 1.6, 10), fontweight="bold",
            )
            x += GAP
    ax.set_xlim(-0.25, width + 0.25)
    ax.set_ylim(height + 0.4, -TOP)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10, y=1.0, va="bottom")
    return fig


def density(a: np.ndarray) -> float:
    """Fraction of nonzero entries: ``np.count_nonzero(a) / a.size``."""
    a = np.asarray(a)
    return np.count_nonzero(a) / a.size


def draw_sparsity(panels: Mapping[str, np.ndarray], *, title: str | None = None,
                  row_labels: Mapping[str, Sequence[str]] | None = None) -> Figure:
    """Sparsity patterns: nonzero entries dark, zeros white, one subplot per matrix.

    A flat matrix (fewer than 8 rows, like View II's ``(k, L_out)``) is stretched to
    a readable height instead of a one-pixel strip, with every row labelled.

    Parameters
    ----------
    panels : mapping of str to ndarray of shape (rows, cols)
        Name -> matrix. Each subplot title gives the shape and the density.
    title : str, optional
        Figure title.
    row_labels : mapping of str to sequence of str, optional
        Panel name -> one label per row (by default flat matrices number their rows).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not panels:
        raise ValueError("draw_sparsity: panels expects at least one matrix, got none")
    fig, axes = plt.subplots(1, len(panels), figsize=(min(10, 3.4 * len(panels)), 3.6),
                             squeeze=False, layout="constrained")
    spy = ListedColormap(["white", "#264653"])
    row_labels = dict(row_labels or {})
    for ax, (name, value) in zip(axes[0], panels.items(), strict=True):
        a = np.asarray(value)
        if a.ndim != 2:
            raise ValueError(
                f"draw_sparsity: panel {name!r} expects a 2-D array, got shape {a.shape}"
            )
        flat = a.shape[0] < 8 and a.shape[1] > 2 * a.shape[0]
        ax.imshow(a != 0, cmap=spy, vmin=0, vmax=1, interpolation="nearest",
                  aspect="auto" if flat else "equal")
        labels = row_labels.get(name)
        if labels is not None and len(labels) != a.shape[0]:
            raise ValueError(
                f"draw_sparsity: row_labels[{name!r}] expects {a.shape[0]} labels, "
                f"got {len(labels)}"
            )
        if flat or labels is not None:
            ax.set_yticks(range(a.shape[0]),
                          labels if labels is not None else [f"row {r}" for r in range(a.shape[0])])
            ax.hlines(np.arange(a.shape[0] + 1) - 0.5, -0.5, a.shape[1] - 0.5, colors=GRID,
                      linewidth=0.5)
        ax.set_title(f"{name}  {a.shape[0]}×{a.shape[1]}\ndensity {density(a):.1%}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not (flat or labels is not None):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def draw_growth(
    n: np.ndarray,
    densities: Mapping[str, np.ndarray],
    memory: Mapping[str, np.ndarray],
    *,
    xlabel: str = "input length n",
) -> Figure:
    """Density and memory of several matrices as the input grows (two log-log panels).

    Parameters
    ----------
    n : ndarray of shape (P,)
        Input sizes.
    densities : mapping of str to ndarray of shape (P,)
        Matrix name -> fraction of nonzero entries at each size.
    memory : mapping of str to ndarray of shape (P,)
        Matrix name -> bytes of the dense matrix at each size.
    xlabel : str
        Label of the shared x axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = np.asarray(n, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    for ax, series, ylabel in ((left, densities, "density (nonzero fraction)"),
                               (right, memory, "memory of the dense matrix (bytes)")):
        for k, (name, values) in enumerate(series.items()):
            values = np.asarray(values, dtype=float)
            if values.shape != n.shape:
                raise ValueError(
                    f"draw_growth: series {name!r} expects shape {n.shape} like n, "
                    f"got {values.shape}"
                )
            ax.plot(n, values, LINE_STYLES[k % 4], color=LINE_COLOURS[k % 4], label=name,
                    markersize=4)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def draw_signals(
    signals: Mapping[str, np.ndarray],
    *,
    highlight: Sequence[int] | np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Stacked stem plots of 1-D signals sharing the index axis.

    Parameters
    ----------
    signals : mapping of str to ndarray of shape (n_k,)
        Name -> signal; one row per signal, drawn top to bottom.
    highlight : sequence or ndarray of int, optional
        Indices shaded in every row (e.g. ``np.flatnonzero(a != b)``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per signal; each holds one stem container.
    """
    if not signals:
        raise ValueError("draw_signals: signals expects at least one signal, got none")
    marked = np.asarray([] if highlight is None else highlight, dtype=int).ravel()
    rows = len(signals)
    fig, axes = plt.subplots(rows, 1, figsize=(8, min(4.0, 0.9 * rows + 0.6)), sharex=True,
                             squeeze=False, layout="constrained")
    for k, (ax, (name, value)) in enumerate(zip(axes[:, 0], signals.items(), strict=True)):
        s = np.asarray(value)
        if s.ndim != 1:
            raise ValueError(
                f"draw_signals: signal {name!r} expects a 1-D array, got shape {s.shape}"
            )
        for i in marked:
            ax.axvspan(i - 0.45, i + 0.45, color=HIGHLIGHT, alpha=0.35, linewidth=0)
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        markers, stems, base = ax.stem(np.arange(s.size), s, basefmt="k-")
        markers.set_color(colour)
        stems.set_color(colour)
        base.set_linewidth(0.6)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.margins(y=0.2)
    axes[-1, 0].set_xlabel("index")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _dot_text(row: np.ndarray, x: np.ndarray, start: int, width: int) -> str:
    """``1·1 + 0·2 + (-1)·3 = -2``: the products of one window, negative factors bracketed."""
    terms = []
    for c in range(start, start + width):
        w, v = _label(row[c], "{:.3g}"), _label(x[c], "{:.3g}")
        terms.append(f"{f'({w})' if row[c] < 0 else w}·{f'({v})' if x[c] < 0 else v}")
    return " + ".join(terms) + f" = {_label(row @ x, '{:.3g}')}"


def window_rows(x, T, starts, width: int, *, title: str | None = None) -> Figure:
    """View I frame by frame: each sliding window of ``x`` above the row of ``T`` it becomes.

    Frame ``i`` draws the input with window ``i`` outlined and, under it, row ``i``
    of ``T`` aligned column by column with ``x``: the window's entries (the kernel
    taps) are coloured, the zeros elsewhere are not, and the outline marks both.
    On the right, ``y[i] = T[i] @ x`` is written out as the window's products.

    Parameters
    ----------
    x : array_like of shape (n,)
        The input, without padding.
    T : array_like of shape (L_out, n)
        The matrix whose rows are drawn.
    starts : sequence of int of length L_out
        First column of each window; window ``i`` covers ``starts[i] .. starts[i] + width - 1``.
    width : int
        Window length (the number of kernel taps).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes; every number is a text artist, every window an unfilled rectangle.
    """
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    starts = [int(s) for s in starts]
    if x.ndim != 1 or T.ndim != 2 or T.shape[1] != x.size:
        raise ValueError(
            f"window_rows: expects x of shape (n,) and T of shape (L_out, n), got shapes "
            f"{x.shape} and {T.shape}"
        )
    if len(starts) != T.shape[0]:
        raise ValueError(
            f"window_rows: starts expects one window per row of T ({T.shape[0]}), "
            f"got {len(starts)}"
        )
    if width < 1:
        raise ValueError(f"window_rows: width expects at least 1 column, got {width}")
    for i, s in enumerate(starts):
        if s < 0 or s + width > x.size:
            raise ValueError(
                f"window_rows: window {i} (columns {s}..{s + width - 1}) is not inside the "
                f"input of length {x.size}; draw the padded input instead"
            )
    n, frame = x.size, 3.0
    texts = [f"y[{i}] = {_dot_text(T[i], x, s, width)}" for i, s in enumerate(starts)]
    # Room for the row names on the left and the written-out products on the right
    # (a character of 10 pt text is about 0.17 cells of 0.5 in).
    left, right = 3.0, n + 0.6 + 0.17 * max(len(t) for t in texts)
    height = frame * len(starts) - 0.8
    scale = min(0.5, MAX_WIDTH / (left + right))
    fig, ax = plt.subplots(figsize=((left + right) * scale, (height + 1.4) * scale))
    for i, (s, text) in enumerate(zip(starts, texts, strict=True)):
        top = i * frame
        draw_array(ax, x, y0=top, colour=INPUT)
        # The row in three pieces: zeros left of the window, the taps, zeros right of it.
        draw_array(ax, T[i, :s], y0=top + 1.2, colour="white")
        draw_array(ax, T[i, s:s + width], x0=s, y0=top + 1.2, colour=KERNEL)
        draw_array(ax, T[i, s + width:], x0=s + width, y0=top + 1.2, colour="white")
        outline(ax, s, top, width, 1)
        outline(ax, s, top + 1.2, width, 1)
        ax.text(-0.3, top + 0.5, "x", ha="right", va="center", fontsize=10)
        ax.text(-0.3, top + 1.7, f"row {i} of T", ha="right", va="center", fontsize=10)
        ax.text(n + 0.6, top + 1.1, text, ha="left", va="center", fontsize=10)
    ax.set_xlim(-left, right)
    ax.set_ylim(height + 0.2, -1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def draw_signal_pairs(
    rows: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    columns: tuple[str, str] = ("before", "after"),
    title: str | None = None,
) -> Figure:
    """Signals before and after a transformation, side by side; each panel marks its maximum.

    The largest value of every panel is shaded and written in its corner
    (``max 3 at 4``), so a reader sees at once where a peak moved (equivariance)
    and whether its value changed (invariance of the global maximum).

    Parameters
    ----------
    rows : mapping of str to (ndarray of shape (n,), ndarray of shape (n,))
        Row name -> (left signal, right signal); both panels of a row share the y scale.
    columns : (str, str)
        Titles of the two columns.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ``2 * len(rows)`` Axes, row by row; each holds one stem container.
    """
    if not rows:
        raise ValueError("draw_signal_pairs: rows expects at least one pair, got none")
    fig, axes = plt.subplots(len(rows), 2, figsize=(9, min(MAX_HEIGHT, 1.2 * len(rows) + 0.9)),
                             sharex=True, squeeze=False, layout="constrained")
    for r, (name, pair) in enumerate(rows.items()):
        left, right = (np.asarray(s, dtype=float) for s in pair)
        if left.ndim != 1 or left.shape != right.shape:
            raise ValueError(
                f"draw_signal_pairs: row {name!r} expects two 1-D signals of the same length, "
                f"got shapes {left.shape} and {right.shape}"
            )
        low, high = min(left.min(), right.min(), 0.0), max(left.max(), right.max(), 0.0)
        margin = 0.25 * ((high - low) or 1.0)
        colour = LINE_COLOURS[r % len(LINE_COLOURS)]
        for ax, s in zip(axes[r], (left, right), strict=True):
            peak = int(np.argmax(s))
            ax.axvspan(peak - 0.45, peak + 0.45, color=HIGHLIGHT, alpha=0.35, linewidth=0)
            markers, stems, base = ax.stem(np.arange(s.size), s, basefmt="k-")
            markers.set_color(colour)
            stems.set_color(colour)
            base.set_linewidth(0.6)
            ax.set_ylim(low - margin, high + margin)
            ax.text(0.99, 0.96, f"max {_label(s[peak], '{:.3g}')} at {peak}", ha="right",
                    va="top", transform=ax.transAxes, fontsize=8)
            ax.tick_params(labelsize=7)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    for ax, heading in zip(axes[0], columns, strict=True):
        ax.set_title(heading, fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel("index")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
