"""Tests of cnncourse.models: shapes, parameter counts against the documents and
torchvision, and FLOP counts. Big models are built on the meta device (no memory, no
initialisation cost): counting parameters and shapes needs no real weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnncourse.models import (
    C3_TABLE,
    CFGS,
    DenseBlock,
    InceptionBlock,
    ResidualBlock,
    Transition,
    alexnet,
    count_flops,
    count_macs,
    lenet5,
    macs_by_layer,
    make_layers,
    paper_lrn,
    vgg,
    weight_layers,
    zfnet,
)
from cnncourse.models.lenet import SparseConv2d, Subsampling
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
    per_layer = macs_by_layer(net, (3, 227, 227))
    assert list(per_layer) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    assert list(per_layer.values())[:5] == convs


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


# --- LeNet-5 ---------------------------------------------------------------------------


def test_lenet5_counts_are_those_of_the_notes():
    net = lenet5()
    counts = {n: module_params(getattr(net, n)) for n in ("c1", "s2", "c3", "s4", "c5", "f6")}
    assert counts == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48_120, "f6": 10_164}
    assert sum(counts.values()) == 60_000
    assert module_params(net.output) == 84 * 10 + 10


def test_lenet5_without_the_table_connects_all_maps():
    net = lenet5(connection_table=False)
    assert module_params(net.c3) == conv_params(6, 16, 5) == 2416


def test_lenet5_shapes_follow_the_paper():
    shapes = {r.name: r.output_shape for r in layer_table(lenet5(), (1, 32, 32)).rows}
    assert shapes["c1"] == (6, 28, 28)
    assert shapes["s2"] == (6, 14, 14)
    assert shapes["c3"] == (16, 10, 10)
    assert shapes["s4"] == (16, 5, 5)
    assert shapes["c5"] == (120, 1, 1)
    assert shapes["f6"] == (84,)
    assert shapes["output"] == (10,)


def test_c3_table_is_the_papers():
    assert len(C3_TABLE) == 16
    assert [len(maps) for maps in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert sum(len(maps) for maps in C3_TABLE) * 25 + 16 == 1516
    # the first six read three consecutive S2 maps (cyclically)
    for o in range(6):
        assert set(C3_TABLE[o]) == {o % 6, (o + 1) % 6, (o + 2) % 6}


def test_sparse_conv_equals_a_dense_conv_with_missing_weights_zeroed():
    torch.manual_seed(0)
    c3 = SparseConv2d(6, C3_TABLE, kernel_size=5)
    x = torch.randn(2, 6, 14, 14)
    dense = c3.dense_weight()
    for o, maps in enumerate(C3_TABLE):
        missing = [i for i in range(6) if i not in maps]
        assert torch.all(dense[o, missing] == 0)
        assert torch.all(dense[o, list(maps)] != 0)
    torch.testing.assert_close(c3(x), nn.functional.conv2d(x, dense, c3.bias))
    # an output map does not change when an unconnected input map does
    x2 = x.clone()
    x2[:, 5] += 10.0  # map 5 is not read by C3 map 0 (0, 1, 2)
    torch.testing.assert_close(c3(x2)[:, 0], c3(x)[:, 0])
    assert not torch.allclose(c3(x2)[:, 3], c3(x)[:, 3])


def test_sparse_conv_learns_only_its_weights():
    torch.manual_seed(0)
    c3 = SparseConv2d(6, C3_TABLE, kernel_size=5)
    c3(torch.randn(1, 6, 14, 14)).sum().backward()
    assert c3.weight.grad is not None and c3.weight.grad.shape == (60, 5, 5)


@pytest.mark.parametrize(
    ("table", "match"),
    [([], "at least one"), ([(0, 6)], r"table\[0\]"), ([()], r"table\[0\]")],
)
def test_sparse_conv_rejects_bad_tables(table, match):
    with pytest.raises(ValueError, match=match):
        SparseConv2d(6, table, kernel_size=5)


def test_subsampling_is_scaled_average_pooling():
    s = Subsampling(2)
    with torch.no_grad():
        s.weight.copy_(torch.tensor([2.0, -1.0]))
        s.bias.copy_(torch.tensor([0.5, 0.0]))
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    expected = nn.functional.avg_pool2d(x, 2) * torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
    expected[:, 0] += 0.5
    torch.testing.assert_close(s(x), expected)


def test_lenet5_macs_count_only_existing_connections():
    dense, sparse = lenet5(connection_table=False), lenet5()
    difference = count_macs(dense, (1, 32, 32)) - count_macs(sparse, (1, 32, 32))
    assert difference == 10 * 10 * (96 - 60) * 25  # 36 missing 5x5 connections


def test_lenet5_learns_a_tiny_problem():
    torch.manual_seed(0)
    net = lenet5(num_classes=2)
    x = torch.randn(16, 1, 32, 32)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


# --- VGG -------------------------------------------------------------------------------

# Parameters of each configuration (the paper's table 2 rounds them to 133, 133, 133,
# 134, 138 and 144 million).
VGG_PARAMS = {
    "A": 132_863_336,
    "A-LRN": 132_863_336,
    "B": 133_047_848,
    "C": 133_638_952,
    "D": 138_357_544,
    "E": 143_667_240,
}


def test_vgg_configurations_have_the_tables_depth_and_counts():
    assert [weight_layers(CFGS[c]) for c in VGG_PARAMS] == [11, 11, 13, 16, 16, 19]
    with META:
        counts = {c: module_params(vgg(c)) for c in VGG_PARAMS}
    assert counts == VGG_PARAMS
    assert round(counts["D"] / 1e6) == 138  # "VGG16 ~138M"


def test_vgg_c_uses_1x1_convolutions_and_a_lrn_a_normalisation():
    with META:
        c, a_lrn = vgg("C"), vgg("A-LRN")
    kernels = [m.kernel_size for m in c.features if isinstance(m, nn.Conv2d)]
    assert kernels.count((1, 1)) == 3 and kernels[-1] == (1, 1)
    assert isinstance(a_lrn.features[2], nn.LocalResponseNorm)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize(("config", "name"), [("A", "vgg11"), ("B", "vgg13"), ("D", "vgg16"), ("E", "vgg19")])
def test_vgg_is_torchvisions_vgg(config, name, batch_norm):
    import torchvision.models as tvm

    factory = getattr(tvm, f"{name}_bn" if batch_norm else name)
    with META:
        theirs, ours = factory(), vgg(config, batch_norm=batch_norm)
    assert module_params(ours) == module_params(theirs)
    # same layout: torchvision's pretrained state_dict loads into ours
    theirs_sd, ours_sd = theirs.state_dict(), ours.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert all(ours_sd[k].shape == theirs_sd[k].shape for k in ours_sd)


def test_vgg_runs_on_a_224_image():
    with META:
        net = vgg("A")
    assert net(torch.empty(1, 3, 224, 224, device=META)).shape == (1, 1000)
    assert layer_table(net, (3, 224, 224))["features.20"].output_shape == (512, 7, 7)


def test_vgg_rejects_unknown_configurations():
    with pytest.raises(ValueError, match="config"):
        vgg("F")
    with pytest.raises(ValueError, match=r"cfg\[1\]"):
        make_layers(["conv3-64", "avgpool"])


def test_three_stacked_3x3_convolutions_see_7x7():
    stack = nn.Sequential(*(nn.Conv2d(1, 1, 3, bias=False) for _ in range(3)))
    big = nn.Conv2d(1, 1, 7, bias=False)
    assert stack(torch.zeros(1, 1, 7, 7)).shape == big(torch.zeros(1, 1, 7, 7)).shape == (1, 1, 1, 1)
    assert module_params(stack) == 27 and module_params(big) == 49
    # every input pixel of the 7x7 window reaches the single output
    x = torch.zeros(1, 1, 7, 7, requires_grad=True)
    with torch.no_grad():
        for conv in stack:
            conv.weight.fill_(1.0)
    stack(x).sum().backward()
    assert torch.all(x.grad > 0)


# --- blocks ----------------------------------------------------------------------------


def test_inception_naive_and_bottleneck_costs():
    naive = InceptionBlock(256, out_1x1=128, out_3x3=192, out_5x5=96)
    bottleneck = InceptionBlock(
        256, out_1x1=128, out_3x3=192, out_5x5=96, reduce_3x3=64, reduce_5x5=64, pool_proj=64
    )
    assert naive.out_channels == 672 and bottleneck.out_channels == 480
    hw = 28 * 28
    naive_macs = hw * (128 * 256 + 192 * 9 * 256 + 96 * 25 * 256)
    bottleneck_macs = hw * (
        128 * 256 + 64 * 256 + 192 * 9 * 64 + 64 * 256 + 96 * 25 * 64 + 64 * 256
    )
    assert count_macs(naive, (256, 28, 28)) == naive_macs == 854_196_224
    assert count_macs(bottleneck, (256, 28, 28)) == bottleneck_macs == 271_351_808
    assert bottleneck(torch.zeros(1, 256, 28, 28)).shape == (1, 480, 28, 28)


def test_inception_needs_all_reductions_or_none():
    with pytest.raises(ValueError, match="reduce_3x3"):
        InceptionBlock(16, out_1x1=8, out_3x3=8, out_5x5=8, reduce_3x3=4)


def test_residual_block_matches_torchvision_basic_block():
    from torchvision.models import resnet18

    with META:
        tv = resnet18()
        same, down = ResidualBlock(64, 64), ResidualBlock(64, 128, stride=2)
    assert module_params(same) == module_params(tv.layer1[0])
    assert module_params(down) == module_params(tv.layer2[0])


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    block = ResidualBlock(4, 4).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()  # F(x) = 0: the block becomes relu(x)
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), torch.relu(x))
    # and the gradient reaches the input through the skip even though F passes none
    x.requires_grad_(True)
    block(x).sum().backward()
    torch.testing.assert_close(x.grad, (x > 0).float())


def test_skip_connections_keep_the_gradient_of_deep_stacks():
    # Without normalisation, 16 plain blocks (32 conv layers) at PyTorch's default
    # initialisation let almost no gradient reach the first layer; the same layers
    # with skip connections do (the chain-rule argument of the notes, section 3.6).
    def first_layer_grad(skip: bool) -> float:
        torch.manual_seed(0)
        blocks = [ResidualBlock(8, 8, batch_norm=False, skip=skip) for _ in range(16)]
        net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), *blocks)
        net(torch.randn(4, 3, 8, 8)).mean().backward()
        return net[0].weight.grad.norm().item()

    plain, residual = first_layer_grad(False), first_layer_grad(True)
    assert plain < 1e-6 < 1e-3 < residual


def test_residual_block_options():
    plain = ResidualBlock(4, 8, stride=2, batch_norm=False, skip=False)
    assert plain.shortcut is None and isinstance(plain.bn1, nn.Identity)
    assert plain.conv1.bias is not None
    assert plain(torch.zeros(1, 4, 6, 6)).shape == (1, 8, 3, 3)
    with pytest.raises(TypeError, match="skip"):
        ResidualBlock(4, 4, skip=1)  # type: ignore[arg-type]


def test_dense_block_and_transition_match_densenet121():
    from torchvision.models import densenet121

    with META:
        tv = densenet121()
        block = DenseBlock(64, num_layers=6, growth_rate=32)
        transition = Transition(block.out_channels, theta=0.5)
    assert block.out_channels == 256 and transition.out_channels == 128
    assert module_params(block) == module_params(tv.features.denseblock1)
    assert module_params(transition) == module_params(tv.features.transition1)


def test_dense_block_keeps_every_earlier_map():
    torch.manual_seed(0)
    block = DenseBlock(3, num_layers=4, growth_rate=2, bottleneck=False).eval()
    x = torch.randn(1, 3, 6, 6)
    out = block(x)
    assert out.shape == (1, 3 + 4 * 2, 6, 6)
    torch.testing.assert_close(out[:, :3], x)  # the input passes through untouched
    assert [layer.layers[-1].in_channels for layer in block] == [3, 5, 7, 9]


@pytest.mark.parametrize(("theta", "error"), [(0.0, ValueError), (1.5, ValueError), ("a", TypeError)])
def test_transition_rejects_bad_theta(theta, error):
    with pytest.raises(error, match="theta"):
        Transition(16, theta=theta)
