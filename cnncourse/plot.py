"""Figures shared by the chapters, so that notebooks do not repeat plotting plumbing.

Each function draws on Matplotlib axes (its own figure unless ``ax`` is given) and
returns the figure, so a notebook can show it, save it or add to it.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .fmt import pct

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


# --------------------------------------------------------------------------------------
# Filtering and convolution figures (chapters "Filtrado" and "Convolución").


def _shade_padding(ax: Any, shape: tuple[int, int], padding: tuple[int, int]) -> None:
    """Hatch the border cells of a padded grid so the zeros read as added, not data."""
    import matplotlib.patches as patches

    rows, cols = shape
    ph, pw = padding
    for i in range(rows):
        for j in range(cols):
            if i < ph or i >= rows - ph or j < pw or j >= cols - pw:
                ax.add_patch(patches.Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, facecolor="tab:blue", alpha=0.25,
                    hatch="//", edgecolor="tab:blue", linewidth=0,
                ))


def _window_rect(ax: Any, top: int, left: int, height: int, width: int,
                 colour: str, *, style: str = "-", lw: float = 2.5) -> None:
    import matplotlib.patches as patches

    ax.add_patch(patches.Rectangle(
        (left - 0.5, top - 0.5), width, height, fill=False, edgecolor=colour,
        linewidth=lw, linestyle=style,
    ))


def show_sliding_window(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    positions: Sequence[tuple[int, int]] = ((0, 0),),
    fmt: str = "{:g}",
    kernel_fmt: str = "{:.2g}",
    fontsize: float = 8,
) -> Any:
    """Draw the window of a 2-D correlation at some output positions.

    One row per output position ``(i, j)``: the (zero-padded, hatched) input with the
    window that produces ``G[i, j]`` outlined, the kernel, and the output with
    ``G[i, j]`` outlined and its value in the title. ``fmt`` formats the image and
    output values, ``kernel_fmt`` the kernel's.

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_sliding_window(np.arange(25.0).reshape(5, 5), np.ones((3, 3)),
    ...                           stride=2, padding=1, positions=[(0, 0), (1, 2)])
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt

    from cnncourse.filters import correlate2d, zero_pad

    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"image and kernel must be 2-D, got shapes {image.shape} and {kernel.shape}"
        )
    output = correlate2d(image, kernel, stride=stride, padding=padding)
    padded = zero_pad(image, padding)
    kh, kw = kernel.shape
    positions = list(positions)
    if not positions:
        raise ValueError("positions must contain at least one (i, j) pair, got none")
    for i, j in positions:
        if not (0 <= i < output.shape[0] and 0 <= j < output.shape[1]):
            raise ValueError(
                f"position {(i, j)} is outside the output, whose shape is {output.shape}"
            )
    widths = [padded.shape[1], kw, output.shape[1]]
    height = 0.42 * max(padded.shape[0], kh, output.shape[0]) + 0.9
    fig, axes = plt.subplots(
        len(positions), 3, squeeze=False,
        figsize=(0.42 * sum(widths) + 2.5, height * len(positions)),
        gridspec_kw={"width_ratios": widths},
    )
    reach = float(np.abs(kernel).max()) or 1.0  # kernel colours centred on 0
    for row, (i, j) in zip(axes, positions):
        ax_in, ax_k, ax_out = row
        show_matrix(padded, ax=ax_in, fmt=fmt, fontsize=fontsize)
        _shade_padding(ax_in, padded.shape, (padding, padding))
        _window_rect(ax_in, i * stride, j * stride, kh, kw, "tab:red")
        ax_in.set_title(f"F con padding {padding} ({padded.shape[0]}x{padded.shape[1]})",
                        fontsize=9)
        show_matrix(kernel, ax=ax_k, fmt=kernel_fmt, cmap="coolwarm", vmin=-reach, vmax=reach,
                    fontsize=fontsize)
        ax_k.set_title(f"H ({kh}x{kw})", fontsize=9)
        show_matrix(output, ax=ax_out, fmt=fmt, fontsize=fontsize)
        _window_rect(ax_out, i, j, 1, 1, "tab:red")
        ax_out.set_title(f"G ({output.shape[0]}x{output.shape[1]}): "
                         f"G[{i},{j}] = {_cell_text(fmt, output[i, j])}", fontsize=9)
    fig.suptitle(f"stride {stride}, padding {padding}", fontsize=10)
    fig.tight_layout()
    return fig


def show_stride_positions(
    size: int,
    kernel: int,
    *,
    stride: int = 1,
    padding: int = 0,
    ax: Any = None,
) -> Any:
    """Mark where a ``kernel x kernel`` window lands on a ``size x size`` input.

    Every window centre gets a dot; the first window and its neighbours one stride to
    the right and one stride down are outlined. The title gives the output size from
    :func:`cnncourse.shapes.conv_output_size` (floored, like PyTorch).

    Examples
    --------
    >>> fig = show_stride_positions(7, 3, stride=2)
    >>> fig.axes[0].get_title()
    '7x7, filtro 3x3, stride 2, padding 0 → 3x3'
    """
    from cnncourse.shapes import conv_output_size

    out = conv_output_size(size, kernel, stride, padding, floor=True)
    n = size + 2 * padding
    fig, ax = _figure(ax, figsize=(0.4 * n + 1, 0.4 * n + 1))
    ax.imshow(np.zeros((n, n)), cmap="gray_r", vmin=0, vmax=1)
    _shade_padding(ax, (n, n), (padding, padding))
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="#888888", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(n - 0.3, -0.7)
    centre = (kernel - 1) / 2
    ys, xs = np.meshgrid(np.arange(out) * stride + centre, np.arange(out) * stride + centre,
                         indexing="ij")
    ax.plot(xs.ravel(), ys.ravel(), "o", color="tab:red", markersize=5)
    _window_rect(ax, 0, 0, kernel, kernel, "tab:red")
    if out > 1:
        _window_rect(ax, 0, stride, kernel, kernel, "tab:orange", style="--", lw=2)
        _window_rect(ax, stride, 0, kernel, kernel, "tab:green", style=":", lw=2)
    ax.set_title(f"{size}x{size}, filtro {kernel}x{kernel}, stride {stride}, "
                 f"padding {padding} → {out}x{out}", fontsize=9)
    return fig


def show_filter_result(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int | str = 0,
    name: str | None = None,
) -> Any:
    """Show an image, a kernel and the result of correlating them, with their shapes.

    Examples
    --------
    >>> import numpy as np
    >>> fig = show_filter_result(np.ones((20, 30)), np.ones((3, 3)) / 9, stride=2)
    >>> fig.axes[2].get_title()
    'salida 9x14'
    """
    import matplotlib.pyplot as plt

    from cnncourse.filters import correlate2d

    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    output = correlate2d(image, kernel, stride=stride, padding=padding)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6),
                             gridspec_kw={"width_ratios": [4, 2, 4]})
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title(f"entrada {image.shape[0]}x{image.shape[1]}")
    reach = float(np.abs(kernel).max()) or 1.0
    show_matrix(kernel, ax=axes[1], fmt="{:.2g}", cmap="coolwarm", vmin=-reach, vmax=reach,
                fontsize=7)
    axes[1].set_title(name or f"filtro {kernel.shape[0]}x{kernel.shape[1]}")
    axes[2].imshow(output, cmap="gray")
    axes[2].set_title(f"salida {output.shape[0]}x{output.shape[1]}")
    for ax in (axes[0], axes[2]):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"stride {stride}, padding {padding}", fontsize=10)
    fig.tight_layout()
    return fig


def explorer_kernels() -> dict[str, np.ndarray]:
    """The kernels offered by :func:`filter_explorer`, by their Spanish names.

    Examples
    --------
    >>> sorted(explorer_kernels())[:3]
    ['Sobel x (bordes verticales)', 'Sobel y (bordes horizontales)', 'gaussiano 5x5']
    """
    from cnncourse import filters

    return {
        "identidad": filters.identity_kernel(3),
        "media 3x3": filters.mean_kernel(3),
        "media 7x7": filters.mean_kernel(7),
        "gaussiano 5x5": filters.gaussian_kernel(5, sigma=1.0),
        "Sobel x (bordes verticales)": filters.sobel_kernel("x"),
        "Sobel y (bordes horizontales)": filters.sobel_kernel("y"),
        "laplaciano": filters.laplacian_kernel(),
        "realce": filters.sharpen_kernel(),
    }


def filter_explorer(
    image: np.ndarray,
    *,
    kernels: dict[str, np.ndarray] | None = None,
    max_padding: int = 4,
    max_stride: int = 4,
) -> Any:
    """Interactive explorer: pick a kernel, a padding and a stride, see the result.

    Returns an ``ipywidgets.VBox`` (display it as a cell's last expression): a menu, two
    sliders, the :func:`show_filter_result` figure as a PNG image, and a line of text
    that explains a combination that cannot be applied. It draws once when created and
    again on every change, and never waits for input, so executing it without a
    front-end (the book build, CI) just leaves a widget nobody uses. Show a static
    :func:`show_filter_result` next to it for readers of the built book.

    The figure goes into an ``Image`` widget rather than an ``Output`` widget on
    purpose: nbclient (the book build) stalls for its whole cell timeout after an
    ``Output`` widget receives a large image.

    Examples
    --------
    >>> import numpy as np
    >>> explorer = filter_explorer(np.random.default_rng(0).random((16, 16)))
    >>> [child.description for child in explorer.children[:3]]
    ['filtro', 'padding', 'stride']
    >>> bytes(explorer.children[3].value[:4])  # a PNG image
    b'\\x89PNG'
    """
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    kernels = explorer_kernels() if kernels is None else dict(kernels)
    if not kernels:
        raise ValueError("kernels must contain at least one kernel, got an empty dict")
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D grey image, got shape {image.shape}")

    menu = widgets.Dropdown(options=list(kernels), description="filtro")
    padding = widgets.IntSlider(value=1, min=0, max=max_padding, description="padding")
    stride = widgets.IntSlider(value=1, min=1, max=max_stride, description="stride")
    picture = widgets.Image(format="png")
    message = widgets.Label()

    def redraw(_change: object = None) -> None:
        try:
            fig = show_filter_result(image, kernels[menu.value], stride=stride.value,
                                     padding=padding.value, name=menu.value)
        except ValueError as error:  # e.g. a kernel larger than the padded image
            message.value = f"No se puede aplicar: {error}"
            return
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=72)
        plt.close(fig)  # closed before the cell ends, so it is not shown twice
        picture.value = png.getvalue()
        message.value = ""

    for control in (menu, padding, stride):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([menu, padding, stride, picture, message])


__all__ += [
    "show_sliding_window",
    "show_stride_positions",
    "show_filter_result",
    "explorer_kernels",
    "filter_explorer",
]


# --- training curves (cnncourse.train) ---------------------------------------------------

_HISTORY_LABELS = {
    "loss": ("pérdida (entropía cruzada)", "train_loss", "val_loss"),
    "acc": ("exactitud", "train_acc", "val_acc"),
    "mae": ("error absoluto medio", "train_mae", "val_mae"),
}


def _comma_tick(value: float, _pos: Any = None) -> str:
    """An axis tick with the book's decimal comma (0.25 -> '0,25')."""
    return f"{value:g}".replace(".", ",")


def plot_history(
    history: dict[str, Sequence[float]],
    *,
    best_epoch: int | None = None,
    title: str | None = None,
    chance: float | None = None,
) -> Any:
    """Loss and accuracy per epoch, training and validation, side by side.

    ``history`` is :attr:`cnncourse.train.FitResult.history` (keys ``epoch``,
    ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``; or ``train_mae``,
    ``val_mae`` for a regression run, plotted as mean absolute error). ``best_epoch`` draws a
    vertical line there; ``chance`` a horizontal line on the accuracy plot (e.g.
    ``1 / num_classes``).

    Examples
    --------
    >>> h = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
    ...      "train_acc": [0.4, 0.8], "val_acc": [0.3, 0.6]}
    >>> fig = plot_history(h, best_epoch=2, chance=0.25)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['pérdida (entropía cruzada)', 'exactitud']
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    metric = "mae" if "train_mae" in history else "acc"  # regression runs report MAE
    missing = [k for k in ("epoch", "train_loss", f"train_{metric}") if k not in history]
    if missing:
        raise ValueError(f"history lacks {missing}; expected FitResult.history")
    epochs = list(history["epoch"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    loss_label = _HISTORY_LABELS["loss"] if metric == "acc" else ("pérdida", "train_loss",
                                                                   "val_loss")
    for ax, (ylabel, train_key, val_key) in zip(axes, (loss_label, _HISTORY_LABELS[metric])):
        ax.plot(epochs, history[train_key], "o-", label="entrenamiento")
        values = np.asarray(history.get(val_key, []), dtype=float)
        if values.size and not np.isnan(values).all():
            ax.plot(epochs, values, "s-", label="validación")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="gray", linestyle=":", label=f"mejor época ({best_epoch})")
        ax.set_xlabel("época")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(_comma_tick))
        ax.grid(alpha=0.3)
    if chance is not None:
        axes[1].axhline(chance, color="tab:red", linestyle="--", linewidth=1, label="azar")
    if metric == "acc":
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].yaxis.set_major_formatter(FuncFormatter(lambda v, _: pct(v, 0)))
    axes[1].legend(loc="lower right" if metric == "acc" else "upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(
    curves: dict[str, Sequence[float]],
    *,
    xlabel: str = "época",
    ylabel: str = "pérdida",
    log: bool = False,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Several curves of one quantity, one per labelled run (e.g. one per optimiser).

    Examples
    --------
    >>> fig = plot_curves({"SGD": [1.0, 0.6], "Adam": [1.0, 0.3]}, log=True)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['SGD', 'Adam']
    """
    if not curves:
        raise ValueError("curves must contain at least one labelled curve, got an empty dict")
    fig, ax = _figure(ax, figsize=(6, 3.6))
    from matplotlib.ticker import MaxNLocator

    for label, values in curves.items():
        values = list(values)
        ax.plot(range(1, len(values) + 1), values, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


__all__ += ["plot_history", "plot_curves"]


# --- class activation maps (cnncourse.explain) -------------------------------------------


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


__all__ += ["upsample", "heatmap_overlay", "show_heatmaps", "plot_sanity_check"]
