"""The layers of a CNN in NumPy, each as a forward/backward pair.

Every layer is two functions that sit next to each other:

* ``*_forward(inputs..., *, options) -> (out, cache)`` computes the output and keeps in
  ``cache`` what the backward pass will need;
* ``*_backward(dout, cache) -> grads`` takes the gradient of the loss with respect to
  ``out`` and returns the gradients with respect to each input of the forward
  function, in the same order (``conv_backward`` returns ``(dx, dw, db)`` for
  ``conv_forward(x, w, b)``).

Images travel in batches shaped ``(N, C, H, W)``: ``N`` examples, ``C`` channels,
height ``H`` and width ``W``, as in PyTorch. Filters are ``(F, C, HH, WW)``. The
convolution is, as in every deep-learning framework, a cross-correlation (the filter is
not flipped).

The layers work in the dtype they are given (integer inputs become ``float64``); the
gradient checks of :mod:`cnncourse.gradcheck` need ``float64``.

Examples
--------
A convolution, a ReLU and a max-pooling, forward and backward:

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((2, 3, 8, 8))
>>> w, b = rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
>>> a, conv_cache = conv_forward(x, w, b, padding=1)
>>> r, relu_cache = relu_forward(a)
>>> p, pool_cache = max_pool_forward(r, kernel=2)
>>> p.shape
(2, 4, 4, 4)
>>> dx, dw, db = conv_backward(relu_backward(max_pool_backward(np.ones_like(p), pool_cache),
...                                          relu_cache), conv_cache)
>>> dx.shape, dw.shape, db.shape
((2, 3, 8, 8), (4, 3, 3, 3), (4,))
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from cnncourse._validate import check_number, check_pair
from cnncourse.shapes import conv_output_shape, pool_output_shape

__all__ = [
    "conv_forward",
    "conv_backward",
    "relu_forward",
    "relu_backward",
    "rectifier_forward",
    "rectifier_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "abs_rectification_forward",
    "abs_rectification_backward",
    "prelu_forward",
    "prelu_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "linear_forward",
    "linear_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "softmax",
    "softmax_cross_entropy",
]


# --------------------------------------------------------------------------- helpers


def _array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a floating-point array (integers become float64), checked."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}") from exc
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {arr.dtype}"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


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


# ------------------------------------------------------------------ the ReLU family


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectified linear unit ``a = max(0, z)``: no hyperparameters, no parameters.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : ndarray
        ``x`` itself.

    Examples
    --------
    >>> relu_forward(np.array([-2.0, 0.0, 3.0]))[0]
    array([0., 0., 3.])
    """
    x = _array("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of :func:`relu_forward`: ``dout`` where ``x > 0``, else 0.

    The derivative is 1 for ``z > 0`` and 0 for ``z < 0``; at ``z = 0`` it is undefined
    and, as in PyTorch, taken as 0.

    Returns
    -------
    dx : ndarray, same shape as ``x``

    Examples
    --------
    >>> _, cache = relu_forward(np.array([-2.0, 0.0, 3.0]))
    >>> relu_backward(np.array([5.0, 5.0, 5.0]), cache)
    array([0., 0., 5.])
    """
    x = cache
    return _array("dout", dout) * (x > 0)


def rectifier_forward(x: np.ndarray, *, alpha: float) -> tuple[np.ndarray, tuple]:
    """Generalised rectifier ``g(z) = max(0, z) + alpha * min(0, z)``.

    ``alpha = 0`` is the ReLU, ``alpha = -1`` the absolute rectification ``|z|`` and a
    small positive ``alpha`` the leaky ReLU. (With ``alpha`` learned it is the PReLU:
    see :func:`prelu_forward`.)

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float
        Slope for negative inputs.

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : tuple
        ``(x, alpha)``.

    Examples
    --------
    >>> rectifier_forward(np.array([-2.0, 3.0]), alpha=0.5)[0]
    array([-1.,  3.])
    """
    x = _array("x", x)
    alpha = check_number("alpha", alpha)
    return np.maximum(x, 0) + alpha * np.minimum(x, 0), (x, alpha)


def rectifier_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of :func:`rectifier_forward`: ``g'(z) = 1`` if ``z > 0``, else ``alpha``.

    At ``z = 0`` the derivative is undefined; this takes the left one, ``alpha``.

    Returns
    -------
    dx : ndarray, same shape as ``x``

    Examples
    --------
    >>> _, cache = rectifier_forward(np.array([-2.0, 3.0]), alpha=0.5)
    >>> rectifier_backward(np.array([1.0, 1.0]), cache)
    array([0.5, 1. ])
    """
    x, alpha = cache
    return _array("dout", dout) * np.where(x > 0, 1.0, alpha)


def leaky_relu_forward(x: np.ndarray, *, alpha: float = 0.01) -> tuple[np.ndarray, tuple]:
    """Leaky ReLU: :func:`rectifier_forward` with a small fixed slope for negative inputs.

    The slope is small: 0.01 by default, like PyTorch's ``LeakyReLU`` (Maas et al., 2013).
    Any ``0 <= alpha <= 1`` is accepted, but ``alpha = 1`` is the identity, not a rectifier.

    Examples
    --------
    >>> leaky_relu_forward(np.array([-100.0, 2.0]))[0]
    array([-1.,  2.])
    """
    alpha = check_number("alpha", alpha, minimum=0, maximum=1,
                         hint="the slope of a leaky ReLU for z < 0")
    return rectifier_forward(x, alpha=alpha)


def leaky_relu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of :func:`leaky_relu_forward` (see :func:`rectifier_backward`)."""
    return rectifier_backward(dout, cache)


def abs_rectification_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Absolute rectification ``g(z) = |z|``: the generalised rectifier with ``alpha = -1``.

    Useful where the polarity of the input carries no information (a dark object on a
    light background or the reverse).

    Examples
    --------
    >>> abs_rectification_forward(np.array([-2.0, 3.0]))[0]
    array([2., 3.])
    """
    return rectifier_forward(x, alpha=-1.0)


def abs_rectification_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of :func:`abs_rectification_forward`: the sign of ``z`` (``-1`` at 0)."""
    return rectifier_backward(dout, cache)


def prelu_forward(x: np.ndarray, alpha: np.ndarray | float) -> tuple[np.ndarray, tuple]:
    """Parametric ReLU: ``max(0, z) + alpha * min(0, z)`` with ``alpha`` learned.

    Parameters
    ----------
    x : ndarray, shape (N, C, ...) or (N,)
        Input; ``C`` is axis 1 as in PyTorch's ``PReLU``.
    alpha : float or ndarray of shape () or (C,)
        One slope shared by all channels, or one slope per channel.

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : tuple
        ``(x, alpha)`` for :func:`prelu_backward`.

    Examples
    --------
    >>> x = np.array([[-1.0, -1.0], [2.0, -4.0]])  # N=2, C=2
    >>> prelu_forward(x, np.array([0.1, 0.5]))[0]
    array([[-0.1, -0.5],
           [ 2. , -2. ]])
    """
    x = _array("x", x)
    alpha = _array("alpha", alpha)
    if alpha.ndim > 1 or (alpha.ndim == 1 and (x.ndim < 2 or alpha.shape[0] != x.shape[1])):
        channels = x.shape[1] if x.ndim >= 2 else "none"
        raise ValueError(
            f"alpha must be a scalar or have shape (C,) with C = x.shape[1] = {channels}, "
            f"got shape {alpha.shape}"
        )
    slope = alpha.reshape((1, -1) + (1,) * (x.ndim - 2)) if alpha.ndim == 1 else alpha
    return np.maximum(x, 0) + slope * np.minimum(x, 0), (x, alpha)


def prelu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of :func:`prelu_forward` with respect to ``x`` and to ``alpha``.

    ``dz = dout`` where ``z > 0`` and ``alpha * dout`` elsewhere; ``dalpha`` adds
    ``dout * min(0, z)`` over every element that shares the slope.

    Returns
    -------
    dx : ndarray, same shape as ``x``
    dalpha : ndarray, same shape as ``alpha``

    Examples
    --------
    >>> x = np.array([[-1.0, -1.0], [2.0, -4.0]])
    >>> _, cache = prelu_forward(x, np.array([0.1, 0.5]))
    >>> dx, dalpha = prelu_backward(np.ones_like(x), cache)
    >>> dalpha
    array([-1., -5.])
    """
    x, alpha = cache
    dout = _array("dout", dout)
    slope = alpha.reshape((1, -1) + (1,) * (x.ndim - 2)) if alpha.ndim == 1 else alpha
    dx = dout * np.where(x > 0, 1.0, slope)
    per_element = dout * np.minimum(x, 0)
    if alpha.ndim == 1:
        dalpha = per_element.sum(axis=tuple(a for a in range(x.ndim) if a != 1))
    else:
        dalpha = np.asarray(per_element.sum())
    return dx, dalpha


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


# -------------------------------------------------------------- fully connected layer


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Fully connected (affine) layer ``out = x_flat @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Each example is flattened to ``D = d_1 * ... * d_k`` values (a ``C x H x W``
        volume becomes a vector).
    w : ndarray, shape (D, M)
        One column of weights per output neuron.
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(x, w)``.

    Examples
    --------
    >>> x = np.ones((2, 3, 2, 2))  # two 3x2x2 volumes
    >>> linear_forward(x, np.full((12, 5), 0.5), np.arange(5.0))[0].shape
    (2, 5)
    """
    x = _array("x", x)
    w = _array("w", w, ndim=2)
    b = _array("b", b, ndim=1)
    if x.ndim < 1:
        raise ValueError("x must have a batch dimension, got a scalar")
    d = int(np.prod(x.shape[1:]))
    if w.shape[0] != d:
        raise ValueError(
            f"w must have shape (D, M) with D = {d} (the size of one example of x, whose "
            f"shape is {x.shape}), got {w.shape}"
        )
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape ({w.shape[1]},), got {b.shape}")
    out = x.reshape(x.shape[0], d) @ w + b
    return out, (x, w)


def linear_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`linear_forward`.

    Returns
    -------
    dx : ndarray, same shape as ``x``
        ``dout @ w.T`` reshaped back to the input's shape.
    dw : ndarray, shape (D, M)
        ``x_flat.T @ dout``.
    db : ndarray, shape (M,)
        ``dout`` summed over the batch.

    Examples
    --------
    >>> out, cache = linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
    >>> [g.shape for g in linear_backward(np.ones((2, 4)), cache)]
    [(2, 3), (3, 4), (4,)]
    """
    x, w = cache
    dout = _array("dout", dout, ndim=2)
    x_flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_flat.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# ---------------------------------------------------------------- batch normalisation


def _bn_axes(x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Axes the statistics run over (all but the channel axis 1) and the broadcast shape."""
    axes = tuple(a for a in range(x.ndim) if a != 1)
    return axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    *,
    training: bool = True,
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, tuple]:
    """Batch normalisation, channel by channel, as ``torch.nn.BatchNorm1d``/``2d``.

    Each channel ``c`` is normalised with a mean ``mu_c`` and a variance ``var_c``, then
    scaled and shifted by two learned parameters::

        out = gamma_c * (x - mu_c) / sqrt(var_c + eps) + beta_c

    In training (``training=True``) ``mu_c`` and ``var_c`` are the mean and the (biased)
    variance of channel ``c`` over the batch and, for images, over every position: the
    axes ``N, H, W`` of an ``(N, C, H, W)`` batch, the axis ``N`` of an ``(N, C)`` one.
    The output of an example then depends on the other examples of the batch. In
    evaluation (``training=False``) they are the running statistics, fixed numbers, so
    each example is normalised on its own.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, H, W) (any (N, C, ...))
        The batch; axis 1 holds the channels (features, for fully connected layers).
    gamma, beta : ndarray, shape (C,)
        Learned scale and shift (PyTorch's ``weight`` and ``bias``; 1 and 0 at the start).
    training : bool, optional
        Batch statistics (and running-statistics update) or running statistics.
    running_mean, running_var : ndarray, shape (C,), optional
        The running statistics. In training, when given, they are **updated in place**
        (as ``torch.nn.functional.batch_norm`` does) with
        ``running = (1 - momentum) * running + momentum * batch_statistic``, the
        variance in its unbiased form (divided by ``m - 1``). Required in evaluation.
    momentum : float, optional
        Weight of the current batch in the running statistics, between 0 and 1.
    eps : float, optional
        Added to the variance so that a constant channel does not divide by zero.

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : tuple
        What :func:`batchnorm_backward` needs: ``(x_hat, gamma, inv_std, training)``.

    Examples
    --------
    In training every channel comes out with mean 0 and variance 1 (for ``gamma = 1``,
    ``beta = 0``), whatever the scale of the input:

    >>> rng = np.random.default_rng(0)
    >>> x = 5 + 3 * rng.standard_normal((64, 2, 4, 4))
    >>> out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(out.mean(axis=(0, 2, 3)), 6) + 0.0, np.round(out.var(axis=(0, 2, 3)), 3)
    (array([0., 0.]), array([1., 1.]))

    The running statistics start at 0 and 1 and move 10 % towards each batch's:

    >>> mean, var = np.zeros(2), np.ones(2)
    >>> _ = batchnorm_forward(x, np.ones(2), np.zeros(2), running_mean=mean, running_var=var)
    >>> np.round(mean, 1)
    array([0.5, 0.5])
    >>> batchnorm_forward(x, np.ones(2), np.zeros(2), training=False)
    Traceback (most recent call last):
    ...
    ValueError: running_mean and running_var are required when training=False (evaluation uses them instead of the batch statistics)
    """
    x = _array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C, ...) with at least 2 axes, got {x.shape}")
    c = x.shape[1]
    gamma = _array("gamma", gamma, ndim=1)
    beta = _array("beta", beta, ndim=1)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (c,):
            raise ValueError(
                f"{name} must have shape ({c},), one value per channel of x (axis 1 of "
                f"shape {x.shape}), got {value.shape}"
            )
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    momentum = check_number("momentum", momentum, minimum=0, maximum=1)
    eps = check_number("eps", eps, minimum=0, low_open=True)
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and (not isinstance(value, np.ndarray) or value.shape != (c,)):
            raise ValueError(
                f"{name} must be a NumPy array of shape ({c},) (it is updated in place), "
                f"got {value!r}"
            )
    axes, shape = _bn_axes(x)
    if training:
        m = x.size // c  # values per channel
        if m < 2:
            raise ValueError(
                f"training needs more than one value per channel to compute a variance, "
                f"got x of shape {x.shape}"
            )
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * m / (m - 1)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "running_mean and running_var are required when training=False "
                "(evaluation uses them instead of the batch statistics)"
            )
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    return out, (x_hat, gamma, inv_std, training)


def batchnorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batchnorm_forward` with respect to ``x``, ``gamma`` and ``beta``.

    ``dgamma`` adds ``dout * x_hat`` and ``dbeta`` adds ``dout`` over every value of the
    channel. In training the mean and the variance depend on ``x`` too, so each input
    receives, besides its own share ``gamma * inv_std * dout``, a correction through
    the batch statistics; with ``g = gamma * dout`` and ``m`` values per channel::

        dx = inv_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat))

    (sums over the channel's values). In evaluation the statistics are constants and
    only the first term remains: ``dx = gamma * inv_std * dout``.

    Returns
    -------
    dx : ndarray, same shape as ``x``
    dgamma, dbeta : ndarray, shape (C,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out, cache = batchnorm_forward(rng.standard_normal((8, 3)), np.ones(3), np.zeros(3))
    >>> dx, dgamma, dbeta = batchnorm_backward(np.ones_like(out), cache)
    >>> np.allclose(dx, 0)  # shifting every output of a channel alike: normalised away
    True
    >>> dbeta
    array([8., 8., 8.])
    """
    x_hat, gamma, inv_std, training = cache
    dout = _array("dout", dout)
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the shape of x, {x_hat.shape}, got {dout.shape}")
    axes, shape = _bn_axes(x_hat)
    dgamma = (dout * x_hat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    g = dout * gamma.reshape(shape)
    if not training:
        return g * inv_std.reshape(shape), dgamma, dbeta
    m = x_hat.size // x_hat.shape[1]
    sum_g = g.sum(axis=axes).reshape(shape)
    sum_gx = (g * x_hat).sum(axis=axes).reshape(shape)
    dx = inv_std.reshape(shape) / m * (m * g - sum_g - x_hat * sum_gx)
    return dx, dgamma, dbeta


# -------------------------------------------------------------- softmax and its loss


def softmax(scores: np.ndarray) -> np.ndarray:
    """Turn raw class scores into probabilities, row by row.

    ``p_k = exp(s_k) / sum_j exp(s_j)``, computed after subtracting each row's maximum
    so that large scores do not overflow.

    Parameters
    ----------
    scores : ndarray, shape (N, K)

    Returns
    -------
    ndarray, shape (N, K)
        Non-negative; each row adds up to 1.

    Examples
    --------
    >>> softmax(np.array([[1.0, 1.0], [1000.0, 0.0]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    scores = _array("scores", scores, ndim=2)
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of the softmax of ``scores`` against the labels ``y``.

    ``loss = -mean_n log p[n, y[n]]`` and its gradient
    ``dscores = (p - onehot(y)) / N``.

    Parameters
    ----------
    scores : ndarray, shape (N, K)
        Raw class scores (the output of the last fully connected layer).
    y : ndarray of int, shape (N,)
        True class of each example, in ``0 .. K-1``.

    Returns
    -------
    loss : float
    dscores : ndarray, shape (N, K)

    Examples
    --------
    >>> loss, dscores = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 6) == round(float(np.log(4)), 6)
    True
    >>> dscores[0]
    array([-0.375,  0.125,  0.125,  0.125])
    """
    scores = _array("scores", scores, ndim=2)
    y = np.asarray(y)
    n, k = scores.shape
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise ValueError(
            f"y must be an integer array of shape ({n},) with one label per row of "
            f"scores, got dtype {y.dtype} and shape {y.shape}"
        )
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"y must hold labels in 0..{k - 1}, got values from {y.min()} to {y.max()}")
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(log_p[np.arange(n), y].mean())
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n
