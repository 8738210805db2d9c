"""The case-study networks: the notes' Keras cats-vs-dogs CNN and BoNET."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnncourse.models import BONET_CFGS, BoNet, CatsDogsCNN, bonet, bonet_params
from cnncourse.models.bonet import bonet_output_side
from cnncourse.models.catsdogs import KERAS_CATS_DOGS_PARAMS
from cnncourse.params import layer_table


def _keras_summary_cats_dogs() -> list[tuple[str, tuple[int, ...], int]]:
    """What Keras' ``classifier.summary()`` prints for the notes' model, computed by hand
    with Keras' rules: Conv2D 'valid' stride 1 -> n - k + 1, params (k*k*c_in + 1) * f;
    MaxPooling2D (2, 2) -> floor(n / 2); Dense params (n_in + 1) * units."""
    rows = []
    n, c = 64, 3
    n, params = n - 3 + 1, (3 * 3 * c + 1) * 32
    c = 32
    rows.append(("conv2d", (n, n, c), params))
    n //= 2
    rows.append(("max_pooling2d", (n, n, c), 0))
    n, params = n - 3 + 1, (3 * 3 * c + 1) * 32
    rows.append(("conv2d_1", (n, n, c), params))
    n //= 2
    rows.append(("max_pooling2d_1", (n, n, c), 0))
    flat = n * n * c
    rows.append(("flatten", (flat,), 0))
    rows.append(("dense", (128,), (flat + 1) * 128))
    rows.append(("dense_1", (1,), (128 + 1) * 1))
    return rows


def test_cats_dogs_counts_match_keras_layer_by_layer():
    keras = _keras_summary_cats_dogs()
    assert [r[2] for r in keras if r[2]] == list(KERAS_CATS_DOGS_PARAMS.values())
    assert sum(r[2] for r in keras) == 813_217
    table = layer_table(CatsDogsCNN(), (3, 64, 64))
    ours = [(r.output_shape, r.params) for r in table.rows if r.kind != "ReLU"][1:]
    # PyTorch shapes are channels-first: (C, H, W) against Keras' (H, W, C).
    expected = [((s[2], s[0], s[1]) if len(s) == 3 else s, p) for _, s, p in keras]
    assert ours == expected
    assert table.total_params == 813_217


def test_cats_dogs_outputs_one_logit_and_trains_a_step():
    torch.manual_seed(0)
    net = CatsDogsCNN()
    x, y = torch.rand(4, 3, 64, 64), torch.tensor([0.0, 1.0, 0.0, 1.0])
    loss = nn.functional.binary_cross_entropy_with_logits(net(x).squeeze(1), y)
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())


def test_cats_dogs_other_sizes_and_validation():
    assert CatsDogsCNN(image_size=32)(torch.zeros(1, 3, 32, 32)).shape == (1, 1)
    with pytest.raises(ValueError, match="image_size"):
        CatsDogsCNN(image_size=4)
    with pytest.raises(TypeError, match="filters"):
        CatsDogsCNN(filters=3.0)


def test_bonet_formula_counts_match_built_modules_at_small_size():
    for variant, size in (("simple", 40), ("complete", 128)):
        rows = bonet_params(variant, image_size=size, hidden=32)
        net = bonet(variant, image_size=size, hidden=32)
        weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert [n for _, n in rows] == [sum(p.numel() for p in m.parameters()) for m in weighted]


def test_bonet_counts_at_the_notes_size():
    simple = dict(bonet_params("simple"))
    assert simple == {"conv1 7x7/96": 4_800, "conv2 5x5/1024": 2_458_624,
                      "dense 2048": 5_454_694_400, "dense 1": 2_049}
    assert sum(simple.values()) == 5_457_159_873
    complete = bonet_params("complete")
    assert sum(n for _, n in complete) == 76_232_385
    assert complete[-2] == ("dense 2048", (4 * 4 * 1024 + 1) * 2048)
    assert bonet_output_side(220, BONET_CFGS["simple"]) == 51
    # OverFeat-style RGB input changes only the first layer.
    assert bonet_params("simple", in_channels=3)[0][1] == (7 * 7 * 3 + 1) * 96


def test_bonet_first_layer_frozen_and_trainable_count():
    net = BoNet(((8, 7), (16, 5)), image_size=48, hidden=32)
    frozen = sum(p.numel() for p in net.parameters() if not p.requires_grad)
    assert frozen == 7 * 7 * 8 + 8
    net(torch.rand(2, 1, 48, 48)).sum().backward()
    assert net.features[0].weight.grad is None
    assert net.features[3].weight.grad is not None
    free = BoNet(((8, 7), (16, 5)), image_size=48, hidden=32, freeze_first=False)
    assert all(p.requires_grad for p in free.parameters())


def test_bonet_validation():
    with pytest.raises(ValueError, match="variant"):
        bonet("large")
    with pytest.raises(ValueError, match="too small"):
        BoNet(BONET_CFGS["complete"], image_size=64)
    with pytest.raises(ValueError, match="at least one"):
        BoNet((), image_size=64)
