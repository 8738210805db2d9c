"""What a training run is told: the profiles and :class:`TrainConfig`.

Two *profiles* size the work: ``quick`` (CPU, small data, about a minute) and ``full``
(GPU, the real dataset and schedule). :func:`resolve_profile` picks ``full`` when CUDA
is present and ``quick`` otherwise; the environment variable ``CNNCOURSE_PROFILE``
overrides it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import torch

from cnncourse._validate import check_choice, check_int, check_number

__all__ = ["PROFILES", "PROFILE_ENV", "OPTIMIZERS", "LOSSES", "MONITORS", "resolve_profile",
           "TrainConfig"]

PROFILES = ("quick", "full")
PROFILE_ENV = "CNNCOURSE_PROFILE"
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
#: Each loss and the metric reported next to it: accuracy for the classification
#: losses, mean absolute error for the regression ones.
LOSSES = {"cross_entropy": "acc", "bce_with_logits": "acc", "l1": "mae", "mse": "mae"}
#: Each monitored metric and whether lower or higher is better.
MONITORS = {"val_loss": "min", "val_acc": "max", "val_mae": "min"}


def resolve_profile(profile: str | None = None) -> str:
    """The profile to run: ``profile`` if given, else ``$CNNCOURSE_PROFILE`` if set,
    else ``'full'`` when CUDA is available and ``'quick'`` otherwise.

    Examples
    --------
    >>> resolve_profile("quick")
    'quick'
    >>> resolve_profile("slow")
    Traceback (most recent call last):
    ...
    ValueError: profile must be one of ('quick', 'full'), got 'slow'
    """
    source = "profile"
    if profile is None and os.environ.get(PROFILE_ENV):
        profile, source = os.environ[PROFILE_ENV].strip().lower(), f"${PROFILE_ENV}"
    if profile is None:
        return "full" if torch.cuda.is_available() else "quick"
    if profile not in PROFILES:
        raise ValueError(f"{source} must be one of {PROFILES}, got {profile!r}")
    return profile


@dataclass
class TrainConfig:
    """Everything :func:`~cnncourse.train.fit` needs besides the model and the data.

    Defaults follow the AlexNet paper where it has one (SGD, momentum 0.9, weight decay
    5e-4, learning rate 0.01 divided by 10 at milestones, batch 128).

    Examples
    --------
    >>> TrainConfig(epochs=3, lr=0.1).optimizer
    'sgd'
    >>> TrainConfig(loss="mse").metric
    'mae'
    >>> TrainConfig(optimizer="sdg")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('sgd', 'adam', 'adamw', 'rmsprop'), got 'sdg'
    """

    # -- optimisation -----------------------------------------------------------------
    epochs: int = 10  # passes over the training data
    batch_size: int = 128  # examples per step, all processes together (global batch)
    optimizer: str = "sgd"  # 'sgd' (with momentum), 'adam', 'adamw' or 'rmsprop'
    lr: float = 0.01  # learning rate at the start (param groups may set their own)
    momentum: float = 0.9  # SGD momentum (ignored by the other optimisers)
    weight_decay: float = 5e-4  # L2 penalty on all parameters
    lr_milestones: tuple[int, ...] = ()  # epochs after which every lr is multiplied by...
    lr_gamma: float = 0.1  # ...this factor (step decay); () keeps the lr constant
    # -- what is minimised ------------------------------------------------------------
    loss: str = "cross_entropy"  # 'cross_entropy' (class scores, integer labels),
    #   'bce_with_logits' (one logit per image, float 0/1 targets), 'l1' or 'mse'
    #   (regression: outputs shaped like the targets; MAE is reported, not accuracy)
    # -- evaluation and early stopping -----------------------------------------------
    monitor: str = "val_loss"  # 'val_loss' or 'val_mae' (lower is better), 'val_acc'
    patience: int | None = None  # stop after this many epochs without improvement
    restore_best: bool = False  # end with the weights of the best epoch
    eval_batch_size: int | None = None  # None: max(2 x batch_size, 256)
    # -- checkpoints ------------------------------------------------------------------
    checkpoint: str | None = None  # file written after every epoch (rank 0 only)
    resume: bool = False  # continue from `checkpoint` if that file exists
    # -- reproducibility --------------------------------------------------------------
    seed: int = 0  # data order, dropout, augmentation (+ rank under DDP)
    # -- hardware ---------------------------------------------------------------------
    device: str | None = None  # None: 'cuda' if available, else 'cpu'
    amp: bool = True  # bfloat16 autocast (CUDA only)
    channels_last: bool = True  # NHWC memory format for 4-D inputs (CUDA only)
    compile: bool = False  # torch.compile the model (first steps are slow)
    num_workers: int = 0  # DataLoader worker processes (per process)
    max_steps_per_epoch: int | None = None  # cut epochs short (benchmarks, smoke tests)
    # -- output -----------------------------------------------------------------------
    progress: bool | None = None  # None: a bar in Jupyter or a terminal, silent in CI

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        for name in ("lr", "momentum", "weight_decay"):
            check_number(name, getattr(self, name), minimum=0)
        self.lr_milestones = tuple(
            check_int(f"lr_milestones[{i}]", m, minimum=1)
            for i, m in enumerate(self.lr_milestones)
        )
        if list(self.lr_milestones) != sorted(set(self.lr_milestones)):
            raise ValueError(
                f"lr_milestones must be increasing epochs, got {self.lr_milestones!r}"
            )
        check_number("lr_gamma", self.lr_gamma, minimum=0, maximum=1, low_open=True)
        check_choice("loss", self.loss, tuple(LOSSES))
        check_choice("monitor", self.monitor, tuple(MONITORS))
        if self.monitor not in ("val_loss", f"val_{self.metric}"):
            raise ValueError(f"monitor={self.monitor!r} is not measured with loss="
                             f"{self.loss!r}; use 'val_loss' or 'val_{self.metric}'")
        for name in ("patience", "eval_batch_size", "max_steps_per_epoch"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), minimum=1)
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs checkpoint='path/to/file.pt' to resume from")
        check_int("seed", self.seed, minimum=0)
        check_int("num_workers", self.num_workers, minimum=0)

    @property
    def metric(self) -> str:
        """The metric reported next to the loss: ``'acc'`` (accuracy, classification
        losses) or ``'mae'`` (mean absolute error, regression losses)."""
        return LOSSES[self.loss]

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (JSON-friendly)."""
        out = dataclasses.asdict(self)
        out["lr_milestones"] = list(self.lr_milestones)
        return out

