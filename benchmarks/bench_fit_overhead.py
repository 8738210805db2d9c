"""Benchmark: what :func:`cnncourse.train.fit` costs over a bare PyTorch loop.

Both train the same small CNN from the same initial weights on the same tensors with
the same optimiser (SGD, momentum 0.9, weight decay 5e-4, fused as ``fit`` builds it),
the same batch size and the same seed, on one CPU thread. The bare loop is the ten
lines every PyTorch tutorial shows::

    for epoch in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

``fit`` does the same plus its bookkeeping: the seeded sampler, per-example losses and
accuracy accumulated on the device, history, timings, the result object (no
validation data, no progress bar, no checkpoint). The two are timed alternately
(bare, fit, fit, bare, ...) so that a change in the machine's load hits both alike;
the ratio of the medians is the overhead, and the per-pair ratios give its spread.
Both wall-clock time and the process's CPU time are measured: on a machine shared with
other work the CPU time (one thread) is the steadier of the two.

Usage::

    python benchmarks/bench_fit_overhead.py                 # about half a minute
    python benchmarks/bench_fit_overhead.py --repeats 11 --json overhead.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from cnncourse.train import TrainConfig, fit

LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4


def small_cnn(num_classes: int = 10) -> nn.Module:
    """Two 3x3 convolutions with pooling and a linear head, for 3x32x32 inputs."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16x16x16
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32x8x8
        nn.Flatten(), nn.Linear(32 * 8 * 8, num_classes),
    )


def bare_loop(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
              batch_size: int, seed: int) -> None:
    """A plain PyTorch training loop."""
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                                weight_decay=WEIGHT_DECAY, fused=True)
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    float(loss.detach())  # wait for the last step, as fit does when it reads its totals


def with_fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
             batch_size: int, seed: int) -> None:
    """:func:`cnncourse.train.fit` doing the same training."""
    config = TrainConfig(epochs=epochs, batch_size=batch_size, optimizer="sgd", lr=LR,
                         momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, device="cpu",
                         seed=seed, progress=False)
    fit(model, (x, y), None, config)


def timed(run, *args, **kwargs) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed pairs (odd: a true median)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    args = parser.parse_args()

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.images, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (args.images,), generator=g)
    torch.manual_seed(args.seed)
    initial = small_cnn()
    runs = {"bare": bare_loop, "fit": with_fit}
    options = dict(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
    for run in runs.values():  # warm-up: first-call allocations and kernel selection
        run(copy.deepcopy(initial), x, y, **{**options, "epochs": 1})

    times = {clock: {"bare": [], "fit": []} for clock in ("wall", "cpu")}
    for r in range(args.repeats):
        order = ("bare", "fit") if r % 2 == 0 else ("fit", "bare")
        for name in order:
            wall, cpu = timed(runs[name], copy.deepcopy(initial), x, y, **options)
            times["wall"][name].append(wall)
            times["cpu"][name].append(cpu)
    steps = args.epochs * -(-args.images // args.batch_size)
    summary = {"steps_per_run": steps, "threads": torch.get_num_threads(),
               "torch": torch.__version__, "args": vars(args)}
    print(f"{args.repeats} interleaved pairs, {steps} steps each, 1 CPU thread")
    for clock, by_run in times.items():
        ratios = [f / b for f, b in zip(by_run["fit"], by_run["bare"])]
        median = {name: statistics.median(t) for name, t in by_run.items()}
        summary[clock] = {
            "median_s": median, "all_s": by_run,
            "ratio_of_medians": median["fit"] / median["bare"],
            "pair_ratios": {"min": min(ratios), "median": statistics.median(ratios),
                            "max": max(ratios)},
        }
        for name, t in by_run.items():
            print(f"  {clock:4s} {name:4s}: median {median[name]:.3f} s "
                  f"({1e3 * median[name] / steps:.2f} ms/step), min {min(t):.3f}, "
                  f"max {max(t):.3f}")
        p = summary[clock]["pair_ratios"]
        print(f"  {clock:4s} fit / bare: {summary[clock]['ratio_of_medians']:.3f} (ratio of "
              f"medians); per pair min {p['min']:.3f}, median {p['median']:.3f}, "
              f"max {p['max']:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
