"""Weight initialisation: the scale a network's weights start from.

Initialising is always the caller's explicit choice: :func:`cnncourse.train.fit` never
re-draws a model's weights.
"""

from __future__ import annotations

from torch import nn

from cnncourse._validate import check_choice, check_number

__all__ = ["INIT_SCHEMES", "init_weights"]

INIT_SCHEMES = ("kaiming", "xavier", "normal")


def init_weights(
    model: nn.Module,
    scheme: str = "kaiming",
    *,
    std: float = 0.01,
    last_std: float | None = None,
) -> nn.Module:
    """Re-draw the weights of every convolution and fully connected layer; biases to 0.

    - ``'kaiming'`` (He et al., 2015): ``N(0, 2 / fan_in)``, which keeps the variance
      of the activations from layer to layer in a ReLU network;
    - ``'xavier'`` (Glorot and Bengio, 2010): ``N(0, 2 / (fan_in + fan_out))``, made
      for tanh and sigmoid;
    - ``'normal'``: ``N(0, std**2)`` for every layer, as in the AlexNet paper (``std``
      0.01), whatever its size.

    ``last_std`` draws the last fully connected layer (the class scores) from
    ``N(0, last_std**2)`` instead (0: all zeros): small scores at the start make every
    class about equally likely, so training does not begin by undoing a confident
    random guess.

    Parameters
    ----------
    model : torch.nn.Module
        Modified in place.
    scheme : {'kaiming', 'xavier', 'normal'}
    std : float
        Standard deviation of the ``'normal'`` scheme (> 0).
    last_std : float or None
        Standard deviation of the last linear layer (>= 0), or ``None`` to draw it like
        the others.

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> layer = init_weights(nn.Sequential(nn.Linear(1000, 1000)), "kaiming")[0]
    >>> round(float(layer.weight.detach().std()) ** 2 * 1000, 1)  # variance x fan_in
    2.0
    """
    check_choice("scheme", scheme, INIT_SCHEMES)
    check_number("std", std, minimum=0, low_open=True)
    if last_std is not None:
        check_number("last_std", last_std, minimum=0)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            _draw(module.weight, scheme, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if last_std is not None and linears:
        if last_std == 0:
            nn.init.zeros_(linears[-1].weight)
        else:
            nn.init.normal_(linears[-1].weight, mean=0.0, std=last_std)
    return model


def _draw(weight: nn.Parameter, scheme: str, std: float) -> None:
    if scheme == "kaiming":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif scheme == "xavier":
        nn.init.xavier_normal_(weight)
    else:
        nn.init.normal_(weight, mean=0.0, std=std)
