"""The loss a run minimises, and the metric reported next to it.

Every loss is computed per example first (``reduction="none"``, averaged over a
regression target's elements), so the training loss is the mean over the batch and the
evaluation loss a sum divided once by the number of examples: the two agree.

- ``'cross_entropy'``: class scores ``(N, K)``, integer labels ``(N,)``; metric
  accuracy (the arg-max is the label).
- ``'bce_with_logits'``: one logit per image ``(N,)`` or ``(N, 1)``, targets 0/1
  ``(N,)``; metric accuracy (a positive logit means class 1).
- ``'l1'``, ``'mse'``: regression, outputs shaped like the targets (``(N, 1)`` against
  ``(N,)`` is accepted); metric mean absolute error.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from cnncourse.train.config import LOSSES

__all__ = ["per_example_loss", "per_example_metric"]

_ELEMENTWISE = {"bce_with_logits": F.binary_cross_entropy_with_logits,
                "l1": F.l1_loss, "mse": F.mse_loss}


def per_example_loss(loss: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of each example, shape ``(N,)``, in float32.

    Examples
    --------
    >>> out = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> per_example_loss("cross_entropy", out, torch.tensor([0, 0])).round(decimals=3)
    tensor([0.1270, 2.1270])
    >>> per_example_loss("mse", torch.tensor([[1.0], [3.0]]), torch.tensor([1.0, 1.0]))
    tensor([0., 4.])
    """
    out = out.float()
    if loss == "cross_entropy":
        return F.cross_entropy(out, y, reduction="none")
    if loss not in _ELEMENTWISE:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    out = _shaped_like(out, y, loss)
    return _ELEMENTWISE[loss](out, y.to(out.dtype), reduction="none").reshape(len(out), -1).mean(1)


def per_example_metric(loss: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1.0/0.0 for a right/wrong prediction (classification losses) or the absolute
    error averaged over the target's elements (regression), shape ``(N,)``.

    Examples
    --------
    >>> per_example_metric("bce_with_logits", torch.tensor([1.5, -0.2]), torch.tensor([1.0, 1.0]))
    tensor([1., 0.])
    """
    if loss == "cross_entropy":
        return (out.argmax(dim=1) == y).float()
    out = _shaped_like(out, y, loss)
    if loss == "bce_with_logits":
        return ((out > 0) == (y > 0.5)).float()
    return (out.float() - y.float()).abs().reshape(len(out), -1).mean(1)


def _shaped_like(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """``(N, 1)`` outputs against ``(N,)`` targets become ``(N,)``; other mismatches
    are the caller's mistake (e.g. a 2-class head with ``bce_with_logits``)."""
    if out.ndim == y.ndim + 1 and out.shape[-1] == 1:
        out = out.squeeze(-1)
    if out.shape != y.shape:
        raise ValueError(
            f"loss={loss!r} needs model outputs shaped like the targets, got outputs "
            f"{tuple(out.shape)} and targets {tuple(y.shape)}"
            + (" (one logit per image: a head with 1 output)"
               if loss == "bce_with_logits" else "")
        )
    return out
