"""The layers of a CNN in NumPy, each as a forward/backward pair.

Every layer is two functions that sit next to each other:

* ``*_forward(inputs..., *, options) -> (out, cache)`` computes the output and keeps in
  ``cache`` what the backward pass will need;
* ``*_backward(dout, cache) -> grads`` takes the gradient of the loss with respect to
  ``out`` and returns the gradients with respect to each input of the forward
  function, in the same order (``conv_backward`` returns ``(dx, dw, db)`` for
  ``conv_forward(x, w, b)``).

Images travel in batches shaped ``(N, C, H, W)``: ``N`` examples, ``C`` channels,
height ``H`` and width ``W``, as in PyTorch. Filters are ``(F, C, HH, WW)``. The
convolution is, as in every deep-learning framework, a cross-correlation (the filter is
not flipped).

The layers work in the dtype they are given (integer inputs become ``float64``); the
gradient checks of :mod:`cnncourse.gradcheck` need ``float64``.

One module per kind of layer:

- :mod:`~cnncourse.layers.conv`: convolution, max- and average-pooling;
- :mod:`~cnncourse.layers.activations`: ReLU, leaky ReLU, absolute rectification, PReLU;
- :mod:`~cnncourse.layers.classifier`: fully connected layer, softmax, cross-entropy;
- :mod:`~cnncourse.layers.batchnorm`: batch normalisation.

Examples
--------
A convolution, a ReLU and a max-pooling, forward and backward:

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((2, 3, 8, 8))
>>> w, b = rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
>>> a, conv_cache = conv_forward(x, w, b, padding=1)
>>> r, relu_cache = relu_forward(a)
>>> p, pool_cache = max_pool_forward(r, kernel=2)
>>> p.shape
(2, 4, 4, 4)
>>> dx, dw, db = conv_backward(relu_backward(max_pool_backward(np.ones_like(p), pool_cache),
...                                          relu_cache), conv_cache)
>>> dx.shape, dw.shape, db.shape
((2, 3, 8, 8), (4, 3, 3, 3), (4,))
"""

from cnncourse.layers.activations import (
    abs_rectification_backward,
    abs_rectification_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    prelu_backward,
    prelu_forward,
    rectifier_backward,
    rectifier_forward,
    relu_backward,
    relu_forward,
)
from cnncourse.layers.batchnorm import batchnorm_backward, batchnorm_forward
from cnncourse.layers.classifier import (
    linear_backward,
    linear_forward,
    softmax,
    softmax_cross_entropy,
)
from cnncourse.layers.conv import (
    avg_pool_backward,
    avg_pool_forward,
    conv_backward,
    conv_forward,
    max_pool_backward,
    max_pool_forward,
)

__all__ = [
    "conv_forward",
    "conv_backward",
    "relu_forward",
    "relu_backward",
    "rectifier_forward",
    "rectifier_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "abs_rectification_forward",
    "abs_rectification_backward",
    "prelu_forward",
    "prelu_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "linear_forward",
    "linear_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "softmax",
    "softmax_cross_entropy",
]

