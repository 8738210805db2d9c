"""Training curves (:mod:`cnncourse.train`): loss and accuracy per epoch, with the book's
decimal comma."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from cnncourse.fmt import pct
from cnncourse.plot.images import _figure

__all__ = ["plot_history", "plot_curves"]

_HISTORY_LABELS = {
    "loss": ("pérdida (entropía cruzada)", "train_loss", "val_loss"),
    "acc": ("exactitud", "train_acc", "val_acc"),
    "mae": ("error absoluto medio", "train_mae", "val_mae"),
}


def _comma_tick(value: float, _pos: Any = None) -> str:
    """An axis tick with the book's decimal comma (0.25 -> '0,25')."""
    return f"{value:g}".replace(".", ",")


def plot_history(
    history: dict[str, Sequence[float]],
    *,
    best_epoch: int | None = None,
    title: str | None = None,
    chance: float | None = None,
) -> Any:
    """Loss and accuracy per epoch, training and validation, side by side.

    ``history`` is :attr:`cnncourse.train.FitResult.history` (keys ``epoch``,
    ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``; or ``train_mae``,
    ``val_mae`` for a regression run, plotted as mean absolute error). ``best_epoch`` draws a
    vertical line there; ``chance`` a horizontal line on the accuracy plot (e.g.
    ``1 / num_classes``).

    Examples
    --------
    >>> h = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
    ...      "train_acc": [0.4, 0.8], "val_acc": [0.3, 0.6]}
    >>> fig = plot_history(h, best_epoch=2, chance=0.25)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['pérdida (entropía cruzada)', 'exactitud']
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    metric = "mae" if "train_mae" in history else "acc"  # regression runs report MAE
    missing = [k for k in ("epoch", "train_loss", f"train_{metric}") if k not in history]
    if missing:
        raise ValueError(f"history lacks {missing}; expected FitResult.history")
    epochs = list(history["epoch"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    loss_label = _HISTORY_LABELS["loss"] if metric == "acc" else ("pérdida", "train_loss",
                                                                   "val_loss")
    for ax, (ylabel, train_key, val_key) in zip(axes, (loss_label, _HISTORY_LABELS[metric])):
        ax.plot(epochs, history[train_key], "o-", label="entrenamiento")
        values = np.asarray(history.get(val_key, []), dtype=float)
        if values.size and not np.isnan(values).all():
            ax.plot(epochs, values, "s-", label="validación")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="gray", linestyle=":", label=f"mejor época ({best_epoch})")
        ax.set_xlabel("época")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(_comma_tick))
        ax.grid(alpha=0.3)
    if chance is not None:
        axes[1].axhline(chance, color="tab:red", linestyle="--", linewidth=1, label="azar")
    if metric == "acc":
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].yaxis.set_major_formatter(FuncFormatter(lambda v, _: pct(v, 0)))
    axes[1].legend(loc="lower right" if metric == "acc" else "upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(
    curves: dict[str, Sequence[float]],
    *,
    xlabel: str = "época",
    ylabel: str = "pérdida",
    log: bool = False,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Several curves of one quantity, one per labelled run (e.g. one per optimiser).

    Examples
    --------
    >>> fig = plot_curves({"SGD": [1.0, 0.6], "Adam": [1.0, 0.3]}, log=True)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['SGD', 'Adam']
    """
    if not curves:
        raise ValueError("curves must contain at least one labelled curve, got an empty dict")
    fig, ax = _figure(ax, figsize=(6, 3.6))
    from matplotlib.ticker import MaxNLocator

    for label, values in curves.items():
        values = list(values)
        ax.plot(range(1, len(values) + 1), values, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
