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
              batch_size: int, seed: int) -> float:
    """Seconds of a plain PyTorch training loop."""
    start = time.perf_counter()
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
    return time.perf_counter() - start


def with_fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
             batch_size: int, seed: int) -> float:
    """Seconds of :func:`cnncourse.train.fit` doing the same training."""
    config = TrainConfig(epochs=epochs, batch_size=batch_size, optimizer="sgd", lr=LR,
                         momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, device="cpu",
                         seed=seed, progress=False)
    start = time.perf_counter()
    fit(model, (x, y), None, config)
    return time.perf_counter() - start


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

    times: dict[str, list[float]] = {"bare": [], "fit": []}
    for r in range(args.repeats):
        order = ("bare", "fit") if r % 2 == 0 else ("fit", "bare")
        for name in order:
            times[name].append(runs[name](copy.deepcopy(initial), x, y, **options))
    ratios = [f / b for f, b in zip(times["fit"], times["bare"])]
    median = {name: statistics.median(t) for name, t in times.items()}
    summary = {
        "median_s": median,
        "all_s": times,
        "ratio_of_medians": median["fit"] / median["bare"],
        "pair_ratios": {"min": min(ratios), "median": statistics.median(ratios),
                        "max": max(ratios)},
        "steps_per_run": args.epochs * -(-args.images // args.batch_size),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "args": vars(args),
    }
    steps = summary["steps_per_run"]
    print(f"{args.repeats} interleaved pairs, {steps} steps each, 1 CPU thread")
    for name in runs:
        t = times[name]
        print(f"  {name:4s}: median {median[name]:.3f} s ({1e3 * median[name] / steps:.2f} "
              f"ms/step), min {min(t):.3f}, max {max(t):.3f}")
    p = summary["pair_ratios"]
    print(f"fit / bare: {summary['ratio_of_medians']:.3f} (ratio of medians); per pair "
          f"min {p['min']:.3f}, median {p['median']:.3f}, max {p['max']:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
