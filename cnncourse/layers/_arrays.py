"""The one input check every layer shares: a floating-point array of the right rank."""

from __future__ import annotations

from typing import Any

import numpy as np

def _array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a floating-point array (integers become float64), checked."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}") from exc
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {arr.dtype}"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr
