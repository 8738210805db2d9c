"""The ReLU family of activations: ReLU, leaky ReLU, absolute-value rectification, PReLU.

All are ``max(0, z) + alpha * min(0, z)`` for some ``alpha``: 0 (ReLU), a small
constant (leaky ReLU), -1 (absolute value) or a learnt parameter per channel (PReLU).
The leaky ReLU and the absolute rectification are named cases of
:func:`rectifier_forward` / :func:`rectifier_backward`.
"""

from __future__ import annotations

import numpy as np

from cnncourse._validate import check_number
from cnncourse.layers._arrays import _array

__all__ = ["relu_forward", "relu_backward", "rectifier_forward", "rectifier_backward",
           "leaky_relu_forward", "leaky_relu_backward", "abs_rectification_forward",
           "abs_rectification_backward", "prelu_forward", "prelu_backward"]


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
