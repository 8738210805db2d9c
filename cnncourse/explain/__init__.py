"""Where a CNN looks: class activation maps, Grad-CAM, and checks of both.

- :func:`cam`: the Class Activation Map of Zhou et al. (2016) exactly as the course
  notes write it, ``M_k[x, y] = sum_n W[k, n] A_n[x, y]``, from the last convolutional
  activations ``A`` and the weights ``W`` of the linear layer that follows global
  average pooling;
- :func:`grad_cam`: Grad-CAM (Selvaraju et al., 2017), the generalisation to any CNN
  and any layer: the channel weights are the spatial means of the gradient of the class
  score with respect to that layer's activations;
- :func:`pointing_game` and :func:`threshold_iou`: how well a map agrees with where the
  object really is;
- :func:`randomization_test`: the sanity check of Adebayo et al. (2018): re-initialise
  the model from the output down, one block at a time, and measure how much the
  explanation changes.

Maps are NumPy arrays (they are images, to be plotted and scored); upsampling to the
input's size and the blue-to-red overlay live in :mod:`cnncourse.plot`
(:func:`~cnncourse.plot.upsample`, :func:`~cnncourse.plot.heatmap_overlay`).
Nothing here rectifies or normalises a map unless asked (``relu=True``,
``normalize=True``): raw values keep the sign and the magnitude.

One module per method:

- :mod:`~cnncourse.explain.maps`: :func:`cam` and :func:`normalize_maps`;
- :mod:`~cnncourse.explain.gradcam`: :func:`grad_cam` and :func:`resolve_layer`;
- :mod:`~cnncourse.explain.localisation`: :func:`pointing_game`, :func:`threshold_iou`;
- :mod:`~cnncourse.explain.sanity`: :func:`randomization_test`, :class:`SanityResult`.
"""

from cnncourse.explain.gradcam import grad_cam, resolve_layer
from cnncourse.explain.localisation import pointing_game, threshold_iou
from cnncourse.explain.maps import cam, normalize_maps
from cnncourse.explain.sanity import SanityResult, randomization_test

__all__ = [
    "cam",
    "grad_cam",
    "normalize_maps",
    "resolve_layer",
    "pointing_game",
    "threshold_iou",
    "SanityResult",
    "randomization_test",
]

