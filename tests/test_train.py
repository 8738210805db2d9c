"""Tests of cnncourse.train on tiny models and data (CPU, seconds)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from cnncourse.train import (
    FitResult,
    TrainConfig,
    alexnet_recipe,
    evaluate,
    fit,
    init_weights,
    resolve_profile,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is as fast, and does not stall when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 1, 6, 6) noise images; the label says whether the top half is brighter."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=g)
    y = (x[:, 0, :3].mean(dim=(1, 2)) > x[:, 0, 3:].mean(dim=(1, 2))).long()
    return x, y


def _model(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(dropout), nn.Linear(64, 2)
    )


def _config(**overrides) -> TrainConfig:
    options = dict(epochs=4, batch_size=16, lr=0.05, device="cpu", progress=False,
                   weight_decay=0.0)
    options.update(overrides)
    return TrainConfig(**options)


def _same_params(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


def _numbers(history: dict) -> dict:
    """The history without its wall-clock times."""
    return {k: v for k, v in history.items() if k != "epoch_time_s"}


def test_fit_learns_and_reports_what_it_measured():
    model = _model()
    result = fit(model, _data(), _data(64, seed=1), _config(epochs=6))
    h = result.history
    assert isinstance(result, FitResult)
    assert h["epoch"] == [1, 2, 3, 4, 5, 6]
    assert h["train_loss"][-1] < 0.7 * h["train_loss"][0]
    assert h["val_acc"][-1] > 0.8
    assert result.epochs_run == 6 and not result.stopped_early
    assert result.device == "cpu" and result.world_size == 1 and result.seed == 0
    assert result.images_per_second > 0 and result.train_time_s > 0
    assert len(h["epoch_time_s"]) == 6 and all(t > 0 for t in h["epoch_time_s"])
    assert result.config["lr"] == 0.05
    # The history's last validation numbers are the model's, as returned.
    final = evaluate(model, _data(64, seed=1))
    assert final["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-6)
    assert not model.training  # left in evaluation mode


def test_fit_never_reinitialises_the_model():
    model = _model(seed=3)
    before = copy.deepcopy(model)
    fit(model, _data(), None, _config(epochs=1, lr=0.0, momentum=0.0))
    assert _same_params(model, before)  # lr = 0: the weights it was given, untouched
    fit(model, _data(), None, _config(epochs=1))
    assert not _same_params(model, before)  # trained in place, the same object


def test_same_seed_same_run_other_seed_other_run():
    runs = [_numbers(fit(_model(dropout=0.3), _data(), _data(32, 1), _config(seed=s)).history)
            for s in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0]["train_loss"] != runs[2]["train_loss"]


def test_resume_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    # Dropout (RNG state), momentum (optimiser state) and a milestone (scheduler state)
    # all have to come back for the two runs to agree exactly.
    config = dict(epochs=4, lr_milestones=(2,), lr_gamma=0.5, seed=1)
    straight = _model(dropout=0.3)
    full = fit(straight, _data(), _data(32, 1),
               _config(**config, checkpoint=str(tmp_path / "a.pt")))

    path = str(tmp_path / "b.pt")
    fit(_model(dropout=0.3), _data(), _data(32, 1),
        _config(**{**config, "epochs": 2}, checkpoint=path))  # "interrupted" after 2
    resumed_model = _model(seed=99, dropout=0.3)  # a fresh model: weights come from disk
    resumed = fit(resumed_model, _data(), _data(32, 1),
                  _config(**config, checkpoint=path, resume=True))

    assert resumed.resumed_from_epoch == 2 and resumed.epochs_run == 2
    assert _numbers(resumed.history) == _numbers(full.history)
    assert resumed.history["lr"] == [0.05, 0.05, 0.025, 0.025]
    assert _same_params(resumed_model, straight)
    saved = torch.load(path, weights_only=False)
    assert saved["epoch"] == 4
    assert {"model", "optimizer", "scheduler", "rng", "history"} <= set(saved)


def test_resume_without_a_checkpoint_file_starts_fresh(tmp_path):
    result = fit(_model(), _data(), None,
                 _config(epochs=1, checkpoint=str(tmp_path / "new.pt"), resume=True))
    assert result.resumed_from_epoch == 0 and (tmp_path / "new.pt").exists()


def test_early_stopping_stops_and_restores_the_best_epoch():
    # Random labels: the model memorises the training set and the validation loss
    # climbs after the first epochs.
    g = torch.Generator().manual_seed(0)
    x_train, x_val = torch.randn(48, 1, 6, 6, generator=g), torch.randn(48, 1, 6, 6, generator=g)
    y_train, y_val = torch.randint(0, 2, (48,), generator=g), torch.randint(0, 2, (48,), generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 256), nn.ReLU(), nn.Linear(256, 2))
    result = fit(model, (x_train, y_train), (x_val, y_val),
                 _config(epochs=40, lr=0.1, batch_size=8, patience=3, restore_best=True))
    losses = result.history["val_loss"]
    assert result.stopped_early and result.epochs_run < 40
    assert result.best_epoch == 1 + min(range(len(losses)), key=losses.__getitem__)
    assert result.epochs_run == result.best_epoch + 3  # patience epochs after the best
    assert result.restored_best
    assert result.best_value == pytest.approx(min(losses))
    # The model holds the best epoch's weights, not the last epoch's.
    assert evaluate(model, (x_val, y_val))["loss"] == pytest.approx(min(losses), rel=1e-6)
    assert min(losses) < losses[-1]


def test_monitoring_accuracy_keeps_the_epoch_with_the_highest_accuracy():
    result = fit(_model(), _data(), _data(32, 1), _config(epochs=3, monitor="val_acc"))
    accs = result.history["val_acc"]
    assert result.best_value == max(accs)
    assert accs[result.best_epoch - 1] == max(accs)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"optimizer": "sdg"}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"resume": True}, "checkpoint"),
        ({"monitor": "loss"}, "monitor"),
        ({"lr_milestones": (5, 3)}, "lr_milestones"),
        ({"lr_gamma": 0.0}, "lr_gamma"),
    ],
)
def test_config_rejects_bad_values(options, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**options)


def test_fit_rejects_bad_inputs():
    x, y = _data()
    with pytest.raises(TypeError, match="DataLoader"):
        fit(_model(), torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y)),
            None, _config())
    with pytest.raises(ValueError, match="val_data"):
        fit(_model(), (x, y), None, _config(patience=2))
    with pytest.raises(TypeError, match="TrainConfig"):
        fit(_model(), (x, y), None, {"epochs": 1})


def test_every_optimiser_trains():
    for name, lr in (("sgd", 0.05), ("rmsprop", 0.003), ("adam", 0.01), ("adamw", 0.01)):
        h = fit(_model(), _data(), None, _config(optimizer=name, lr=lr, epochs=3)).history
        assert h["train_loss"][-1] < h["train_loss"][0], name


def test_history_plot_draws_loss_and_accuracy():
    result = fit(_model(), _data(), _data(32, 1), _config(epochs=2))
    fig = result.plot(chance=0.5)
    assert len(fig.axes) == 2
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["entrenamiento", "validación", f"mejor época ({result.best_epoch})"]


def test_profile_comes_from_the_argument_the_environment_or_the_hardware(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_profile() == "quick"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_profile() == "full"
    monkeypatch.setenv("CNNCOURSE_PROFILE", "quick")
    assert resolve_profile() == "quick"
    assert resolve_profile("full") == "full"
    monkeypatch.setenv("CNNCOURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="CNNCOURSE_PROFILE"):
        resolve_profile()


def test_alexnet_recipes_follow_the_paper_schedule_on_the_gpu():
    full = alexnet_recipe("full")
    assert full.dataset == "imagenette" and full.image_size == 227
    c = full.config
    assert (c.optimizer, c.lr, c.momentum, c.weight_decay, c.batch_size) == (
        "sgd", 0.01, 0.9, 5e-4, 128)
    assert c.lr_milestones and c.lr_gamma == 0.1
    quick = alexnet_recipe("quick")
    assert quick.dataset == "shapes" and quick.image_size == 227
    assert quick.config.device == "cpu"
    assert math.isfinite(quick.chance) and quick.chance == 1 / quick.num_classes


def test_init_weights_schemes_and_a_zero_last_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 5))
    assert init_weights(model, "kaiming", last_std=0.0) is model
    assert float(model[0].weight.detach().var()) == pytest.approx(2 / 400, rel=0.05)
    assert torch.count_nonzero(model[2].weight) == 0 and torch.count_nonzero(model[0].bias) == 0
    init_weights(model, "normal", std=0.01)
    assert float(model[2].weight.detach().std()) == pytest.approx(0.01, rel=0.1)
    init_weights(model, "xavier")
    assert float(model[0].weight.detach().var()) == pytest.approx(2 / 700, rel=0.05)
    with pytest.raises(ValueError, match="scheme"):
        init_weights(model, "he")


def test_progress_bar_only_on_rank_zero_and_silent_in_ci(monkeypatch):
    from cnncourse.train.loop import _progress_bar

    monkeypatch.setenv("CI", "true")
    assert _progress_bar(10, _config(progress=None), 0).disable
    assert not _progress_bar(10, _config(progress=True), 0).disable
    assert _progress_bar(10, _config(progress=True), 1).disable


# --- parameter groups -------------------------------------------------------------------


def test_param_groups_train_the_backbone_slower_and_skip_frozen_parameters(tmp_path):
    model = _model()
    backbone, head = model[0], model[4]
    backbone.bias.requires_grad_(False)  # frozen: never handed to the optimiser
    before = copy.deepcopy(model)
    path = tmp_path / "groups.pt"
    result = fit(model, _data(), None,
                 _config(epochs=3, lr=0.1, momentum=0.0, lr_milestones=(2,), lr_gamma=0.5,
                         checkpoint=str(path)),
                 param_groups=[{"params": backbone.parameters(), "lr": 0.01},
                               {"params": head.parameters()}])
    groups = torch.load(path, weights_only=False)["optimizer"]["param_groups"]
    # The frozen bias is in no group; the milestone halved both learning rates.
    assert [len(g["params"]) for g in groups] == [1, 2]
    assert [g["lr"] for g in groups] == pytest.approx([0.005, 0.05])
    assert result.history["lr"] == pytest.approx([0.01, 0.01, 0.005])  # the first group's
    assert torch.equal(backbone.bias, before[0].bias)
    assert not torch.equal(backbone.weight, before[0].weight)
    # lr = 0 for the backbone: only the head moves.
    model = _model()
    before = copy.deepcopy(model)
    fit(model, _data(), None, _config(epochs=1),
        param_groups=[{"params": model[0].parameters(), "lr": 0.0},
                      {"params": model[4].parameters(), "lr": 0.1}])
    assert torch.equal(model[0].weight, before[0].weight)
    assert not torch.equal(model[4].weight, before[4].weight)


def test_param_groups_are_checked():
    model, other = _model(), _model()
    with pytest.raises(ValueError, match="not the model's"):
        fit(model, _data(), None, _config(epochs=1),
            param_groups=[{"params": other.parameters()}])
    with pytest.raises(TypeError, match="list of dicts"):
        fit(model, _data(), None, _config(epochs=1),
            param_groups={"params": model.parameters()})
    with pytest.raises(ValueError, match="unknown options"):
        fit(model, _data(), None, _config(epochs=1),
            param_groups=[{"params": model.parameters(), "learning_rate": 0.1}])
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(model, _data(), None, _config(epochs=1))


# --- losses ------------------------------------------------------------------------------


def test_bce_with_logits_trains_one_logit_per_image_and_reports_accuracy():
    x, y = _data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 1))
    result = fit(model, (x, y.float()), (x, y.float()), _config(epochs=6, loss="bce_with_logits"))
    h = result.history
    assert set(h) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                      "epoch_time_s"}
    assert h["train_loss"][-1] < 0.7 * h["train_loss"][0] and h["val_acc"][-1] > 0.8
    final = evaluate(model, (x, y.float()), loss="bce_with_logits")
    assert final["accuracy"] == pytest.approx(h["val_acc"][-1])
    assert final["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-6)
    with pytest.raises(ValueError, match="shaped like the targets"):  # a 2-class head
        fit(_model(), (x, y.float()), None, _config(epochs=1, loss="bce_with_logits"))


@pytest.mark.parametrize("loss", ["mse", "l1"])
def test_regression_losses_report_mae_not_accuracy(loss):
    x, _ = _data()
    target = x[:, 0, :3].mean(dim=(1, 2))  # brightness of the top half
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 1))
    untrained = evaluate(model, (x, target), loss=loss)["mae"]
    result = fit(model, (x, target), (x, target),
                 _config(epochs=8, lr=0.02, loss=loss, monitor="val_mae"))
    h = result.history
    assert set(h) == {"epoch", "train_loss", "train_mae", "val_loss", "val_mae", "lr",
                      "epoch_time_s"}
    assert h["val_mae"][-1] < min(0.5 * untrained, h["val_mae"][0])
    assert result.best_value == min(h["val_mae"])
    final = evaluate(model, (x, target), loss=loss)
    assert set(final) == {"loss", "mae", "n"}
    assert final["mae"] == pytest.approx(h["val_mae"][-1], rel=1e-5)
    if loss == "l1":  # the L1 loss is the MAE
        assert final["loss"] == pytest.approx(final["mae"], rel=1e-5)
    fig = result.plot()
    assert [ax.get_ylabel() for ax in fig.axes][1] == "error absoluto medio"


def test_a_metric_the_loss_does_not_measure_cannot_be_monitored():
    with pytest.raises(ValueError, match="val_acc"):
        TrainConfig(loss="mse", monitor="val_acc")
    with pytest.raises(ValueError, match="loss"):
        TrainConfig(loss="hinge")


def test_recipe_describe_gives_spanish_rows_with_book_numbers():
    quick, full = alexnet_recipe("quick").describe(), alexnet_recipe("full").describe()
    assert list(quick) == list(full)  # the same rows, side by side in the chapter's table
    assert full["optimizador"] == "SGD, momento 0,9"
    assert full["tasa de aprendizaje"] == "0,01, × 0,1 tras las épocas 30 y 50"
    assert full["decaimiento de pesos (weight decay)"] == "0,0005"
    assert full["imágenes de entrenamiento / validación"] == "todas / todas"
    assert full["aumento de datos"] == "recortes aleatorios, reflejos, color PCA"
    recipe = alexnet_recipe("quick")
    assert quick["épocas"] == str(recipe.config.epochs)
    assert quick["tasa de aprendizaje"].endswith(", constante")
    assert quick["aumento de datos"] == "no"
