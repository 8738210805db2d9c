"""Grad-CAM (Selvaraju et al., 2017): the class activation map of any CNN at any layer,
its channel weights the spatial means of the gradient of the class score.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from cnncourse.explain.maps import _finish, _targets

__all__ = ["grad_cam", "resolve_layer"]

def resolve_layer(model: nn.Module, layer: nn.Module | str) -> tuple[str, nn.Module]:
    """The ``(name, module)`` that ``layer`` designates in ``model``.

    ``layer`` is a submodule of ``model`` or its name in ``model.named_modules()``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    >>> resolve_layer(net, "1")
    ('1', ReLU())
    >>> resolve_layer(net, net[0])[0]
    '0'
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if isinstance(layer, str):
        if layer not in modules:
            names = [n for n in modules if n]
            shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
            raise ValueError(f"layer {layer!r} is not a module of the model; valid names: {shown}")
        return layer, modules[layer]
    if isinstance(layer, nn.Module):
        for name, module in modules.items():
            if module is layer:
                return name, module
        raise ValueError(
            f"layer {type(layer).__name__} is not a submodule of the model (a copy, or a "
            "module of another model?); pass a module of this model or its name"
        )
    raise TypeError(f"layer must be an nn.Module or its name, got {type(layer).__name__}")


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    layer: nn.Module | str,
    target: Any,
    *,
    relu: bool = False,
    normalize: bool = False,
    call: int | None = None,
) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., 2017) of class ``target`` at ``layer``.

    With ``A`` the layer's output and ``y_k`` the model's score (logit) of class ``k``,
    each channel gets the weight ``alpha_n = mean_{x,y} dy_k / dA_n[x, y]`` and the map
    is ``sum_n alpha_n A_n``. On a network whose head is global average pooling and
    one linear layer, with ``layer`` the pooled activations, ``alpha_n = W[k, n] / (h w)``:
    Grad-CAM is the CAM divided by the number of positions ``h w``.

    The model is used as it is (its mode is not changed; call ``model.eval()`` first:
    in training mode dropout makes the map random and batch normalisation mixes the
    images of a batch). Its parameters get no ``.grad``; parameters with
    ``requires_grad=False`` (a frozen backbone) are fine; so are in-place ReLUs after
    ``layer``. The hook on ``layer`` is removed before returning, also when the forward
    pass raises.

    Parameters
    ----------
    model : torch.nn.Module
        Returns class scores ``(N, K)`` (logits; before any softmax).
    x : torch.Tensor
        ``(N, C, H, W)`` batch or one ``(C, H, W)`` image.
    layer : torch.nn.Module or str
        The layer whose output is explained, or its name in ``model.named_modules()``;
        its output must be ``(N, C', h, w)``.
    target : int or sequence of int
        One class for one image, one class per image for a batch (a wrong number of
        targets is an error).
    relu : bool, optional
        Apply ``max(M, 0)`` as the paper does. Off by default: raw values.
    normalize : bool, optional
        Scale each map to [0, 1] on its own (after ``relu``).
    call : int, optional
        For a module the forward pass runs several times (e.g. one activation module
        reused at several places), which call to explain (0-based, negative from the
        end). ``None`` requires the layer to run exactly once.

    Returns
    -------
    numpy.ndarray
        ``(N, h, w)`` maps, or ``(h, w)`` for a single ``(C, H, W)`` image.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True),
    ...                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    >>> x = torch.randn(2, 3, 5, 5)
    >>> maps = grad_cam(net, x, "1", [0, 1])
    >>> maps.shape
    (2, 5, 5)
    >>> from cnncourse.explain import cam
    >>> with torch.no_grad():
    ...     A = net[1](net[0](x))
    >>> bool(np.allclose(maps * 25, cam(A, net[4].weight, [0, 1]), atol=1e-5))
    True
    """
    name, module = resolve_layer(model, layer)
    _check_input(x, call)
    single = x.dim() == 3
    batch = x[None] if single else x
    if model.training:
        warnings.warn(
            "grad_cam: the model is in training mode; dropout makes the map random and "
            "batch normalisation mixes the images of a batch. Call model.eval() first.",
            stacklevel=2,
        )
    scores, runs = _forward_recording(model, batch, module, name)
    activation = _chosen_run(runs, call, name)
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2 or scores.shape[0] != batch.shape[0]:
        shape = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"model must return (N, K) class scores, got {shape}")
    targets = _targets(target, None if single else batch.shape[0], scores.shape[1])
    maps = _gradient_weighted_sum(scores, activation, targets, name)
    maps = _finish(maps, relu, normalize)
    return maps[0] if single else maps


def _check_input(x: Any, call: Any) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in (3, 4):
        raise ValueError(f"x must be (N, C, H, W) or one (C, H, W) image, got shape {tuple(x.shape)}")
    if call is not None and (isinstance(call, bool) or not isinstance(call, numbers.Integral)):
        raise TypeError(f"call must be an int or None, got {call!r}")


def _forward_recording(model: nn.Module, batch: torch.Tensor, module: nn.Module,
                       name: str) -> tuple[Any, list[torch.Tensor]]:
    """Run ``model`` on ``batch`` (with gradients) and record ``module``'s output at
    every run; returns the model's output and the recorded activations.

    Each recorded activation requires grad (a frozen part of the network gives
    activations without a graph: they become leaves that do), and the rest of the
    network gets a copy, so that an in-place operation after this layer
    (``ReLU(inplace=True)``) cannot overwrite them. The hook is removed before
    returning, also when the forward pass raises.
    """
    runs: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: Any, output: Any) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise ValueError(
                f"layer {name!r} returns {type(output).__name__}, not a tensor: pick a layer "
                "whose output is an (N, C, h, w) activation tensor"
            )
        activation = output if output.requires_grad else output.detach().requires_grad_(True)
        runs.append(activation)
        return activation.clone()

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            scores = model(batch)
    finally:
        handle.remove()
    return scores, runs


def _chosen_run(runs: list[torch.Tensor], call: int | None, name: str) -> torch.Tensor:
    """The activation of run ``call`` of the layer (``None``: its only run), checked to
    be ``(N, C, h, w)``."""
    if not runs:
        raise ValueError(f"layer {name!r} did not run in the forward pass of the model")
    if call is None:
        if len(runs) != 1:
            raise ValueError(
                f"layer {name!r} ran {len(runs)} times in one forward pass (a module "
                "reused at several places); pass call=i to say which run to explain "
                "(call=-1: the last one), or pick a module that runs once"
            )
        call = 0
    elif not -len(runs) <= call < len(runs):
        raise ValueError(f"call={call} but layer {name!r} ran {len(runs)} times")
    activation = runs[call]
    if activation.dim() != 4:
        raise ValueError(
            f"layer {name!r} outputs shape {tuple(activation.shape)}; Grad-CAM needs "
            "(N, C, h, w) activations: pick a convolutional layer"
        )
    return activation


def _gradient_weighted_sum(scores: torch.Tensor, activation: torch.Tensor,
                           targets: np.ndarray, name: str) -> np.ndarray:
    """``sum_n alpha_n A_n`` with ``alpha_n`` the spatial mean of the gradient of each
    image's target score with respect to its activations ``A``: ``(N, h, w)`` float64."""
    index = torch.as_tensor(targets, device=scores.device)
    # Images of a batch are independent (eval mode), so the gradient of the sum of the
    # chosen scores with respect to image i's activations is that of image i's score.
    with torch.enable_grad():  # also when the caller is under torch.no_grad()
        chosen_scores = scores.gather(1, index[:, None]).sum()
        (gradient,) = torch.autograd.grad(chosen_scores, activation, allow_unused=True)
    if gradient is None:
        raise ValueError(f"the model's scores do not depend on layer {name!r}")
    weights = gradient.mean(dim=(2, 3), keepdim=True)  # alpha_n: (N, C', 1, 1)
    return (weights * activation).sum(dim=1).detach().double().cpu().numpy()
