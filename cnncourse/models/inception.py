"""The Inception module of GoogLeNet (Szegedy et al., 2015): naive and with 1x1 bottlenecks.

Four branches look at the same input and their outputs are stacked along the channels:
a 1x1 convolution, a 3x3 convolution, a 5x5 convolution and a 3x3 max pooling (stride 1,
so every branch keeps the spatial size). In the naive module the 3x3 and 5x5
convolutions see every input channel and the pooling branch passes all of them on, so
the depth (and the cost of the next module) only grows. The bottleneck module puts a
cheap 1x1 convolution before the 3x3 and 5x5 ones, and after the pooling, to reduce
the depth first.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = ["InceptionBlock"]


def _conv_relu(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=(kernel - 1) // 2),
        nn.ReLU(inplace=True),
    )


class InceptionBlock(nn.Module):
    """An Inception module; naive unless the three reductions are given.

    Parameters
    ----------
    in_channels : int
        Depth of the input.
    out_1x1, out_3x3, out_5x5 : int
        Filters of the 1x1, 3x3 and 5x5 branches.
    reduce_3x3, reduce_5x5 : int, optional
        Filters of the 1x1 convolutions before the 3x3 and 5x5 ones.
    pool_proj : int, optional
        Filters of the 1x1 convolution after the max pooling.

    Examples
    --------
    The example of the slides: a 28x28x256 input with 128, 192 and 96 filters. The
    naive module stacks 128 + 192 + 96 + 256 = 672 maps; with 64-filter bottlenecks it
    gives 128 + 192 + 96 + 64 = 480.

    >>> naive = InceptionBlock(256, out_1x1=128, out_3x3=192, out_5x5=96)
    >>> naive(torch.zeros(1, 256, 28, 28)).shape
    torch.Size([1, 672, 28, 28])
    >>> block = InceptionBlock(256, out_1x1=128, out_3x3=192, out_5x5=96,
    ...                        reduce_3x3=64, reduce_5x5=64, pool_proj=64)
    >>> block.out_channels
    480
    """

    def __init__(
        self,
        in_channels: int,
        *,
        out_1x1: int,
        out_3x3: int,
        out_5x5: int,
        reduce_3x3: int | None = None,
        reduce_5x5: int | None = None,
        pool_proj: int | None = None,
    ):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_1x1 = check_int("out_1x1", out_1x1, minimum=1)
        out_3x3 = check_int("out_3x3", out_3x3, minimum=1)
        out_5x5 = check_int("out_5x5", out_5x5, minimum=1)
        reductions = {"reduce_3x3": reduce_3x3, "reduce_5x5": reduce_5x5, "pool_proj": pool_proj}
        given = [name for name, value in reductions.items() if value is not None]
        if given and len(given) != 3:
            raise ValueError(
                f"give all of reduce_3x3, reduce_5x5 and pool_proj (bottleneck module) or "
                f"none of them (naive module); got only {', '.join(given)}"
            )
        self.bottleneck = bool(given)
        self.branch1 = _conv_relu(in_channels, out_1x1, 1)
        if self.bottleneck:
            r3 = check_int("reduce_3x3", reduce_3x3, minimum=1)
            r5 = check_int("reduce_5x5", reduce_5x5, minimum=1)
            proj = check_int("pool_proj", pool_proj, minimum=1)
            self.branch3 = nn.Sequential(_conv_relu(in_channels, r3, 1), _conv_relu(r3, out_3x3, 3))
            self.branch5 = nn.Sequential(_conv_relu(in_channels, r5, 1), _conv_relu(r5, out_5x5, 5))
            self.branch_pool = nn.Sequential(
                nn.MaxPool2d(3, stride=1, padding=1), _conv_relu(in_channels, proj, 1)
            )
            pool_out = proj
        else:
            self.branch3 = _conv_relu(in_channels, out_3x3, 3)
            self.branch5 = _conv_relu(in_channels, out_5x5, 5)
            self.branch_pool = nn.MaxPool2d(3, stride=1, padding=1)
            pool_out = in_channels
        self.out_channels = out_1x1 + out_3x3 + out_5x5 + pool_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)``."""
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], dim=1)
