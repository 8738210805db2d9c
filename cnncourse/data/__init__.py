"""Datasets and augmentations for the training chapters.

Three kinds of data, from most to least available:

1. **Generated** (:func:`make_shapes`): coloured geometric shapes on textured, noisy
   backgrounds. Seeded, any image size (227x227 included), and every image comes with
   its class, the object's bounding box and its pixel mask, so a later chapter can check
   where an explanation method is looking.
2. **Installed with packages**: real photos from :mod:`skimage.data`
   (:func:`sample_images`) and the 1,797 real 8x8 handwritten digits of scikit-learn
   (:func:`digits_dataset`).
3. **Downloaded** (:func:`imagenette`, :func:`cifar10`, :func:`flowers102`) or on disk
   (:func:`image_folder`): the real torchvision loaders. Without a network they raise a
   ``RuntimeError`` that says where to put the files by hand and which offline dataset
   to use instead.

The case studies add synthetic hand radiographs for bone-age regression
(:func:`make_radiographs`, written in :mod:`cnncourse.radiographs` and available here), and
the cats-vs-dogs data of the Keras example in :mod:`cnncourse.pets`
(``oxford_pets_binary``, ``cats_dogs_folder`` and a drawn offline stand-in,
``make_cartoon_pets``), which builds on the loaders of this module.

The augmentations of the AlexNet paper (random crops, horizontal mirroring and the
PCA colour shift, :class:`PCALighting`) are torchvision ``v2`` transforms; see
:func:`alexnet_transforms`.

One module per kind of data:

- :mod:`~cnncourse.data.memory`: :class:`TensorImageDataset`, :func:`digits_dataset`,
  :func:`sample_images`, :func:`split_dataset`;
- :mod:`~cnncourse.data.generated`: :func:`make_shapes` and its :class:`ShapesDataset`;
- :mod:`~cnncourse.data.glyphs`: :func:`make_glyphs`, printed letters and digits in the
  fonts that install with Matplotlib (many classes of one domain, for transfer learning);
- :mod:`~cnncourse.data.transforms`: ImageNet statistics, :func:`channel_stats`,
  :func:`denormalize`, :class:`PCALighting`, :func:`alexnet_transforms`;
- :mod:`~cnncourse.data.loaders`: :func:`data_root`, :func:`imagenette`,
  :func:`cifar10`, :func:`flowers102`, :func:`image_folder`, :func:`write_image_folder`.
"""

from cnncourse.data.generated import SHAPE_CLASSES, ShapesDataset, make_shapes
from cnncourse.data.glyphs import GLYPH_FONTS, make_glyphs
from cnncourse.data.loaders import (
    cifar10,
    data_root,
    flowers102,
    image_folder,
    imagenette,
    write_image_folder,
)
from cnncourse.data.memory import (
    TensorImageDataset,
    digits_dataset,
    sample_images,
    split_dataset,
)
from cnncourse.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PCALighting,
    alexnet_transforms,
    channel_stats,
    denormalize,
    pca_colour_basis,
)
from cnncourse.radiographs import RadiographDataset, make_radiographs

__all__ = [
    "SHAPE_CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TensorImageDataset",
    "ShapesDataset",
    "make_shapes",
    "GLYPH_FONTS",
    "make_glyphs",
    "digits_dataset",
    "split_dataset",
    "sample_images",
    "channel_stats",
    "denormalize",
    "PCALighting",
    "pca_colour_basis",
    "alexnet_transforms",
    "data_root",
    "imagenette",
    "cifar10",
    "flowers102",
    "image_folder",
    "write_image_folder",
    # from cnncourse.radiographs:
    "make_radiographs",
    "RadiographDataset",
]
