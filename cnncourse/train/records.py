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
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
import torchvision

from cnncourse.train.loop import FitResult
from cnncourse.train.recipes import Recipe

__all__ = ["REFERENCE_DIR", "run_record", "load_reference", "json_safe"]

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
