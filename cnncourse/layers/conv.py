"""The layers that slide a window over the image: convolution, max- and average-pooling.

Both visit every output position with the same small window; here each layer loops
over the window's taps (``kh * kw`` array operations) instead of over the output
positions, so a layer is a handful of NumPy lines and still fast enough for the book.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from cnncourse._validate import check_pair
from cnncourse.layers._arrays import _array
from cnncourse.shapes import conv_output_shape, pool_output_shape

__all__ = ["conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward",
           "avg_pool_forward", "avg_pool_backward"]

def _taps(
    kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]
) -> Iterator[tuple[int, int, tuple[slice, slice, slice, slice]]]:
    """Yield ``(u, v, index)`` for every kernel tap ``(u, v)``.

    ``padded_input[index]`` is the ``(N, C, Ho, Wo)`` block of input values that tap
    ``(u, v)`` of the kernel sees at every output position: element ``[n, c, i, j]``
    is ``padded_input[n, c, i * sh + u, j * sw + v]``.
    """
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + sh * (ho - 1) + 1, sh)
            cols = slice(v, v + sw * (wo - 1) + 1, sw)
            yield u, v, (slice(None), slice(None), rows, cols)

# ----------------------------------------------------------------------- convolution


def conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> tuple[np.ndarray, tuple]:
    """Convolutional layer (cross-correlation) with stride and zero padding.

    ``out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xp[n, c, i*S + u, j*S + v]``
    where ``xp`` is ``x`` with ``P`` zeros on each side.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Batch of ``N`` inputs with ``C`` channels.
    w : ndarray, shape (F, C, HH, WW)
        ``F`` filters; each spans all ``C`` input channels.
    b : ndarray, shape (F,)
        One bias per filter.
    stride : int or (int, int), optional
        Step ``S`` between filter positions.
    padding : int or (int, int), optional
        Zeros ``P`` added on each side of the height and width.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        ``H' = (H + 2P - HH) / S + 1`` and ``W' = (W + 2P - WW) / S + 1``, which must be
        integers (see :func:`cnncourse.shapes.conv_output_size`).
    cache : tuple
        ``(xp, w, x.shape, stride, padding)`` for :func:`conv_backward`.

    Examples
    --------
    A 3x3 filter of ones sums each 3x3 neighbourhood:

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, _ = conv_forward(x, np.ones((1, 1, 3, 3)), np.zeros(1))
    >>> out[0, 0]
    array([[45., 54.],
           [81., 90.]])
    >>> conv_forward(x, np.ones((2, 1, 3, 3)), np.zeros(2), padding=1)[0].shape
    (1, 2, 4, 4)
    """
    x = _array("x", x, ndim=4)
    w = _array("w", w, ndim=4)
    b = _array("b", b, ndim=1)
    n, c, h, wd = x.shape
    f, cw, kh, kw = w.shape
    if cw != c:
        raise ValueError(
            f"w has depth {cw} but x has {c} channels: w must be (F, C, HH, WW) = "
            f"(F, {c}, HH, WW) for x of shape {x.shape}"
        )
    if b.shape != (f,):
        raise ValueError(f"b must have shape ({f},), one bias per filter, got {b.shape}")
    stride = check_pair("stride", stride, minimum=1)
    padding = check_pair("padding", padding)
    ho, wo = conv_output_shape((h, wd), (kh, kw), stride, padding)

    (ph, pw) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, f, ho, wo), dtype=np.result_type(x, w, b))
    for u, v, index in _taps((kh, kw), stride, (ho, wo)):
        # every output position adds w[:, :, u, v] times the input values under tap (u, v):
        # out[n, f, i, j] += sum_c xp[index][n, c, i, j] * w[f, c, u, v]
        # (einsum "nchw,fc->nfhw"; tensordot is the same contraction, several times faster)
        out += np.tensordot(xp[index], w[:, :, u, v], axes=([1], [1])).transpose(0, 3, 1, 2)
    out += b[None, :, None, None]
    cache = (xp, w, x.shape, stride, padding)
    return out, cache


def conv_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a convolutional layer.

    Each tap ``(u, v)`` of the kernel was multiplied by a strided block of the input,
    so ``dw[:, :, u, v]`` sums ``dout`` times that block, and the block receives
    ``dout`` times the tap. Every output depends on its bias with weight 1.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Gradient of the loss with respect to the output of :func:`conv_forward`.
    cache : tuple
        The cache :func:`conv_forward` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> out, cache = conv_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1))
    >>> dx, dw, db = conv_backward(np.ones_like(out), cache)
    >>> dw[0, 0]  # dW_mn = sum_ij X[i+m, j+n] * dH[i, j]
    array([[ 8., 12.],
           [20., 24.]])
    >>> dx[0, 0]  # how many output windows cover each input pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> db
    array([4.])
    """
    xp, w, x_shape, stride, padding = cache
    dout = _array("dout", dout, ndim=4)
    n, f, ho, wo = dout.shape
    if (n, f) != (x_shape[0], w.shape[0]):
        raise ValueError(
            f"dout must have shape (N, F, H', W') with N={x_shape[0]}, F={w.shape[0]}, "
            f"got {dout.shape}"
        )
    kh, kw = w.shape[2:]
    dxp = np.zeros(xp.shape, dtype=np.result_type(dout, xp))
    dw = np.zeros(w.shape, dtype=np.result_type(dout, w))
    for u, v, index in _taps((kh, kw), stride, (ho, wo)):
        # dw[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j] * xp[index][n, c, i, j]
        dw[:, :, u, v] = np.tensordot(dout, xp[index], axes=([0, 2, 3], [0, 2, 3]))
        # dxp[index][n, c, i, j] += sum_f dout[n, f, i, j] * w[f, c, u, v]
        dxp[index] += np.tensordot(dout, w[:, :, u, v], axes=([1], [0])).transpose(0, 3, 1, 2)
    db = dout.sum(axis=(0, 2, 3))
    (ph, pw), (h, wd) = padding, x_shape[2:]
    dx = dxp[:, :, ph : ph + h, pw : pw + wd]
    return dx, dw, db

# ---------------------------------------------------------------------------- pooling


def _pool_setup(
    x: Any, kernel: Any, stride: Any
) -> tuple[np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int]]:
    x = _array("x", x, ndim=4)
    kernel = check_pair("kernel", kernel, minimum=1)
    stride = kernel if stride is None else check_pair("stride", stride, minimum=1)
    out_hw = pool_output_shape(x.shape[2:], kernel, stride)
    return x, kernel, stride, out_hw


def max_pool_forward(
    x: np.ndarray,
    *,
    kernel: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, tuple]:
    """Max pooling: the largest value of each ``F x F`` window, channel by channel.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel : int or (int, int), optional
        Window size ``F``.
    stride : int or (int, int), optional
        Step ``S`` between windows; defaults to ``kernel`` (windows that do not overlap).

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``H' = (H - F) / S + 1``, ``W' = (W - F) / S + 1``.
    cache : tuple
        ``(x.shape, argmax, kernel, stride)``: ``argmax[n, c, i, j]`` is the tap
        ``u * F + v`` of the window that held the maximum (the first one on ties).

    Examples
    --------
    >>> x = np.array([[1.0, 2, 5, 6], [3, 4, 7, 8], [9, 10, 13, 14], [11, 12, 15, 16]])
    >>> max_pool_forward(x[None, None])[0][0, 0]
    array([[ 4.,  8.],
           [12., 16.]])
    """
    x, kernel, stride, out_hw = _pool_setup(x, kernel, stride)
    taps = np.stack([x[index] for _, _, index in _taps(kernel, stride, out_hw)])
    argmax = taps.argmax(axis=0)  # (N, C, H', W'): which tap won
    out = np.take_along_axis(taps, argmax[None], axis=0)[0]
    return out, (x.shape, argmax, kernel, stride)


def max_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of :func:`max_pool_forward`: each window sends ``dout`` to its maximum.

    The other values of the window did not affect the output, so their gradient is 0.
    Where windows overlap (``S < F``) a value that is the maximum of several windows
    adds up their gradients.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> x = np.array([[1.0, 2], [4, 3]])[None, None]
    >>> out, cache = max_pool_forward(x)
    >>> max_pool_backward(np.array([[[[10.0]]]]), cache)[0, 0]
    array([[ 0.,  0.],
           [10.,  0.]])
    """
    x_shape, argmax, kernel, stride = cache
    dout = _array("dout", dout)
    if dout.shape != argmax.shape:
        raise ValueError(f"dout must have the pooled shape {argmax.shape}, got {dout.shape}")
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for t, (_, _, index) in enumerate(_taps(kernel, stride, argmax.shape[2:])):
        dx[index] += dout * (argmax == t)
    return dx


def avg_pool_forward(
    x: np.ndarray,
    *,
    kernel: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, tuple]:
    """Average pooling: the mean of each ``F x F`` window, channel by channel.

    Shapes as in :func:`max_pool_forward`; ``cache`` is ``(x.shape, kernel, stride)``.

    Examples
    --------
    >>> x = np.array([[1.0, 2, 5, 6], [3, 4, 7, 8], [9, 10, 13, 14], [11, 12, 15, 16]])
    >>> avg_pool_forward(x[None, None])[0][0, 0]
    array([[ 2.5,  6.5],
           [10.5, 14.5]])
    """
    x, kernel, stride, out_hw = _pool_setup(x, kernel, stride)
    out = np.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
    for _, _, index in _taps(kernel, stride, out_hw):
        out += x[index]
    out /= kernel[0] * kernel[1]
    return out, (x.shape, kernel, stride)


def avg_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of :func:`avg_pool_forward`: each value of a window gets ``dout / F^2``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> out, cache = avg_pool_forward(np.zeros((1, 1, 2, 2)))
    >>> avg_pool_backward(np.array([[[[8.0]]]]), cache)[0, 0]
    array([[2., 2.],
           [2., 2.]])
    """
    x_shape, kernel, stride = cache
    dout = _array("dout", dout, ndim=4)
    dx = np.zeros(x_shape, dtype=dout.dtype)
    share = dout / (kernel[0] * kernel[1])
    for _, _, index in _taps(kernel, stride, dout.shape[2:]):
        dx[index] += share
    return dx
