"""Batch normalisation, forward and backward (for fully connected and convolutional
inputs)."""

from __future__ import annotations

import numpy as np

from cnncourse._validate import check_number
from cnncourse.layers._arrays import _array

__all__ = ["batchnorm_forward", "batchnorm_backward"]


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
