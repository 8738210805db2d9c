"""Tests of cnncourse.models: shapes, parameter counts against the documents and
torchvision, and FLOP counts. Big models are built on the meta device (no memory, no
initialisation cost): counting parameters and shapes needs no real weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnncourse.models import alexnet, count_flops, count_macs, paper_lrn, zfnet
from cnncourse.params import conv_params, layer_table, module_params
from cnncourse.shapes import conv_output_size

META = torch.device("meta")


def weights(conv: nn.Conv2d) -> int:
    return conv.weight.numel()


# --- AlexNet ---------------------------------------------------------------------------

# The 25-row table of the pretrained network (seed 000): rows 2-23 are modules.
ALEXNET_ROWS = [
    "conv1", "relu1", "norm1", "pool1",
    "conv2", "relu2", "norm2", "pool2",
    "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
    "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8",
]  # fmt: skip


def test_alexnet_follows_the_layer_table_row_by_row():
    with META:
        net = alexnet()
    table = layer_table(net, (3, 227, 227))
    assert [r.name for r in table.rows] == ["input", *ALEXNET_ROWS]
    shapes = {r.name: r.output_shape for r in table.rows}
    assert shapes["conv1"] == (96, 55, 55)
    assert shapes["pool1"] == (96, 27, 27)
    assert shapes["conv2"] == (256, 27, 27)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == shapes["conv4"] == (384, 13, 13)
    assert shapes["conv5"] == (256, 13, 13)
    assert shapes["pool5"] == (256, 6, 6)
    assert shapes["fc6"] == shapes["fc7"] == (4096,)
    assert shapes["fc8"] == (1000,)


def test_alexnet_filter_depths_are_those_of_the_table():
    # 000: 96 11x11x3, 256 5x5x48, 384 3x3x256, 384 3x3x192, 256 3x3x192
    with META:
        net = alexnet()
    expected = {
        "conv1": (96, 3, 11, 11),
        "conv2": (256, 48, 5, 5),
        "conv3": (384, 256, 3, 3),
        "conv4": (384, 192, 3, 3),
        "conv5": (256, 192, 3, 3),
    }
    for name, shape in expected.items():
        assert tuple(getattr(net, name).weight.shape) == shape, name
    assert net.conv1.stride == (4, 4) and net.conv1.padding == (0, 0)
    assert net.conv2.stride == (1, 1) and net.conv2.padding == (2, 2)
    assert net.pool1.kernel_size == 3 and net.pool1.stride == 2
    assert net.drop6.p == net.drop7.p == 0.5


def test_alexnet_conv_weights_match_slides_002_when_ungrouped():
    # 002 counts weights (no biases) of the single-device network.
    with META:
        net = alexnet(groups=1)
    assert [weights(getattr(net, f"conv{i}")) for i in range(1, 6)] == [
        34_848, 614_400, 884_736, 1_327_104, 884_736,
    ]  # fmt: skip


def test_alexnet_grouped_conv_weights_are_half_of_the_ungrouped_ones():
    with META:
        grouped, dense = alexnet(), alexnet(groups=1)
    assert weights(grouped.conv1) == weights(dense.conv1) == 34_848
    assert weights(grouped.conv3) == weights(dense.conv3) == 884_736
    for name in ("conv2", "conv4", "conv5"):
        assert 2 * weights(getattr(grouped, name)) == weights(getattr(dense, name))
    assert [weights(grouped.conv2), weights(grouped.conv4), weights(grouped.conv5)] == [
        307_200, 663_552, 442_368,
    ]  # fmt: skip


def test_alexnet_total_is_about_sixty_million():
    with META:
        net = alexnet()
    assert module_params(net) == 60_965_224
    assert module_params(net.conv1) == conv_params(3, 96, 11) == 34_944  # not "35000"


def test_alexnet_runs_on_real_weights_and_keeps_batch():
    torch.manual_seed(0)
    net = alexnet(num_classes=7).eval()
    out = net(torch.randn(2, 3, 227, 227))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


def test_alexnet_224_input_does_not_fit_the_first_layer():
    assert conv_output_size(227, 11, stride=4) == 55
    with pytest.raises(ValueError, match="227"):
        conv_output_size(224, 11, stride=4)


def test_alexnet_paper_init():
    torch.manual_seed(0)
    net = alexnet(init="paper")
    for name in ("conv2", "conv4", "conv5", "fc6", "fc7"):
        assert torch.all(getattr(net, name).bias == 1), name
    for name in ("conv1", "conv3", "fc8"):
        assert torch.all(getattr(net, name).bias == 0), name
    assert abs(net.fc6.weight.std().item() - 0.01) < 1e-4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_classes": 0}, ValueError, "num_classes"),
        ({"num_classes": 10.0}, TypeError, "num_classes"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"dropout": "0.5"}, TypeError, "dropout"),
        ({"groups": 3}, ValueError, "groups"),
        ({"init": "xavier"}, ValueError, "init"),
    ],
)
def test_alexnet_rejects_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        alexnet(**kwargs)


def test_alexnet_options_are_keyword_only():
    with pytest.raises(TypeError):
        alexnet(10)  # type: ignore[misc]


def test_torchvision_alexnet_is_a_different_network():
    # torchvision's AlexNet follows the "one weird trick" single-GPU variant (Krizhevsky
    # 2014), not the 2012 paper: 64 first filters instead of 96, 192/384/256/256 maps,
    # no local response normalisation, no groups, and an adaptive average pooling to
    # 6x6 so that it accepts 224x224 inputs. Hence 61,100,840 parameters, not ours.
    from torchvision.models import alexnet as tv_alexnet

    with META:
        tv, ours = tv_alexnet(), alexnet()
    assert tv.features[0].out_channels == 64 and ours.conv1.out_channels == 96
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in tv.modules())
    assert all(m.groups == 1 for m in tv.modules() if isinstance(m, nn.Conv2d))
    assert module_params(tv) == 61_100_840 != module_params(ours)


def test_paper_lrn_matches_the_paper_formula():
    # b_i = a_i / (k + alpha * sum_{j=i-n/2}^{i+n/2} a_j^2) ** beta, k=2, n=5,
    # alpha=1e-4, beta=0.75 (no division by n in the paper).
    torch.manual_seed(0)
    a = torch.randn(2, 9, 3, 3) * 20
    n, k, alpha, beta = 5, 2.0, 1e-4, 0.75
    expected = torch.empty_like(a)
    for i in range(a.shape[1]):
        lo, hi = max(0, i - n // 2), min(a.shape[1] - 1, i + n // 2)
        expected[:, i] = a[:, i] / (k + alpha * (a[:, lo : hi + 1] ** 2).sum(1)) ** beta
    torch.testing.assert_close(paper_lrn()(a), expected)
    assert module_params(paper_lrn()) == 0  # not batch normalisation: nothing to learn


# --- ZFNet -----------------------------------------------------------------------------


def test_zfnet_sizes_follow_the_paper_figure():
    with META:
        net = zfnet()
    shapes = {r.name: r.output_shape for r in layer_table(net, (3, 224, 224)).rows}
    assert shapes["conv1"] == (96, 110, 110)
    assert shapes["pool1"] == (96, 55, 55)
    assert shapes["conv2"] == (256, 26, 26)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["pool5"] == (256, 6, 6)
    assert net.conv1.kernel_size == (7, 7) and net.conv1.stride == (2, 2)


# --- FLOPs -----------------------------------------------------------------------------


def test_alexnet_macs_by_hand():
    convs = [
        55 * 55 * 96 * (3 * 11 * 11),
        27 * 27 * 256 * (48 * 5 * 5),
        13 * 13 * 384 * (256 * 3 * 3),
        13 * 13 * 384 * (192 * 3 * 3),
        13 * 13 * 256 * (192 * 3 * 3),
    ]
    fcs = 9216 * 4096 + 4096 * 4096 + 4096 * 1000
    with META:
        net = alexnet()
    assert count_macs(net, (3, 227, 227)) == sum(convs) + fcs == 724_406_816
    assert count_flops(net, (3, 227, 227)) == 2 * 724_406_816


def test_count_macs_leaves_model_mode_alone_and_validates():
    net = nn.Sequential(nn.Linear(4, 3))
    net.train()
    assert count_macs(net, (4,)) == 12
    assert net.training
    with pytest.raises(TypeError, match="model"):
        count_macs("net", (4,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="input of shape"):
        count_macs(net, (5,))
    with pytest.raises(TypeError, match="input_shape"):
        count_macs(net, 4)  # type: ignore[arg-type]
