"""Fixed features: a network's activations for a whole dataset, and a linear probe.

:func:`extract_features` runs a whole dataset through the network once and keeps the
activations of chosen layers; :func:`linear_probe` measures how well a linear
classifier separates the classes with them.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any, Callable, Sequence

import torch
from torch import nn

from cnncourse._validate import check_int, check_module
from cnncourse.transfer.freezing import _check_lr

__all__ = ["extract_features", "linear_probe"]

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


def _progress_bar(total: int, show: bool) -> Any:
    """A tqdm bar over ``total`` images: on stdout in Jupyter, hidden unless ``show``."""
    from tqdm import tqdm

    jupyter = _in_jupyter()
    return tqdm(total=total, unit="img", disable=not show,
                file=sys.stdout if jupyter else sys.stderr, ncols=100 if jupyter else None)


def _check_pool(pool: Any) -> str | int:
    if not (pool in ("avg", "max", "flatten") or (
            isinstance(pool, numbers.Integral) and not isinstance(pool, bool) and pool >= 1)):
        raise ValueError(f"pool must be 'avg', 'max', 'flatten' or an integer grid size "
                         f">= 1, got {pool!r}")
    return pool


def _layer_names(model: nn.Module, layers: Any) -> list[str]:
    """``layers`` as a list of names of ``model``'s modules, checked."""
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"layers must be a layer name or a non-empty sequence of names, "
                         f"got {layers!r}")
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        children = [n for n, _ in model.named_children()]
        raise ValueError(f"layers {missing} are not modules of the model (names in "
                         f"model.named_modules(); top level: {children})")
    return names


def _record_outputs(model: nn.Module, names: Sequence[str],
                    captured: dict[str, torch.Tensor]) -> list[Any]:
    """Forward hooks that store each named module's output in ``captured`` (the first
    element of a tuple output); returns the handles to remove them."""
    modules = dict(model.named_modules())

    def hook_for(name: str) -> Callable[..., None]:
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            captured[name] = output[0] if isinstance(output, (tuple, list)) else output
        return hook

    return [modules[n].register_forward_hook(hook_for(n)) for n in set(names)]


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
    model = check_module("model", model)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    pool = _check_pool(pool)
    names = _layer_names(model, layers)
    batches, total, labelled = _batches(data, batch_size)
    captured: dict[str, torch.Tensor] = {}
    handles = _record_outputs(model, names, captured)
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else None
    chunks: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    label_chunks: list[torch.Tensor] = []
    was_training = model.training
    bar = _progress_bar(total, progress)
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
    return (feats[names[0]] if isinstance(layers, str) else feats), labels


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
