"""VGG (Simonyan and Zisserman, 2014) built from its configuration table.

The table of the paper (and of the slides) is the data; :func:`make_layers` turns one
column of it into layers. Entries use the table's own notation: ``"conv3-64"`` is a 3x3
convolution with 64 filters (stride 1, padding 1, then ReLU), ``"conv1-256"`` a 1x1
convolution (configuration C), ``"LRN"`` local response normalisation (A-LRN) and
``"maxpool"`` a 2x2 max pooling with stride 2. Every configuration ends with
FC-4096, FC-4096 and FC-1000 (``num_classes``) and a soft-max (in the loss).

The module layout (``features``, ``classifier`` and their indices) is torchvision's,
so ``vgg("D")`` has exactly the parameters of ``torchvision.models.vgg16`` and can load
its ``state_dict``.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from cnncourse._validate import check_int
from cnncourse.models.alexnet import _check_dropout, paper_lrn
from cnncourse.shapes import same_padding

__all__ = ["CFGS", "make_layers", "weight_layers", "VGG", "vgg"]


#: The columns A to E of the configuration table.
CFGS: dict[str, list[str]] = {
    "A": [
        "conv3-64", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "A-LRN": [
        "conv3-64", "LRN", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "B": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "C": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv1-256", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
    ],
    "D": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
    ],
    "E": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
    ],
}  # fmt: skip

_CONV = re.compile(r"conv(\d+)-(\d+)")


def _parse_conv(entry: str) -> tuple[int, int] | None:
    """``"conv3-64"`` -> ``(3, 64)``; None for any other entry."""
    match = _CONV.fullmatch(entry)
    return (int(match.group(1)), int(match.group(2))) if match else None


def weight_layers(cfg: list[str]) -> int:
    """Layers with weights: the convolutions of ``cfg`` plus the three FC layers.

    Examples
    --------
    >>> [weight_layers(CFGS[c]) for c in ("A", "A-LRN", "B", "C", "D", "E")]
    [11, 11, 13, 16, 16, 19]
    """
    return sum(_parse_conv(entry) is not None for entry in cfg) + 3


def make_layers(cfg: list[str], *, batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """Turn one column of the configuration table into a stack of layers.

    Parameters
    ----------
    cfg : list of str
        Entries ``"convF-N"``, ``"LRN"`` or ``"maxpool"``, in order.
    batch_norm : bool, optional
        Put a batch normalisation between each convolution and its ReLU (the ``_bn``
        variants of torchvision; not in the paper).
    in_channels : int, optional
        Channels of the input image.

    Examples
    --------
    >>> make_layers(["conv3-8", "conv1-4", "maxpool"], in_channels=1)
    Sequential(
      (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (1): ReLU(inplace=True)
      (2): Conv2d(8, 4, kernel_size=(1, 1), stride=(1, 1))
      (3): ReLU(inplace=True)
      (4): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    )
    """
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    channels = check_int("in_channels", in_channels, minimum=1)
    layers: list[nn.Module] = []
    for i, entry in enumerate(cfg):
        conv = _parse_conv(entry) if isinstance(entry, str) else None
        if conv is not None:
            kernel, filters = conv
            layers.append(nn.Conv2d(channels, filters, kernel, padding=same_padding(kernel)))
            if batch_norm:
                layers.append(nn.BatchNorm2d(filters))
            layers.append(nn.ReLU(inplace=True))
            channels = filters
        elif entry == "maxpool":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif entry == "LRN":
            layers.append(paper_lrn())
        else:
            raise ValueError(
                f"cfg[{i}] = {entry!r} is not a layer of the VGG table; use 'convF-N' "
                "(e.g. 'conv3-64'), 'LRN' or 'maxpool'"
            )
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network for 224x224 RGB images. Use :func:`vgg` to build it."""

    def __init__(
        self,
        features: nn.Sequential,
        *,
        num_classes: int = 1000,
        dropout: float = 0.5,
    ):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=1)
        dropout = _check_dropout(dropout)
        self.features = features
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of a batch ``(N, 3, 224, 224)`` -> ``(N, num_classes)``."""
        x = self.features(x)  # N x 512 x 7 x 7
        x = torch.flatten(x, 1)  # N x 25088
        return self.classifier(x)


def vgg(
    config: str,
    *,
    num_classes: int = 1000,
    batch_norm: bool = False,
    dropout: float = 0.5,
) -> VGG:
    """Build the VGG network of one column of the table.

    Parameters
    ----------
    config : {'A', 'A-LRN', 'B', 'C', 'D', 'E'}
        The column: D is VGG16 and E is VGG19.
    num_classes : int, optional
        Units of the last fully connected layer.
    batch_norm : bool, optional
        Add batch normalisation after every convolution (not in the paper).
    dropout : float, optional
        Dropout probability after the first two fully connected layers.

    Examples
    --------
    >>> import torch
    >>> from cnncourse.params import module_params
    >>> with torch.device("meta"):
    ...     counts = {c: module_params(vgg(c)) for c in CFGS}
    >>> counts
    {'A': 132863336, 'A-LRN': 132863336, 'B': 133047848, 'C': 133638952, 'D': 138357544, 'E': 143667240}
    """
    if config not in CFGS:
        raise ValueError(f"config must be one of {list(CFGS)}, got {config!r}")
    features = make_layers(CFGS[config], batch_norm=batch_norm)
    return VGG(features, num_classes=num_classes, dropout=dropout)
