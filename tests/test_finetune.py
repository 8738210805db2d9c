"""Tests of the fine-tuning recipe (cnncourse.train.vgg16_flowers_recipe), its records,
and the device check (benchmarks/bench_gpu.py, scripts/gpu_check.sh) on the CPU."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnncourse.data import make_shapes
from cnncourse.train import (
    FinetuneRecipe,
    FinetuneResult,
    FitResult,
    finetune_record,
    load_reference,
    vgg16_flowers_recipe,
    write_record,
)
from cnncourse.train import records as records_module

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fake_result(val_acc: list[float], seconds: float = 1.0) -> FitResult:
    n = len(val_acc)
    history = {"epoch": list(range(1, n + 1)), "train_loss": [1.0 / (i + 1) for i in range(n)],
               "train_acc": [0.5] * n, "val_loss": [0.9] * n, "val_acc": list(val_acc),
               "lr": [0.01] * n, "epoch_time_s": [seconds] * n}
    return FitResult(history, n, n, val_acc[-1], False, False, seconds * n, seconds * n + 1,
                     100.0, "cpu", "test CPU", 1, 0, 0)


# -- the recipe ---------------------------------------------------------------------------


def test_full_recipe_is_vgg16_on_flowers_with_two_strategies():
    r = vgg16_flowers_recipe("full")
    assert (r.network, r.dataset, r.num_classes, r.image_size) == ("vgg16", "flowers102", 102, 224)
    assert r.head_stage.epochs >= 1 and r.all_stage.epochs > r.head_stage.epochs
    assert 0 < r.backbone_lr_scale < 1
    assert r.all_stage.lr_milestones and max(r.all_stage.lr_milestones) < r.all_stage.epochs
    assert r.head_stage.amp and r.head_stage.channels_last  # bf16 + NHWC on CUDA
    assert r.epochs == r.head_stage.epochs + r.all_stage.epochs


def test_quick_recipe_runs_offline_on_the_cpu():
    r = vgg16_flowers_recipe("quick")
    assert r.network == "efficientnet_lite0" and r.dataset == "shapes"
    assert r.head_stage.device == "cpu" and r.all_stage.device == "cpu"
    assert math.isclose(r.chance, 1 / r.num_classes)


@pytest.mark.parametrize("changes, message", [
    ({"network": "resnet50"}, "network must be one of"),
    ({"dataset": "imagenet"}, "dataset must be one of"),
    ({"backbone_lr_scale": 0.0}, "backbone_lr_scale must be in"),
    ({"backbone_lr_scale": 2.0}, "backbone_lr_scale must be in"),
])
def test_recipe_rejects_bad_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(vgg16_flowers_recipe("quick"), **changes)


def test_profile_name_is_checked():
    with pytest.raises(ValueError, match="profile must be one of"):
        vgg16_flowers_recipe("fast")


def test_transforms_give_the_recipe_size_and_normalise():
    r = vgg16_flowers_recipe("full")
    image = torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8)
    for train in (True, False):
        x = r.transforms(train=train)(image)
        assert tuple(x.shape) == (3, 224, 224) and x.dtype == torch.float32
    grey = torch.full((3, 256, 256), 0.5)
    mean, std = r.normalisation()
    x = r.transforms(train=False)(grey)
    assert torch.allclose(x[:, 0, 0], (0.5 - torch.tensor(mean)) / torch.tensor(std), atol=1e-4)


def test_quick_recipe_trains_a_couple_of_steps_in_both_stages():
    recipe = dataclasses.replace(vgg16_flowers_recipe("quick").smoke(steps=2, batch_size=4),
                                 train_size=8, val_size=4)
    train, val = recipe.datasets()
    assert tuple(train[0][0].shape) == (3, 32, 32)
    torch.manual_seed(0)
    model = recipe.model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = recipe.run(model, train, val)
    assert isinstance(result, FinetuneResult)
    h = result.history
    assert h["epoch"] == [1, 2] and h["stage"] == [1, 2]
    assert all(math.isfinite(v) for v in h["train_loss"] + h["val_loss"])
    # Strategy 2's first group is the backbone, at backbone_lr_scale times the head's lr.
    assert math.isclose(result.all_stage.history["lr"][0],
                        recipe.all_stage.lr * recipe.backbone_lr_scale)
    assert all(p.requires_grad for p in model.parameters())  # unfrozen at the end
    changed = [k for k, v in model.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert "classifier.weight" in changed and any(k.startswith("blocks.") for k in changed)
    # keep_bn_statistics: ImageNet's running statistics survive both stages.
    assert not [k for k in changed if "running_" in k]


def test_strategy_one_leaves_the_backbone_and_its_batchnorm_untouched():
    recipe = dataclasses.replace(vgg16_flowers_recipe("quick").smoke(steps=2, batch_size=4),
                                 train_size=8, val_size=4)
    train, val = recipe.datasets()
    torch.manual_seed(0)
    model = recipe.model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from cnncourse.train import fit
    from cnncourse.transfer import freeze_backbone

    freeze_backbone(model)
    fit(model, train, val, recipe.head_stage)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"classifier.weight", "classifier.bias"}


def test_vgg16_path_head_freezing_and_steps_with_random_weights():
    recipe = vgg16_flowers_recipe("full").smoke(steps=1, batch_size=2, image_size=32)
    torch.manual_seed(0)
    model = recipe.model(pretrained=False)  # offline: no ImageNet weights needed
    assert model.classifier[-1].in_features == 4096
    assert model.classifier[-1].out_features == 102
    train = make_shapes(4, image_size=48, seed=1, transform=recipe.transforms(train=True))
    val = make_shapes(2, image_size=48, seed=2, transform=recipe.transforms(train=False))
    first_conv = model.features[0].weight.detach().clone()
    result = recipe.run(model, train, val)
    assert result.history["stage"] == [1, 2]
    assert not torch.equal(first_conv, model.features[0].weight)  # strategy 2 trained it


# -- records ------------------------------------------------------------------------------


def test_finetune_record_joins_the_two_stages():
    result = FinetuneResult(_fake_result([0.5, 0.6]), _fake_result([0.7, 0.8, float("nan")]))
    record = finetune_record(result, vgg16_flowers_recipe("full"))
    assert record["metrics"]["epochs"] == 5 and record["metrics"]["head_stage_epochs"] == 2
    assert record["history"]["epoch"] == [1, 2, 3, 4, 5]
    assert record["history"]["stage"] == [1, 1, 2, 2, 2]
    assert record["metrics"]["best_val_acc"] == 0.8
    assert record["history"]["val_acc"][-1] is None  # NaN is not JSON
    assert record["network"] == "vgg16" and record["profile"] == "full"
    assert math.isclose(record["time_s"]["all_epochs"], 5.0)
    assert len(record["stages"]) == 2


def test_record_writer_and_reader_round_trip(tmp_path, monkeypatch):
    result = FinetuneResult(_fake_result([0.5]), _fake_result([0.75]))
    record = finetune_record(result, vgg16_flowers_recipe("quick"))
    monkeypatch.setattr(records_module, "REFERENCE_DIR", tmp_path / "reference")
    assert load_reference("vgg16_flowers_full") is None  # says plainly: none recorded
    path = write_record(record, tmp_path / "reference" / "vgg16_flowers_full.json")
    assert path.exists() and not path.with_name(path.name + ".tmp").exists()
    assert load_reference("vgg16_flowers_full") == record
    assert json.loads(path.read_text(encoding="utf-8")) == record


def test_write_record_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="record must be a dict"):
        write_record([1, 2], tmp_path / "a.json")
    with pytest.raises(ValueError, match="must end in .json"):
        write_record({}, tmp_path / "a.txt")


# -- the device check -----------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHON"] = sys.executable
    return env


def test_gpu_check_cpu_smoke_writes_both_records(tmp_path):
    """scripts/gpu_check.sh --cpu-smoke runs every code path of the device check on the
    CPU with tiny sizes (no compile), so that the GPU script cannot rot unnoticed."""
    run = subprocess.run([str(ROOT / "scripts" / "gpu_check.sh"), "--cpu-smoke", "--out",
                          str(tmp_path)], env=_env(), capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    alexnet = json.loads((tmp_path / "gpu_check_alexnet_cpu_smoke.json").read_text("utf-8"))
    vgg = json.loads((tmp_path / "gpu_check_vgg16_cpu_smoke.json").read_text("utf-8"))
    for record in (alexnet, vgg):
        assert record["cpu_smoke"] is True and record["seed"] == 0
        assert {"torch", "torchvision", "cuda", "python"} <= set(record["versions"])
        assert record["created_utc"] and record["device"] == "cpu"
        for bench in record["step_benchmarks"].values():
            assert bench["images_per_s"] > 0 and bench["train_flops_per_image"] > 0
    assert alexnet["full_recipe_run"]["metrics"]["epochs"] == 1
    assert set(vgg["step_benchmarks"]) == {"frozen_backbone_eager_batch2",
                                           "all_layers_eager_batch2"}
    assert "random" in vgg["weights"]
    epochs = vgg["recipe_epochs"]
    assert epochs["history"]["stage"] == [1, 2] and epochs["estimated_full_run_s"] > 0


def test_gpu_check_fails_clearly_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = subprocess.run([str(ROOT / "scripts" / "gpu_check.sh"), "--out", str(tmp_path)],
                         env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "no CUDA device" in run.stderr and "--cpu-smoke" in run.stderr
    assert not list(tmp_path.iterdir())


def test_bench_gpu_refuses_to_run_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_gpu.py"), "--out",
                          str(tmp_path)], env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0 and "no CUDA device" in run.stderr


def test_peak_flops_of_the_h200_is_the_dense_bf16_datasheet_value():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_gpu
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    peak, source = bench_gpu.peak_tflops("NVIDIA H200")
    assert peak == pytest.approx(989.4) and "dense" in source
    assert bench_gpu.peak_tflops("Some GPU")[0] is None


def test_device_check_records_failures_and_skips_instead_of_stopping():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_gpu
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    lines = []

    def boom() -> dict:
        raise RuntimeError("no C compiler for torch.compile")

    out = bench_gpu._guarded("step", bench_gpu.Budget(100), 1, lines.append, boom)
    assert out["error"].startswith("RuntimeError: no C compiler")
    out = bench_gpu._guarded("step", bench_gpu.Budget(0), 1, lines.append, lambda: {"x": 1})
    assert "time budget" in out["skipped"]
    out = bench_gpu._guarded("step", bench_gpu.Budget(100), 1, lines.append,
                             lambda: {"images_per_s": 5.0})
    assert out["images_per_s"] == 5.0 and out["wall_s"] >= 0
    assert any("FAILED" in line for line in lines) and any("skipped" in line for line in lines)


def test_finetune_script_quick_profile_writes_its_record(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import finetune_vgg
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path = tmp_path / "run.json"
    record = finetune_vgg.main(["--profile", "quick", "--head-epochs", "1", "--all-epochs", "1",
                                "--record", str(path)])
    assert json.loads(path.read_text(encoding="utf-8")) == record
    assert record["network"] == "efficientnet_lite0" and record["weights"] == "imagenet"
    assert record["metrics"]["epochs"] == 2 and record["history"]["stage"] == [1, 2]
    assert "--profile quick" in record["command"]
