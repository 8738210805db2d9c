"""The head of a network: finding its last, classifying layer and replacing it.

:func:`head_name` knows where the head is in the model families of
:data:`HEAD_FAMILIES` (any other model names it with ``head=``); :func:`replace_head`
swaps it for a new ``nn.Linear`` with ``num_classes`` outputs and leaves every other
weight as it was.
"""

from __future__ import annotations

import torch  # noqa: F401 (the examples use it)
from torch import nn

from cnncourse._validate import check_int, check_module

__all__ = ["HEAD_FAMILIES", "head_name", "replace_head"]

#: The model families whose head :func:`head_name` finds by itself.
HEAD_FAMILIES: tuple[str, ...] = (
    "cnncourse.models AlexNet/ZFNet (fc8)",
    "cnncourse.models VGG (classifier's last layer)",
    "torchvision AlexNet and VGG (classifier's last layer)",
    "torchvision ResNet (fc)",
    "timm EfficientNet / EfficientNet-Lite (classifier)",
    "efficientnet_lite_pytorch EfficientNet (_fc)",
)

def _family_head(model: nn.Module) -> str | None:
    """The head's name for the supported families, else None."""
    from cnncourse.models import VGG as PaperVGG
    from cnncourse.models import AlexNet as PaperAlexNet
    from cnncourse.models import ZFNet

    if isinstance(model, (PaperAlexNet, ZFNet)):
        return "fc8"
    kind = type(model)
    module = kind.__module__
    classifier = getattr(model, "classifier", None)
    if isinstance(model, PaperVGG) or (
        module.startswith("torchvision.models.") and kind.__name__ in ("AlexNet", "VGG")
    ):
        if isinstance(classifier, nn.Sequential) and isinstance(classifier[-1], nn.Linear):
            return f"classifier.{len(classifier) - 1}"
        return None
    if module.startswith("torchvision.models.") and kind.__name__ == "ResNet":
        return "fc"
    if module.startswith("timm.") and kind.__name__ == "EfficientNet":
        return "classifier" if isinstance(classifier, nn.Linear) else None
    if module.startswith("efficientnet_lite_pytorch") and kind.__name__ == "EfficientNet":
        return "_fc"
    return None


def head_name(model: nn.Module, head: str | None = None) -> str:
    """The name (in ``model.named_modules()``) of the model's last, classifying layer.

    Parameters
    ----------
    model : torch.nn.Module
        One of :data:`HEAD_FAMILIES`, or any model if ``head`` is given.
    head : str, optional
        The name of the head for a model of another family: it must name an
        ``nn.Linear`` layer of ``model``.

    Examples
    --------
    >>> from cnncourse.models import alexnet
    >>> with torch.device("meta"):
    ...     head_name(alexnet())
    'fc8'
    >>> head_name(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), head="1")
    '1'
    """
    model = check_module("model", model)
    if head is None:
        found = _family_head(model)
        if found is None:
            raise TypeError(
                f"model is a {type(model).__module__}.{type(model).__name__}, whose head "
                f"is not known; supported families: {'; '.join(HEAD_FAMILIES)}. For "
                f"another model, pass head='<name of its last nn.Linear layer>'"
            )
        return found
    if not isinstance(head, str):
        raise TypeError(f"head must be a layer name (str) or None, got {head!r}")
    modules = dict(model.named_modules())
    if head not in modules or not isinstance(modules[head], nn.Linear):
        linears = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
        raise ValueError(
            f"head must name an nn.Linear layer of the model, got {head!r}; its linear "
            f"layers are {linears}"
        )
    return head


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def replace_head(model: nn.Module, num_classes: int, *, head: str | None = None) -> nn.Module:
    """Replace the model's last layer with a new ``nn.Linear`` of ``num_classes`` outputs.

    The new layer has the same inputs, lives on the same device with the same dtype,
    is initialised as PyTorch initialises a fresh ``nn.Linear`` (seed with
    ``torch.manual_seed`` for the same draw) and is trainable. Every other weight and
    buffer stays exactly as it was. The model is changed in place and returned.

    Parameters
    ----------
    model : torch.nn.Module
        One of :data:`HEAD_FAMILIES`, or any model if ``head`` is given.
    num_classes : int
        Outputs of the new layer (>= 1).
    head : str, optional
        Name of the layer to replace, for models of other families.

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Examples
    --------
    >>> from torchvision.models import resnet18
    >>> net = replace_head(resnet18(), 10)
    >>> net.fc
    Linear(in_features=512, out_features=10, bias=True)
    >>> replace_head(net, 0)
    Traceback (most recent call last):
    ...
    ValueError: num_classes must be an integer >= 1, got 0
    """
    model = check_module("model", model)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    name = head_name(model, head)
    old = model.get_submodule(name)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"the head {name!r} is a {type(old).__name__}, not an nn.Linear")
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    _set_submodule(model, name, new)
    if hasattr(model, "num_classes"):  # timm keeps it for reset_classifier()
        model.num_classes = num_classes
    return model
