"""BoNET: bone age from a hand radiograph by regression (lecture notes, sections 5.2-5.3,
after Spampinato et al., 2017).

The architecture is a table, as in the notes: each stage is a convolution (filters,
kernel) followed by ReLU and 2x2 max pooling; then a hidden fully connected layer of
2,048 units and one linear output (the age). The notes give no stride or padding, so
both take the framework defaults (stride 1, no padding, as Keras' ``Conv2D``). On a
220x220 grey input::

    BoNET simple                 output          parameters
    conv 7x7, 96 (frozen)        214x214x96      (7*7*1 + 1) * 96          =         4,800
    max pool 2x2                 107x107x96
    conv 5x5, 1024               103x103x1024    (5*5*96 + 1) * 1024       =     2,458,624
    max pool 2x2                 51x51x1024
    dense 2048                   2048            (51*51*1024 + 1) * 2048   = 5,454,694,400
    dense 1 (linear)             1               2048 + 1                  =         2,049
                                                                  total     5,457,159,873

    BoNET complete               output          parameters
    conv 7x7, 96 (frozen)        214x214x96                                       4,800
    max pool                     107x107x96
    conv 5x5, 2048               103x103x2048                                 4,917,248
    max pool                     51x51x2048
    conv 3x3, 1024               49x49x1024                                  18,875,392
    max pool                     24x24x1024
    conv 3x3, 1024               22x22x1024                                   9,438,208
    max pool                     11x11x1024
    conv 3x3, 1024               9x9x1024                                     9,438,208
    max pool                     4x4x1024
    dense 2048                   2048            (4*4*1024 + 1) * 2048       33,556,480
    dense 1                      1                                                2,049
                                                                  total      76,232,385

Almost all of BoNET simple's parameters sit in the first dense layer: 5.45 billion
weights (about 20 GiB in float32) that two pooling stages leave it to learn. The first
convolution is frozen (``requires_grad=False``), as the notes ask; in the article
that layer comes from OverFeat (Sermanet et al., 2014), which takes RGB input: pass
``in_channels=3`` to reproduce that variant.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = ["BONET_CFGS", "BoNet", "bonet", "bonet_output_side", "bonet_params"]

#: Convolution stages (filters, kernel) of each variant, from the notes.
BONET_CFGS: dict[str, tuple[tuple[int, int], ...]] = {
    "simple": ((96, 7), (1024, 5)),
    "complete": ((96, 7), (2048, 5), (1024, 3), (1024, 3), (1024, 3)),
}


def bonet_output_side(image_size: int, stages: Sequence[tuple[int, int]]) -> int:
    """Side of the last feature maps: each stage is a valid convolution (stride 1)
    then a 2x2 max pooling that floors odd sizes.

    Examples
    --------
    >>> bonet_output_side(220, BONET_CFGS["simple"])
    51
    >>> bonet_output_side(220, BONET_CFGS["complete"])
    4
    """
    side = check_int("image_size", image_size, minimum=1)
    for i, (_, kernel) in enumerate(stages):
        side -= kernel - 1
        if side < 2:
            raise ValueError(
                f"image_size={image_size} is too small for stage {i} (kernel {kernel}): "
                f"the maps would be {side} pixels across before pooling"
            )
        side //= 2
    return side


class BoNet(nn.Module):
    """A BoNET-style regression network built from a stage table.

    Parameters
    ----------
    stages : sequence of (filters, kernel)
        Convolution stages, e.g. ``BONET_CFGS['simple']``; each is conv + ReLU + 2x2
        max pooling.
    image_size : int, optional
        Height and width of the (square) input, 220 in the notes.
    in_channels : int, optional
        1 for a grey radiograph; 3 to take OverFeat-style RGB input.
    hidden : int, optional
        Units of the hidden fully connected layer (2,048 in the notes).
    freeze_first : bool, optional
        Keep the first convolution's weights fixed (``requires_grad=False``).

    Examples
    --------
    A small instance (the real sizes are listed in the module docstring):

    >>> net = BoNet(((8, 7), (16, 5)), image_size=48, hidden=32)
    >>> net(torch.zeros(2, 1, 48, 48)).shape  # one age per image
    torch.Size([2, 1])
    >>> net.features[0].weight.requires_grad
    False
    """

    def __init__(
        self,
        stages: Sequence[tuple[int, int]],
        *,
        image_size: int = 220,
        in_channels: int = 1,
        hidden: int = 2048,
        freeze_first: bool = True,
    ) -> None:
        super().__init__()
        stages = tuple(
            (check_int(f"stages[{i}] filters", f, minimum=1),
             check_int(f"stages[{i}] kernel", k, minimum=1))
            for i, (f, k) in enumerate(stages)
        )
        if not stages:
            raise ValueError("stages must list at least one (filters, kernel) stage")
        self.stages = stages
        self.image_size = check_int("image_size", image_size, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        hidden = check_int("hidden", hidden, minimum=1)
        side = bonet_output_side(self.image_size, stages)
        layers: list[nn.Module] = []
        channels = in_channels
        for filters, kernel in stages:
            layers += [nn.Conv2d(channels, filters, kernel), nn.ReLU(), nn.MaxPool2d(2)]
            channels = filters
        self.features = nn.Sequential(*layers)
        self.regressor = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * side * side, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),  # linear output: the age
        )
        self.freeze_first = bool(freeze_first)
        if self.freeze_first:
            self.features[0].requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.regressor(self.features(x))


def bonet(variant: str = "simple", **kwargs) -> BoNet:
    """BoNET ``'simple'`` or ``'complete'`` as the notes give it (see the module
    docstring for the tables), with the options of :class:`BoNet`.

    Building the 220x220 simple variant allocates its 5.46 billion parameters (about
    20 GiB); count them without building it with :func:`bonet_params`.

    Examples
    --------
    >>> net = bonet("simple", image_size=32, hidden=64)
    >>> sum(p.numel() for p in net.parameters())
    3512129
    >>> bonet("deep")
    Traceback (most recent call last):
    ...
    ValueError: variant must be one of ('simple', 'complete'), got 'deep'
    """
    if variant not in BONET_CFGS:
        raise ValueError(f"variant must be one of {tuple(BONET_CFGS)}, got {variant!r}")
    return BoNet(BONET_CFGS[variant], **kwargs)


def bonet_params(
    variant: str = "simple", *, image_size: int = 220, in_channels: int = 1,
    hidden: int = 2048,
) -> list[tuple[str, int]]:
    """Parameters of each layer of a BoNET variant, counted by formula (nothing is
    allocated): ``[(layer, count), ...]`` in order.

    Examples
    --------
    >>> rows = bonet_params("simple")
    >>> rows[0], rows[-1]
    (('conv1 7x7/96', 4800), ('dense 1', 2049))
    >>> sum(n for _, n in rows)
    5457159873
    """
    if variant not in BONET_CFGS:
        raise ValueError(f"variant must be one of {tuple(BONET_CFGS)}, got {variant!r}")
    stages = BONET_CFGS[variant]
    side = bonet_output_side(image_size, stages)
    rows = []
    channels = check_int("in_channels", in_channels, minimum=1)
    for i, (filters, kernel) in enumerate(stages, start=1):
        rows.append((f"conv{i} {kernel}x{kernel}/{filters}",
                     (kernel * kernel * channels + 1) * filters))
        channels = filters
    hidden = check_int("hidden", hidden, minimum=1)
    rows.append((f"dense {hidden}", (channels * side * side + 1) * hidden))
    rows.append(("dense 1", hidden + 1))
    return rows

