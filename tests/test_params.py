"""Tests for cnncourse.params: counts against torch and the documents, the layer table."""

import pytest
import torch
from torch import nn

from cnncourse.params import LayerTable, conv_params, layer_table, linear_params, module_params


@pytest.mark.parametrize(
    ("cin", "cout", "kernel", "bias", "groups"),
    [(1, 6, 5, True, 1), (3, 96, 11, True, 1), (96, 256, 5, True, 2), (384, 384, 3, False, 2),
     (16, 32, (3, 5), True, 4), (8, 8, 3, True, 8), (3, 64, 1, False, 1)],
)
def test_conv_params_match_torch(cin, cout, kernel, bias, groups):
    layer = nn.Conv2d(cin, cout, kernel, bias=bias, groups=groups)
    assert conv_params(cin, cout, kernel, bias=bias, groups=groups) == module_params(layer)


def test_document_counts():
    # 002 lists AlexNet's conv weights without biases for the ungrouped network.
    assert conv_params(3, 96, 11, bias=False) == 34_848
    assert conv_params(96, 256, 5, bias=False) == 614_400
    assert conv_params(256, 384, 3, bias=False) == 884_736
    assert conv_params(384, 384, 3, bias=False) == 1_327_104
    assert conv_params(384, 256, 3, bias=False) == 884_736
    # LeNet-5 (004): C1, C5, F6.
    assert conv_params(1, 6, 5) == 156
    assert conv_params(16, 120, 5) == 48_120
    assert linear_params(120, 84) == 10_164


@pytest.mark.parametrize(("fin", "fout", "bias"), [(120, 84, True), (9216, 4096, True), (10, 3, False)])
def test_linear_params_match_torch(fin, fout, bias):
    assert linear_params(fin, fout, bias=bias) == module_params(nn.Linear(fin, fout, bias=bias))


def test_bad_counts_name_the_parameter():
    with pytest.raises(ValueError, match=r"in_channels=3 is not divisible by groups=2"):
        conv_params(3, 96, 11, groups=2)
    with pytest.raises(ValueError, match=r"out_channels=5 is not divisible by groups=2"):
        conv_params(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match=r"groups must be an integer >= 1, got 0"):
        conv_params(4, 4, 3, groups=0)
    with pytest.raises(TypeError, match=r"kernel must be an integer.*3\.0"):
        conv_params(4, 4, 3.0)
    with pytest.raises(TypeError, match=r"bias must be True or False, got 1"):
        conv_params(4, 4, 3, bias=1)
    with pytest.raises(ValueError, match=r"in_features must be an integer >= 1, got 0"):
        linear_params(0, 4)
    with pytest.raises(TypeError, match=r"bias must be True or False"):
        linear_params(3, 4, bias=None)
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got list"):
        module_params([1, 2])


def test_module_params_counts_shared_and_frozen_correctly():
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert module_params(net) == 20
    frozen = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    frozen[0].requires_grad_(False)
    assert module_params(frozen) == 30
    assert module_params(frozen, trainable_only=True) == 10


class _Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(8 * 4 * 4, 10)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        x = self.features(x).flatten(1)
        return self.classifier(self.dropout(x))


def test_layer_table_rows_shapes_and_totals():
    model = _Small().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    table = layer_table(model, (3, 8, 8))
    assert isinstance(table, LayerTable)
    assert [r.name for r in table.rows] == [
        "input", "features.0", "features.1", "features.2", "dropout", "classifier"]
    assert table["features.2"].output_shape == (8, 4, 4)
    assert table["classifier"].output_shape == (10,)
    assert table["features.0"].params == 3 * 8 * 9 + 8
    assert table.total_params == module_params(model) == sum(r.params for r in table.rows)
    assert model.training, "the table must restore the training mode"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_layer_table_text_and_html():
    table = layer_table(_Small(), (3, 8, 8))
    text = str(table)
    assert "features.0" in text and "8x8x8" in text and "total parameters: 1,514" in text
    html = table._repr_html_()
    assert html.startswith("<table") and html.count("<tr>") == len(table) + 2
    spanish = layer_table(_Small(), (3, 8, 8), lang="es")
    assert "parámetros en total" in spanish.to_text()
    assert "forma de salida" in spanish._repr_html_()
    # Spanish numbers as the book writes them (cnncourse.fmt): 1.514, 8 × 8 × 8.
    assert "parámetros en total: 1.514 (entrenables: 1.514)" in spanish.to_text()
    assert "8 × 8 × 8" in spanish.to_text() and "1,514" not in spanish.to_text()


def test_layer_table_bad_inputs():
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module, got str"):
        layer_table("alexnet", (3, 227, 227))
    with pytest.raises(TypeError, match=r"input_shape must be a sequence of integers"):
        layer_table(_Small(), 8)
    with pytest.raises(ValueError, match=r"input_shape\[0\] must be an integer >= 1, got 0"):
        layer_table(_Small(), (0, 8, 8))
    with pytest.raises(ValueError, match=r"cannot take an input of shape \(3, 12, 12\)"):
        layer_table(_Small(), (3, 12, 12))
    with pytest.raises(ValueError, match=r"lang must be one of"):
        layer_table(_Small(), (3, 8, 8), lang="fr")
    with pytest.raises(KeyError, match="no layer named 'conv9'"):
        layer_table(_Small(), (3, 8, 8))["conv9"]
