"""The classifier on top of the features: a fully connected layer, softmax and its loss."""

from __future__ import annotations

import numpy as np

from cnncourse.layers._arrays import _array

__all__ = ["linear_forward", "linear_backward", "softmax", "softmax_cross_entropy"]

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
