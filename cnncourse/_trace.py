"""One forward pass, watched: every leaf layer a model calls, with its output.

:func:`trace_leaf_calls` is the one place that runs a model on a probe input with
forward hooks; :func:`cnncourse.params.layer_table` (output shapes and parameters per
layer) and :func:`cnncourse.models.macs_by_layer` (arithmetic per layer) read its
record. torch is imported when a trace is made, so that :mod:`cnncourse.params`
stays importable without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cnncourse._validate import check_module, check_shape


@dataclass(frozen=True)
class LeafCall:
    """One call of a leaf module (a module without children) during the trace."""

    name: str  # as in model.named_modules(); '?' for a module that is not a submodule
    module: Any  # the torch.nn.Module called
    output: Any  # what it returned (a tensor, or a tuple for a few layers)


def trace_leaf_calls(model: Any, input_shape: Sequence[int]) -> tuple[tuple[int, ...],
                                                                        list[LeafCall]]:
    """Run one all-zeros example through ``model`` and record every leaf-module call.

    The model runs in evaluation mode without gradients, on the device and in the
    dtype of its parameters (a model on the ``meta`` device costs nothing: only shapes
    are computed); its training mode is restored afterwards, and the hooks are always
    removed. Returns the checked input shape and the calls in call order (a layer
    called twice appears twice).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
    >>> shape, calls = trace_leaf_calls(net, (1, 8, 8))
    >>> [(c.name, tuple(c.output.shape)) for c in calls]
    [('0', (1, 4, 6, 6)), ('1', (1, 4, 6, 6))]
    """
    import torch

    model = check_module("model", model)
    shape = check_shape("input_shape", input_shape)
    names = {m: n for n, m in model.named_modules()}
    calls: list[LeafCall] = []

    def hook(module: Any, _inputs: Any, output: Any) -> None:
        calls.append(LeafCall(names.get(module, "?"), module, output))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=device, dtype=dtype))
    except RuntimeError as exc:
        raise ValueError(
            f"the model cannot take an input of shape {shape} (without the batch "
            f"dimension): {exc}"
        ) from exc
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return shape, calls
