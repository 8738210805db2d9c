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
    batch_norm : bool, optional
        Normalise after each convolution (as ResNet does). False puts biases in the
        convolutions instead, as in the plain two-layer derivation of the notes.
    skip : bool, optional
        False drops the skip connection and leaves a "plain" block ``relu(F(x))`` with
        the same layers, to compare the two.

    Examples
    --------
    >>> block = ResidualBlock(64, 64)
    >>> block.shortcut
    Identity()
    >>> down = ResidualBlock(64, 128, stride=2)
    >>> down(torch.zeros(1, 64, 56, 56)).shape
    torch.Size([1, 128, 28, 28])
    >>> ResidualBlock(8, 8, skip=False).shortcut is None
    True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        batch_norm: bool = True,
        skip: bool = True,
    ):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        stride = check_int("stride", stride, minimum=1)
        for name, flag in (("batch_norm", batch_norm), ("skip", skip)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")

        def norm() -> nn.Module:
            return nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()

        bias = not batch_norm
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)
        self.bn1 = norm()
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
        self.bn2 = norm()
        self.relu2 = nn.ReLU(inplace=True)
        self.shortcut: nn.Module | None
        if not skip:
            self.shortcut = None
        elif stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias), norm()
            )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """``F(x)``: what the block adds to its (possibly projected) input."""
        return self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(F(x) + x)``, or ``relu(F(x))`` without the skip connection."""
        if self.shortcut is None:
            return self.relu2(self.residual(x))
        return self.relu2(self.residual(x) + self.shortcut(x))
