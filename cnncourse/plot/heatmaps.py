"""Class activation maps (:mod:`cnncourse.explain`) as pictures: upsampling a map to the
image's size, laying it over the image, and the sanity check's curves.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["upsample", "heatmap_overlay", "show_heatmaps", "plot_sanity_check"]

def _linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` matrix of 1-D linear interpolation with half-pixel centres.

    Output pixel ``i`` sits at input coordinate ``u = (i + 0.5) n_in / n_out - 0.5``
    (clamped to the first and last input pixels) and mixes its two neighbours
    ``floor(u)`` and ``floor(u) + 1`` with weights ``1 - (u - floor(u))`` and
    ``u - floor(u)``: PyTorch's ``interpolate(mode='bilinear', align_corners=False)``.
    """
    u = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    u = np.clip(u, 0, n_in - 1)
    lo = np.floor(u).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = u - lo
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), lo), 1 - frac)
    np.add.at(weights, (np.arange(n_out), hi), frac)
    return weights


def upsample(maps: Any, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of ``(h, w)`` or ``(N, h, w)`` maps to ``size`` pixels.

    A class activation map is as small as the last activations (7x7 for a 224x224
    input of most ImageNet networks); to lay it over the image it is interpolated to the
    image's size. Pixel centres are aligned as in PyTorch's
    ``interpolate(mode='bilinear', align_corners=False)``, and the interpolation is
    separable: ``R @ M @ C.T`` with one 1-D interpolation matrix per axis.

    Examples
    --------
    >>> upsample(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]])
    >>> upsample(np.zeros((2, 7, 7)), 224).shape
    (2, 224, 224)
    """
    if hasattr(maps, "detach"):
        maps = maps.detach().cpu().numpy()
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim not in (2, 3):
        raise ValueError(f"maps must be (h, w) or (N, h, w), got shape {maps.shape}")
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                       for s in size)):
        raise ValueError(f"size must be an int or a pair (height, width) of ints >= 1, got {size!r}")
    rows = _linear_weights(maps.shape[-2], int(size[0]))
    cols = _linear_weights(maps.shape[-1], int(size[1]))
    return rows @ maps @ cols.T  # (H, h) @ (..., h, w) @ (w, W)


def heatmap_overlay(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Blend a map, coloured from blue (low) to red (high), over an image.

    The map is upsampled to the image's size if it is smaller (:func:`upsample`).
    Colours span ``[vmin, vmax]``: by default the map's own minimum and maximum, which
    makes every map look equally strong; pass the same ``vmin``/``vmax`` to several maps
    to compare their magnitudes.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` floats in [0, 1]: ``(1 - alpha) image + alpha colour(map)``.

    Examples
    --------
    >>> img = np.zeros((8, 8, 3)); m = np.arange(4.0).reshape(2, 2)
    >>> out = heatmap_overlay(img, m, alpha=1.0)
    >>> out.shape, out[0, 0].round(2).tolist(), out[-1, -1].round(2).tolist()
    ((8, 8, 3), [0.0, 0.0, 0.5], [0.5, 0.0, 0.0])
    """
    import matplotlib

    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W) or (H, W, 3), got shape {image.shape}")
    if image.max() > 1.0:
        image = image / 255.0
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be one 2-D map, got shape {heatmap.shape}")
    if heatmap.shape != image.shape[:2]:
        heatmap = upsample(heatmap, image.shape[:2])
    lo = float(heatmap.min()) if vmin is None else float(vmin)
    hi = float(heatmap.max()) if vmax is None else float(vmax)
    scaled = np.clip((heatmap - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(heatmap)
    colour = matplotlib.colormaps[cmap](scaled)[..., :3]
    return (1 - alpha) * image + alpha * colour


def show_heatmaps(
    images: Sequence[np.ndarray],
    maps: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    alpha: float = 0.5,
    cmap: str = "jet",
    ncols: int | None = None,
    size: float = 2.6,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = False,
) -> Any:
    """Each image with its map laid over it (:func:`heatmap_overlay`), side by side.

    ``vmin``/``vmax`` shared by all the maps (e.g. 0 and the largest maximum) show
    which maps are stronger; left as ``None``, each map is scaled on its own.
    ``colorbar`` adds the blue-to-red scale (meaningful with shared limits).

    Examples
    --------
    >>> fig = show_heatmaps([np.zeros((8, 8, 3))] * 2, [np.eye(2), np.ones((2, 2))], ["a", "b"])
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    images, maps = list(images), list(maps)
    if not images or len(images) != len(maps):
        raise ValueError(f"give one map per image: {len(images)} images and {len(maps)} maps")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries but there are {len(images)} images")
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(images):
            ax.set_visible(False)
            continue
        ax.imshow(heatmap_overlay(images[i], maps[i], alpha=alpha, cmap=cmap, vmin=vmin, vmax=vmax))
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if colorbar:
        import matplotlib as mpl

        lo = 0.0 if vmin is None else vmin
        hi = 1.0 if vmax is None else vmax
        fig.colorbar(mpl.cm.ScalarMappable(mpl.colors.Normalize(lo, hi), cmap=cmap),
                     ax=axes.ravel().tolist(), shrink=0.8)
    else:
        fig.tight_layout()
    return fig


def plot_sanity_check(result: Any, *, labels: Sequence[str] | None = None) -> Any:
    """Rank correlation and structural similarity with the original map, per stage of
    :func:`cnncourse.explain.randomization_test` (mean over the images, with the
    range of the images as a band).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(stages=["original", "fc"], spearman=np.array([[1, 1], [0.2, 0.1]]),
    ...                     ssim=np.array([[1, 1], [0.3, 0.4]]))
    >>> [ax.get_title() for ax in plot_sanity_check(r).axes]
    ['correlación de rangos (Spearman)', 'similitud estructural (SSIM)']
    """
    import matplotlib.pyplot as plt

    stages = list(labels) if labels is not None else list(result.stages)
    if len(stages) != len(result.stages):
        raise ValueError(f"labels has {len(stages)} entries for {len(result.stages)} stages")
    x = np.arange(len(stages))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, values, title in zip(axes, (result.spearman, result.ssim),
                                 ("correlación de rangos (Spearman)", "similitud estructural (SSIM)")):
        values = np.asarray(values, dtype=float)
        ax.fill_between(x, values.min(axis=1), values.max(axis=1), alpha=0.2)
        ax.plot(x, values.mean(axis=1), "o-")
        ax.axhline(0, color="gray", linewidth=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(stages, rotation=45, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_xlabel("reinicializado hasta (desde la salida)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("parecido con el mapa original")
    axes[0].set_ylim(-1.05, 1.05)
    fig.tight_layout()
    return fig
