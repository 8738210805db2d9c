"""AlexNet as in the paper (Krizhevsky, Sutskever and Hinton, 2012), and ZFNet.

:class:`AlexNet` reads like the 25-row layer table of the pretrained network (rows 2-23;
row 1 is the input, rows 24-25, softmax and classification output, live in the loss
and in ``argmax``)::

     1 data    227x227x3 image
     2 conv1   96 11x11x3, stride 4, padding 0      -> 55x55x96
     3 relu1
     4 norm1   cross-channel normalisation, 5 channels
     5 pool1   3x3 max, stride 2                     -> 27x27x96
     6 conv2   256 5x5x48, padding 2 (two groups)    -> 27x27x256
     7 relu2
     8 norm2
     9 pool2   3x3 max, stride 2                     -> 13x13x256
    10 conv3   384 3x3x256, padding 1                -> 13x13x384
    11 relu3
    12 conv4   384 3x3x192, padding 1 (two groups)   -> 13x13x384
    13 relu4
    14 conv5   256 3x3x192, padding 1 (two groups)   -> 13x13x256
    15 relu5
    16 pool5   3x3 max, stride 2                     -> 6x6x256
    17 fc6     4096            18 relu6   19 drop6 (50%)
    20 fc7     4096            21 relu7   22 drop7 (50%)
    23 fc8     1000 (num_classes)

The depths 48 and 192 in that table are the two-GPU split of the paper: conv2, conv4
and conv5 only see the half of the previous layer's maps that lives on their GPU,
which is ``groups=2`` in PyTorch. ``groups=1`` gives the single-device network whose
weights the lecture slides count (96 and 384 input channels).

:class:`ZFNet` (Zeiler and Fergus, 2014) is the same design with a smaller, denser
first layer (7x7 filters at stride 2 instead of 11x11 at stride 4), stride 2 in conv2
and no groups.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from cnncourse._validate import check_int, check_number

__all__ = ["paper_lrn", "AlexNet", "alexnet", "ZFNet", "zfnet"]

Init = Literal["pytorch", "paper"]


def paper_lrn() -> nn.LocalResponseNorm:
    """Local response normalisation with the AlexNet paper's constants.

    The paper divides each activation by ``(k + alpha * sum of squares over n
    neighbouring channels) ** beta`` with ``k = 2``, ``n = 5``, ``alpha = 1e-4``,
    ``beta = 0.75``. PyTorch's :class:`torch.nn.LocalResponseNorm` divides ``alpha`` by
    ``n`` before using it (as Caffe does), so the paper's formula needs
    ``alpha = 5 * 1e-4`` here. It has no learnable parameters: it is not batch
    normalisation.

    Examples
    --------
    >>> lrn = paper_lrn()
    >>> lrn.size, lrn.alpha, lrn.beta, lrn.k
    (5, 0.0005, 0.75, 2.0)
    """
    n, alpha, beta, k = 5, 1e-4, 0.75, 2.0
    return nn.LocalResponseNorm(size=n, alpha=alpha * n, beta=beta, k=k)


def _check_dropout(dropout: float) -> float:
    return check_number("dropout", dropout, minimum=0, maximum=1, high_open=True,
                        hint="the probability of zeroing a unit")


def _check_init(init: str) -> str:
    if init not in ("pytorch", "paper"):
        raise ValueError(
            f"init must be 'pytorch' (the layers' default initialisation) or 'paper' "
            f"(N(0, 0.01) weights, biases 1 where the paper puts them), got {init!r}"
        )
    return init


class _ClassifierHead(nn.Module):
    """Rows 17-23 of the table, the same in AlexNet and ZFNet: two fully connected
    layers of 4096 units with ReLU and dropout, then the class scores ``fc8``.

    The layers are attributes of the network itself (``net.fc6``, ...), one per table
    row, as the convolutions are.
    """

    def _add_classifier(self, num_classes: int, dropout: float) -> None:
        self.fc6 = nn.Linear(256 * 6 * 6, 4096)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout(dropout)
        self.fc7 = nn.Linear(4096, 4096)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout(dropout)
        self.fc8 = nn.Linear(4096, num_classes)

    def _classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores from the last pooled maps ``(N, 256, 6, 6)``."""
        x = torch.flatten(x, 1)  # N x 9216
        x = self.drop6(self.relu6(self.fc6(x)))
        x = self.drop7(self.relu7(self.fc7(x)))
        return self.fc8(x)


class AlexNet(_ClassifierHead):
    """The paper's AlexNet for 227x227 RGB images, one named submodule per table row.

    Use :func:`alexnet` to build it.
    """

    def __init__(self, *, num_classes: int = 1000, dropout: float = 0.5, groups: int = 2):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=1)
        dropout = _check_dropout(dropout)
        groups = check_int("groups", groups, minimum=1)
        if groups not in (1, 2):
            raise ValueError(
                f"groups must be 2 (the paper's two GPUs) or 1 (one device), got {groups}"
            )
        self.conv1 = nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=0)
        self.relu1 = nn.ReLU(inplace=True)
        self.norm1 = paper_lrn()
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups)
        self.relu2 = nn.ReLU(inplace=True)
        self.norm2 = paper_lrn()
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups)
        self.relu4 = nn.ReLU(inplace=True)
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups)
        self.relu5 = nn.ReLU(inplace=True)
        self.pool5 = nn.MaxPool2d(kernel_size=3, stride=2)
        self._add_classifier(num_classes, dropout)  # fc6 ... fc8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of a batch ``(N, 3, 227, 227)`` -> ``(N, num_classes)``."""
        x = self.pool1(self.norm1(self.relu1(self.conv1(x))))  # N x 96 x 27 x 27
        x = self.pool2(self.norm2(self.relu2(self.conv2(x))))  # N x 256 x 13 x 13
        x = self.relu3(self.conv3(x))  # N x 384 x 13 x 13
        x = self.relu4(self.conv4(x))  # N x 384 x 13 x 13
        x = self.pool5(self.relu5(self.conv5(x)))  # N x 256 x 6 x 6
        return self._classify(x)


def _paper_init(model: nn.Module, ones: tuple[str, ...]) -> None:
    """Weights from N(0, 0.01); biases 1 in the layers named in ``ones``, else 0."""
    for name, module in model.named_children():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(module.weight, mean=0.0, std=0.01)
            nn.init.constant_(module.bias, 1.0 if name in ones else 0.0)


def alexnet(
    *,
    num_classes: int = 1000,
    dropout: float = 0.5,
    groups: int = 2,
    init: Init = "pytorch",
) -> AlexNet:
    """Build the paper's AlexNet (about 61 million parameters).

    Parameters
    ----------
    num_classes : int, optional
        Units of ``fc8``, the class scores.
    dropout : float, optional
        Probability of zeroing a unit in ``drop6`` and ``drop7`` while training.
    groups : {2, 1}, optional
        2 splits conv2, conv4 and conv5 into two halves as on the paper's two GPUs
        (the 48 and 192 depths of the layer table); 1 connects every channel.
    init : {'pytorch', 'paper'}, optional
        'pytorch' keeps PyTorch's default initialisation of each layer; 'paper' draws
        weights from N(0, 0.01) and sets the biases of conv2, conv4, conv5, fc6 and
        fc7 to 1 (0 elsewhere), as in section 5 of the paper.

    Returns
    -------
    AlexNet
        Expects ``(N, 3, 227, 227)`` inputs and returns logits ``(N, num_classes)``.

    Examples
    --------
    >>> import torch
    >>> from cnncourse.params import module_params
    >>> with torch.device("meta"):
    ...     net = alexnet()
    >>> module_params(net)
    60965224
    >>> module_params(net.conv2), module_params(alexnet(groups=1).conv2)
    (307456, 614656)
    >>> net(torch.empty(2, 3, 227, 227, device="meta")).shape
    torch.Size([2, 1000])
    """
    init = _check_init(init)
    model = AlexNet(num_classes=num_classes, dropout=dropout, groups=groups)
    if init == "paper":
        _paper_init(model, ones=("conv2", "conv4", "conv5", "fc6", "fc7"))
    return model


class ZFNet(_ClassifierHead):
    """ZFNet (Zeiler and Fergus, 2014) for 224x224 RGB images. Use :func:`zfnet`.

    Sizes follow the paper's figure: 224 -> 110 (conv1, 7x7 stride 2, padding 1,
    rounded down) -> 55 (pool1, rounded up as in Caffe) -> 26 (conv2, 5x5 stride 2)
    -> 13 (pool2) -> 13 (conv3-5) -> 6 (pool5).
    """

    def __init__(self, *, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=1)
        dropout = _check_dropout(dropout)
        self.conv1 = nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1)
        self.relu1 = nn.ReLU(inplace=True)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.norm1 = paper_lrn()
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, stride=2)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.norm2 = paper_lrn()
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1)
        self.relu4 = nn.ReLU(inplace=True)
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1)
        self.relu5 = nn.ReLU(inplace=True)
        self.pool5 = nn.MaxPool2d(kernel_size=3, stride=2)
        self._add_classifier(num_classes, dropout)  # fc6 ... fc8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of a batch ``(N, 3, 224, 224)`` -> ``(N, num_classes)``."""
        x = self.norm1(self.pool1(self.relu1(self.conv1(x))))  # N x 96 x 55 x 55
        x = self.norm2(self.pool2(self.relu2(self.conv2(x))))  # N x 256 x 13 x 13
        x = self.relu3(self.conv3(x))  # N x 384 x 13 x 13
        x = self.relu4(self.conv4(x))  # N x 384 x 13 x 13
        x = self.pool5(self.relu5(self.conv5(x)))  # N x 256 x 6 x 6
        return self._classify(x)


def zfnet(*, num_classes: int = 1000, dropout: float = 0.5) -> ZFNet:
    """Build ZFNet: AlexNet with 7x7 stride-2 first filters and dense connections.

    Examples
    --------
    >>> import torch
    >>> with torch.device("meta"):
    ...     net = zfnet()
    >>> net.conv1
    Conv2d(3, 96, kernel_size=(7, 7), stride=(2, 2), padding=(1, 1))
    >>> net(torch.empty(1, 3, 224, 224, device="meta")).shape
    torch.Size([1, 1000])
    """
    return ZFNet(num_classes=num_classes, dropout=dropout)
