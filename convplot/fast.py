"""Drawings of notebook 08: the Winograd tile, the FFT pipeline, measured timings, the roofline.

The timing figures take measurements made in the notebook (seconds, GFLOP/s):
they draw them and mark what the reader should look at (the crossover, the
distance to the peak); nothing here times anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from convplot.grids import HIGHLIGHT, INPUT, KERNEL, OUTPUT, grid_equation

_LINE_STYLES = ("o-", "s-", "^-", "d-", "v-")


def winograd_tile(d, g, BT, G, AT) -> Figure:  # noqa: N803 - the paper's names
    """F(2x2, 3x3) on one tile: ``V = B^T d B``, ``U = G g G^T``, ``M = U * V``, ``Y = A^T M A``.

    Parameters
    ----------
    d : array_like of shape (4, 4)
        The input tile.
    g : array_like of shape (3, 3)
        The kernel.
    BT, G, AT : array_like of shape (4, 4), (4, 3), (2, 4)
        The transforms (Lavin & Gray 2016).
    """
    d, g = np.asarray(d, float), np.asarray(g, float)
    BT, G, AT = (np.asarray(a, float) for a in (BT, G, AT))  # noqa: N806
    if d.shape != (4, 4) or g.shape != (3, 3):
        raise ValueError(f"winograd_tile: expected d (4, 4) and g (3, 3), got {d.shape} and "
                         f"{g.shape}")
    v, u = BT @ d @ BT.T, G @ g @ G.T
    m = u * v
    y = AT @ m @ AT.T
    return grid_equation(
        d, "→", v, "⊙", u, "=", m, "→", y,
        labels=["d (input tile)", "V = Bᵀ d B", "U = G g Gᵀ", "M: 16 products", "Y = Aᵀ M A"],
        colours=[INPUT, INPUT, KERNEL, OUTPUT, OUTPUT],
        title="F(2x2, 3x3): a 4x4 tile and a 3x3 kernel give 2x2 outputs with 16 "
              "multiplications (direct: 36)")


def fft_pipeline(x, w) -> Figure:
    """The FFT correlation of one channel, step by step, with the valid outputs outlined.

    Panels: the input zero-padded to ``(H + kH - 1, W + kW - 1)``, the kernel
    zero-padded to the same size, the magnitudes of their spectra and of
    ``X * conj(K)`` (log scale), and the inverse transform, in which the
    ``(H - kH + 1) x (W - kW + 1)`` valid correlation is the top-left block.
    """
    x, w = np.asarray(x, float), np.asarray(w, float)
    if x.ndim != 2 or w.ndim != 2 or any(k > n for k, n in zip(w.shape, x.shape, strict=True)):
        raise ValueError(f"fft_pipeline: expected a 2D input and a 2D kernel that fits in it, "
                         f"got shapes {x.shape} and {w.shape}")
    size = (x.shape[0] + w.shape[0] - 1, x.shape[1] + w.shape[1] - 1)
    spectra_x, spectra_w = np.fft.rfft2(x, s=size), np.fft.rfft2(w, s=size)
    product = spectra_x * np.conj(spectra_w)
    result = np.fft.irfft2(product, s=size)
    padded_x, padded_w = np.zeros(size), np.zeros(size)
    padded_x[:x.shape[0], :x.shape[1]], padded_w[:w.shape[0], :w.shape[1]] = x, w
    # Signed panels in a diverging map centred on 0, so that the zero padding stays white.
    panels = [("x, zero-padded", padded_x, "RdBu_r"), ("kernel, zero-padded", padded_w, "PuOr_r"),
              ("|rfft2(x)|", np.log1p(np.abs(spectra_x)), "viridis"),
              ("|rfft2(kernel)|", np.log1p(np.abs(spectra_w)), "viridis"),
              ("|X · conj(K)|", np.log1p(np.abs(product)), "viridis"),
              ("irfft2: valid block outlined", result, "PRGn")]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.1 * len(panels), 2.6))
    for ax, (title, values, cmap) in zip(axes, panels, strict=True):
        signed = cmap != "viridis"
        limit = max(float(np.abs(values).max()), 1e-12) if signed else None
        ax.imshow(values, cmap=cmap, vmin=-limit if signed else None, vmax=limit)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    valid = (x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1)
    axes[-1].add_patch(Rectangle((-0.5, -0.5), valid[1], valid[0], fill=False,
                                 edgecolor=HIGHLIGHT, linewidth=2))
    fig.suptitle("FFT cross-correlation: pad → transform → multiply by the conjugate → "
                 "inverse → crop", fontsize=10)
    fig.tight_layout()
    return fig


def crossover(kernel_sizes: Sequence[int], seconds: Mapping[str, Sequence[float]],
              title: str | None = None) -> Figure:
    """Measured time per method against the kernel size (log scale), the first crossing marked.

    Parameters
    ----------
    kernel_sizes : sequence of int
    seconds : mapping of str to sequence of float
        One curve per method, one time per kernel size. With two or more
        methods, the kernel size from which on the second stays faster than the
        first is marked.
    """
    sizes = np.asarray(kernel_sizes)
    if not seconds or any(len(v) != len(sizes) for v in seconds.values()):
        raise ValueError(f"crossover: expected one time per kernel size ({len(sizes)}) for every "
                         f"method, got {({k: len(v) for k, v in seconds.items()})}")
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for style, (name, times) in zip(itertools.cycle(_LINE_STYLES), seconds.items()):
        ax.plot(sizes, 1e3 * np.asarray(times), style, label=name)
    names = list(seconds)
    if len(names) >= 2:
        first, second = (np.asarray(seconds[n]) for n in names[:2])
        # From where on the second stays faster: one noisy point does not make a crossover.
        slower = np.flatnonzero(second >= first)
        start = 0 if slower.size == 0 else slower[-1] + 1
        if start < len(sizes):
            k = sizes[start]
            ax.axvline(k, color=HIGHLIGHT, linestyle="--", linewidth=1)
            ax.annotate(f"{names[1]} faster from k = {k}", (k, ax.get_ylim()[1]),
                        xytext=(4, -14), textcoords="offset points", color=HIGHLIGHT,
                        fontsize=9)
    ax.set_yscale("log")
    ax.set_xlabel("kernel size k (k x k)")
    ax.set_ylabel("time (ms, log scale)")
    ax.set_xticks(sizes)
    ax.legend(frameon=False, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def roofline(points: Mapping[str, tuple[float, float]], peak_gflops: float,
             bandwidth_gbs: float, title: str | None = None) -> Figure:
    """Achieved GFLOP/s against arithmetic intensity under the machine's roof, fraction labelled.

    Parameters
    ----------
    points : mapping of str to (float, float)
        Method -> (arithmetic intensity in FLOP per byte moved, achieved GFLOP/s).
    peak_gflops : float
        The measured matrix-multiply peak (the flat roof).
    bandwidth_gbs : float
        The measured memory bandwidth (the slanted roof: ``bandwidth * intensity``).
    """
    if peak_gflops <= 0 or bandwidth_gbs <= 0 or not points:
        raise ValueError(f"roofline: expected a positive peak and bandwidth and at least one "
                         f"point, got {peak_gflops}, {bandwidth_gbs}, {len(points)} points")
    intensities = np.array([p[0] for p in points.values()], float)
    lo, hi = max(1e-2, intensities.min() / 4), intensities.max() * 4
    ridge = peak_gflops / bandwidth_gbs
    grid = np.geomspace(min(lo, ridge / 4), max(hi, ridge * 4), 200)
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    ax.plot(grid, np.minimum(peak_gflops, bandwidth_gbs * grid), color="#555555", linewidth=2,
            label=f"roof: min({peak_gflops:.0f} GFLOP/s,\n{bandwidth_gbs:.1f} GB/s x intensity)")
    for style, (name, (intensity, gflops)) in zip(itertools.cycle(_LINE_STYLES), points.items()):
        ax.plot([intensity], [gflops], style[0], markersize=8, label=name)
        ax.annotate(f"{gflops / peak_gflops:.0%} of peak", (intensity, gflops),
                    xytext=(6, -4), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP per byte moved, log)")
    ax.set_ylabel("GFLOP/s (log)")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
