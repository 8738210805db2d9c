"""Cost of one forward pass: multiply-accumulates (MACs) and floating-point operations.

Only convolutions and fully connected layers are counted: they hold almost all of a
CNN's arithmetic. A convolution output element costs ``in_channels / groups * kh * kw``
multiply-adds and a fully connected output ``in_features``. Bias additions,
activations, pooling, normalisation and the additions of skip connections are left
out, as papers usually do. One multiply-add is two floating-point operations, so
``count_flops == 2 * count_macs``; a training step (forward and backward) costs about
three forward passes.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from cnncourse._trace import trace_leaf_calls

__all__ = ["macs_by_layer", "count_macs", "count_flops"]


def _macs_of(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds a single leaf module spent to produce ``output`` (whole batch)."""
    custom = getattr(module, "macs", None)
    if callable(custom):
        return int(custom(output))
    if isinstance(module, nn.modules.conv._ConvNd):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return output.numel() * per_output
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


def macs_by_layer(model: nn.Module, input_shape: Sequence[int]) -> dict[str, int]:
    """Multiply-accumulates of one example, per convolution and fully connected layer.

    Parameters
    ----------
    model : torch.nn.Module
        The model; it may live on the ``meta`` device (nothing is computed then, only
        shapes), which makes big models cheap to count.
    input_shape : sequence of int
        Shape of one example without the batch dimension, e.g. ``(3, 227, 227)``.

    Returns
    -------
    dict of str to int
        Layer name (as in ``model.named_modules()``) to multiply-adds, in call order;
        a layer called twice is counted twice.

    Examples
    --------
    A 3x3 convolution from 1 to 4 channels on an 8x8 image ('same' padding) and a
    fully connected layer from 256 to 10 units:

    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(256, 10))
    >>> macs_by_layer(net, (1, 8, 8))  # 4*8*8 outputs x 9, 10 outputs x 256
    {'0': 2304, '2': 2560}
    """
    counts: dict[str, int] = {}
    for call in trace_leaf_calls(model, input_shape)[1]:
        macs = _macs_of(call.module, call.output)
        if macs:
            counts[call.name] = counts.get(call.name, 0) + macs
    return counts


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass of one example (see :func:`macs_by_layer`).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(256, 10))
    >>> count_macs(net, (1, 8, 8))
    4864
    """
    return sum(macs_by_layer(model, input_shape).values())


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Floating-point operations of one forward pass of one example: ``2 * count_macs``.

    Examples
    --------
    >>> count_flops(nn.Linear(256, 10), (256,))
    5120
    """
    return 2 * count_macs(model, input_shape)
