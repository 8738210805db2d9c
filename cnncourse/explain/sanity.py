"""The sanity check of Adebayo et al. (2018): re-initialise the model from the output
down, one block at a time, and measure how much the explanation changes.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from cnncourse.explain.gradcam import resolve_layer
from cnncourse.explain.maps import _as_array, normalize_maps

__all__ = ["SanityResult", "randomization_test"]

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
    >>> from cnncourse.explain import grad_cam
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
