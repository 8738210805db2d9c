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
"""

from __future__ import annotations

import copy
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

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


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from error
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must contain only finite numbers (no NaN or infinity)")
    return array


def _targets(target: Any, n: int | None, num_classes: int) -> np.ndarray:
    """``target`` as an int array: one class per image of a batch of ``n`` (``None``:
    a single image, ``target`` a single int)."""
    if isinstance(target, torch.Tensor):
        target = target.tolist()
    elif isinstance(target, np.ndarray):
        target = target.tolist()
    if n is None:
        if isinstance(target, bool) or not isinstance(target, numbers.Integral):
            raise TypeError(
                f"target must be one int (the class) for a single image, got {target!r}"
            )
        targets = [int(target)]
    else:
        if isinstance(target, numbers.Integral) and not isinstance(target, bool):
            raise TypeError(
                f"target must hold one class per image: got the single int {target!r} for a "
                f"batch of {n}; pass a sequence of {n} ints (e.g. [{target}] * {n})"
            )
        try:
            targets = list(target)
        except TypeError:
            raise TypeError(f"target must be a sequence of {n} ints, got {target!r}") from None
        if len(targets) != n:
            raise ValueError(
                f"target must hold one class per image: got {len(targets)} targets for a "
                f"batch of {n} images"
            )
        for i, t in enumerate(targets):
            if isinstance(t, bool) or not isinstance(t, numbers.Integral):
                raise TypeError(f"target[{i}] must be an int class index, got {t!r}")
        targets = [int(t) for t in targets]
    for t in targets:
        if not 0 <= t < num_classes:
            raise ValueError(
                f"target {t} is out of range: the model has {num_classes} classes, "
                f"valid targets are 0 to {num_classes - 1}"
            )
    return np.asarray(targets, dtype=np.int64)


def normalize_maps(maps: Any) -> np.ndarray:
    """Scale each map to [0, 1] on its own: ``(M - min) / (max - min)``.

    A constant map becomes all zeros. Per-image normalisation makes every map use the
    whole colour scale, which hides how strong one map is compared with another.

    Examples
    --------
    >>> normalize_maps([[1.0, 3.0], [2.0, 5.0]])
    array([[0.  , 0.5 ],
           [0.25, 1.  ]])
    """
    maps = _as_array("maps", maps)
    if maps.ndim not in (2, 3):
        raise ValueError(f"maps must be (h, w) or (N, h, w), got shape {maps.shape}")
    flat = maps.reshape((-1,) + maps.shape[-2:]) if maps.ndim == 3 else maps[None]
    lo = flat.min(axis=(1, 2), keepdims=True)
    span = flat.max(axis=(1, 2), keepdims=True) - lo
    out = np.where(span > 0, (flat - lo) / np.where(span > 0, span, 1.0), 0.0)
    return out.reshape(maps.shape)


def _finish(maps: np.ndarray, relu: bool, normalize: bool) -> np.ndarray:
    if relu:
        maps = np.maximum(maps, 0.0)
    if normalize:
        maps = normalize_maps(maps)
    return maps


# --------------------------------------------------------------------------------------
# CAM
# --------------------------------------------------------------------------------------


def cam(
    activations: Any,
    fc_weight: Any,
    target: Any,
    *,
    relu: bool = False,
    normalize: bool = False,
) -> np.ndarray:
    """Class activation map ``M_k[x, y] = sum_n W[k, n] A_n[x, y]`` (Zhou et al., 2016).

    ``activations`` are the maps ``A_1 ... A_C`` that global average pooling turns into
    ``mu_n``; ``fc_weight`` is the ``(K, C)`` weight of the linear layer after the
    pooling (PyTorch's layout: row ``k`` holds the notes' ``W_{n,k}`` for ``n = 1..C``).
    Because the score of class ``k`` is ``sum_n W[k, n] mu_n + b_k``, the spatial mean
    of ``M_k`` plus the bias ``b_k`` is exactly that score.

    Parameters
    ----------
    activations : array or tensor
        ``(C, h, w)`` for one image or ``(N, C, h, w)`` for a batch.
    fc_weight : array or tensor
        ``(K, C)``.
    target : int or sequence of int
        The class to explain: one int for one image, one int per image for a batch.
    relu : bool, optional
        Keep only the positive evidence (``max(M, 0)``). Off by default: raw values.
    normalize : bool, optional
        Scale each map to [0, 1] on its own (:func:`normalize_maps`), after ``relu``.

    Returns
    -------
    numpy.ndarray
        ``(h, w)`` or ``(N, h, w)``, float64.

    Examples
    --------
    >>> A = np.zeros((2, 2, 2)); A[0, 0, 0] = 4.0; A[1, 1, 1] = 2.0
    >>> W = np.array([[1.0, -1.0], [0.5, 0.5]])      # 2 classes, 2 channels
    >>> cam(A, W, 0)
    array([[ 4.,  0.],
           [ 0., -2.]])
    >>> float(cam(A, W, 0).mean()) == float(W[0] @ A.mean(axis=(1, 2)))
    True
    >>> cam(A[None], W, [1]).shape
    (1, 2, 2)
    """
    A = _as_array("activations", activations)
    W = _as_array("fc_weight", fc_weight)
    if A.ndim not in (3, 4):
        raise ValueError(
            f"activations must be (C, h, w) for one image or (N, C, h, w) for a batch, "
            f"got shape {A.shape}"
        )
    if W.ndim != 2:
        raise ValueError(f"fc_weight must be a 2-D (K, C) matrix, got shape {W.shape}")
    channels = A.shape[-3]
    if W.shape[1] != channels:
        hint = " (transposed? PyTorch's Linear.weight is (K, C))" if W.shape[0] == channels else ""
        raise ValueError(
            f"fc_weight has shape {W.shape} but activations have {channels} channels: "
            f"fc_weight must be (K, {channels}){hint}"
        )
    single = A.ndim == 3
    targets = _targets(target, None if single else A.shape[0], W.shape[0])
    batch = A[None] if single else A
    maps = np.einsum("nc,nchw->nhw", W[targets], batch)  # M_k = sum_c W[k, c] A_c
    maps = _finish(maps, relu, normalize)
    return maps[0] if single else maps


# --------------------------------------------------------------------------------------
# Grad-CAM
# --------------------------------------------------------------------------------------


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
    >>> with torch.no_grad():
    ...     A = net[1](net[0](x))
    >>> bool(np.allclose(maps * 25, cam(A, net[4].weight, [0, 1]), atol=1e-5))
    True
    """
    name, module = resolve_layer(model, layer)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in (3, 4):
        raise ValueError(f"x must be (N, C, H, W) or one (C, H, W) image, got shape {tuple(x.shape)}")
    if call is not None and (isinstance(call, bool) or not isinstance(call, numbers.Integral)):
        raise TypeError(f"call must be an int or None, got {call!r}")
    single = x.dim() == 3
    batch = x[None] if single else x
    if model.training:
        warnings.warn(
            "grad_cam: the model is in training mode; dropout makes the map random and "
            "batch normalisation mixes the images of a batch. Call model.eval() first.",
            stacklevel=2,
        )

    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: Any, output: Any) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise ValueError(
                f"layer {name!r} returns {type(output).__name__}, not a tensor: pick a layer "
                "whose output is an (N, C, h, w) activation tensor"
            )
        # A frozen part of the network gives activations without a graph: make them a
        # leaf that requires grad, so the score can be differentiated with respect to them.
        activation = output if output.requires_grad else output.detach().requires_grad_(True)
        captured.append(activation)
        # Hand a copy to the rest of the network, so that an in-place operation after
        # this layer (ReLU(inplace=True)) cannot overwrite the activations kept here.
        return activation.clone()

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            scores = model(batch)
    finally:
        handle.remove()

    if not captured:
        raise ValueError(f"layer {name!r} did not run in the forward pass of the model")
    if call is None:
        if len(captured) != 1:
            raise ValueError(
                f"layer {name!r} ran {len(captured)} times in one forward pass (a module "
                "reused at several places); pass call=i to say which run to explain "
                "(call=-1: the last one), or pick a module that runs once"
            )
        chosen = 0
    else:
        if not -len(captured) <= call < len(captured):
            raise ValueError(f"call={call} but layer {name!r} ran {len(captured)} times")
        chosen = call
    activation = captured[chosen]
    if activation.dim() != 4:
        raise ValueError(
            f"layer {name!r} outputs shape {tuple(activation.shape)}; Grad-CAM needs "
            "(N, C, h, w) activations: pick a convolutional layer"
        )
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2 or scores.shape[0] != batch.shape[0]:
        shape = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"model must return (N, K) class scores, got {shape}")
    targets = _targets(target, None if single else batch.shape[0], scores.shape[1])
    index = torch.as_tensor(targets, device=scores.device)
    # Images of a batch are independent (eval mode), so the gradient of the sum of the
    # chosen scores with respect to image i's activations is that of image i's score.
    with torch.enable_grad():  # also when the caller is under torch.no_grad()
        chosen_scores = scores.gather(1, index[:, None]).sum()
        (gradient,) = torch.autograd.grad(chosen_scores, activation, allow_unused=True)
    if gradient is None:
        raise ValueError(f"the model's scores do not depend on layer {name!r}")
    weights = gradient.mean(dim=(2, 3), keepdim=True)  # alpha_n: (N, C', 1, 1)
    maps = (weights * activation).sum(dim=1).detach().double().cpu().numpy()
    maps = _finish(maps, relu, normalize)
    return maps[0] if single else maps


# --------------------------------------------------------------------------------------
# Agreement with the ground truth
# --------------------------------------------------------------------------------------


def _maps_and_masks(maps: Any, masks: Any) -> tuple[np.ndarray, np.ndarray]:
    maps = _as_array("maps", maps)
    if isinstance(masks, torch.Tensor):
        masks = masks.cpu().numpy()
    masks = np.asarray(masks, dtype=bool)
    if maps.ndim == 2:
        maps = maps[None]
    if masks.ndim == 2:
        masks = masks[None]
    if maps.ndim != 3 or maps.shape != masks.shape:
        raise ValueError(
            f"maps and masks must have the same (N, H, W) shape (upsample the maps to the "
            f"image first), got {maps.shape} and {masks.shape}"
        )
    return maps, masks


def pointing_game(maps: Any, masks: Any) -> np.ndarray:
    """Whether each map's maximum falls on the object: ``masks[i][argmax maps[i]]``.

    Maps and masks must have the same size (upsample the maps first). Ties go to the
    first maximum in row-major order.

    Examples
    --------
    >>> m = np.array([[0.0, 1.0], [0.2, 0.3]])
    >>> pointing_game(m, [[False, True], [False, False]])
    array([ True])
    """
    maps, masks = _maps_and_masks(maps, masks)
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    return masks.reshape(len(masks), -1)[np.arange(len(maps)), flat]


def threshold_iou(maps: Any, masks: Any, fraction: float = 0.2) -> np.ndarray:
    """Intersection over union of ``maps >= fraction * max(map)`` with each mask.

    ``fraction=0.2`` is the rule of Zhou et al. (2016): keep the pixels above 20 % of the
    map's maximum. A map whose maximum is not positive selects nothing (IoU 0).

    Examples
    --------
    >>> m = np.array([[1.0, 0.5], [0.1, 0.0]])
    >>> threshold_iou(m, [[True, False], [False, False]], 0.2)   # region: 2 pixels
    array([0.5])
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    maps, masks = _maps_and_masks(maps, masks)
    peak = maps.max(axis=(1, 2), keepdims=True)
    region = (maps >= fraction * peak) & (peak > 0)
    inter = (region & masks).sum(axis=(1, 2))
    union = (region | masks).sum(axis=(1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


# --------------------------------------------------------------------------------------
# Sanity check: cascading randomisation (Adebayo et al., 2018)
# --------------------------------------------------------------------------------------


@dataclass
class SanityResult:
    """What :func:`randomization_test` measured.

    ``stages[0]`` is ``'original'``; ``stages[i]`` names the block re-initialised last
    (all the blocks above it are re-initialised too). ``maps[i]`` are the explanations
    ``(N, h, w)`` at that stage; ``spearman[i, j]`` and ``ssim[i, j]`` compare image
    ``j``'s map at stage ``i`` with its original map (1 at stage 0). A constant map
    has no ranks: its rank correlation with anything is reported as 0.
    """

    stages: list[str]
    maps: list[np.ndarray]
    spearman: np.ndarray
    ssim: np.ndarray
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)


_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def _reinitialise(module: nn.Module, normalization: bool) -> int:
    """Call ``reset_parameters`` on every submodule with parameters of its own (skipping
    normalisation layers unless ``normalization``); how many it reset."""
    count = 0
    for sub in module.modules():
        if isinstance(sub, _NORMS) and not normalization:
            continue
        reset = getattr(sub, "reset_parameters", None)
        if callable(reset) and any(True for _ in sub.parameters(recurse=False)):
            reset()
            count += 1
    return count


def _compare(original: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import spearmanr
    from skimage.metrics import structural_similarity

    rho, sim = [], []
    for a, b in zip(original, other):
        if np.ptp(a) == 0 or np.ptp(b) == 0:  # a constant map ranks nothing
            rho.append(0.0)
        else:
            rho.append(float(spearmanr(a.ravel(), b.ravel()).statistic))
        side = min(a.shape)
        window = min(7, side if side % 2 else side - 1)
        sim.append(float(structural_similarity(normalize_maps(a), normalize_maps(b),
                                               data_range=1.0, win_size=window)))
    return np.asarray(rho), np.asarray(sim)


def randomization_test(
    model: nn.Module,
    x: torch.Tensor,
    explain: Callable[[nn.Module, torch.Tensor], Any],
    blocks: Sequence[str],
    *,
    seed: int = 0,
    normalization: bool = False,
) -> SanityResult:
    """Cascading randomisation: does the explanation depend on what the model learned?

    Re-initialise ``blocks`` one at a time, from the output down (``blocks[0]`` first,
    the layers already re-initialised stay so), and after each step compute
    ``explain(model_copy, x)``. An explanation that reflects the learned weights
    changes as soon as the top layers are random; one that stays the same is describing
    the input (edges, colours), not the model. The caller's model is not touched: the
    test works on a deep copy.

    The change is measured per image against the original map with Spearman's rank
    correlation (:func:`scipy.stats.spearmanr`) and the structural similarity
    (:func:`skimage.metrics.structural_similarity`, on maps scaled to [0, 1]); SciPy and
    scikit-image come with the course's ``book`` extra and are imported only here.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model.
    x : torch.Tensor
        ``(N, C, H, W)`` images.
    explain : callable
        ``explain(model, x)`` returns ``(N, h, w)`` maps, e.g.
        ``lambda m, x: grad_cam(m, x, 'features', targets, relu=True)``.
    blocks : sequence of str
        Names in ``model.named_modules()``, from the output towards the input.
        Re-initialisation calls ``reset_parameters()`` of every layer with weights inside
        each block (PyTorch's default initialisation).
    seed : int, optional
        Seed of the random weights.
    normalization : bool, optional
        Also reset normalisation layers (batch norm: scale 1, shift 0, running mean 0
        and variance 1). Off by default: they keep their learned statistics. Resetting
        them on a network trained with other statistics can push every activation into
        the flat part of a bounded activation (ReLU6), so that every map becomes
        constant and the comparison says nothing.

    Returns
    -------
    SanityResult

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
    ...                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    >>> x = torch.randn(2, 3, 8, 8)
    >>> res = randomization_test(net, x, lambda m, x: grad_cam(m, x, "1", [0, 0]), ["4", "0"])
    >>> res.stages, res.spearman.shape
    (['original', '4', '0'], (3, 2))
    >>> bool(np.allclose(res.spearman[0], 1.0))
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    blocks = [blocks] if isinstance(blocks, str) else list(blocks)
    if not blocks:
        raise ValueError("blocks must name at least one block to re-initialise")
    for block in blocks:
        resolve_layer(model, block)  # a clear error for a name that is not in the model
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")

    def run(net: nn.Module) -> np.ndarray:
        maps = _as_array("explain(model, x)", explain(net, x))
        if maps.ndim != 3 or maps.shape[0] != x.shape[0]:
            raise ValueError(
                f"explain(model, x) must return (N, h, w) maps for the {x.shape[0]} images, "
                f"got shape {maps.shape}"
            )
        return maps

    copy_ = copy.deepcopy(model)
    maps = [run(copy_)]
    stages = ["original"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        modules = dict(copy_.named_modules())
        for block in blocks:
            if _reinitialise(modules[block], normalization) == 0:
                raise ValueError(f"block {block!r} has no layer with parameters to re-initialise")
            maps.append(run(copy_))
            stages.append(block)
    scores = [_compare(maps[0], m) for m in maps]
    return SanityResult(
        stages=stages,
        maps=maps,
        spearman=np.stack([s[0] for s in scores]),
        ssim=np.stack([s[1] for s in scores]),
        seed=int(seed),
    )
