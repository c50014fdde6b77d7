"""How shape, parameters and compute change through a network, layer by layer.

The numbers come from the caller (a notebook passes what its `network_stats`
returns), so the picture shows the student's own counts.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from convplot.grids import INPUT, KERNEL, OUTPUT

# One colour per quantity, the course's input/kernel/output colours.
_PANELS = (("activations (numbers per example)", INPUT),
           ("parameters", KERNEL),
           ("multiply-accumulates", OUTPUT))


def layer_labels(layers: list[dict]) -> list[str]:
    """Short names for layer specs, e.g. ``"conv 3x3/2 → 64"``, ``"residual (7)"``."""
    labels = []
    for spec in layers:
        kind = spec["type"]
        if kind == "conv":
            k, s = spec["kernel"], spec.get("stride", 1)
            k = f"{k}x{k}" if isinstance(k, int) else f"{k[0]}x{k[1]}"
            g = spec.get("groups", 1)
            labels.append(f"conv {k}{'/' + str(s) if s != 1 else ''}"
                          f"{' dw' if g > 1 else ''} → {spec['out']}")
        elif kind == "linear":
            labels.append(f"linear → {spec['out']}")
        elif kind == "residual":
            labels.append(f"residual ({len(spec['body'])}+{len(spec.get('shortcut', []))})")
        elif kind in ("maxpool", "avgpool"):
            labels.append(f"{kind} {spec['kernel']}")
        else:
            labels.append(kind)
    return labels


def network_profile(name: str, labels: list[str], shapes, params, macs) -> Figure:
    """Three stacked bar charts, one bar per layer: activation size, parameters, MACs.

    Parameters
    ----------
    name : str
        The network's name, the figure's title.
    labels : list of str
        One label per layer (see `layer_labels`).
    shapes : sequence of tuple of int
        Each layer's output shape; its product is the activation count.
    params, macs : sequence of int
        Each layer's parameter and multiply-accumulate counts.

    Returns
    -------
    Figure
        Log-scaled bars (zeros drawn as empty slots), each annotated with its
        number, and the output shape under each layer's label.
    """
    sizes = np.array([int(np.prod(s)) for s in shapes], dtype=float)
    values = (sizes, np.asarray(params, dtype=float), np.asarray(macs, dtype=float))
    n = len(labels)
    fig, axes = plt.subplots(3, 1, figsize=(max(6.0, 0.9 * n + 2), 7.2), sharex=True)
    for ax, (title, colour), v in zip(axes, _PANELS, values, strict=True):
        bars = ax.bar(range(n), np.where(v > 0, v, np.nan), color=colour, edgecolor="#555555")
        ax.set_yscale("log")
        ax.set_ylabel(title, fontsize=9)
        ax.bar_label(bars, labels=[_short(x) if x > 0 else "0" for x in v], fontsize=8)
        ax.margins(y=0.3)
        ax.text(0.99, 0.92, f"total {_short(v.sum())}" if title != _PANELS[0][0] else "",
                transform=ax.transAxes, ha="right", va="top", fontsize=9)
    axes[-1].set_xticks(range(n), [f"{lab}\n{tuple(int(d) for d in s)}"
                                   for lab, s in zip(labels, shapes, strict=True)],
                        rotation=45, ha="right", fontsize=8)
    fig.suptitle(name, fontsize=11)
    fig.tight_layout()
    return fig


def _short(x: float) -> str:
    """3 significant digits with a k / M / G suffix: 2.77G, 61.7k, 156."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.0f}"


def unrolled(layers: list[dict], input_shape, stats) -> tuple[list, list, list, list]:
    """Labels, shapes, parameters and MACs with every residual block drawn layer by layer.

    Parameters
    ----------
    layers : list of dict
        Layer specs, as `network_stats` takes them.
    input_shape : tuple of int
        ``(C, H, W)`` of one example.
    stats : callable
        ``stats(layers, input_shape) -> (shapes, params, macs)``: the notebook's
        `network_stats`, so that the picture shows the student's own counts.

    Returns
    -------
    labels, shapes, params, macs : list
        One entry per drawn layer: a residual block becomes its body's layers
        (``"body: ..."``), its shortcut's (``"shortcut: ..."``) and an ``"add"``.
    """
    labels, shapes, params, macs = [], [], [], []

    def extend(prefix, specs, shape):
        s, p, m = stats(specs, shape)
        labels.extend(prefix + label for label in layer_labels(specs))
        shapes.extend(tuple(int(d) for d in x) for x in s)
        params.extend(int(v) for v in p)
        macs.extend(int(v) for v in m)

    shape = tuple(input_shape)
    for spec in layers:
        if spec["type"] == "residual":
            for part in ("body", "shortcut"):
                if spec.get(part):
                    extend(f"{part}: ", spec[part], shape)
            labels.append("add")
            shape = tuple(int(d) for d in stats([spec], shape)[0][0])
            shapes.append(shape)
            params.append(0)
            macs.append(0)
        else:
            extend("", [spec], shape)
            shape = shapes[-1]
    return labels, shapes, params, macs
