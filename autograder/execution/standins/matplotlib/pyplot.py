"""The grading sandbox's ``matplotlib.pyplot``: ``subplots`` shapes its axes as Matplotlib does."""

from matplotlib import Anything


def subplots(nrows=1, ncols=1, *, squeeze=True, **kwargs):
    """A figure and its axes: one object, or an array of them shaped as Matplotlib's."""
    import numpy as np

    axes = np.empty((nrows, ncols), dtype=object)
    for index in np.ndindex(axes.shape):
        axes[index] = Anything()
    if squeeze:
        axes = axes.item() if axes.size == 1 else axes.squeeze()
    return Anything(), axes


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return Anything()
