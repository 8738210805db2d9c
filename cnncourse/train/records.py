"""Records of runs: reference results stored as data.

A record (:func:`run_record`) is a JSON-friendly summary of one run: metrics, history,
device, library versions, seed and time. Reference records of real ``full`` runs live
in :data:`REFERENCE_DIR` (``cnncourse/reference/<name>.json``) and are shown beside a
live run with :func:`load_reference`, never passed off as the live run.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
import torchvision

from cnncourse.train.loop import FitResult
from cnncourse.train.recipes import FinetuneRecipe, FinetuneResult, Recipe

__all__ = ["REFERENCE_DIR", "run_record", "load_reference", "json_safe", "finetune_record",
           "write_record"]

#: Where reference results of real runs are stored (JSON, one file per run).
REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by ``None`` (JSON has no NaN),
    recursively through dicts, lists and tuples.

    Examples
    --------
    >>> json_safe({"acc": [0.5, float("nan")]})
    {'acc': [0.5, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def run_record(result: FitResult, recipe: Recipe | None = None) -> dict[str, Any]:
    """A JSON-friendly record of a run: metrics, history, device, versions, seed, time.

    This is what a reference result is: save it with ``json.dump`` into
    :data:`REFERENCE_DIR` (``scripts/train_alexnet.py --record`` does) and show it with
    :func:`load_reference`.

    Examples
    --------
    >>> from torch import nn
    >>> from cnncourse.train import TrainConfig, fit
    >>> x = torch.randn(32, 2); y = (x[:, 0] > 0).long()
    >>> r = fit(nn.Linear(2, 2), (x, y), (x, y), TrainConfig(epochs=1, batch_size=8, device="cpu"))
    >>> record = run_record(r)
    >>> record["metrics"]["epochs"], record["device"], sorted(record["versions"])[:2]
    (1, 'cpu', ['cnncourse', 'cuda'])
    """
    try:
        package_version = metadata.version("cnncourse")
    except metadata.PackageNotFoundError:  # running from a source tree
        package_version = None
    h = result.history
    metric = "acc" if "train_acc" in h else "mae"  # accuracy, or MAE for regression
    best = max if metric == "acc" else min
    val = [v for v in h[f"val_{metric}"] if isinstance(v, float) and math.isfinite(v)]
    metrics = {
        "epochs": len(h["epoch"]),
        **{f"final_{key}": h[key][-1] if h[key] else None
           for key in ("train_loss", f"train_{metric}", "val_loss", f"val_{metric}")},
        f"best_val_{metric}": best(val) if val else None,
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
    return json_safe(record)


def load_reference(name: str = "alexnet_full") -> dict[str, Any] | None:
    """The stored reference record ``REFERENCE_DIR/<name>.json``, or ``None`` when no
    such run has been recorded.

    Examples
    --------
    >>> load_reference("no_such_run") is None
    True
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a file name without extension, got {name!r}")
    path = REFERENCE_DIR / f"{name}.json"
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)




def finetune_record(result: FinetuneResult, recipe: FinetuneRecipe) -> dict[str, Any]:
    """A JSON-friendly record of a fine-tuning run, like
    :func:`cnncourse.train.run_record`: metrics and history of the whole run (both
    stages), device, versions, seed, time, plus each stage's own record.

    Examples
    --------
    >>> from cnncourse.train import FitResult, vgg16_flowers_recipe
    >>> from cnncourse.train.recipes import FinetuneResult
    >>> h = {"epoch": [1], "train_loss": [1.0], "train_acc": [0.5], "val_loss": [0.9],
    ...      "val_acc": [0.6], "lr": [0.1], "epoch_time_s": [2.0]}
    >>> r = FitResult(h, 1, 1, 0.6, False, False, 1.5, 2.5, 10.0, "cpu", "x", 1, 0, 0)
    >>> rec = finetune_record(FinetuneResult(r, r), vgg16_flowers_recipe("quick"))
    >>> rec["metrics"]["epochs"], rec["network"], rec["time_s"]["total"]
    (2, 'efficientnet_lite0', 5.0)
    """
    stages = [run_record(result.head_stage, recipe), run_record(result.all_stage, recipe)]
    record = dict(stages[1])
    h = result.history
    finite = [v for v in h["val_acc"] if v is not None and math.isfinite(v)]
    record["metrics"] = {
        "epochs": len(h["epoch"]),
        "head_stage_epochs": len(result.head_stage.history["epoch"]),
        "final_train_loss": h["train_loss"][-1],
        "final_train_acc": h["train_acc"][-1],
        "final_val_loss": h["val_loss"][-1],
        "final_val_acc": h["val_acc"][-1],
        "head_stage_val_acc": result.head_stage.history["val_acc"][-1],
        "best_val_acc": max(finite) if finite else None,
        "restored_best": result.all_stage.restored_best,
    }
    record["history"] = h
    record["network"] = recipe.network
    record["backbone_lr_scale"] = recipe.backbone_lr_scale
    record["time_s"] = {k: stages[0]["time_s"][k] + stages[1]["time_s"][k]
                        for k in stages[0]["time_s"]}
    train_time = result.head_stage.train_time_s + result.all_stage.train_time_s
    images = (result.head_stage.images_per_second * result.head_stage.train_time_s
              + result.all_stage.images_per_second * result.all_stage.train_time_s)
    record["images_per_second"] = images / train_time if train_time > 0 else None
    record["config"] = {"head_stage": stages[0]["config"], "all_stage": stages[1]["config"]}
    record["stages"] = [{k: s[k] for k in ("metrics", "time_s", "images_per_second")}
                        for s in stages]
    return json_safe(record)


def write_record(record: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write a run record as JSON (UTF-8, indented) and return its path; the folder is
    created if needed. Read it back with ``json.load`` or, in
    :data:`cnncourse.train.REFERENCE_DIR`, :func:`cnncourse.train.load_reference`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_record({"metrics": {"acc": 0.5}}, Path(tmp) / "a" / "run.json")
    ...     json.loads(p.read_text(encoding="utf-8"))
    {'metrics': {'acc': 0.5}}
    """
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict, got {type(record).__name__}")
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"path must end in .json, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
