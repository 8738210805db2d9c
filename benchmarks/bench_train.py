"""Benchmark: training speed of the paper's AlexNet (images/s, epoch time, MFU).

Two measurements on the device it runs on (CUDA if present, else the CPU):

1. **Model step**: forward, backward and SGD step on a random batch that already lives
   on the device, with the settings ``fit`` uses there (bfloat16 autocast and
   ``channels_last`` on CUDA; optionally ``torch.compile``). It gives images per second
   and the model FLOP utilisation (MFU): achieved FLOP/s over the device's peak, with
   the FLOPs counted by :func:`cnncourse.models.count_flops` (one multiply-add = 2
   FLOPs) and one training step taken as three forward passes.
2. **Epoch**: one real epoch of :func:`cnncourse.train.fit` on the profile's training
   data (data loading, augmentation and evaluation included). Without the dataset on
   disk (``full``, offline) it is estimated from the step throughput and says so.

Usage::

    python benchmarks/bench_train.py                      # profile from the hardware
    python benchmarks/bench_train.py --profile quick      # CPU, the chapter's settings
    python benchmarks/bench_train.py --profile full --compile --json bench.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from typing import Any, Callable

import torch
from torch import nn

from cnncourse.models import alexnet, count_flops
from cnncourse.train import alexnet_recipe, fit

#: Dense (no sparsity) bfloat16 tensor-core peaks in TFLOP/s, from NVIDIA's datasheets.
#: The first key contained in the device's name wins, so specific names come first.
PEAK_TFLOPS_BF16 = {
    "H200": 989.4,
    "H100 PCIe": 756.0,
    "H100": 989.4,  # SXM
    "A100": 312.0,
}


def cpu_peak_tflops(threads: int) -> tuple[float | None, str]:
    """Rough float32 peak of ``threads`` CPU cores: cores x clock x FLOPs per cycle.

    FLOPs per cycle and core: 64 with AVX-512 (two 16-lane FMA units; many chips have
    one, so this is an upper bound), 32 with AVX2 + FMA, 8 otherwise. The clock is the
    highest current "cpu MHz" in /proc/cpuinfo (Linux only).
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = f.read()
    except OSError:
        return None, "unknown (no /proc/cpuinfo)"
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "").split()
    if not mhz:
        return None, "unknown (no clock in /proc/cpuinfo)"
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, isa = 32, "AVX2+FMA"
    else:
        per_cycle, isa = 8, "SSE"
    peak = threads * max(mhz) * 1e6 * per_cycle / 1e12
    return peak, (f"estimated: {threads} cores x {max(mhz) / 1000:.2f} GHz x {per_cycle} "
                  f"FLOP/cycle ({isa}, float32); an upper bound")


def device_peak_tflops(device: torch.device) -> tuple[float | None, str]:
    """Peak TFLOP/s of ``device`` and where the number comes from."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, peak in PEAK_TFLOPS_BF16.items():
            if key in name:
                return peak, f"{key} datasheet, dense bfloat16"
        return None, f"unknown for {name!r} (add it to PEAK_TFLOPS_BF16)"
    return cpu_peak_tflops(torch.get_num_threads())


def time_steps(model: nn.Module, *, input_shape: tuple[int, ...], num_classes: int,
               batch: int, steps: int, warmup: int, device: torch.device,
               compile: bool, optimizer: Callable[[list], torch.optim.Optimizer]) -> dict[str, Any]:
    """Time ``steps`` training steps (after ``warmup`` untimed ones, which include the
    compilation) of ``model`` on one random batch already on ``device``."""
    on_cuda = device.type == "cuda"
    model.to(device).train()
    if on_cuda:
        model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer(params)
    step_model = torch.compile(model) if compile else model
    x = torch.randn(batch, *input_shape, device=device)
    if on_cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, num_classes, (batch,), device=device)

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_cuda):
            loss = nn.functional.cross_entropy(step_model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize(device)

    start = time.perf_counter()
    for _ in range(warmup):
        step()
    sync()
    warmup_s = time.perf_counter() - start
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    seconds = time.perf_counter() - start
    out = {"batch": batch, "steps": steps, "warmup_steps": warmup, "compile": compile,
           "warmup_s": warmup_s, "seconds": seconds, "ms_per_step": 1000 * seconds / steps,
           "images_per_s": batch * steps / seconds}
    if on_cuda:
        out["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("quick", "full"), default=None,
                        help="default: $CNNCOURSE_PROFILE, else full with CUDA, else quick")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="model-step batch (default: the profile's batch)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--no-epoch", action="store_true", help="skip the real epoch")
    parser.add_argument("--data", default=None, help="dataset folder for the full profile")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    recipe = alexnet_recipe(args.profile)
    on_gpu = recipe.profile == "full" and torch.cuda.is_available()
    device = torch.device("cuda" if on_gpu else "cpu")
    batch = args.batch_size or recipe.config.batch_size
    steps = args.steps or (50 if on_gpu else 3)
    warmup = args.warmup if args.warmup is not None else (10 if on_gpu else 1)

    with torch.device("meta"):
        flops_forward = count_flops(alexnet(num_classes=recipe.num_classes), (3, 227, 227))
    flops_step = 3 * flops_forward  # forward + backward (about twice the forward)
    peak, peak_source = device_peak_tflops(device)

    torch.manual_seed(0)
    model = recipe.model()
    seconds = time_steps(model, input_shape=(3, 227, 227), num_classes=recipe.num_classes,
                         batch=batch, steps=steps, warmup=warmup, device=device,
                         compile=args.compile,
                         optimizer=lambda params: torch.optim.SGD(
                             params, lr=1e-3, momentum=0.9, weight_decay=5e-4))["seconds"]
    images_per_s = batch * steps / seconds
    achieved = images_per_s * flops_step / 1e12
    device_name = (torch.cuda.get_device_name(device) if on_gpu
                   else f"{platform.processor() or platform.machine()} CPU")

    results = {
        "profile": recipe.profile,
        "device": device_name,
        "threads": None if on_gpu else torch.get_num_threads(),
        "torch": torch.__version__,
        "compile": args.compile,
        "gflops_forward_per_image": flops_forward / 1e9,
        "step_batch": batch,
        "step_images_per_s": images_per_s,
        "achieved_tflops": achieved,
        "peak_tflops": peak,
        "peak_source": peak_source,
        "mfu": achieved / peak if peak else None,
    }

    if not args.no_epoch:
        config = dataclasses.replace(recipe.config, epochs=1, progress=False,
                                     compile=args.compile)
        try:
            train, val = recipe.datasets(root=args.data)
        except RuntimeError as exc:  # full profile without the data on disk
            results["epoch_s"] = None
            results["epoch_note"] = f"no dataset ({exc.__class__.__name__}); not measured"
        else:
            torch.manual_seed(0)
            model = recipe.model()
            result = fit(model, train, val, config)
            results.update({
                "epoch_train_images": len(train),
                "epoch_val_images": len(val),
                "epoch_s": result.history["epoch_time_s"][0],
                "epoch_train_images_per_s": result.images_per_second,
                "epoch_note": "one fit() epoch: data loading, training steps, evaluation",
            })

    width = max(len(k) for k in results)
    print(f"AlexNet (paper) training benchmark, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{platform.node() or 'this machine'}")
    for key, value in results.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key.ljust(width)}  {text}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
