"""cnncourse.explain (CAM, Grad-CAM, localisation scores, sanity check) and the map
helpers of cnncourse.plot (upsampling, overlays)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.explain import (
    cam,
    grad_cam,
    normalize_maps,
    pointing_game,
    randomization_test,
    resolve_layer,
    threshold_iou,
)
from cnncourse.plot import heatmap_overlay, plot_sanity_check, show_heatmaps, upsample


def gap_net(inplace: bool = True, classes: int = 3) -> nn.Sequential:
    """conv -> ReLU -> conv -> ReLU -> global average pooling -> linear."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(inplace=inplace),
        nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(inplace=inplace),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, classes),
    ).eval()


def fc_net() -> nn.Sequential:
    """A CNN with fully connected layers after flattening (no global pooling)."""
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.ReLU(inplace=True), nn.Linear(10, 3),
    ).eval()


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2))


# ---------------------------------------------------------------------------------- cam


def test_cam_is_the_weighted_sum_of_the_notes():
    rng = np.random.default_rng(0)
    A, W = rng.random((5, 4, 3)), rng.normal(size=(7, 5))
    expected = sum(W[2, n] * A[n] for n in range(5))  # M_k = sum_n W_nk A_n
    np.testing.assert_allclose(cam(A, W, 2), expected)
    batch = np.stack([A, 2 * A])
    maps = cam(batch, W, [2, 6])
    assert maps.shape == (2, 4, 3)
    np.testing.assert_allclose(maps[0], expected)
    np.testing.assert_allclose(maps[1], 2 * sum(W[6, n] * A[n] for n in range(5)))


def test_cam_mean_plus_bias_is_the_class_score(x):
    net = gap_net()
    with torch.no_grad():
        A = net[:4](x)
        logits = net(x)
    targets = [0, 1, 2, 1]
    maps = cam(A, net[6].weight, targets)
    scores = maps.mean(axis=(1, 2)) + net[6].bias.detach().numpy()[targets]
    np.testing.assert_allclose(scores, logits.numpy()[np.arange(4), targets], rtol=1e-5, atol=1e-6)


def test_cam_is_raw_unless_asked():
    A = np.array([[[1.0, -3.0]]])
    W = np.array([[2.0]])
    np.testing.assert_array_equal(cam(A, W, 0), [[2.0, -6.0]])
    np.testing.assert_array_equal(cam(A, W, 0, relu=True), [[2.0, 0.0]])
    np.testing.assert_array_equal(cam(A, W, 0, normalize=True), [[1.0, 0.0]])
    np.testing.assert_array_equal(cam(torch.tensor(A), torch.tensor(W), 0), [[2.0, -6.0]])


@pytest.mark.parametrize(
    ("activations", "weight", "target", "error", "match"),
    [
        (np.ones((5, 4, 4)), np.ones((3, 6)), 0, ValueError, r"\(K, 5\)"),
        (np.ones((5, 4, 4)), np.ones((5, 3)), 0, ValueError, "transposed"),
        (np.ones((4, 4)), np.ones((3, 5)), 0, ValueError, r"\(C, h, w\)"),
        (np.ones((5, 4, 4)), np.ones(5), 0, ValueError, "2-D"),
        (np.ones((5, 4, 4)), np.ones((3, 5)), 3, ValueError, "0 to 2"),
        (np.ones((5, 4, 4)), np.ones((3, 5)), -1, ValueError, "out of range"),
        (np.ones((5, 4, 4)), np.ones((3, 5)), 1.0, TypeError, "one int"),
        (np.ones((2, 5, 4, 4)), np.ones((3, 5)), 1, TypeError, "one class per image"),
        (np.ones((2, 5, 4, 4)), np.ones((3, 5)), [1], ValueError, "1 targets for a batch of 2"),
        (np.ones((2, 5, 4, 4)), np.ones((3, 5)), [1, 2, 0], ValueError, "3 targets"),
        (np.full((5, 4, 4), np.nan), np.ones((3, 5)), 0, ValueError, "finite"),
    ],
)
def test_cam_rejects_bad_input(activations, weight, target, error, match):
    with pytest.raises(error, match=match):
        cam(activations, weight, target)


# ----------------------------------------------------------------------------- grad_cam


def test_grad_cam_equals_cam_over_the_number_of_positions(x):
    net = gap_net()
    targets = [2, 0, 1, 1]
    maps = grad_cam(net, x, "3", targets)
    with torch.no_grad():
        A = net[:4](x)
    expected = cam(A, net[6].weight, targets)
    np.testing.assert_allclose(maps * 64, expected, rtol=1e-5, atol=1e-6)
    # a positive factor: same map up to scale, also after the paper's ReLU
    np.testing.assert_allclose(normalize_maps(grad_cam(net, x, net[3], targets, relu=True)),
                               normalize_maps(np.maximum(expected, 0)), atol=1e-6)


def test_grad_cam_on_a_network_with_fully_connected_layers(x):
    net = fc_net()
    maps = grad_cam(net, x, "0", [0, 1, 2, 0])
    assert maps.shape == (4, 8, 8)
    # by hand: gradient of the score with respect to the conv output
    A = net[0](x).detach().requires_grad_(True)
    scores = net[1:](A.clone())
    (g,) = torch.autograd.grad(scores[torch.arange(4), torch.tensor([0, 1, 2, 0])].sum(), A)
    expected = (g.mean(dim=(2, 3), keepdim=True) * A).sum(1).detach().numpy()
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-7)
    assert np.abs(maps).max() > 0


def test_single_image_gives_one_map(x):
    net = gap_net()
    one = grad_cam(net, x[1], "3", 2)
    assert one.shape == (8, 8)
    np.testing.assert_allclose(one, grad_cam(net, x, "3", [0, 2, 0, 0])[1], rtol=1e-5, atol=1e-7)


def test_batch_maps_are_those_of_each_image_alone(x):
    net = gap_net()
    batch = grad_cam(net, x, "1", [0, 1, 2, 0])
    for i, t in enumerate([0, 1, 2, 0]):
        np.testing.assert_allclose(batch[i], grad_cam(net, x[i : i + 1], "1", [t])[0],
                                   rtol=1e-5, atol=1e-7)


def test_inplace_relu_after_the_layer_does_not_change_the_map(x):
    """Layer '2' (conv) is followed by ReLU(inplace=True): the kept activations must be
    the conv's output, with its negative values, not the rectified ones."""
    inplace, plain = gap_net(inplace=True), gap_net(inplace=False)
    a = grad_cam(inplace, x, "2", [0, 1, 2, 0])
    b = grad_cam(plain, x, "2", [0, 1, 2, 0])
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with torch.no_grad():
        out = inplace(x)
        assert torch.allclose(out, plain(x)), "the hook must not change the model's output"


def test_frozen_backbone(x):
    net = gap_net()
    before = grad_cam(net, x, "3", [0, 1, 2, 0])
    for p in net.parameters():
        p.requires_grad_(False)
    np.testing.assert_allclose(grad_cam(net, x, "3", [0, 1, 2, 0]), before, rtol=1e-6)
    for p in net[6].parameters():  # only the head trainable: the usual transfer set-up
        p.requires_grad_(True)
    np.testing.assert_allclose(grad_cam(net, x, "1", [0, 1, 2, 0]).shape, (4, 8, 8))
    assert all(p.grad is None for p in net.parameters()), "grad_cam must not leave .grad"


def test_works_under_no_grad_and_leaves_no_gradients(x):
    net = gap_net()
    with torch.no_grad():
        maps = grad_cam(net, x, "3", [0, 0, 0, 0])
    assert np.abs(maps).max() > 0
    assert all(p.grad is None for p in net.parameters())


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.conv(x)
        raise RuntimeError("boom")


class Unused(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.unused = net, nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_hooks_are_removed_after_success_and_after_an_exception(x):
    net = gap_net()
    grad_cam(net, x, "3", [0, 0, 0, 0])
    assert all(not m._forward_hooks for m in net.modules())
    exploding = Exploding().eval()
    with pytest.raises(RuntimeError, match="boom"):
        grad_cam(exploding, x, "conv", [0, 0, 0, 0])
    assert not exploding.conv._forward_hooks
    with pytest.raises(ValueError, match="outputs shape"):  # a later error also cleans up
        grad_cam(net, x, net[6], [0, 0, 0, 0])
    wrapper = Unused(net).eval()
    with pytest.raises(ValueError, match="'unused' did not run"):
        grad_cam(wrapper, x, "unused", [0, 0, 0, 0])
    assert all(not m._forward_hooks for m in wrapper.modules())
    assert all(not m._forward_hooks for m in net.modules())


def test_layer_must_be_in_the_model(x):
    net = gap_net()
    with pytest.raises(ValueError, match="'features' is not a module of the model.*'0'"):
        grad_cam(net, x, "features", [0] * 4)
    with pytest.raises(ValueError, match="not a submodule"):
        grad_cam(net, x, nn.Conv2d(6, 5, 3), [0] * 4)
    with pytest.raises(TypeError, match="nn.Module or its name"):
        grad_cam(net, x, 3, [0] * 4)
    assert resolve_layer(net, net[2]) == ("2", net[2])


@pytest.mark.parametrize(
    ("target", "error", "match"),
    [
        ([0, 1, 2], ValueError, "3 targets for a batch of 4"),
        ([0, 1, 2, 0, 1], ValueError, "5 targets"),
        (1, TypeError, "one class per image"),
        ([0, 1, 3, 0], ValueError, "3 classes, valid targets are 0 to 2"),
        ([0, 1, -1, 0], ValueError, "out of range"),
    ],
)
def test_grad_cam_targets(x, target, error, match):
    with pytest.raises(error, match=match):
        grad_cam(gap_net(), x, "3", target)


def test_reused_module_needs_call(x):
    class Reuse(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
            self.act = nn.ReLU()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.act(self.conv2(self.act(self.conv1(x))))
            return self.fc(a.mean(dim=(2, 3)))

    torch.manual_seed(0)
    net = Reuse().eval()
    with pytest.raises(ValueError, match="ran 2 times.*call=-1"):
        grad_cam(net, x, "act", [0] * 4)
    last = grad_cam(net, x, "act", [0, 1, 0, 1], call=-1)
    with torch.no_grad():
        A = net.act(net.conv2(net.act(net.conv1(x))))
    np.testing.assert_allclose(last * 64, cam(A, net.fc.weight, [0, 1, 0, 1]), rtol=1e-5, atol=1e-6)
    first = grad_cam(net, x, "act", [0, 1, 0, 1], call=0)  # gradient flows through the second use
    assert first.shape == (4, 8, 8) and np.abs(first).max() > 0
    with pytest.raises(ValueError, match="call=2 but"):
        grad_cam(net, x, "act", [0] * 4, call=2)


def test_layer_and_model_outputs_must_have_the_right_shape(x):
    net = gap_net()
    with pytest.raises(ValueError, match=r"\(N, C, h, w\) activations"):
        grad_cam(net, x, "5", [0] * 4)  # Flatten: 2-D output
    headless = nn.Sequential(nn.Conv2d(3, 2, 3)).eval()
    with pytest.raises(ValueError, match=r"\(N, K\) class scores"):
        grad_cam(headless, x, "0", [0] * 4)
    with pytest.raises(ValueError, match="x must be"):
        grad_cam(net, x[0, 0], "3", 0)


def test_training_mode_warns(x):
    net = gap_net().train()
    with pytest.warns(UserWarning, match="model.eval"):
        grad_cam(net, x, "3", [0] * 4)


# -------------------------------------------------------------------- scores and checks


def test_pointing_game_and_threshold_iou():
    masks = np.zeros((2, 4, 4), dtype=bool)
    masks[:, :2, :2] = True
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 1] = 1.0  # inside
    maps[1, 3, 3] = 1.0  # outside
    maps[1, 0, 0] = 0.5
    assert pointing_game(maps, masks).tolist() == [True, False]
    # map 0 selects 1 pixel of 4 -> 1/4; map 1 selects (3,3) and (0,0) -> 1/5
    np.testing.assert_allclose(threshold_iou(maps, masks), [0.25, 0.2])
    np.testing.assert_allclose(threshold_iou(maps, masks, fraction=0.6), [0.25, 0.0])
    assert threshold_iou(-np.ones((4, 4)), masks[0]).tolist() == [0.0]
    with pytest.raises(ValueError, match="same"):
        pointing_game(np.zeros((2, 7, 7)), masks)
    with pytest.raises(ValueError, match="fraction"):
        threshold_iou(maps, masks, fraction=0)


def test_randomization_test_changes_the_maps_and_not_the_model(x):
    net = gap_net()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    targets = [0, 1, 2, 0]
    result = randomization_test(net, x, lambda m, x: grad_cam(m, x, "3", targets), ["6", "2", "0"])
    assert result.stages == ["original", "6", "2", "0"]
    assert [m.shape for m in result.maps] == [(4, 8, 8)] * 4
    np.testing.assert_allclose(result.spearman[0], 1.0)
    np.testing.assert_allclose(result.ssim[0], 1.0)
    assert result.spearman[-1].mean() < 0.9
    assert not np.allclose(result.maps[-1], result.maps[0])
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())
    again = randomization_test(net, x, lambda m, x: grad_cam(m, x, "3", targets), ["6", "2", "0"])
    np.testing.assert_array_equal(again.spearman, result.spearman)  # seeded


def test_randomization_test_keeps_normalisation_layers_unless_asked(x):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():
        net[1].running_mean.fill_(0.5)
    net.eval()
    explain = lambda m, x: grad_cam(m, x, "2", [0] * 4)  # noqa: E731
    seen = {}

    def record(m, x):
        seen["mean"] = m[1].running_mean.clone()
        return explain(m, x)

    randomization_test(net, x, record, ["1"], normalization=True)
    assert torch.equal(seen["mean"], torch.zeros(4))
    with pytest.raises(ValueError, match="no layer with parameters"):
        randomization_test(net, x, explain, ["1"])  # batch norm only, skipped by default
    randomization_test(net, x, record, ["5", "0"])
    assert torch.equal(seen["mean"], torch.full((4,), 0.5))


def test_randomization_test_rejects_bad_blocks(x):
    net = gap_net()
    explain = lambda m, x: grad_cam(m, x, "3", [0] * 4)  # noqa: E731
    with pytest.raises(ValueError, match="'fc' is not a module"):
        randomization_test(net, x, explain, ["fc"])
    with pytest.raises(ValueError, match="no layer with parameters"):
        randomization_test(net, x, explain, ["1"])
    with pytest.raises(ValueError, match="at least one"):
        randomization_test(net, x, explain, [])
    with pytest.raises(ValueError, match=r"\(N, h, w\) maps"):
        randomization_test(net, x, lambda m, x: np.zeros((8, 8)), ["6"])


# ------------------------------------------------------------------ upsampling, overlay


@pytest.mark.parametrize(("h", "w", "H", "W"), [(7, 7, 224, 224), (3, 5, 12, 7), (4, 4, 4, 4), (2, 3, 9, 16)])
def test_upsample_matches_torch_bilinear(h, w, H, W):
    maps = np.random.default_rng(0).normal(size=(2, h, w))
    ours = upsample(maps, (H, W))
    theirs = F.interpolate(torch.tensor(maps)[:, None], size=(H, W), mode="bilinear",
                           align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_upsample_rejects_bad_sizes():
    with pytest.raises(ValueError, match="size"):
        upsample(np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="size"):
        upsample(np.zeros((2, 2)), (2.5, 3))
    with pytest.raises(ValueError, match="maps"):
        upsample(np.zeros(4), 8)


def test_overlay_goes_from_blue_to_red():
    image = np.zeros((16, 16, 3))
    m = np.zeros((4, 4))
    m[0, 0] = 1.0
    out = heatmap_overlay(image, m, alpha=1.0)
    assert out.shape == (16, 16, 3)
    assert out[0, 0, 0] > 0.4 and out[0, 0, 2] < 0.1  # high: red
    assert out[-1, -1, 2] > 0.4 and out[-1, -1, 0] < 0.1  # low: blue
    # shared limits show a weak map as weak
    weak = heatmap_overlay(image, 0.1 * m, alpha=1.0, vmin=0, vmax=1)
    assert weak[0, 0, 0] < 0.1
    np.testing.assert_allclose(heatmap_overlay(image + 0.5, m, alpha=0.0), image + 0.5)
    with pytest.raises(ValueError, match="alpha"):
        heatmap_overlay(image, m, alpha=2)
    with pytest.raises(ValueError, match="heatmap"):
        heatmap_overlay(image, np.zeros((2, 4, 4)))


def test_figures():
    import matplotlib.pyplot as plt

    fig = show_heatmaps([np.zeros((8, 8, 3))] * 3, [np.eye(4)] * 3, ["a", "b", "c"], ncols=2,
                        vmin=0, vmax=1, colorbar=True)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4  # 3 images + colour bar
    with pytest.raises(ValueError, match="one map per image"):
        show_heatmaps([np.zeros((8, 8, 3))], [])
    result = SimpleNamespace(stages=["original", "fc", "conv"], ssim=np.ones((3, 2)),
                             spearman=np.array([[1.0, 1.0], [0.5, 0.3], [0.0, -0.2]]))
    fig = plot_sanity_check(result, labels=["a", "b", "c"])
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [1.0, 0.4, -0.1])  # the mean
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="labels has 2 entries for 3 stages"):
        plot_sanity_check(result, labels=["a", "b"])
    plt.close("all")


def test_normalize_maps():
    np.testing.assert_array_equal(normalize_maps(np.full((2, 3, 3), 4.0)), np.zeros((2, 3, 3)))
    out = normalize_maps(np.stack([np.arange(4.0).reshape(2, 2), 10 * np.arange(4.0).reshape(2, 2)]))
    np.testing.assert_allclose(out[0], out[1])
    with pytest.raises(ValueError, match="maps must be"):
        normalize_maps(np.zeros(3))
