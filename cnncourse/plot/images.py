"""Images and matrices: a grid of pictures, a matrix with its numbers, an image's
channels. The other figure modules build on its ``_figure`` and ``_cell_text``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["show_images", "show_matrix", "show_channels"]

def _figure(ax: Any = None, figsize: tuple[float, float] = (4, 4)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    cmap: str = "gray",
    ncols: int | None = None,
    size: float = 3.0,
    vmin: float | None = None,
    vmax: float | None = None,
    axis: bool = False,
) -> Any:
    """Show images side by side, each with an optional title.

    Grey images (2-D) use ``cmap``; colour images are ``(H, W, 3)`` arrays, either
    ``uint8`` in [0, 255] or floats in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_images([np.zeros((4, 4)), np.ones((4, 4, 3))], ["negro", "blanco"])
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    images = list(images)
    if not images:
        raise ValueError("images must contain at least one image, got an empty sequence")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"titles has {len(titles)} entries but there are {len(images)} images"
        )
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        if i >= len(images):
            ax.set_visible(False)
            continue
        img = np.asarray(images[i])
        if img.ndim not in (2, 3):
            raise ValueError(
                f"images[{i}] must be 2-D (grey) or 3-D (H, W, channels), got shape {img.shape}"
            )
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i])
        if not axis:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return fig


def _cell_text(fmt: str | Callable[[Any], str], value: Any) -> str:
    """A value written into a figure: a callable, or a format string whose decimal point
    becomes the book's decimal comma (``"{:.1f}"`` writes 14.4 as ``14,4``)."""
    if callable(fmt):
        return fmt(value)
    return fmt.format(value).replace(".", ",")


def show_matrix(
    values: np.ndarray,
    *,
    ax: Any = None,
    fmt: str | Callable[[Any], str] = "{:g}",
    cmap: str = "gray",
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    fontsize: float = 9,
    highlight: tuple[slice, slice] | None = None,
) -> Any:
    """Draw a small 2-D array as a grid of cells with each value written in it.

    ``fmt`` is a format string (its decimal point is written as the book's decimal
    comma) or a function such as ``cnncourse.fmt.num``. ``highlight`` outlines a window
    ``(rows, cols)`` of slices, e.g. the neighbourhood a filter is looking at.

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_matrix(np.arange(9).reshape(3, 3), title="3x3")
    >>> len(fig.axes[0].texts)
    9
    >>> fig = show_matrix(np.array([[14.4, 0.5]]), fmt="{:.1f}")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['14,4', '0,5']
    """
    import matplotlib.patches as patches

    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array, got shape {values.shape}")
    rows, cols = values.shape
    fig, ax = _figure(ax, figsize=(0.45 * cols + 1, 0.45 * rows + 1))
    lo = float(values.min()) if vmin is None else vmin
    hi = float(values.max()) if vmax is None else vmax
    ax.imshow(values, cmap=cmap, vmin=lo, vmax=hi)
    middle = (lo + hi) / 2
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            colour = "black" if v > middle else "white"
            ax.text(j, i, _cell_text(fmt, v), ha="center", va="center", color=colour,
                    fontsize=fontsize)
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="#888888", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if highlight is not None:
        r, c = highlight
        r0, r1, _ = r.indices(rows)
        c0, c1, _ = c.indices(cols)
        ax.add_patch(
            patches.Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                              edgecolor="tab:red", linewidth=2.5)
        )
    if title:
        ax.set_title(title)
    return fig


def show_channels(image: np.ndarray, names: Sequence[str] = ("R", "G", "B")) -> Any:
    """Show a colour image next to each of its channels, each in its own colour map.

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_channels(np.zeros((8, 8, 3), dtype=np.uint8))
    >>> len(fig.axes)
    4
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != len(names):
        raise ValueError(
            f"image must have shape (H, W, {len(names)}), got {image.shape}"
        )
    cmaps = ["Reds", "Greens", "Blues"] if len(names) == 3 else ["gray"] * len(names)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3 * (len(names) + 1), 3))
    axes[0].imshow(image)
    axes[0].set_title("imagen")
    for ax, name, cmap, k in zip(axes[1:], names, cmaps, range(len(names))):
        ax.imshow(image[..., k], cmap=cmap)
        ax.set_title(f"canal {name}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
