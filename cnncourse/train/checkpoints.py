"""Checkpoints: everything needed to resume a run exactly.

A checkpoint holds the model, the optimiser, the scheduler, the epoch, the history, the
early-stopping state and the random-number state of every process. It is written to a
temporary file first and then renamed, so a crash while writing never leaves a
half-written checkpoint behind. Only rank 0 writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["FORMAT", "save_checkpoint", "load_checkpoint", "state_on_cpu"]

FORMAT = 1  # bumped when the keys below change meaning


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus ``"format"``) to ``path`` atomically; returns the path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = save_checkpoint(Path(d) / "run.pt", {"epoch": 3})
    ...     load_checkpoint(path)["epoch"]
    3
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (onto the CPU)."""
    state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=False)
    if state.get("format") != FORMAT:
        raise ValueError(f"checkpoint {str(path)!r} has format {state.get('format')!r}; "
                         f"this version of cnncourse reads format {FORMAT}")
    return state


def state_on_cpu(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's weights on the CPU (kept while training goes on)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
