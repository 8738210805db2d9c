"""The Keras cats-vs-dogs CNN of the lecture notes (section 5.1), in PyTorch.

64x64 RGB input, two convolution + max-pooling stages, a hidden dense layer and one
output unit. Keras' ``Conv2D`` defaults to ``padding='valid'`` and stride 1, and
``MaxPooling2D((2, 2))`` floors odd sizes, so the shapes and the parameters Keras
reports in ``classifier.summary()`` are::

    layer                      output        parameters
    Conv2D 32 3x3, ReLU        62x62x32      (3*3*3 + 1) * 32     =     896
    MaxPooling2D 2x2           31x31x32                                   0
    Conv2D 32 3x3, ReLU        29x29x32      (3*3*32 + 1) * 32    =   9,248
    MaxPooling2D 2x2           14x14x32                                   0
    Flatten                    6272                                       0
    Dense 128, ReLU            128           (6272 + 1) * 128     = 802,944
    Dense 1, sigmoid           1             (128 + 1) * 1        =     129
                                                          total     813,217

The PyTorch module returns the *logit* (the value before the sigmoid): the sigmoid
and the binary cross-entropy are computed together by
``torch.nn.BCEWithLogitsLoss``, which is numerically safer than Keras'
``sigmoid`` + ``binary_crossentropy`` written as two steps. ``torch.sigmoid(logit)``
is the probability of class 1 (``dogs``, the second folder in alphabetical order, as
in ``flow_from_directory``).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = ["KERAS_CATS_DOGS_PARAMS", "CatsDogsCNN", "cats_dogs_cnn"]

#: Parameters per layer as Keras' ``summary()`` reports them for the notes' model.
KERAS_CATS_DOGS_PARAMS: dict[str, int] = {
    "conv2d": 896,
    "conv2d_1": 9248,
    "dense": 802944,
    "dense_1": 129,
}


class CatsDogsCNN(nn.Module):
    """The notes' Keras classifier: ``features`` (two conv + pool stages) and
    ``classifier`` (flatten, dense, ReLU, one logit).

    Parameters
    ----------
    image_size : int, optional
        Height and width of the input (64 in the notes).
    filters : int, optional
        Filters of each convolution (32 in the notes).
    hidden : int, optional
        Units of the hidden dense layer (128 in the notes).

    Examples
    --------
    >>> net = CatsDogsCNN()
    >>> net(torch.zeros(2, 3, 64, 64)).shape  # one logit per image
    torch.Size([2, 1])
    >>> sum(p.numel() for p in net.parameters())
    813217
    """

    def __init__(self, *, image_size: int = 64, filters: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.image_size = check_int("image_size", image_size, minimum=10)
        filters = check_int("filters", filters, minimum=1)
        hidden = check_int("hidden", hidden, minimum=1)
        side = ((self.image_size - 2) // 2 - 2) // 2  # conv 3x3 valid, pool, conv, pool
        self.features = nn.Sequential(
            nn.Conv2d(3, filters, 3),  # Conv2D(32, (3, 3), input_shape=(64, 64, 3))
            nn.ReLU(),  # activation='relu'
            nn.MaxPool2d(2),  # MaxPooling2D(pool_size=(2, 2))
            nn.Conv2d(filters, filters, 3),  # Conv2D(32, (3, 3))
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # Flatten()
            nn.Linear(filters * side * side, hidden),  # Dense(units=128)
            nn.ReLU(),  # activation='relu'
            nn.Linear(hidden, 1),  # Dense(units=1); the sigmoid lives in the loss
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def cats_dogs_cnn(**kwargs: int) -> CatsDogsCNN:
    """The notes' cats-vs-dogs network with PyTorch's default initialisation.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> p = torch.sigmoid(cats_dogs_cnn()(torch.rand(1, 3, 64, 64)))
    >>> 0 < p.item() < 1
    True
    """
    return CatsDogsCNN(**kwargs)
