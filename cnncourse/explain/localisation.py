"""How well a map agrees with where the object really is: the pointing game and the
intersection over union of the map's hottest region with the object's mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnncourse.explain.maps import _as_array

__all__ = ["pointing_game", "threshold_iou"]

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
