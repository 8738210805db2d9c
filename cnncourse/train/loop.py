"""The training loop: :func:`fit`, :func:`train_epoch` and :func:`evaluate`.

Read it top to bottom: :func:`fit` checks its inputs and joins the processes;
:func:`_fit` sets up the run (optimiser, loaders, checkpoint) and loops over epochs;
:func:`train_epoch` is the plain loop of every PyTorch training (forward, loss,
backward, step). The loss and the metric are accumulated on the device and read back
once per epoch: nothing in the loop waits for the device step by step.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from cnncourse import fmt
from cnncourse._validate import check_choice, check_int
from cnncourse.plot import plot_history
from cnncourse.train.checkpoints import load_checkpoint, save_checkpoint, state_on_cpu
from cnncourse.train.config import LOSSES, MONITORS, TrainConfig
from cnncourse.train.distributed import (
    RunContext,
    ShardSampler,
    gather_rng_states,
    process_group,
    seed_everything,
    set_rng_state,
)
from cnncourse.train.losses import per_example_loss, per_example_metric
from cnncourse.train.optim import build_optimizer, build_scheduler

__all__ = ["FitResult", "fit", "train_epoch", "evaluate"]


@dataclass
class FitResult:
    """What :func:`fit` measured.

    ``history`` holds one value per epoch, from the first epoch of the whole run (a
    resumed run includes the epochs before the interruption), under the keys
    ``epoch``, ``train_loss``, ``val_loss``, ``lr`` (the first parameter group's),
    ``epoch_time_s`` (training and evaluation), and the metric of the loss:
    ``train_acc``/``val_acc`` (accuracy) for ``'cross_entropy'`` and
    ``'bce_with_logits'``, ``train_mae``/``val_mae`` (mean absolute error) for ``'l1'``
    and ``'mse'``. Validation entries are NaN without validation data.
    """

    history: dict[str, list[float]]
    epochs_run: int  # epochs trained by this call (less than planned after early stopping)
    best_epoch: int | None  # epoch with the best monitored metric (None: no validation)
    best_value: float | None  # that metric's value
    stopped_early: bool
    restored_best: bool  # the model now holds the weights of `best_epoch`
    train_time_s: float  # wall time of this call's training steps (no evaluation)
    total_time_s: float  # wall time of the whole call
    images_per_second: float  # training images per second, all processes together
    device: str  # e.g. 'cpu', 'cuda:0'
    device_name: str  # e.g. 'NVIDIA H100 80GB HBM3' or the CPU's description
    world_size: int  # number of processes (DDP)
    seed: int
    resumed_from_epoch: int  # 0 unless the run continued a checkpoint
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-friendly dict (NaN stays NaN)."""
        return dataclasses.asdict(self)

    def plot(self, **kwargs: Any) -> Any:
        """Plot the history with :func:`cnncourse.plot.plot_history`."""
        return plot_history(self.history, best_epoch=self.best_epoch, **kwargs)


def fit(
    model: nn.Module,
    train_data: Any,
    val_data: Any = None,
    config: TrainConfig | None = None,
    *,
    param_groups: Sequence[dict[str, Any]] | None = None,
) -> FitResult:
    """Train ``model`` in place with the loss of ``config.loss`` (cross-entropy by default).

    The model is never re-initialised: it starts from the weights it has (or from the
    checkpoint, when ``config.resume`` finds one). It is moved to the config's device
    and left in evaluation mode; with ``restore_best`` it ends with the weights of its
    best epoch.

    Parameters
    ----------
    model : torch.nn.Module
        The network, already built (and initialised) by the caller.
    train_data, val_data : Dataset or (inputs, targets) tensors
        Training data, reshuffled every epoch (seeded), and optional held-out data
        evaluated after every epoch.
    config : TrainConfig, optional
        Hyperparameters and options; ``TrainConfig()`` if omitted.
    param_groups : list of dict, optional
        Torch-style parameter groups (``{"params": ..., "lr": ...}``), e.g. a backbone
        with a lower learning rate than the head. Options a group omits come from the
        config; parameters in no group and frozen parameters are not trained.

    Returns
    -------
    FitResult
        History (keys listed in :class:`FitResult`), best epoch, timings, images per
        second, device, seed.

    Notes
    -----
    Under ``torchrun`` (``WORLD_SIZE > 1``) each process trains on its own shard of
    every batch (``config.batch_size`` is the global batch, split evenly) and
    DistributedDataParallel averages the gradients, so the run follows the same
    trajectory as one process with the same config, up to rounding (models with dropout
    or batch normalisation draw different noise per process).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> model = nn.Linear(2, 2)
    >>> result = fit(model, (x, y), (x, y), TrainConfig(epochs=5, batch_size=16, lr=0.5,
    ...                                                 device="cpu"))
    >>> result.history["train_loss"][-1] < result.history["train_loss"][0]
    True
    >>> result.history["val_acc"][-1] > 0.9
    True
    """
    config = config if config is not None else TrainConfig()
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    train_set = _as_dataset(train_data, "train_data")
    val_set = _as_dataset(val_data, "val_data") if val_data is not None else None
    if config.patience is not None and val_set is None:
        raise ValueError("patience (early stopping) needs val_data to monitor")
    if config.restore_best and val_set is None:
        raise ValueError("restore_best needs val_data to tell which epoch was best")
    started = time.perf_counter()
    with process_group(config.device):
        ctx = RunContext.create(config.device, config.amp, config.channels_last)
        if config.batch_size % ctx.world:
            raise ValueError(
                f"batch_size={config.batch_size} is the global batch and must divide "
                f"evenly among {ctx.world} processes"
            )
        return _fit(model, train_set, val_set, config, param_groups, ctx, started)


def _fit(model: nn.Module, train_set: Dataset, val_set: Dataset | None, config: TrainConfig,
         param_groups: Any, ctx: RunContext, started: float) -> FitResult:
    seed_everything(config.seed + ctx.rank)
    model.to(ctx.device)
    if ctx.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model, config, param_groups)
    scheduler = build_scheduler(optimizer, config)
    best = _Best(config)
    checkpoint = Path(config.checkpoint).expanduser() if config.checkpoint else None
    start_epoch = 0
    if config.resume and checkpoint is not None and checkpoint.exists():
        start_epoch = _resume(checkpoint, model, optimizer, scheduler, best, ctx)
    net = _wrap(model, config, ctx)
    train_loader, val_loader = _loaders(train_set, val_set, config, ctx)
    steps = min(len(train_loader), config.max_steps_per_epoch or len(train_loader))

    train_time, images_seen, epochs_run = 0.0, 0, 0
    with _progress_bar(steps * (config.epochs - start_epoch), config, ctx.rank) as bar:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            bar.set_description(f"época {epoch}/{config.epochs}")
            epoch_start = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            train_loader.sampler.set_epoch(epoch)  # a new seeded order every epoch
            train_loss, train_metric, n = train_epoch(net, train_loader, optimizer, config.loss,
                                                      ctx, steps=steps, bar=bar)
            train_time += time.perf_counter() - epoch_start
            images_seen += n
            if scheduler is not None:
                scheduler.step()
            val_loss = val_metric = math.nan
            if val_loader is not None:
                # Under DDP evaluate the bare model: DDP's forward is a collective call,
                # and the ranks' shards of the validation data may differ by one.
                val_loss, val_metric, _ = _evaluate_loader(net if ctx.world == 1 else model,
                                                           val_loader, config.loss, ctx)
                best.update(epoch, val_loss, val_metric, model)
            best.record(epoch=epoch, train_loss=train_loss, train_metric=train_metric,
                        val_loss=val_loss, val_metric=val_metric, lr=lr,
                        epoch_time_s=time.perf_counter() - epoch_start)
            bar.set_postfix(best.postfix())
            epochs_run += 1
            if checkpoint is not None:
                _save(checkpoint, epoch, model, optimizer, scheduler, best, config, ctx)
            if best.should_stop():
                break

    if best.restore():
        model.load_state_dict(best.state)
    model.eval()
    return FitResult(
        history=best.history, epochs_run=epochs_run, best_epoch=best.epoch,
        best_value=best.best_value(), stopped_early=best.should_stop(),
        restored_best=best.restore(), train_time_s=train_time,
        total_time_s=time.perf_counter() - started,
        images_per_second=images_seen / train_time if train_time > 0 else math.nan,
        device=str(ctx.device), device_name=ctx.device_name, world_size=ctx.world,
        seed=config.seed, resumed_from_epoch=start_epoch, config=config.to_dict(),
    )


def train_epoch(
    net: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    loss: str = "cross_entropy",
    ctx: RunContext | None = None,
    *,
    steps: int | None = None,
    bar: Any = None,
) -> tuple[float, float, int]:
    """One pass over the training data; returns (mean loss, mean metric, examples).

    The metric is accuracy for classification losses and mean absolute error for
    regression (see :mod:`cnncourse.train.losses`). Under DDP the three numbers are
    summed over all processes.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(32, 2); y = (x[:, 0] > 0).long()
    >>> net = nn.Linear(2, 2)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.5)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=8)
    >>> first = train_epoch(net, loader, opt)[0]
    >>> second = train_epoch(net, loader, opt)[0]
    >>> second < first
    True
    """
    ctx = ctx if ctx is not None else RunContext(torch.device("cpu"))
    net.train()
    totals = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss, metric, count
    for step, (x, y) in enumerate(loader):
        if steps is not None and step >= steps:
            break
        x, y = ctx.move(x, y)
        with ctx.autocast():
            out = net(x)
        losses = per_example_loss(loss, out, y)  # shape (N,), float32
        optimizer.zero_grad(set_to_none=True)
        losses.mean().backward()
        optimizer.step()
        # Accumulate on the device: no .item(), no host sync per step.
        totals[0] += losses.detach().sum()
        totals[1] += per_example_metric(loss, out.detach(), y).sum()
        totals[2] += len(y)
        if bar is not None:
            bar.update(1)
    loss_sum, metric_sum, n = ctx.all_reduce(totals).tolist()  # the epoch's one sync
    if n == 0:
        return math.nan, math.nan, 0
    return loss_sum / n, metric_sum / n, int(n)


def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    loss: str = "cross_entropy",
) -> dict[str, float]:
    """Mean loss and metric of ``model`` on ``data``.

    ``data`` is a Dataset or a pair of tensors ``(inputs, targets)``. Returns
    ``{"loss", "accuracy", "n"}`` for the classification losses and
    ``{"loss", "mae", "n"}`` for ``'l1'`` and ``'mse'``. The model is moved to
    ``device`` (default: where its parameters are) and left in evaluation mode.

    Examples
    --------
    >>> model = nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.eye(2)); _ = model.bias.zero_()
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> evaluate(model, (x, torch.tensor([0, 1, 1])))["accuracy"]
    0.6666666666666666
    """
    dataset = _as_dataset(data, "data")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_choice("loss", loss, tuple(LOSSES))
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    ctx = RunContext(device, amp=device.type == "cuda")
    mean_loss, metric, n = _evaluate_loader(model, DataLoader(dataset, batch_size=batch_size),
                                            loss, ctx)
    return {"loss": mean_loss, "accuracy" if LOSSES[loss] == "acc" else "mae": metric, "n": n}


def _evaluate_loader(model: nn.Module, loader: DataLoader, loss: str,
                     ctx: RunContext) -> tuple[float, float, int]:
    """(mean loss, mean metric, examples) over all ranks; one host sync at the end."""
    totals = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss, metric, count
    model.eval()
    with torch.inference_mode():
        for x, y in loader:
            x, y = ctx.move(x, y)
            with ctx.autocast():
                out = model(x)
            totals[0] += per_example_loss(loss, out, y).sum()
            totals[1] += per_example_metric(loss, out, y).sum()
            totals[2] += len(y)
    loss_sum, metric_sum, n = ctx.all_reduce(totals).tolist()
    if n == 0:
        return math.nan, math.nan, 0
    return loss_sum / n, metric_sum / n, int(n)


# --- the bookkeeping around the loop --------------------------------------------------


class _Best:
    """History, best epoch of the monitored metric, and early stopping."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.metric = config.metric
        self.sign = 1.0 if MONITORS[config.monitor] == "min" else -1.0
        self.history: dict[str, list[float]] = {
            k: [] for k in ("epoch", "train_loss", f"train_{self.metric}", "val_loss",
                            f"val_{self.metric}", "lr", "epoch_time_s")}
        self.value, self.epoch, self.bad_epochs = math.inf, None, 0
        self.state: dict[str, torch.Tensor] | None = None

    def record(self, *, train_metric: float, val_metric: float, **values: float) -> None:
        values.update({f"train_{self.metric}": train_metric, f"val_{self.metric}": val_metric})
        for key, column in self.history.items():
            column.append(values[key])

    def update(self, epoch: int, val_loss: float, val_metric: float, model: nn.Module) -> None:
        value = self.sign * (val_loss if self.config.monitor == "val_loss" else val_metric)
        if value < self.value:
            self.value, self.epoch, self.bad_epochs = value, epoch, 0
            if self.config.restore_best:
                self.state = state_on_cpu(model)
        else:
            self.bad_epochs += 1

    def best_value(self) -> float | None:
        return self.sign * self.value if self.epoch is not None else None

    def should_stop(self) -> bool:
        return self.config.patience is not None and self.bad_epochs >= self.config.patience

    def restore(self) -> bool:
        return self.config.restore_best and self.state is not None

    def postfix(self) -> dict[str, str]:
        """The progress bar's last-epoch numbers, in Spanish and written as the book
        writes them (``pérdida=1,113, exactitud_val=75,0 %``)."""
        out = {"pérdida": fmt.num(self.history["train_loss"][-1], 3)}
        val = self.history[f"val_{self.metric}"][-1]
        if not math.isnan(val):
            if self.metric == "acc":
                out["exactitud_val"] = fmt.pct(val)
            else:
                out["mae_val"] = fmt.num(val, 3)
        return out

    def to_checkpoint(self) -> dict[str, Any]:
        return {"history": self.history, "best_epoch": self.epoch,
                "best_value": self.best_value(), "bad_epochs": self.bad_epochs,
                "best_state": self.state}

    def load(self, state: dict[str, Any]) -> None:
        self.history, self.epoch = state["history"], state["best_epoch"]
        self.bad_epochs, self.state = state["bad_epochs"], state.get("best_state")
        self.value = self.sign * state["best_value"] if self.epoch is not None else math.inf


def _save(path: Path, epoch: int, model: nn.Module, optimizer: Any, scheduler: Any,
          best: _Best, config: TrainConfig, ctx: RunContext) -> None:
    rng = gather_rng_states(ctx.world)  # a collective call: every rank takes part
    if ctx.rank == 0:
        save_checkpoint(path, {
            "epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler else None,
            **best.to_checkpoint(), "rng": rng, "config": config.to_dict(),
        })


def _resume(path: Path, model: nn.Module, optimizer: Any, scheduler: Any, best: _Best,
            ctx: RunContext) -> int:
    """Load the checkpoint into the run; returns the epoch it had reached."""
    state = load_checkpoint(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    best.load(state)
    if len(state["rng"]) == ctx.world:
        set_rng_state(state["rng"][ctx.rank])
    return state["epoch"]


def _wrap(model: nn.Module, config: TrainConfig, ctx: RunContext) -> nn.Module:
    """The module the loop calls: DistributedDataParallel and/or torch.compile."""
    net = model
    if ctx.world > 1:
        net = DistributedDataParallel(
            model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    return torch.compile(net) if config.compile else net


def _loaders(train_set: Dataset, val_set: Dataset | None, config: TrainConfig,
             ctx: RunContext) -> tuple[DataLoader, DataLoader | None]:
    # One process uses the same sampler with a single replica: the same seeded order,
    # so a DDP run and a one-process run see the same examples in each global batch.
    sampler = DistributedSampler(train_set, num_replicas=ctx.world, rank=ctx.rank,
                                 shuffle=True, seed=config.seed)
    train = _loader(train_set, config.batch_size // ctx.world, sampler, config, ctx)
    if val_set is None:
        return train, None
    eval_batch = config.eval_batch_size or max(2 * config.batch_size, 256)
    val = _loader(val_set, max(1, eval_batch // ctx.world),
                  ShardSampler(len(val_set), ctx.rank, ctx.world), config, ctx)
    return train, val


def _loader(dataset: Dataset, batch: int, sampler: Any, config: TrainConfig,
            ctx: RunContext) -> DataLoader:
    return DataLoader(dataset, batch_size=batch, sampler=sampler,
                      num_workers=config.num_workers, pin_memory=ctx.device.type == "cuda",
                      persistent_workers=config.num_workers > 0)


def _as_dataset(data: Any, name: str) -> Dataset:
    if isinstance(data, tuple) and len(data) == 2 and all(
        isinstance(t, torch.Tensor) for t in data
    ):
        return TensorDataset(*data)
    if isinstance(data, DataLoader):
        raise TypeError(
            f"{name} must be a Dataset or a pair of tensors (inputs, labels), not a "
            "DataLoader: fit builds its own loaders (batch size, sampler, workers) from "
            "the config; pass loader.dataset instead"
        )
    if not (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        raise TypeError(
            f"{name} must be a torch Dataset or a pair of tensors (inputs, labels), "
            f"got {type(data).__name__}"
        )
    if len(data) == 0:
        raise ValueError(f"{name} is empty")
    return data


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _progress_bar(total: int, config: TrainConfig, rank: int) -> tqdm:
    """The training progress bar: only on rank 0; off in CI (``$CI``) unless
    ``config.progress`` says otherwise; in a terminal, on stderr if it is interactive.

    In Jupyter it is plain text on stdout rather than a widget: it updates in place in
    JupyterLab, Colab and VS Code, and an executed notebook (the built book) keeps its
    final line without needing any widget JavaScript.
    """
    jupyter = _in_jupyter()
    if rank != 0:
        show = False
    elif config.progress is not None:
        show = config.progress
    elif os.environ.get("CI"):
        show = False
    else:
        show = jupyter or sys.stderr.isatty()
    return tqdm(total=total, unit="lote", disable=not show,
                file=sys.stdout if jupyter else sys.stderr,
                ncols=100 if jupyter else None, dynamic_ncols=not jupyter)
