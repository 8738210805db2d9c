"""Training loop of the course: :class:`TrainConfig` and :func:`fit`.

``fit`` trains a classifier it is given (it never re-initialises it) and returns what
it measured: the per-epoch history, timings, images per second, the device and the
seed. Around the plain loop (forward, loss, backward, step) it adds what real training
needs, each switched on by the config:

- evaluation on held-out data after every epoch, and early stopping on it;
- checkpoints that hold everything needed to resume exactly (model, optimiser,
  scheduler, epoch, history, random-number state);
- on CUDA: bfloat16 autocast, ``channels_last`` memory format, optional
  ``torch.compile``;
- several processes with DistributedDataParallel when started by ``torchrun``
  (``gloo`` on the CPU, ``nccl`` on GPUs); only rank 0 shows progress and writes
  checkpoints.

The loss and the number of correct predictions are accumulated on the device and read
back once per epoch: nothing in the loop waits for the device step by step.

Two *profiles* size the work: ``quick`` (CPU, small data, about a minute) and
``full`` (GPU, the real dataset and schedule). :func:`resolve_profile` picks ``full``
when CUDA is present and ``quick`` otherwise; the environment variable
``CNNCOURSE_PROFILE`` overrides it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from cnncourse._validate import check_int

__all__ = [
    "PROFILES",
    "PROFILE_ENV",
    "resolve_profile",
    "TrainConfig",
    "FitResult",
    "fit",
    "evaluate",
    "seed_everything",
    "init_weights",
    "Recipe",
    "alexnet_recipe",
    "REFERENCE_DIR",
    "run_record",
    "load_reference",
]

PROFILES = ("quick", "full")
PROFILE_ENV = "CNNCOURSE_PROFILE"
_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
_MONITORS = {"val_loss": "min", "val_acc": "max"}


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
    """Everything :func:`fit` needs besides the model and the data.

    Defaults follow the AlexNet paper where it has one (SGD, momentum 0.9, weight decay
    5e-4, learning rate 0.01 divided by 10 at milestones, batch 128).

    Examples
    --------
    >>> TrainConfig(epochs=3, lr=0.1).optimizer
    'sgd'
    >>> TrainConfig(optimizer="sdg")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('sgd', 'adam', 'adamw', 'rmsprop'), got 'sdg'
    """

    # -- optimisation -----------------------------------------------------------------
    epochs: int = 10  # passes over the training data
    batch_size: int = 128  # examples per step, all processes together (global batch)
    optimizer: str = "sgd"  # 'sgd' (with momentum), 'adam', 'adamw' or 'rmsprop'
    lr: float = 0.01  # learning rate at the start
    momentum: float = 0.9  # SGD momentum (ignored by the other optimisers)
    weight_decay: float = 5e-4  # L2 penalty on all parameters
    lr_milestones: tuple[int, ...] = ()  # epochs after which the lr is multiplied by...
    lr_gamma: float = 0.1  # ...this factor (step decay); () keeps the lr constant
    # -- evaluation and early stopping -----------------------------------------------
    monitor: str = "val_loss"  # 'val_loss' (lower is better) or 'val_acc' (higher)
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
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self.lr_milestones = tuple(
            check_int(f"lr_milestones[{i}]", m, minimum=1)
            for i, m in enumerate(self.lr_milestones)
        )
        if list(self.lr_milestones) != sorted(set(self.lr_milestones)):
            raise ValueError(
                f"lr_milestones must be increasing epochs, got {self.lr_milestones!r}"
            )
        if not 0 < self.lr_gamma <= 1:
            raise ValueError(f"lr_gamma must be in (0, 1], got {self.lr_gamma!r}")
        if self.monitor not in _MONITORS:
            raise ValueError(f"monitor must be one of {tuple(_MONITORS)}, got {self.monitor!r}")
        if self.patience is not None:
            check_int("patience", self.patience, minimum=1)
        if self.eval_batch_size is not None:
            check_int("eval_batch_size", self.eval_batch_size, minimum=1)
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs checkpoint='path/to/file.pt' to resume from")
        check_int("seed", self.seed, minimum=0)
        check_int("num_workers", self.num_workers, minimum=0)
        if self.max_steps_per_epoch is not None:
            check_int("max_steps_per_epoch", self.max_steps_per_epoch, minimum=1)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (JSON-friendly)."""
        out = dataclasses.asdict(self)
        out["lr_milestones"] = list(self.lr_milestones)
        return out


@dataclass
class FitResult:
    """What :func:`fit` measured.

    ``history`` maps ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``,
    ``val_acc`` (NaN without validation data), ``lr`` and ``epoch_time_s`` (training
    and evaluation) to one value per epoch, from the first epoch of the whole run (a
    resumed run includes the epochs before the interruption).
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
        from cnncourse.plot import plot_history

        return plot_history(self.history, best_epoch=self.best_epoch, **kwargs)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and CUDA).

    Examples
    --------
    >>> seed_everything(0); a = torch.rand(1)
    >>> seed_everything(0); bool(torch.rand(1) == a)
    True
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


_INITS = ("kaiming", "xavier", "normal")


def init_weights(
    model: nn.Module,
    scheme: str = "kaiming",
    *,
    std: float = 0.01,
    last_std: float | None = None,
) -> nn.Module:
    """Re-draw the weights of every convolution and fully connected layer; biases to 0.

    ``fit`` never calls this: initialising is the caller's explicit choice.

    - ``'kaiming'`` (He et al., 2015): ``N(0, 2 / fan_in)``, which keeps the variance
      of the activations from layer to layer in a ReLU network;
    - ``'xavier'`` (Glorot and Bengio, 2010): ``N(0, 2 / (fan_in + fan_out))``, made
      for tanh and sigmoid;
    - ``'normal'``: ``N(0, std**2)`` for every layer, as in the AlexNet paper (``std``
      0.01), whatever its size.

    ``last_std`` draws the last fully connected layer (the class scores) from
    ``N(0, last_std**2)`` instead (0: all zeros): small scores at the start make every
    class about equally likely, so training does not begin by undoing a confident
    random guess.
    Returns the model (modified in place).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> layer = init_weights(nn.Sequential(nn.Linear(1000, 1000)), "kaiming")[0]
    >>> round(float(layer.weight.detach().std()) ** 2 * 1000, 1)  # variance x fan_in
    2.0
    """
    if scheme not in _INITS:
        raise ValueError(f"scheme must be one of {_INITS}, got {scheme!r}")
    if not std > 0:
        raise ValueError(f"std must be > 0, got {std!r}")
    if last_std is not None and not last_std >= 0:
        raise ValueError(f"last_std must be >= 0 or None, got {last_std!r}")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif scheme == "xavier":
                nn.init.xavier_normal_(module.weight)
            else:
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if last_std is not None and linears:
        if last_std == 0:
            nn.init.zeros_(linears[-1].weight)
        else:
            nn.init.normal_(linears[-1].weight, mean=0.0, std=last_std)
    return model


def _rng_state() -> dict[str, Any]:
    """Every random-number generator's state as plain Python objects (bytes, ints),
    so that it pickles through ``all_gather_object`` and into checkpoints."""
    name, keys, *rest = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (name, keys.tolist(), *rest),
        "torch": torch.get_rng_state().numpy().tobytes(),
        "cuda": [s.numpy().tobytes() for s in torch.cuda.get_rng_state_all()]
        if torch.cuda.is_available() else [],
    }


def _bytes_to_state(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(_bytes_to_state(state["torch"]))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_bytes_to_state(s) for s in state["cuda"]])


def _as_dataset(data: Any, name: str) -> torch.utils.data.Dataset:
    if isinstance(data, tuple) and len(data) == 2 and all(
        isinstance(t, torch.Tensor) for t in data
    ):
        return torch.utils.data.TensorDataset(*data)
    if isinstance(data, torch.utils.data.DataLoader):
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


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads"


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _progress_bar(total: int, config: TrainConfig, rank: int) -> Any:
    """The training progress bar: only on rank 0; off in CI (``$CI``) unless
    ``config.progress`` says otherwise; in a terminal, on stderr if it is interactive.

    In Jupyter it is plain text on stdout rather than a widget: it updates in place in
    JupyterLab, Colab and VS Code, and an executed notebook (the built book) keeps its
    final line without needing any widget JavaScript.
    """
    from tqdm import tqdm

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


class _ShardSampler(torch.utils.data.Sampler):
    """Indices ``rank, rank + world, ...``: every example exactly once across ranks
    (for evaluation, where DistributedSampler's padding would count some twice)."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.indices = range(rank, n, world)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


@dataclass
class _Context:
    device: torch.device
    rank: int
    world: int
    amp: bool
    channels_last: bool

    def autocast(self) -> Any:
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                              enabled=self.amp)

    def move(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        non_blocking = self.device.type == "cuda"
        if self.channels_last and x.ndim == 4:
            x = x.to(self.device, non_blocking=non_blocking, memory_format=torch.channels_last)
        else:
            x = x.to(self.device, non_blocking=non_blocking)
        return x, y.to(self.device, non_blocking=non_blocking)

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(t)
        return t


def _distributed_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment variables."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return rank, world, local


def _build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters (all have requires_grad=False)")
    if config.optimizer == "rmsprop":  # no fused implementation
        return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)
    cls, options = {
        "sgd": (torch.optim.SGD, {"momentum": config.momentum}),
        "adam": (torch.optim.Adam, {}),
        "adamw": (torch.optim.AdamW, {}),
    }[config.optimizer]
    options.update(lr=config.lr, weight_decay=config.weight_decay)
    # The fused kernels update all parameters in one pass: ten times faster than the
    # default on a CPU for a model of AlexNet's size. Fall back where unsupported.
    if all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params):
        try:
            return cls(params, fused=True, **options)
        except (RuntimeError, TypeError, ValueError):
            pass
    return cls(params, **options)


def _loader(dataset: Any, batch: int, sampler: Any, config: TrainConfig,
            device: torch.device) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch,
        sampler=sampler,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=config.num_workers > 0,
    )


def _run_eval(model: nn.Module, loader: Any, ctx: _Context) -> tuple[float, float, int]:
    """(mean loss, accuracy, examples) over all ranks; one host sync at the end."""
    totals = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss, correct, n
    model.eval()
    with torch.inference_mode():
        for x, y in loader:
            x, y = ctx.move(x, y)
            with ctx.autocast():
                logits = model(x)
            loss = nn.functional.cross_entropy(logits.float(), y, reduction="sum")
            totals[0] += loss
            totals[1] += (logits.argmax(dim=1) == y).sum()
            totals[2] += y.shape[0]
    loss_sum, correct, n = ctx.all_reduce(totals).tolist()
    if n == 0:
        return math.nan, math.nan, 0
    return loss_sum / n, correct / n, int(n)


def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``data``.

    ``data`` is a Dataset or a pair of tensors ``(inputs, labels)``. The model is moved
    to ``device`` (default: where its parameters are) and left in evaluation mode.

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
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    ctx = _Context(device, 0, 1, amp=device.type == "cuda", channels_last=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
    loss, acc, n = _run_eval(model, loader, ctx)
    return {"loss": loss, "accuracy": acc, "n": n}


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash while writing never leaves a half-written checkpoint


def _state_on_cpu(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    train_data: Any,
    val_data: Any = None,
    config: TrainConfig | None = None,
) -> FitResult:
    """Train ``model`` (a classifier returning logits) with cross-entropy loss.

    The model is trained in place and never re-initialised: it starts from the weights
    it has (or from the checkpoint, when ``config.resume`` finds one). It is moved to
    the config's device and left in evaluation mode; with ``restore_best`` it ends with
    the weights of its best epoch.

    Parameters
    ----------
    model : torch.nn.Module
        The network, already built (and initialised) by the caller.
    train_data, val_data : Dataset or (inputs, labels) tensors
        Training data, reshuffled every epoch (seeded), and optional held-out data
        evaluated after every epoch.
    config : TrainConfig, optional
        Hyperparameters and options; ``TrainConfig()`` if omitted.

    Returns
    -------
    FitResult
        History, best epoch, timings, images per second, device, seed.

    Notes
    -----
    Under ``torchrun`` (``WORLD_SIZE > 1``) each process trains on its own shard of
    every batch (``config.batch_size`` is the global batch, split evenly) and
    DistributedDataParallel averages the gradients, so the run follows the same
    trajectory as one process with the same config, up to rounding (models with dropout
    or batch normalisation draw different noise per process). The process group is set
    up here if the caller has not done it, and torn down at the end in that case.

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
    rank, world, local_rank = _distributed_env()
    created_group = False
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            use_cuda = config.device != "cpu" and torch.cuda.is_available()
            dist.init_process_group(backend="nccl" if use_cuda else "gloo")
            created_group = True
        rank, world = dist.get_rank(), dist.get_world_size()
    if config.batch_size % world:
        raise ValueError(
            f"batch_size={config.batch_size} is the global batch and must divide evenly "
            f"among {world} processes"
        )

    if config.device is not None:
        device = torch.device(config.device)
    else:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank if world > 1 else torch.cuda.current_device())
    if device.type == "cuda":
        torch.cuda.set_device(device)
    on_cuda = device.type == "cuda"
    ctx = _Context(device, rank, world, amp=config.amp and on_cuda,
                   channels_last=config.channels_last and on_cuda)

    try:
        return _fit(model, train_set, val_set, config, ctx, started)
    finally:
        if created_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def _fit(model: nn.Module, train_set: Any, val_set: Any, config: TrainConfig,
         ctx: _Context, started: float) -> FitResult:
    from torch.utils.data.distributed import DistributedSampler

    seed_everything(config.seed + ctx.rank)
    model.to(ctx.device)
    if ctx.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = _build_optimizer(model, config)
    scheduler = (
        torch.optim.lr_scheduler.MultiStepLR(optimizer, list(config.lr_milestones),
                                             gamma=config.lr_gamma)
        if config.lr_milestones else None
    )

    history: dict[str, list[float]] = {
        k: [] for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                        "epoch_time_s")
    }
    sign = 1.0 if _MONITORS[config.monitor] == "min" else -1.0
    best_value, best_epoch, best_state, bad_epochs = math.inf, None, None, 0
    start_epoch = 0
    checkpoint = Path(config.checkpoint).expanduser() if config.checkpoint else None

    if config.resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        history = state["history"]
        start_epoch = state["epoch"]
        best_epoch, bad_epochs = state["best_epoch"], state["bad_epochs"]
        best_value = sign * state["best_value"] if best_epoch is not None else math.inf
        best_state = state.get("best_state")
        rng = state["rng"]
        if len(rng) == ctx.world:
            _set_rng_state(rng[ctx.rank])

    net: nn.Module = model
    if ctx.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(
            model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None
        )
    if config.compile:
        net = torch.compile(net)

    per_rank_batch = config.batch_size // ctx.world
    # One process uses the same sampler with a single replica: the same seeded order,
    # so a DDP run and a one-process run see the same examples in each global batch.
    train_sampler = DistributedSampler(train_set, num_replicas=ctx.world, rank=ctx.rank,
                                       shuffle=True, seed=config.seed)
    train_loader = _loader(train_set, per_rank_batch, train_sampler, config, ctx.device)
    val_loader = None
    if val_set is not None:
        eval_batch = config.eval_batch_size or max(2 * config.batch_size, 256)
        val_loader = _loader(val_set, max(1, eval_batch // ctx.world),
                             _ShardSampler(len(val_set), ctx.rank, ctx.world), config,
                             ctx.device)

    steps = len(train_loader)
    if config.max_steps_per_epoch is not None:
        steps = min(steps, config.max_steps_per_epoch)
    bar = _progress_bar(steps * (config.epochs - start_epoch), config, ctx.rank)

    train_time, images_seen, epochs_run, stopped_early = 0.0, 0, 0, False
    try:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            bar.set_description(f"época {epoch}/{config.epochs}")
            epoch_start = time.perf_counter()
            train_sampler.set_epoch(epoch)
            net.train()
            totals = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss, correct, n
            lr = optimizer.param_groups[0]["lr"]
            for step, (x, y) in enumerate(train_loader):
                if step >= steps:
                    break
                x, y = ctx.move(x, y)
                with ctx.autocast():
                    logits = net(x)
                    loss = nn.functional.cross_entropy(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                # Accumulate on the device: no .item(), no host sync per step.
                totals[0] += loss.detach() * y.shape[0]
                totals[1] += (logits.detach().argmax(dim=1) == y).sum()
                totals[2] += y.shape[0]
                bar.update(1)
            loss_sum, correct, n = ctx.all_reduce(totals).tolist()  # the epoch's one sync
            epoch_train_time = time.perf_counter() - epoch_start
            train_time += epoch_train_time
            images_seen += int(n)
            if scheduler is not None:
                scheduler.step()

            val_loss = val_acc = math.nan
            if val_loader is not None:
                # Under DDP evaluate the bare model: DDP's forward is a collective
                # call, and the ranks' shards of the validation data may differ by one.
                val_loss, val_acc, _ = _run_eval(net if ctx.world == 1 else model,
                                                 val_loader, ctx)
            for key, value in (("epoch", epoch), ("train_loss", loss_sum / n),
                               ("train_acc", correct / n), ("val_loss", val_loss),
                               ("val_acc", val_acc), ("lr", lr),
                               ("epoch_time_s", time.perf_counter() - epoch_start)):
                history[key].append(value)
            epochs_run += 1

            if val_loader is not None:
                value = sign * (val_loss if config.monitor == "val_loss" else val_acc)
                if value < best_value:
                    best_value, best_epoch, bad_epochs = value, epoch, 0
                    if config.restore_best:
                        best_state = _state_on_cpu(model)
                else:
                    bad_epochs += 1
            postfix = {"pérdida": f"{loss_sum / n:.3f}"}
            if val_loader is not None:
                postfix["acc_val"] = f"{val_acc:.3f}"
            bar.set_postfix(postfix)

            if checkpoint is not None:
                rng = [_rng_state()]
                if ctx.world > 1:
                    import torch.distributed as dist

                    rng = [None] * ctx.world
                    dist.all_gather_object(rng, _rng_state())
                if ctx.rank == 0:
                    _save_checkpoint(checkpoint, {
                        "format": 1,
                        "epoch": epoch,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler else None,
                        "history": history,
                        "best_epoch": best_epoch,
                        "best_value": sign * best_value if best_epoch is not None else None,
                        "bad_epochs": bad_epochs,
                        "best_state": best_state,
                        "rng": rng,
                        "config": config.to_dict(),
                    })
            if config.patience is not None and bad_epochs >= config.patience:
                stopped_early = True
                break
    finally:
        bar.close()

    restored = False
    if config.restore_best and best_state is not None:
        model.load_state_dict(best_state)
        restored = True
    model.eval()
    return FitResult(
        history=history,
        epochs_run=epochs_run,
        best_epoch=best_epoch,
        best_value=sign * best_value if best_epoch is not None else None,
        stopped_early=stopped_early,
        restored_best=restored,
        train_time_s=train_time,
        total_time_s=time.perf_counter() - started,
        images_per_second=images_seen / train_time if train_time > 0 else math.nan,
        device=str(ctx.device),
        device_name=_device_name(ctx.device),
        world_size=ctx.world,
        seed=config.seed,
        resumed_from_epoch=start_epoch,
        config=config.to_dict(),
    )


# --------------------------------------------------------------------------------------
# Recipes: the AlexNet chapter's two profiles
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """Data, model and training settings of one profile of a training chapter.

    ``dataset`` is ``'shapes'`` (generated by :func:`cnncourse.data.make_shapes`,
    offline; ``data_options`` are passed to it) or ``'imagenette'`` (downloaded by
    :func:`cnncourse.data.imagenette`); ``train_size``/``val_size`` are numbers of
    images (``None``: the whole split). ``dropout`` is the model's dropout and
    ``augment`` switches the training images' random transformations on or off.
    """

    profile: str
    dataset: str
    image_size: int
    num_classes: int
    train_size: int | None
    val_size: int | None
    config: TrainConfig
    dropout: float = 0.5
    augment: bool = True
    data_options: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    @property
    def chance(self) -> float:
        """Accuracy of guessing (balanced classes): ``1 / num_classes``."""
        return 1.0 / self.num_classes

    def datasets(self, root: str | os.PathLike | None = None) -> tuple[Any, Any]:
        """The training and validation datasets of this recipe, with their transforms.

        Generated shapes: training seed ``config.seed + 1``, validation seed
        ``config.seed + 2`` (independent images), normalised with the training
        images' channel statistics (the "zero-centre" of the layer table) and, with
        ``augment``, training images mirrored and colour-shifted. Imagenette:
        :func:`cnncourse.data.alexnet_transforms` (with ``augment``, random 227 crops of
        the image rescaled to 256, mirroring and PCA colour shift).
        """
        from cnncourse import data

        if self.dataset == "shapes":
            from torchvision.transforms import v2

            options = {"classes": data.SHAPE_CLASSES[: self.num_classes], **self.data_options,
                       "image_size": self.image_size}
            train = data.make_shapes(self.train_size, seed=self.config.seed + 1, **options)
            val = data.make_shapes(self.val_size, seed=self.config.seed + 2, **options)
            mean, std = data.channel_stats(train, max_items=200)
            val.transform = v2.Normalize(mean, std)
            train.transform = v2.Compose([v2.RandomHorizontalFlip(), data.PCALighting(0.1),
                                          v2.Normalize(mean, std)]) if self.augment else val.transform
            return train, val
        if self.dataset == "imagenette":
            train = data.imagenette(root, split="train",
                                    transform=data.alexnet_transforms(train=self.augment))
            val = data.imagenette(root, split="val",
                                  transform=data.alexnet_transforms(train=False))
            return train, val
        raise ValueError(f"dataset must be 'shapes' or 'imagenette', got {self.dataset!r}")

    def model(self) -> nn.Module:
        """A freshly initialised paper AlexNet for this recipe (seeded by the caller).

        He (Kaiming) initialisation, and class scores that start at zero
        (``last_std=0``: the first loss is ln(num_classes)); see :func:`init_weights`.
        """
        from cnncourse.models import alexnet

        net = alexnet(num_classes=self.num_classes, dropout=self.dropout)
        return init_weights(net, "kaiming", last_std=0.0)


def alexnet_recipe(profile: str | None = None) -> Recipe:
    """Settings to train the paper's AlexNet in the given profile.

    ``full`` (GPU): Imagenette's 9,469 training images at 227x227, the paper's
    optimiser (SGD, momentum 0.9, weight decay 5e-4, batch 128, learning rate 0.01
    divided by 10 twice) and dropout 0.5, shortened from the paper's 90 epochs on 1.2
    million images to 60 epochs on a dataset 127 times smaller.

    ``quick`` (CPU, about a minute on two cores): the same network at 227x227 on 144
    generated images of two shapes (circle or cross), large and centred so that a few
    dozen steps suffice: four epochs of batch 12 (48 steps) with Adam (which starts
    faster than SGD), neither dropout nor data augmentation (regularisers that only slow
    down such a short run), and the weights of the epoch with the best validation
    accuracy kept at the end.

    Examples
    --------
    >>> alexnet_recipe("full").config.lr_milestones
    (30, 50)
    >>> alexnet_recipe("quick").config.epochs
    4
    """
    profile = resolve_profile(profile)
    if profile == "full":
        return Recipe(
            profile="full",
            dataset="imagenette",
            image_size=227,
            num_classes=10,
            train_size=None,
            val_size=None,
            config=TrainConfig(epochs=60, batch_size=128, optimizer="sgd", lr=0.01,
                               momentum=0.9, weight_decay=5e-4, lr_milestones=(30, 50),
                               lr_gamma=0.1, num_workers=8, seed=0),
            dropout=0.5,
            notes="the paper's optimiser and schedule, shortened for Imagenette",
        )
    return Recipe(
        profile="quick",
        dataset="shapes",
        image_size=227,
        num_classes=2,
        train_size=144,
        val_size=64,
        config=TrainConfig(epochs=4, batch_size=12, optimizer="adam", lr=2e-4,
                           weight_decay=0.0, monitor="val_acc", restore_best=True,
                           device="cpu", seed=0),
        dropout=0.0,
        augment=False,
        data_options={"classes": ("círculo", "cruz"), "size_range": (0.6, 0.9),
                      "jitter": 0.0},
        notes="144 generated images of two shapes, Adam, no dropout or augmentation: "
              "a one-minute CPU run",
    )


# --------------------------------------------------------------------------------------
# Records of runs (reference results stored as data)
# --------------------------------------------------------------------------------------

#: Where reference results of real runs are stored (JSON, one file per run).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def run_record(result: FitResult, recipe: Recipe | None = None) -> dict[str, Any]:
    """A JSON-friendly record of a run: metrics, history, device, versions, seed, time.

    This is what a reference result is: save it with ``json.dump`` into
    :data:`REFERENCE_DIR` (``scripts/train_alexnet.py --record`` does) and show it with
    :func:`load_reference`.

    Examples
    --------
    >>> x = torch.randn(32, 2); y = (x[:, 0] > 0).long()
    >>> r = fit(nn.Linear(2, 2), (x, y), (x, y), TrainConfig(epochs=1, batch_size=8, device="cpu"))
    >>> record = run_record(r)
    >>> record["metrics"]["epochs"], record["device"], sorted(record["versions"])[:2]
    (1, 'cpu', ['cnncourse', 'cuda'])
    """
    import datetime
    import platform

    from importlib import metadata

    import torchvision

    try:
        package_version = metadata.version("cnncourse")
    except metadata.PackageNotFoundError:  # running from a source tree
        package_version = None
    h = result.history
    val_acc = [v for v in h["val_acc"] if isinstance(v, float) and math.isfinite(v)]
    metrics = {
        "epochs": len(h["epoch"]),
        "final_train_loss": h["train_loss"][-1] if h["train_loss"] else None,
        "final_train_acc": h["train_acc"][-1] if h["train_acc"] else None,
        "final_val_loss": h["val_loss"][-1] if h["val_loss"] else None,
        "final_val_acc": h["val_acc"][-1] if h["val_acc"] else None,
        "best_val_acc": max(val_acc) if val_acc else None,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
    }
    record = {
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "profile": recipe.profile if recipe else None,
        "dataset": recipe.dataset if recipe else None,
        "image_size": recipe.image_size if recipe else None,
        "num_classes": recipe.num_classes if recipe else None,
        "metrics": metrics,
        "history": h,
        "device": result.device,
        "device_name": result.device_name,
        "world_size": result.world_size,
        "seed": result.seed,
        # This call's wall time, its training steps only, and the sum of the epoch times
        # of the whole run (which differ when the run was resumed from a checkpoint).
        "time_s": {"total": result.total_time_s, "training": result.train_time_s,
                   "all_epochs": sum(h["epoch_time_s"])},
        "images_per_second": result.images_per_second,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "cuda": torch.version.cuda,
            "cnncourse": package_version,
        },
        "config": result.config,
    }
    return _json_safe(record)


def load_reference(name: str = "alexnet_full") -> dict[str, Any] | None:
    """The stored reference record ``REFERENCE_DIR/<name>.json``, or ``None`` when no
    such run has been recorded.

    Examples
    --------
    >>> load_reference("no_such_run") is None
    True
    """
    import json

    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a file name without extension, got {name!r}")
    path = REFERENCE_DIR / f"{name}.json"
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)
