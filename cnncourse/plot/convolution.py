"""Filtering and convolution figures (chapters "Filtrado" and "Convolución"): the sliding
window, the positions a stride visits, a filter's result, and the interactive explorer.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from cnncourse.plot.images import _cell_text, _figure, show_matrix

__all__ = ["show_sliding_window", "show_stride_positions", "show_filter_result",
           "explorer_kernels", "filter_explorer"]

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
