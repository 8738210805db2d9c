"""Image filters: classic kernels and 2-D correlation/convolution, written twice.

The slides define filtering an image ``F`` with a kernel ``H`` of size
``(2k + 1) x (2k + 1)`` as::

    G[i, j] = sum_{u=-k..k} sum_{v=-k..k} H[u, v] * F[i + u, j + v]

That sum is a **cross-correlation**: the kernel is not flipped. It is also what every
deep-learning framework computes under the name "convolution"
(``torch.nn.functional.conv2d``). A true convolution flips the kernel first
(``F[i - u, j - v]``), which only matters for kernels that are not symmetric.

This module gives each operation two implementations that must agree:

* :func:`correlate2d_loop` / :func:`convolve2d_loop`: plain Python loops that read like
  the formula, for teaching (slow: use them on small images).
* :func:`correlate2d` / :func:`convolve2d`: the same result, vectorised: the windows
  of the input become the columns of one matrix and a single matrix product applies
  every filter to every window (the *im2col* trick).

Shapes (the same for both implementations)

============================  ========================  ==========================
``image``                     ``kernel``                output
============================  ========================  ==========================
``(H, W)``                    ``(kh, kw)``              ``(Ho, Wo)``
``(C, H, W)``                 ``(C, kh, kw)``           ``(Ho, Wo)``: one filter
``(C, H, W)``                 ``(F, C, kh, kw)``        ``(F, Ho, Wo)``: a bank
``(N, C, H, W)``              ``(F, C, kh, kw)``        ``(N, F, Ho, Wo)``: a batch
============================  ========================  ==========================

The last row is the layout of ``torch.nn.functional.conv2d``. Indices ``u, v`` run
from the top-left corner of the window (``0 .. kh-1``) rather than from its centre, so
even-sized kernels work too; with an odd kernel and ``padding = k`` the two forms are
the same sum.

Output sizes come from :func:`cnncourse.shapes.conv_output_size` with ``floor=True``:
like PyTorch, a window that would run past the (padded) input is dropped rather than
raising. Use :func:`cnncourse.shapes.conv_output_size` (exact by default) to check that
a design tiles its input.
"""

from __future__ import annotations

from typing import Literal, Union

import numpy as np

from cnncourse._validate import check_int, check_number, check_pair
from cnncourse.shapes import conv_output_size, same_padding

Padding = Union[int, tuple[int, int], Literal["valid", "same"]]

__all__ = [
    "identity_kernel",
    "mean_kernel",
    "gaussian_kernel",
    "sobel_kernel",
    "laplacian_kernel",
    "sharpen_kernel",
    "example_image",
    "zero_pad",
    "correlate2d_loop",
    "convolve2d_loop",
    "correlate2d",
    "convolve2d",
]


# --------------------------------------------------------------------------- kernels


def _check_odd(name: str, value: object) -> int:
    size = check_int(name, value, minimum=1)
    if size % 2 == 0:
        raise ValueError(
            f"{name} must be an odd integer (2k + 1, so the kernel has a centre), "
            f"got {size}"
        )
    return size


def identity_kernel(size: int = 3) -> np.ndarray:
    """Kernel that leaves the image unchanged: a 1 in the centre, 0 elsewhere.

    Examples
    --------
    >>> identity_kernel(3)
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]])
    """
    size = _check_odd("size", size)
    kernel = np.zeros((size, size))
    kernel[size // 2, size // 2] = 1.0
    return kernel


def mean_kernel(size: int | tuple[int, int] = 3) -> np.ndarray:
    """Box (mean) filter: every weight is ``1 / (kh * kw)``.

    With ``size = 2k + 1`` each weight is ``1 / (2k + 1)**2``, the mean filter of the
    slides.

    Parameters
    ----------
    size : int or (int, int)
        Kernel height and width.

    Examples
    --------
    >>> mean_kernel(3) * 9
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    >>> mean_kernel((1, 4))
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    kh, kw = check_pair("size", size, minimum=1)
    return np.full((kh, kw), 1.0 / (kh * kw))


def gaussian_kernel(size: int = 5, *, sigma: float = 1.0) -> np.ndarray:
    """Gaussian kernel ``exp(-(u^2 + v^2) / (2 sigma^2))``, normalised to sum 1.

    Weights fall off with the distance to the centre, so near neighbours count more
    than far ones: a smoother blur than the mean filter.

    Parameters
    ----------
    size : int
        Odd kernel size ``2k + 1``.
    sigma : float
        Standard deviation in pixels, ``> 0``.

    Examples
    --------
    >>> g = gaussian_kernel(3, sigma=1.0)
    >>> round(float(g.sum()), 12)
    1.0
    >>> bool(g[1, 1] > g[0, 1] > g[0, 0])
    True
    """
    size = _check_odd("size", size)
    sigma = check_number("sigma", sigma, minimum=0, low_open=True, finite=True)
    offsets = np.arange(size) - size // 2  # -k .. k
    u, v = np.meshgrid(offsets, offsets, indexing="ij")
    kernel = np.exp(-(u**2 + v**2) / (2.0 * float(sigma) ** 2))
    return kernel / kernel.sum()


def sobel_kernel(axis: Literal["x", "y"] = "x") -> np.ndarray:
    """Sobel kernel: a smoothed derivative along ``axis`` (as a correlation kernel).

    ``'x'`` responds to changes from left to right (vertical edges), ``'y'`` to changes
    from top to bottom (horizontal edges). Positive where the image gets brighter in
    that direction.

    Examples
    --------
    >>> sobel_kernel("x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    >>> sobel_kernel("y")
    array([[-1., -2., -1.],
           [ 0.,  0.,  0.],
           [ 1.,  2.,  1.]])
    """
    kernel = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    if axis == "x":
        return kernel
    if axis == "y":
        return kernel.T.copy()
    raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")


def laplacian_kernel(*, diagonals: bool = False) -> np.ndarray:
    """Discrete Laplacian: the sum of second derivatives, large on edges and spots.

    Parameters
    ----------
    diagonals : bool
        If True, use all 8 neighbours (centre -8) instead of the 4 nearest (centre -4).

    Examples
    --------
    >>> laplacian_kernel()
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    >>> float(laplacian_kernel(diagonals=True).sum())
    0.0
    """
    if not isinstance(diagonals, bool):
        raise TypeError(f"diagonals must be True or False, got {diagonals!r}")
    if diagonals:
        kernel = np.ones((3, 3))
        kernel[1, 1] = -8.0
        return kernel
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def sharpen_kernel(*, amount: float = 1.0) -> np.ndarray:
    """Sharpening kernel ``identity - amount * laplacian``.

    Subtracting the Laplacian adds back the detail a blur removes; ``amount = 1`` gives
    the classic ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``. The weights sum to 1, so
    flat regions keep their brightness.

    Examples
    --------
    >>> sharpen_kernel()
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    """
    amount = check_number("amount", amount)
    return identity_kernel(3) - amount * laplacian_kernel()


def example_image() -> np.ndarray:
    """The 10x10 image ``F`` of the slides' mean-filter example (document 001).

    A 5x5 block of 90s with one 0 inside it, plus a lone 90 below the block, on a
    background of 0s.

    Examples
    --------
    >>> F = example_image()
    >>> F.shape, int(F.sum()), int(F[5, 4]), int(F[8, 2])
    ((10, 10), 2250, 0, 90)
    """
    image = np.zeros((10, 10))
    image[2:7, 3:8] = 90.0  # the 5x5 block
    image[5, 4] = 0.0  # the hole inside it
    image[8, 2] = 90.0  # the lone pixel below
    return image


# ------------------------------------------------------------- validation and shapes


def _as_float_array(name: str, value: object) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise TypeError(
            f"{name} must be a numeric array, got dtype {array.dtype} "
            f"(from {type(value).__name__})"
        )
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    return array


def _prepare(
    image: object,
    kernel: object,
    bias: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """Lift every accepted layout to ``x (N, C, H, W)`` and ``w (F, C, kh, kw)``.

    Returns the two arrays, the bias (or None) and the number of leading output axes to
    keep: the output is computed as ``(N, F, Ho, Wo)`` and reshaped with it.
    """
    x = _as_float_array("image", image)
    w = _as_float_array("kernel", kernel)
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            "image must be 2-D (H, W), 3-D (C, H, W) or 4-D (N, C, H, W), "
            f"got shape {x.shape}"
        )
    if x.ndim == 2:
        if w.ndim != 2:
            raise ValueError(
                f"a 2-D image (shape {x.shape}) needs a 2-D kernel (kh, kw), got kernel "
                f"shape {w.shape}; for filter banks give the image as (C, H, W)"
            )
        lead: tuple[int, ...] = ()
        x4, w4 = x[None, None], w[None, None]
    elif w.ndim == 3 and x.ndim == 3:
        lead = ()
        x4, w4 = x[None], w[None]
    elif w.ndim == 4:
        lead = (w.shape[0],) if x.ndim == 3 else (x.shape[0], w.shape[0])
        x4 = x[None] if x.ndim == 3 else x
        w4 = w
    else:
        raise ValueError(
            f"for an image of shape {x.shape} the kernel must be (C, kh, kw) (one filter, "
            "3-D images only) or a bank (F, C, kh, kw), got kernel shape "
            f"{w.shape}"
        )
    if x4.shape[1] != w4.shape[1]:
        raise ValueError(
            f"kernel depth {w4.shape[1]} (kernel shape {w.shape}) does not match the "
            f"{x4.shape[1]} channels of image (shape {x.shape}): a filter must span the "
            "whole depth of its input"
        )
    if min(x4.shape[2:]) < 1 or min(w4.shape) < 1:
        raise ValueError(
            f"image and kernel must not be empty, got image shape {x.shape} and kernel "
            f"shape {w.shape}"
        )
    b = None
    if bias is not None:
        b = _as_float_array("bias", bias)
        n_filters = w4.shape[0]
        if b.shape != (n_filters,) and not (b.ndim == 0 and n_filters == 1):
            raise ValueError(
                f"bias must have one value per filter, shape ({n_filters},), "
                f"got shape {b.shape}"
            )
        b = b.reshape(n_filters)
    return x4, w4, b, lead


def _geometry(
    size: tuple[int, int],
    ksize: tuple[int, int],
    stride: int | tuple[int, int],
    padding: Padding,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Check stride and padding; return ``(stride, padding, output size)`` pairs."""
    strides = check_pair("stride", stride, minimum=1)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(
                "padding must be an integer >= 0, a pair of them, 'valid' or 'same', "
                f"got {padding!r}"
            )
        pads: tuple[object, object] = (padding, padding)
    else:
        pads = check_pair("padding", padding, minimum=0)
    out, numeric = [], []
    for axis, n, k, s, p in zip(("height", "width"), size, ksize, strides, pads):
        try:
            out.append(conv_output_size(n, k, s, p, floor=True))  # type: ignore[arg-type]
        except ValueError as error:
            raise ValueError(
                f"along the {axis} (image {n}, kernel {k}, stride {s}, padding {p!r}): "
                f"{error}"
            ) from None
        if p == "same":
            numeric.append(same_padding(k))
        elif p == "valid":
            numeric.append(0)
        else:
            numeric.append(p)  # type: ignore[arg-type]
    return strides, (numeric[0], numeric[1]), (out[0], out[1])


def _result_dtype(x: np.ndarray, w: np.ndarray) -> np.dtype:
    dtype = np.result_type(x.dtype, w.dtype)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def zero_pad(image: np.ndarray, padding: int | tuple[int, int]) -> np.ndarray:
    """Add ``padding`` rows/columns of zeros around the last two axes of ``image``.

    Parameters
    ----------
    image : ndarray
        ``(..., H, W)``.
    padding : int or (int, int)
        Zeros on each side: the same for both axes, or ``(rows, columns)``.

    Examples
    --------
    >>> zero_pad(np.ones((2, 3)), 1)
    array([[0., 0., 0., 0., 0.],
           [0., 1., 1., 1., 0.],
           [0., 1., 1., 1., 0.],
           [0., 0., 0., 0., 0.]])
    """
    array = _as_float_array("image", image)
    if array.ndim < 2:
        raise ValueError(f"image must have at least 2 axes (H, W), got shape {array.shape}")
    ph, pw = check_pair("padding", padding, minimum=0)
    widths = [(0, 0)] * (array.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(array, widths, mode="constant", constant_values=0)


# --------------------------------------------------------------- loop (for teaching)


def correlate2d_loop(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-correlation with explicit loops: ``G[i, j] = sum_u sum_v H[u, v] F[i+u, j+v]``.

    The teaching version: one loop per index of the formula, nothing hidden. It gives
    the same result as :func:`correlate2d` (and ``torch.nn.functional.conv2d``), only
    thousands of times slower (see ``benchmarks/bench_conv.py``).

    Parameters
    ----------
    image : ndarray
        ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``.
    kernel : ndarray
        ``(kh, kw)``, ``(C, kh, kw)`` or a bank ``(F, C, kh, kw)`` (see the module
        docstring for which goes with which).
    stride : int or (int, int)
        Step between two positions of the window, ``>= 1``.
    padding : int, (int, int), 'valid' or 'same'
        Zeros added on each side before sliding. ``'valid'`` is 0; ``'same'`` keeps the
        size (stride 1, odd kernels).
    bias : ndarray, optional
        One value per filter, added to its whole output map.

    Returns
    -------
    ndarray
        ``(Ho, Wo)``, ``(F, Ho, Wo)`` or ``(N, F, Ho, Wo)`` with
        ``Ho = floor((H + 2 * padding - kh) / stride) + 1`` (and likewise ``Wo``).

    Examples
    --------
    >>> F = np.arange(16.0).reshape(4, 4)
    >>> correlate2d_loop(F, np.ones((2, 2)))
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> correlate2d_loop(F, np.ones((2, 2)), stride=2)
    array([[10., 18.],
           [42., 50.]])
    """
    x, w, b, lead = _prepare(image, kernel, bias)
    n_images, channels, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (out_h, out_w) = _geometry((height, width), (kh, kw), stride, padding)
    x = zero_pad(x, (ph, pw))
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=_result_dtype(x, w))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0
                    for c in range(channels):
                        for u in range(kh):
                            for v in range(kw):
                                total += w[f, c, u, v] * x[n, c, i * sh + u, j * sw + v]
                    if b is not None:
                        total += b[f]
                    out[n, f, i, j] = total
    return out.reshape(lead + (out_h, out_w))


def convolve2d_loop(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """True convolution with explicit loops: correlation with the kernel flipped.

    ``G[i, j] = sum_u sum_v H[u, v] F[i - u, j - v]``, which is the correlation of ``F``
    with ``H`` rotated by 180 degrees. Same arguments as :func:`correlate2d_loop`.

    Examples
    --------
    >>> impulse = np.zeros((3, 3)); impulse[1, 1] = 1
    >>> H = np.arange(1.0, 10.0).reshape(3, 3)
    >>> convolve2d_loop(impulse, H, padding=1)  # an impulse returns the kernel itself
    array([[1., 2., 3.],
           [4., 5., 6.],
           [7., 8., 9.]])
    """
    w = _as_float_array("kernel", kernel)
    return correlate2d_loop(
        image, np.flip(w, axis=(-2, -1)), stride=stride, padding=padding, bias=bias
    )


# ---------------------------------------------------------------------- vectorised


def correlate2d(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-correlation, vectorised: what ``torch.nn.functional.conv2d`` computes.

    Same arguments and result as :func:`correlate2d_loop`. The input is padded, its
    windows are laid out as the columns of one matrix (*im2col*: one copy of the image
    per kernel tap ``(u, v)``, shifted by ``(u, v)`` and subsampled by the stride), and
    all filters are applied to all windows of all images in a single matrix product::

        cols : (C*kh*kw, N*Ho*Wo)    one column per window
        w    : (F, C*kh*kw)          one row per filter
        out  = w @ cols : (F, N*Ho*Wo)  -> (N, F, Ho, Wo)

    The result for a batch is a transposed view of that product (not C-contiguous).

    Examples
    --------
    >>> F = np.arange(16.0).reshape(4, 4)
    >>> correlate2d(F, np.ones((2, 2)), stride=2)
    array([[10., 18.],
           [42., 50.]])
    >>> x = np.ones((2, 3, 5, 5))            # N=2 images, C=3 channels
    >>> w = np.ones((4, 3, 3, 3))            # F=4 filters of depth 3
    >>> correlate2d(x, w, padding="same").shape
    (2, 4, 5, 5)
    """
    x, w, b, lead = _prepare(image, kernel, bias)
    n_images, channels, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (out_h, out_w) = _geometry((height, width), (kh, kw), stride, padding)
    dtype = _result_dtype(x, w)
    x = zero_pad(x.astype(dtype, copy=False), (ph, pw)).transpose(1, 0, 2, 3)  # (C, N, H', W')
    cols = np.empty((channels, kh, kw, n_images, out_h, out_w), dtype=dtype)
    for u in range(kh):
        for v in range(kw):
            # every window's (u, v) tap, for all channels and images at once
            cols[:, u, v] = x[:, :, u : u + out_h * sh : sh, v : v + out_w * sw : sw]
    out = w.astype(dtype, copy=False).reshape(n_filters, -1) @ cols.reshape(
        channels * kh * kw, -1
    )  # (F, N*Ho*Wo)
    if b is not None:
        out += b.astype(dtype, copy=False)[:, None]
    out = out.reshape(n_filters, n_images, out_h, out_w).transpose(1, 0, 2, 3)
    return out.reshape(lead + (out_h, out_w))


def convolve2d(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """True convolution, vectorised: :func:`correlate2d` with the kernel flipped.

    Same arguments and result as :func:`convolve2d_loop`; matches
    ``scipy.ndimage.convolve`` (``mode='constant'``) on the positions both compute.

    Examples
    --------
    >>> H = np.array([[1.0, 2.0, 3.0]])
    >>> impulse = np.array([[0.0, 1.0, 0.0]])
    >>> convolve2d(impulse, H, padding=(0, 1))  # the kernel, as it is
    array([[1., 2., 3.]])
    >>> correlate2d(impulse, H, padding=(0, 1))  # the kernel, flipped
    array([[3., 2., 1.]])
    """
    w = _as_float_array("kernel", kernel)
    return correlate2d(
        image, np.flip(w, axis=(-2, -1)), stride=stride, padding=padding, bias=bias
    )
