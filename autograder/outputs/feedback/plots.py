"""Matplotlib figures embedded in the HTML as PNG data URIs.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas directly,
never through pyplot: no global backend or figure registry is touched, so
rendering feedback inside a notebook or a grading batch leaves no state behind.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A figure of `width` x `height` inches on an Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (no file, no request)."""
    buf = io.BytesIO()
    # No "Software" metadata: the same figure gives the same bytes across versions.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def difference_heatmap(abs_diff_map: Sequence, shape: Sequence[int] | None) -> str:
    """Where a large output differs: the engine's block-max ``|received - expected|``.

    Parameters
    ----------
    abs_diff_map : nested list of float of shape (B,) or (Bi, Bj)
        Largest absolute difference in each block of the output, at most 32x32 blocks.
    shape : sequence of int or None
        The full output shape, to label the axes in output indices.

    Returns
    -------
    str
        PNG data URI.
    """
    diff = np.asarray(abs_diff_map, dtype=float)
    full = list(shape) if shape is not None and len(shape) == diff.ndim else list(diff.shape)
    if diff.ndim == 1:
        fig = new_figure(5.5, 2.2)
        ax = fig.add_subplot()
        edges = np.linspace(0, full[0], diff.size + 1)
        ax.stairs(diff, edges, fill=True, color="#c0392b")
        ax.set_xlabel("output index")
        ax.set_ylabel("largest |difference|")
        ax.set_xlim(0, full[0])
        return data_uri(fig)
    fig = new_figure(4.6, 3.8)
    ax = fig.add_subplot()
    # extent maps blocks back to output indices, so a student can find row i, column j.
    image = ax.imshow(
        diff, cmap="magma", interpolation="nearest", aspect="auto",
        extent=(0, full[1], full[0], 0), vmin=0.0,
    )
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    fig.colorbar(image, ax=ax, label="largest |difference| in block")
    return data_uri(fig)
