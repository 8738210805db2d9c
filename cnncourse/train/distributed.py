"""Where a run happens: device, processes (DistributedDataParallel) and random numbers.

Under ``torchrun`` (``WORLD_SIZE > 1``) every process trains on its shard of each batch
and DistributedDataParallel averages the gradients; ``gloo`` on the CPU, ``nccl`` on
GPUs. :func:`process_group` sets the group up when the caller has not, and tears it
down again. :class:`RunContext` carries the device, the rank and the hardware options
(autocast, ``channels_last``) to the training loop.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

from cnncourse._validate import check_int

__all__ = ["seed_everything", "RunContext", "process_group", "rng_state", "set_rng_state",
           "gather_rng_states", "ShardSampler"]


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


# --- random-number state (checkpoints) ------------------------------------------------


def rng_state() -> dict[str, Any]:
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


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(_bytes_to_state(state["torch"]))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_bytes_to_state(s) for s in state["cuda"]])


def _bytes_to_state(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def gather_rng_states(world: int) -> list[dict[str, Any]]:
    """The random-number state of every process, in rank order (a collective call)."""
    if world == 1:
        return [rng_state()]
    states: list[Any] = [None] * world
    dist.all_gather_object(states, rng_state())
    return states


# --- processes and device -------------------------------------------------------------


@dataclass
class RunContext:
    """The device a run uses, its rank among ``world`` processes, and the CUDA-only
    options (bfloat16 autocast, ``channels_last``) already resolved for that device."""

    device: torch.device
    rank: int = 0
    world: int = 1
    amp: bool = False
    channels_last: bool = False

    @classmethod
    def create(cls, device: str | None, amp: bool, channels_last: bool) -> RunContext:
        """The context of this process: rank and world from the process group (if
        any), the requested device (``None``: CUDA when available), one GPU per local
        rank."""
        rank, world, local_rank = 0, 1, 0
        if dist.is_available() and dist.is_initialized():
            rank, world = dist.get_rank(), dist.get_world_size()
            local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
        dev = torch.device(device if device is not None
                           else "cuda" if torch.cuda.is_available() else "cpu")
        if dev.type == "cuda" and dev.index is None:
            dev = torch.device("cuda", local_rank if world > 1 else torch.cuda.current_device())
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        on_cuda = dev.type == "cuda"
        return cls(dev, rank, world, amp=amp and on_cuda,
                   channels_last=channels_last and on_cuda)

    @property
    def device_name(self) -> str:
        """The GPU's name, or the CPU's architecture and thread count."""
        if self.device.type == "cuda":
            return torch.cuda.get_device_name(self.device)
        return f"{platform.machine()} CPU, {torch.get_num_threads()} threads"

    def autocast(self) -> Any:
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                              enabled=self.amp)

    def move(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch on the run's device (asynchronous copies on CUDA)."""
        non_blocking = self.device.type == "cuda"
        if self.channels_last and x.ndim == 4:
            x = x.to(self.device, non_blocking=non_blocking, memory_format=torch.channels_last)
        else:
            x = x.to(self.device, non_blocking=non_blocking)
        return x, y.to(self.device, non_blocking=non_blocking)

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over all processes, in place (nothing to do for one process)."""
        if self.world > 1:
            dist.all_reduce(t)
        return t


@contextlib.contextmanager
def process_group(device: str | None) -> Iterator[None]:
    """Join the process group ``torchrun`` prepared (``WORLD_SIZE > 1``) unless the
    caller already did, and leave it on exit; a plain run does nothing.

    On CUDA each process takes the GPU of its ``LOCAL_RANK``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    created = False
    if world > 1 and not dist.is_initialized():
        use_cuda = device != "cpu" and torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        created = True
    try:
        yield
    finally:
        if created:
            dist.destroy_process_group()


@contextlib.contextmanager
def rank_zero_first() -> Iterator[None]:
    """Run the block in rank 0 first and in the other processes after it (a download
    made once, not by every process at the same time); one process just runs it.

    Examples
    --------
    >>> with rank_zero_first():
    ...     print("downloaded")
    downloaded
    """
    distributed = dist.is_available() and dist.is_initialized()
    rank = dist.get_rank() if distributed else 0
    if distributed and rank != 0:
        dist.barrier()
    yield
    if distributed and rank == 0:
        dist.barrier()


class ShardSampler(torch.utils.data.Sampler):
    """Indices ``rank, rank + world, ...``: every example exactly once across ranks
    (for evaluation, where DistributedSampler's padding would count some twice)."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.indices = range(rank, n, world)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
