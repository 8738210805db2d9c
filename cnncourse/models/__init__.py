"""Classic CNN architectures, written to be read next to the papers and the slides.

- :mod:`~cnncourse.models.lenet`: LeNet-5 as published (scaled tanh, trainable
  subsampling, C3's connection table);
- :mod:`~cnncourse.models.alexnet`: the paper's AlexNet (the 25-row layer table) and ZFNet;
- :mod:`~cnncourse.models.vgg`: VGG configurations A to E built from the table;
- :mod:`~cnncourse.models.inception`, :mod:`~cnncourse.models.residual`,
  :mod:`~cnncourse.models.dense`: the building blocks of GoogLeNet, ResNet and DenseNet;
- :mod:`~cnncourse.models.flops`: multiply-adds and FLOPs of one forward pass;
- :mod:`~cnncourse.models.catsdogs`, :mod:`~cnncourse.models.bonet`: the case studies
  (the notes' Keras cats-vs-dogs CNN and BoNET, bone age by regression);
- :mod:`~cnncourse.models.init`: weight initialisation (Kaiming, Xavier, the paper's
  normal).
"""

from cnncourse.models.alexnet import AlexNet, ZFNet, alexnet, paper_lrn, zfnet
from cnncourse.models.bonet import BONET_CFGS, BoNet, bonet, bonet_params
from cnncourse.models.catsdogs import CatsDogsCNN, cats_dogs_cnn
from cnncourse.models.dense import DenseBlock, DenseLayer, Transition
from cnncourse.models.flops import count_flops, count_macs, macs_by_layer
from cnncourse.models.inception import InceptionBlock
from cnncourse.models.init import INIT_SCHEMES, init_weights
from cnncourse.models.lenet import C3_TABLE, LeNet5, lenet5
from cnncourse.models.residual import ResidualBlock
from cnncourse.models.vgg import CFGS, VGG, make_layers, vgg, weight_layers

__all__ = [
    "LeNet5",
    "lenet5",
    "C3_TABLE",
    "AlexNet",
    "alexnet",
    "ZFNet",
    "zfnet",
    "paper_lrn",
    "CFGS",
    "VGG",
    "make_layers",
    "vgg",
    "weight_layers",
    "InceptionBlock",
    "ResidualBlock",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "macs_by_layer",
    "count_macs",
    "count_flops",
    "CatsDogsCNN",
    "cats_dogs_cnn",
    "BONET_CFGS",
    "BoNet",
    "bonet",
    "bonet_params",
    "INIT_SCHEMES",
    "init_weights",
]
