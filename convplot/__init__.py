"""Matplotlib drawings for the course notebooks: grids, sliding windows, Toeplitz heatmaps.

The common helpers (numbered grids, sliding-window frames, padding, feature
maps) live in `convplot.grids` and are exported here; notebook-specific
drawings are imported from their own submodules.
"""

from convplot.grids import (
    count_bars,
    draw_array,
    feature_maps,
    grid_equation,
    multichannel_1d,
    padding_modes,
    show_array,
    slide_1d,
    slide_2d,
)

__all__ = [
    "count_bars",
    "draw_array",
    "feature_maps",
    "grid_equation",
    "multichannel_1d",
    "padding_modes",
    "show_array",
    "slide_1d",
    "slide_2d",
]
