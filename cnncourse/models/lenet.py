"""LeNet-5 as published (LeCun, Bottou, Bengio and Haffner, 1998).

32x32 grey input; every layer up to F6 is followed by the paper's squashing function
``1.7159 * tanh(2a / 3)``::

    C1  6 maps 28x28, 5x5 filters               (5*5 + 1) * 6          =    156
    S2  6 maps 14x14, 2x2 subsampling           (1 coefficient + 1 bias) * 6 =  12
    C3  16 maps 10x10, 5x5 filters on the S2 maps of the connection table  1,516
    S4  16 maps 5x5, 2x2 subsampling            2 * 16                 =     32
    C5  120 maps 1x1, 5x5 filters on all 16 maps 120 * (16*5*5 + 1)    = 48,120
    F6  84 units                                84 * (120 + 1)         = 10,164
                                                                 total   60,000

A subsampling unit adds its four inputs, multiplies the sum by a trainable coefficient
and adds a trainable bias: average pooling with one learnable scale and bias per map.
The paper's output layer is made of Euclidean radial basis units whose prototypes were
drawn by hand and kept fixed; here it is a fully connected layer (``84 * 10 + 10``
parameters) whose scores go to a softmax cross-entropy loss, as in every modern
version.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse._validate import check_int

__all__ = ["C3_TABLE", "ScaledTanh", "Subsampling", "SparseConv2d", "LeNet5", "lenet5"]

#: Which S2 maps (0-5) each of the 16 C3 maps reads (Table I of the paper): six maps
#: see 3 neighbouring maps, nine see 4, and the last one sees all 6.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """The paper's squashing function ``f(a) = 1.7159 * tanh(2a / 3)``, so that
    ``f(1) = 1`` and ``f(-1) = -1``.

    Examples
    --------
    >>> round(ScaledTanh()(torch.tensor(1.0)).item(), 3)
    1.0
    """

    amplitude = 1.7159
    slope = 2.0 / 3.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


class Subsampling(nn.Module):
    """2x2 average pooling with one trainable coefficient and bias per map.

    Examples
    --------
    >>> s2 = Subsampling(6)
    >>> sum(p.numel() for p in s2.parameters())
    12
    >>> s2(torch.ones(1, 6, 28, 28)).shape
    torch.Size([1, 6, 14, 14])
    """

    def __init__(self, channels: int, *, kernel_size: int = 2):
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.weight = nn.Parameter(torch.ones(self.channels))
        self.bias = nn.Parameter(torch.zeros(self.channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(x, self.kernel_size)  # N x C x H/2 x W/2
        return pooled * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class SparseConv2d(nn.Module):
    """Convolution in which output map ``o`` only reads the input maps ``table[o]``.

    Only the weights of existing connections are stored, so the parameter count is
    ``sum(len(inputs) for inputs in table) * k * k + len(table)``.

    Examples
    --------
    >>> c3 = SparseConv2d(6, C3_TABLE, kernel_size=5)
    >>> sum(p.numel() for p in c3.parameters())
    1516
    >>> c3(torch.zeros(1, 6, 14, 14)).shape
    torch.Size([1, 16, 10, 10])
    """

    def __init__(self, in_channels: int, table: Sequence[Sequence[int]], *, kernel_size: int):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if not table:
            raise ValueError("table must list the input maps of at least one output map")
        for o, inputs in enumerate(table):
            if not inputs or any(
                isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < in_channels
                for i in inputs
            ):
                raise ValueError(
                    f"table[{o}] must be a non-empty sequence of input map indices in "
                    f"[0, {in_channels - 1}], got {inputs!r}"
                )
        self.table = tuple(tuple(inputs) for inputs in table)
        self.out_channels = len(self.table)
        connections = sum(len(inputs) for inputs in self.table)
        k = self.kernel_size
        self.weight = nn.Parameter(torch.empty(connections, k, k))
        self.bias = nn.Parameter(torch.empty(self.out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``+-1/sqrt(fan_in)``, the fan-in of each output map, as PyTorch's
        convolutions do."""
        start = 0
        with torch.no_grad():
            for o, inputs in enumerate(self.table):
                bound = 1.0 / math.sqrt(len(inputs) * self.kernel_size**2)
                self.weight[start : start + len(inputs)].uniform_(-bound, bound)
                self.bias[o].uniform_(-bound, bound)
                start += len(inputs)

    def dense_weight(self) -> torch.Tensor:
        """The equivalent ordinary convolution weight, zero where there is no connection."""
        k = self.kernel_size
        dense = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        start = 0
        for o, inputs in enumerate(self.table):
            dense[o, list(inputs)] = self.weight[start : start + len(inputs)]
            start += len(inputs)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.dense_weight(), self.bias)

    def macs(self, output: torch.Tensor) -> int:
        """Multiply-adds spent on ``output``: one per stored weight and output position."""
        return output[:, 0].numel() * self.weight.numel()

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"connections={self.weight.shape[0]}"
        )


class LeNet5(nn.Module):
    """LeNet-5 for 32x32 grey images. Use :func:`lenet5` to build it."""

    def __init__(self, *, num_classes: int = 10, connection_table: bool = True):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=1)
        if not isinstance(connection_table, bool):
            raise TypeError(f"connection_table must be True or False, got {connection_table!r}")
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.act1 = ScaledTanh()
        self.s2 = Subsampling(6)
        self.act2 = ScaledTanh()
        if connection_table:
            self.c3: nn.Module = SparseConv2d(6, C3_TABLE, kernel_size=5)
        else:
            self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.act3 = ScaledTanh()
        self.s4 = Subsampling(16)
        self.act4 = ScaledTanh()
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.act5 = ScaledTanh()
        self.f6 = nn.Linear(120, 84)
        self.act6 = ScaledTanh()
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of a batch ``(N, 1, 32, 32)`` -> ``(N, num_classes)``."""
        x = self.act2(self.s2(self.act1(self.c1(x))))  # N x 6 x 14 x 14
        x = self.act4(self.s4(self.act3(self.c3(x))))  # N x 16 x 5 x 5
        x = self.act5(self.c5(x))  # N x 120 x 1 x 1
        x = torch.flatten(x, 1)  # N x 120
        return self.output(self.act6(self.f6(x)))


def lenet5(*, num_classes: int = 10, connection_table: bool = True) -> LeNet5:
    """Build LeNet-5 (60,000 parameters up to F6, plus the output layer).

    Parameters
    ----------
    num_classes : int, optional
        Units of the output layer.
    connection_table : bool, optional
        True wires C3 with the paper's sparse table (1,516 parameters); False connects
        every C3 map to all six S2 maps (2,416 parameters).

    Examples
    --------
    >>> from cnncourse.params import module_params
    >>> net = lenet5()
    >>> [module_params(getattr(net, n)) for n in ("c1", "s2", "c3", "s4", "c5", "f6")]
    [156, 12, 1516, 32, 48120, 10164]
    >>> module_params(net) - module_params(net.output)
    60000
    >>> net(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 10])
    """
    return LeNet5(num_classes=num_classes, connection_table=connection_table)
