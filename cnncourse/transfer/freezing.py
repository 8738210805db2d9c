"""Which weights learn: frozen backbones, batch-norm statistics, learning-rate groups.

:func:`freeze_backbone` stops everything but the head from learning (strategy 1, the
network as a fixed feature extractor), optionally from a given block on (fine-tuning
the top layers); frozen batch-normalisation layers keep their running statistics.
:func:`unfreeze` undoes it (strategy 2, fine-tuning everything), and
:func:`param_groups` gives the backbone and the head different learning rates.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch  # noqa: F401 (the examples use it)
from torch import nn

from cnncourse._validate import check_module
from cnncourse.transfer.heads import head_name

__all__ = ["freeze_backbone", "unfreeze", "frozen_batchnorms", "param_groups"]

_FROZEN = "_cnncourse_frozen_bn"  # flag on a batch-norm module: keep it in eval mode
_HOOKED = "_cnncourse_frozen_bn_hook"  # the pre-forward hook is already registered


def _keep_eval(module: nn.Module, _inputs: Any) -> None:
    """Pre-forward hook: a frozen batch-norm layer always normalises with its running
    statistics and never updates them, whatever ``model.train()`` said."""
    if getattr(module, _FROZEN, False) and module.training:
        module.train(False)


def _set_bn_frozen(module: nn.Module, frozen: bool) -> None:
    if frozen and not getattr(module, _HOOKED, False):
        module.register_forward_pre_hook(_keep_eval)
        object.__setattr__(module, _HOOKED, True)
    object.__setattr__(module, _FROZEN, frozen)
    if frozen:
        module.train(False)


def frozen_batchnorms(model: nn.Module) -> list[str]:
    """Names of the batch-normalisation layers that :func:`freeze_backbone` froze.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
    ...                     nn.LazyLinear(3))
    >>> _ = net(torch.zeros(1, 1, 5, 5))
    >>> frozen_batchnorms(freeze_backbone(net, head="3"))
    ['1']
    """
    model = check_module("model", model)
    return [n for n, m in model.named_modules() if getattr(m, _FROZEN, False)]


def freeze_backbone(
    model: nn.Module, *, unfreeze_from: str | None = None, head: str | None = None
) -> nn.Module:
    """Stop every layer but the head from learning (strategy 1), or every layer before
    ``unfreeze_from`` (fine-tuning the top layers).

    Frozen parameters get ``requires_grad=False``: no gradient, no optimiser update.
    That alone does not freeze a batch-normalisation layer: in ``model.train()`` mode it
    normalises each batch with the batch's own statistics and keeps updating its running
    mean and variance, so the "frozen" network drifts. Here frozen batch-norm layers are
    also kept in evaluation mode at every forward pass (a pre-forward hook), whatever
    ``model.train()`` says: their running statistics never change.

    Parameters
    ----------
    model : torch.nn.Module
        One of :data:`HEAD_FAMILIES`, or any model if ``head`` is given.
    unfreeze_from : str, optional
        Name of a module (in ``model.named_modules()``, e.g. ``'conv5'``, ``'layer4'``,
        ``'blocks.5'``, ``'features.24'``): it and every module registered after it stay
        trainable. Modules are registered in the order the forward pass uses them in the
        supported families. ``None`` freezes everything but the head.
    head : str, optional
        Name of the head for a model of another family.

    Returns
    -------
    torch.nn.Module
        ``model`` itself; call :func:`unfreeze` to make it all trainable again.

    Examples
    --------
    >>> from cnncourse.models import alexnet
    >>> from cnncourse.params import module_params
    >>> net = freeze_backbone(alexnet(num_classes=5))
    >>> module_params(net, trainable_only=True)  # fc8 only: 4096 * 5 + 5
    20485
    >>> net = freeze_backbone(net, unfreeze_from="fc7")
    >>> module_params(net, trainable_only=True)  # fc7 and fc8
    16801797
    """
    model = check_module("model", model)
    name = head_name(model, head)
    modules = list(model.named_modules())
    order = {n: i for i, (n, _) in enumerate(modules)}
    if unfreeze_from is None:
        start = len(modules)
    else:
        if not isinstance(unfreeze_from, str) or unfreeze_from not in order or not unfreeze_from:
            children = [n for n, _ in model.named_children()]
            raise ValueError(
                f"unfreeze_from must name a module of the model (a name in "
                f"model.named_modules()), got {unfreeze_from!r}; its top-level modules "
                f"are {children}"
            )
        start = order[unfreeze_from]

    def trainable(module_name: str) -> bool:
        return (order[module_name] >= start or module_name == name
                or module_name.startswith(name + "."))

    for param_name, param in model.named_parameters():
        owner = param_name.rpartition(".")[0]
        param.requires_grad_(trainable(owner))
    for module_name, module in modules:
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            _set_bn_frozen(module, not trainable(module_name))
    return model


def unfreeze(model: nn.Module, *, keep_bn_statistics: bool = False) -> nn.Module:
    """Make every parameter trainable (strategy 2, fine-tuning the whole network).

    Parameters
    ----------
    model : torch.nn.Module
        The model, frozen or not.
    keep_bn_statistics : bool, optional
        ``False``: every batch-norm layer follows ``model.train()`` again and re-estimates
        its running statistics from the new data. ``True``: every batch-norm layer keeps
        normalising with the statistics it has (ImageNet's, for a pretrained network)
        while its scale and shift learn: the usual choice with small batches or a small
        new dataset, whose batch statistics are noisy.

    Examples
    --------
    >>> from cnncourse.models import alexnet
    >>> from cnncourse.params import module_params
    >>> net = unfreeze(freeze_backbone(alexnet()))
    >>> module_params(net, trainable_only=True) == module_params(net)
    True
    >>> bn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.LazyLinear(3))
    >>> _ = bn(torch.zeros(1, 1, 5, 5))
    >>> frozen_batchnorms(unfreeze(bn, keep_bn_statistics=True))
    ['1']
    """
    model = check_module("model", model)
    if not isinstance(keep_bn_statistics, bool):
        raise TypeError(f"keep_bn_statistics must be True or False, got {keep_bn_statistics!r}")
    for param in model.parameters():
        param.requires_grad_(True)
    for module in model.modules():
        if keep_bn_statistics and isinstance(module, nn.modules.batchnorm._BatchNorm):
            _set_bn_frozen(module, True)
        elif getattr(module, _FROZEN, False):
            _set_bn_frozen(module, False)
            module.train(model.training)
    return model


def _check_lr(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def param_groups(
    model: nn.Module, *, head_lr: float, backbone_lr: float, head: str | None = None
) -> list[dict[str, Any]]:
    """Parameter groups that give the head and the backbone their own learning rates.

    The usual fine-tuning choice: a new, randomly initialised head learns fast while the
    pretrained backbone moves slowly (e.g. ten times lower), so its features are
    refined rather than wiped out by the first large gradients. Frozen parameters are
    left out; a group with no trainable parameters is omitted.

    Parameters
    ----------
    model : torch.nn.Module
        One of :data:`HEAD_FAMILIES`, or any model if ``head`` is given.
    head_lr, backbone_lr : float
        Learning rates (> 0).
    head : str, optional
        Name of the head for a model of another family.

    Returns
    -------
    list of dict
        ``[{"name": "backbone", "params": [...], "lr": backbone_lr},
        {"name": "head", "params": [...], "lr": head_lr}]``, as torch optimisers and
        ``fit(..., param_groups=...)`` take them.

    Examples
    --------
    >>> from cnncourse.models import alexnet
    >>> groups = param_groups(alexnet(num_classes=5), head_lr=0.01, backbone_lr=0.001)
    >>> [(g["name"], len(g["params"]), g["lr"]) for g in groups]
    [('backbone', 14, 0.001), ('head', 2, 0.01)]
    >>> opt = torch.optim.SGD(groups, lr=0.01, momentum=0.9)
    >>> [g["lr"] for g in opt.param_groups]
    [0.001, 0.01]
    """
    model = check_module("model", model)
    head_lr = _check_lr("head_lr", head_lr)
    backbone_lr = _check_lr("backbone_lr", backbone_lr)
    name = head_name(model, head)
    head_ids = {id(p) for p in model.get_submodule(name).parameters()}
    seen: set[int] = set()
    backbone, top = [], []
    for param in model.parameters():
        if id(param) in seen or not param.requires_grad:
            continue
        seen.add(id(param))
        (top if id(param) in head_ids else backbone).append(param)
    groups = []
    if backbone:
        groups.append({"name": "backbone", "params": backbone, "lr": backbone_lr})
    if top:
        groups.append({"name": "head", "params": top, "lr": head_lr})
    if not groups:
        raise ValueError("model has no trainable parameters (all have requires_grad=False)")
    return groups
