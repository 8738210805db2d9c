"""The residual block of ResNet (He et al., 2016): ``H(x) = F(x) + x``.

The block's layers learn only the residual ``F(x) = H(x) - x``; the input skips over
them and is added back before the last ReLU. When the block changes the depth or the
spatial size, the skip path gets a 1x1 convolution with the same stride (a
"projection shortcut") so that the two can be added.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = ["ResidualBlock"]


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch normalisation and a skip connection.

    The same layers and parameter count as torchvision's ``BasicBlock`` (ResNet-18/34).

    Parameters
    ----------
    in_channels, out_channels : int
        Depth of the input and of the output.
    stride : int, optional
        Stride of the first convolution (2 halves the spatial size).

    Examples
    --------
    >>> block = ResidualBlock(64, 64)
    >>> block.shortcut
    Identity()
    >>> down = ResidualBlock(64, 128, stride=2)
    >>> down(torch.zeros(1, 64, 56, 56)).shape
    torch.Size([1, 128, 28, 28])
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        stride = check_int("stride", stride, minimum=1)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU(inplace=True)
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """``F(x)``: what the block adds to its (possibly projected) input."""
        return self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(F(x) + x)``."""
        return self.relu2(self.residual(x) + self.shortcut(x))
