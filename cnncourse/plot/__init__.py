"""Figures shared by the chapters, so that notebooks do not repeat plotting plumbing.

Each function draws on Matplotlib axes (its own figure unless ``ax`` is given) and
returns the figure, so a notebook can show it, save it or add to it.

One module per kind of figure:

- :mod:`~cnncourse.plot.images`: :func:`show_images`, :func:`show_matrix`,
  :func:`show_channels`;
- :mod:`~cnncourse.plot.convolution`: the filtering and convolution figures
  (:func:`show_sliding_window`, :func:`show_stride_positions`,
  :func:`show_filter_result`, :func:`filter_explorer`);
- :mod:`~cnncourse.plot.history`: training curves (:func:`plot_history`,
  :func:`plot_curves`);
- :mod:`~cnncourse.plot.heatmaps`: class activation maps (:func:`upsample`,
  :func:`heatmap_overlay`, :func:`show_heatmaps`, :func:`plot_sanity_check`).
"""

from cnncourse.plot.convolution import (
    explorer_kernels,
    filter_explorer,
    show_filter_result,
    show_sliding_window,
    show_stride_positions,
)
from cnncourse.plot.heatmaps import heatmap_overlay, plot_sanity_check, show_heatmaps, upsample
from cnncourse.plot.history import plot_curves, plot_history
from cnncourse.plot.images import show_channels, show_images, show_matrix

__all__ = [
    "show_images",
    "show_matrix",
    "show_channels",
    "show_sliding_window",
    "show_stride_positions",
    "show_filter_result",
    "explorer_kernels",
    "filter_explorer",
    "plot_history",
    "plot_curves",
    "upsample",
    "heatmap_overlay",
    "show_heatmaps",
    "plot_sanity_check",
]
