"""Classic CNN architectures, written to be read next to the papers and the slides.

- :mod:`~cnncourse.models.alexnet`: the paper's AlexNet (the 25-row layer table) and ZFNet;
- :mod:`~cnncourse.models.flops`: multiply-adds and FLOPs of one forward pass.
"""

from cnncourse.models.alexnet import AlexNet, ZFNet, alexnet, paper_lrn, zfnet
from cnncourse.models.flops import count_flops, count_macs

__all__ = [
    "AlexNet",
    "alexnet",
    "ZFNet",
    "zfnet",
    "paper_lrn",
    "count_macs",
    "count_flops",
]
