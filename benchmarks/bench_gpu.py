"""Device check: training speed of the paper AlexNet and of VGG16 fine-tuning on one GPU.

Run by ``scripts/gpu_check.sh`` on a GPU machine without a network (about 5 minutes
on one H200; it stops the optional parts when ``--budget`` seconds have passed). It
measures, with bfloat16 autocast and ``channels_last`` (what ``fit`` uses on CUDA):

1. **Model steps** (forward, backward, optimiser step on a batch already on the GPU),
   eager and with ``torch.compile``: images per second and MFU (model FLOP
   utilisation: achieved FLOP/s over the device's dense bfloat16 peak) for
   - the paper AlexNet of :mod:`cnncourse.models` (227x227, batch 128 and 256 eager,
     256 compiled);
   - VGG16 fine-tuning (torchvision's VGG16, head 4096 -> 102, 224x224, batch 64):
     strategy 1 (backbone frozen) and strategy 2 (every layer).
   FLOPs are counted by :func:`cnncourse.models.count_flops` (convolutions and fully
   connected layers, a multiply-add = 2 FLOPs). A training step counts 3 forward
   passes when every layer learns, and the forward pass plus twice the head's FLOPs
   when only the head does (no gradient flows into the frozen backbone).
2. **Epochs with** :func:`cnncourse.train.fit` (data loading, augmentation, evaluation):
   - a short run of AlexNet's ``full`` recipe (its optimiser, batch, dropout and
     augmentation) on full-size (227x227) generated shapes;
   - VGG16's ``full`` fine-tuning recipe, one epoch per strategy, on 1,020 generated
     images (the size of Flowers-102's training split) through the recipe's own input
     pipeline, from which the full run's time is estimated.

The device has no network, so VGG16 has **random weights** here (the speed is the same
as with the ImageNet weights; the accuracies are meaningless) and the data are
generated; the records say so. Each part's record (device, versions, seed, time,
metrics) is written as JSON into ``--out``: ``gpu_check_alexnet.json`` (for the
chapter "Entrenar AlexNet") and ``gpu_check_vgg16.json`` (for "Ajuste fino de VGG").

``--cpu-smoke`` runs every code path on the CPU with tiny sizes in seconds (no compile),
so that a test keeps this script from rotting; its records are marked as such.

Usage::

    scripts/gpu_check.sh                        # on the GPU machine
    python benchmarks/bench_gpu.py --out /tmp/records --cpu-smoke
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_train, next to this file

from bench_train import PEAK_TFLOPS_BF16, time_steps  # noqa: E402

from cnncourse.models import count_flops  # noqa: E402
from cnncourse.train import alexnet_recipe, fit, run_record  # noqa: E402

#: Where the peak numbers come from (dense, i.e. without 2:4 sparsity).
PEAK_SOURCE = (
    "NVIDIA datasheets, dense bfloat16 tensor-core peak (half the 'with sparsity' "
    "figure): H100/H200 SXM 1,979 TFLOPS with sparsity -> 989.4 dense "
    "(nvidia.com/en-us/data-center/h200/, H100 Tensor Core GPU datasheet)"
)
SCHEMA = 1


# --------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------


def environment(device: torch.device, seed: int, smoke: bool) -> dict[str, Any]:
    """Device, versions, seed and time of this check."""
    import torchvision

    env: dict[str, Any] = {
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "device": str(device),
        "seed": seed,
        "cpu_smoke": smoke,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "cuda": torch.version.cuda,
            "cudnn": (torch.backends.cudnn.version()
                      if torch.backends.cudnn.is_available() else None),
        },
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update({
            "device_name": props.name,
            "device_memory_gib": round(props.total_memory / 2**30, 1),
            "device_sm_count": props.multi_processor_count,
            "device_capability": f"{props.major}.{props.minor}",
            "device_count": torch.cuda.device_count(),
        })
        env["peak_tflops_bf16"], env["peak_source"] = peak_tflops(props.name)
    else:
        env.update({"device_name": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
                    "peak_tflops_bf16": None,
                    "peak_source": "no GPU: CPU smoke run, MFU not computed"})
    return env


def peak_tflops(device_name: str) -> tuple[float | None, str]:
    """Dense bfloat16 peak of a GPU (TFLOP/s) and where the number comes from."""
    for key, peak in PEAK_TFLOPS_BF16.items():
        if key in device_name:
            return peak, f"{key}: {PEAK_SOURCE}"
    return None, f"unknown for {device_name!r}: add it to PEAK_TFLOPS_BF16 in bench_train.py"


# --------------------------------------------------------------------------------------
# Model steps
# --------------------------------------------------------------------------------------


def with_mfu(result: dict[str, Any], flops_per_image: float, peak: float | None) -> dict[str, Any]:
    """Add achieved TFLOP/s and MFU to a :func:`time_steps` result."""
    achieved = result["images_per_s"] * flops_per_image / 1e12
    result["train_flops_per_image"] = flops_per_image
    result["achieved_tflops"] = achieved
    result["mfu"] = achieved / peak if peak else None
    return result


def _sgd(lr: float = 1e-3) -> Callable[[list], torch.optim.Optimizer]:
    def build(params: list) -> torch.optim.Optimizer:
        try:
            return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4)
    return build


# --------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------


class Budget:
    """Wall-clock budget: optional parts are skipped (and recorded as skipped) once
    ``seconds`` have passed since the start."""

    def __init__(self, seconds: float) -> None:
        self.start, self.seconds = time.perf_counter(), seconds

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.seconds - self.elapsed


def _guarded(name: str, budget: Budget, need_s: float, log: Callable[[str], None],
             action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement unless the budget cannot afford ``need_s``; an exception
    (e.g. ``torch.compile`` without a compiler) is recorded, not fatal."""
    if budget.left() < need_s:
        log(f"  {name}: skipped ({budget.left():.0f} s left, needs ~{need_s:.0f} s)")
        return {"skipped": f"time budget: {budget.left():.0f} s left, needs ~{need_s:.0f} s"}
    start = time.perf_counter()
    try:
        out = action()
    except Exception as exc:  # noqa: BLE001 - the check reports and goes on
        log(f"  {name}: FAILED ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        return {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    out["wall_s"] = time.perf_counter() - start
    text = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in out.items() if k in ("images_per_s", "ms_per_step", "mfu",
                                                      "epoch_s", "wall_s"))
    log(f"  {name}: {text}")
    return out


def alexnet_part(env: dict[str, Any], device: torch.device, budget: Budget, smoke: bool,
                 log: Callable[[str], None], phase: str,
                 record: dict[str, Any] | None) -> dict[str, Any]:
    """AlexNet's step benchmarks and a short run of its full recipe on generated data.

    Phase ``'eager'``: the eager steps and the run; phase ``'compiled'``: the compiled
    steps, added to ``record``."""
    recipe = alexnet_recipe("full")
    seed = env["seed"]
    with torch.device("meta"):
        from cnncourse.models import alexnet

        forward = count_flops(alexnet(num_classes=recipe.num_classes), (3, 227, 227))
    peak = env["peak_tflops_bf16"]
    steps, warmup = (1, 0) if smoke else (50, 10)
    # (compile, batch): the recipe's batch and a larger one eager, the larger compiled.
    if phase == "compiled":
        runs = () if smoke else ((True, 256),)
    else:
        runs = ((False, 2),) if smoke else ((False, 128), (False, 256))
    benchmarks = {}
    for compile, batch in runs:
        name = f"{'compiled' if compile else 'eager'}_batch{batch}"

        def measure(batch: int = batch, compile: bool = compile) -> dict[str, Any]:
            torch.manual_seed(seed)
            result = time_steps(recipe.model(), input_shape=(3, 227, 227),
                                num_classes=recipe.num_classes, batch=batch, steps=steps,
                                warmup=warmup, device=device, compile=compile,
                                optimizer=_sgd(recipe.config.lr))
            return with_mfu(result, 3 * forward, peak)

        benchmarks[name] = _guarded(f"AlexNet step, {name}", budget,
                                    90 if compile else 10, log, measure)

    # A short run of the full recipe (optimiser, batch, dropout, augmentation) on
    # generated 227x227 shapes: four classes, the recipe's 10-output head.
    sizes = (16, 8) if smoke else (5120, 1024)
    epochs = 1 if smoke else 6
    short = dataclasses.replace(
        recipe, dataset="shapes", num_classes=4, train_size=sizes[0], val_size=sizes[1],
        data_options={"size_range": (0.3, 0.8)})
    config = dataclasses.replace(
        recipe.config, epochs=epochs, lr_milestones=(), progress=False,
        device=str(device), num_workers=0 if smoke else 8,
        batch_size=4 if smoke else recipe.config.batch_size,
        max_steps_per_epoch=2 if smoke else None)
    short = dataclasses.replace(short, config=config)

    def run() -> dict[str, Any]:
        train, val = short.datasets()
        torch.manual_seed(seed)
        result = fit(short.model(), train, val, config)
        record = run_record(result, short)
        record["epoch_s"] = sum(result.history["epoch_time_s"]) / len(result.history["epoch"])
        record["note"] = (
            f"alexnet_recipe('full') settings (SGD, batch {config.batch_size}, dropout, "
            f"PCA colour and mirror augmentation) for {epochs} epochs without the lr "
            f"milestones, on {sizes[0]} generated 227x227 images of 4 shapes "
            f"({sizes[1]} for validation): a speed check of the full pipeline, not "
            "Imagenette's accuracy")
        return record

    record = record or {
        **env, "schema": SCHEMA, "model": "cnncourse.models.alexnet (paper, 227x227)",
        "weights": "random (He initialisation, as the recipe trains from scratch)",
        "data": "random tensors for the steps; generated shapes for the run",
        "forward_flops_per_image": forward, "step_benchmarks": {}}
    record["step_benchmarks"].update(benchmarks)
    if phase == "eager":
        record["full_recipe_run"] = _guarded("AlexNet full recipe, generated data", budget,
                                             60, log, run)
    return record


def vgg16_part(env: dict[str, Any], device: torch.device, budget: Budget, smoke: bool,
               log: Callable[[str], None], phase: str,
               record: dict[str, Any] | None) -> dict[str, Any]:
    """VGG16 fine-tuning: step benchmarks of both strategies and one epoch of each
    stage of the full recipe on generated data of Flowers-102's size.

    Phase ``'eager'``: the eager steps and the epochs; phase ``'compiled'``: the
    compiled steps, added to ``record``."""
    from cnncourse.train import vgg16_flowers_recipe
    from cnncourse.transfer import freeze_backbone, unfreeze

    recipe = vgg16_flowers_recipe("full")
    seed = env["seed"]
    size = 32 if smoke else recipe.image_size
    with torch.device("meta"):
        from torchvision.models import vgg16

        meta = vgg16(num_classes=recipe.num_classes)
        forward = count_flops(meta, (3, size, size))
        head = count_flops(meta.classifier[-1], (meta.classifier[-1].in_features,))
    peak = env["peak_tflops_bf16"]
    steps, warmup = (1, 0) if smoke else (30, 8)
    batch = 2 if smoke else recipe.all_stage.batch_size
    compiles = (False,) if phase == "eager" else (() if smoke else (True,))
    benchmarks = {}
    for strategy, flops in (("frozen_backbone", forward + 2 * head), ("all_layers", 3 * forward)):
        for compile in compiles:
            name = f"{strategy}_{'compiled' if compile else 'eager'}_batch{batch}"

            def measure(strategy: str = strategy, compile: bool = compile,
                        flops: float = flops) -> dict[str, Any]:
                torch.manual_seed(seed)
                model = recipe.model(pretrained=False)
                if strategy == "frozen_backbone":
                    freeze_backbone(model)
                else:
                    unfreeze(model)
                result = time_steps(model, input_shape=(3, size, size),
                                    num_classes=recipe.num_classes, batch=batch, steps=steps,
                                    warmup=warmup, device=device, compile=compile,
                                    optimizer=_sgd(recipe.all_stage.lr))
                return with_mfu(result, flops, peak)

            benchmarks[name] = _guarded(f"VGG16 step, {name}", budget,
                                        120 if compile else 20, log, measure)

    # One epoch of each stage of the full recipe, through its own input pipeline, on
    # generated images as many as Flowers-102's training and validation splits.
    n_train, n_val = (8, 4) if smoke else (1020, 1020)
    run_recipe = recipe.smoke(steps=2, batch_size=2, image_size=size) if smoke else \
        dataclasses.replace(recipe, head_stage=_one_epoch(recipe.head_stage, device),
                            all_stage=_one_epoch(recipe.all_stage, device))

    def run() -> dict[str, Any]:
        from cnncourse.data import make_shapes
        from cnncourse.train import finetune_record

        source = 2 * size if smoke else 320  # larger than the crop, like real photos
        train = make_shapes(n_train, image_size=source, seed=seed + 1,
                            transform=run_recipe.transforms(train=True))
        val = make_shapes(n_val, image_size=source, seed=seed + 2,
                          transform=run_recipe.transforms(train=False))
        torch.manual_seed(seed)
        model = run_recipe.model(pretrained=False)
        result = run_recipe.run(model, train, val)
        record = finetune_record(result, run_recipe)
        t1 = result.head_stage.history["epoch_time_s"][0]
        t2 = result.all_stage.history["epoch_time_s"][0]
        record["epoch_s"] = {"head_stage": t1, "all_stage": t2}
        record["estimated_full_run_s"] = (recipe.head_stage.epochs * t1
                                          + recipe.all_stage.epochs * t2)
        record["note"] = (
            f"vgg16_flowers_recipe('full') settings, one epoch per stage, on {n_train} "
            f"generated {source}x{source} images through the recipe's transforms "
            f"({n_val} for validation), random weights: epoch times (JPEG decoding of "
            f"real photos not included); the accuracies mean nothing")
        return record

    record = record or {
        **env, "schema": SCHEMA,
        "model": f"torchvision vgg16, head 4096 -> {recipe.num_classes}, {size}x{size} inputs",
        "weights": "random: the device has no network, so the ImageNet weights cannot be "
                   "downloaded (speed does not depend on the values of the weights)",
        "data": "random tensors for the steps; generated shapes for the epochs",
        "forward_flops_per_image": forward, "head_flops_per_image": head,
        "step_benchmarks": {}}
    record["step_benchmarks"].update(benchmarks)
    if phase == "eager":
        record["recipe_epochs"] = _guarded("VGG16 recipe, one epoch per stage", budget, 60,
                                           log, run)
    return record


def _one_epoch(config: Any, device: torch.device) -> Any:
    return dataclasses.replace(config, epochs=1, lr_milestones=(), restore_best=False,
                               progress=False, device=str(device))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="folder for the JSON records (default: cnncourse/reference)")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="tiny sizes on the CPU, no compile: checks the code paths only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=420.0,
                        help="seconds after which optional parts are skipped")
    parser.add_argument("--only", choices=("alexnet", "vgg16"), default=None)
    args = parser.parse_args(argv)

    from cnncourse.train import write_record
    from cnncourse.train import REFERENCE_DIR

    if args.cpu_smoke:
        device = torch.device("cpu")
    else:
        if not torch.cuda.is_available():
            raise SystemExit(
                "bench_gpu: no CUDA device is visible to torch "
                f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}). Run it "
                "on a GPU machine, or use --cpu-smoke to check the code paths on a CPU."
            )
        device = torch.device("cuda", torch.cuda.current_device())
        torch.backends.cudnn.benchmark = True
    out = Path(args.out) if args.out else REFERENCE_DIR
    budget = Budget(args.budget)
    env = environment(device, args.seed, args.cpu_smoke)

    def log(text: str) -> None:
        print(f"[{budget.elapsed:6.1f} s] {text}", flush=True)

    log(f"device check on {env['device_name']} (torch {torch.__version__}); "
        f"peak {env['peak_tflops_bf16']} TFLOP/s bf16 dense; records into {out}")
    # Eager steps and the training runs first, for both networks; torch.compile (slow to
    # start) last. Records are (re)written after every part, so a hard stop keeps them.
    written: dict[str, str] = {}
    records: dict[str, dict[str, Any]] = {}
    parts = {"alexnet": alexnet_part, "vgg16": vgg16_part}
    suffix = "_cpu_smoke" if args.cpu_smoke else ""
    for phase in ("eager", "compiled"):
        for name, part in parts.items():
            if args.only and name != args.only:
                continue
            log(f"{name}, {phase}:")
            records[name] = part(env, device, budget, args.cpu_smoke, log, phase,
                                 records.get(name))
            records[name]["total_s"] = budget.elapsed
            written[name] = str(write_record(records[name],
                                             out / f"gpu_check_{name}{suffix}.json"))
            log(f"{name}: record written to {written[name]}")
    failed = [f"{part}/{key}" for part, path in written.items()
              for key, value in _flatten(_load(path)).items() if key.endswith("error")]
    log(f"done in {budget.elapsed:.0f} s" + (f"; FAILED parts: {failed}" if failed else ""))
    if failed:
        raise SystemExit(1)
    return written


def _load(path: str) -> dict[str, Any]:
    import json

    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "/"))
        else:
            out[key] = v
    return out


if __name__ == "__main__":
    main()
