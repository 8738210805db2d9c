"""Class activation maps (Zhou et al., 2016), and what every map shares: the input
checks, the optional rectification and the per-map normalisation.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

__all__ = ["cam", "normalize_maps"]

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
