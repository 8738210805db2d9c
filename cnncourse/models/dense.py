"""Dense blocks and transitions of DenseNet (Huang et al., 2017).

Inside a dense block every layer receives the feature maps of all earlier layers,
stacked along the channels, and adds ``growth_rate`` (``k``) new maps: after ``L``
layers the block outputs ``in_channels + L * k`` maps. Between blocks a transition
layer compresses the depth by a factor ``theta`` (1x1 convolution) and halves the
spatial size (2x2 average pooling).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from cnncourse._validate import check_int, check_number

__all__ = ["DenseLayer", "DenseBlock", "Transition"]


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1(``bn_size * k``)-BN-ReLU-Conv3x3(``k``), output stacked on the input.

    With ``bottleneck=False`` only the BN-ReLU-Conv3x3 part is used (plain DenseNet
    instead of DenseNet-B).

    Examples
    --------
    >>> layer = DenseLayer(64, growth_rate=32)
    >>> layer(torch.zeros(1, 64, 8, 8)).shape
    torch.Size([1, 96, 8, 8])
    """

    def __init__(
        self, in_channels: int, *, growth_rate: int, bottleneck: bool = True, bn_size: int = 4
    ):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        growth_rate = check_int("growth_rate", growth_rate, minimum=1)
        bn_size = check_int("bn_size", bn_size, minimum=1)
        if not isinstance(bottleneck, bool):
            raise TypeError(f"bottleneck must be True or False, got {bottleneck!r}")
        layers: list[nn.Module] = []
        channels = in_channels
        if bottleneck:
            width = bn_size * growth_rate
            layers += [
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(channels, width, 1, bias=False),
            ]
            channels = width
        layers += [
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, growth_rate, 3, padding=1, bias=False),
        ]
        self.layers = nn.Sequential(*layers)
        self.out_channels = in_channels + growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` -> ``(N, C + growth_rate, H, W)``: old maps, then new ones."""
        return torch.cat([x, self.layers(x)], dim=1)


class DenseBlock(nn.Sequential):
    """``num_layers`` dense layers; layer ``i`` sees ``in_channels + i * growth_rate`` maps.

    Examples
    --------
    DenseNet-121's first block: 64 maps in, 6 layers with k = 32.

    >>> block = DenseBlock(64, num_layers=6, growth_rate=32)
    >>> block.out_channels
    256
    >>> block(torch.zeros(1, 64, 8, 8)).shape
    torch.Size([1, 256, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        *,
        num_layers: int,
        growth_rate: int,
        bottleneck: bool = True,
        bn_size: int = 4,
    ):
        in_channels = check_int("in_channels", in_channels, minimum=1)
        num_layers = check_int("num_layers", num_layers, minimum=1)
        growth_rate = check_int("growth_rate", growth_rate, minimum=1)
        super().__init__(
            *(
                DenseLayer(
                    in_channels + i * growth_rate,
                    growth_rate=growth_rate,
                    bottleneck=bottleneck,
                    bn_size=bn_size,
                )
                for i in range(num_layers)
            )
        )
        self.out_channels = in_channels + num_layers * growth_rate


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 to ``floor(theta * in_channels)`` maps, then 2x2 average pooling.

    Examples
    --------
    >>> t = Transition(256, theta=0.5)
    >>> t.out_channels
    128
    >>> t(torch.zeros(1, 256, 56, 56)).shape
    torch.Size([1, 128, 28, 28])
    """

    def __init__(self, in_channels: int, *, theta: float = 0.5):
        in_channels = check_int("in_channels", in_channels, minimum=1)
        theta = check_number("theta", theta, minimum=0, maximum=1, low_open=True,
                             hint="1 keeps every map, 0.5 halves them")
        out_channels = math.floor(theta * in_channels)
        if out_channels < 1:
            raise ValueError(
                f"theta={theta} leaves no maps out of in_channels={in_channels}; use a "
                "larger theta"
            )
        super().__init__(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.AvgPool2d(2, stride=2),
        )
        self.out_channels = out_channels
