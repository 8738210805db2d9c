"""Parameter counts and per-layer tables.

The counting functions need only the standard library. :func:`module_params` and
:func:`layer_table` take a torch module and import torch when called.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

from cnncourse import fmt
from cnncourse._trace import trace_leaf_calls
from cnncourse._validate import check_int, check_module, check_pair

__all__ = [
    "conv_params",
    "linear_params",
    "module_params",
    "LayerRow",
    "LayerTable",
    "layer_table",
]


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel: int | tuple[int, int],
    *,
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Learnable parameters of a 2-D convolution.

    Each of the ``out_channels`` filters spans ``in_channels / groups`` input channels,
    so the count is ``out * (in / groups) * kh * kw`` weights plus ``out`` biases.

    Parameters
    ----------
    in_channels, out_channels : int
        Depth of the input volume and number of filters.
    kernel : int or (int, int)
        Filter height and width.
    bias : bool, optional
        Whether each filter has a bias.
    groups : int, optional
        Number of channel groups; must divide both channel counts.

    Examples
    --------
    LeNet-5's C1 (6 filters of 5x5 on one channel) and AlexNet's conv1 and conv2:

    >>> conv_params(1, 6, 5)
    156
    >>> conv_params(3, 96, 11)
    34944
    >>> conv_params(96, 256, 5, groups=2)
    307456
    >>> conv_params(96, 256, 5, groups=2, bias=False)
    307200
    """
    in_channels = check_int("in_channels", in_channels, minimum=1)
    out_channels = check_int("out_channels", out_channels, minimum=1)
    kh, kw = check_pair("kernel", kernel, minimum=1)
    groups = check_int("groups", groups, minimum=1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(
                f"{name}={channels} is not divisible by groups={groups}: each group needs "
                "the same number of channels"
            )
    weights = out_channels * (in_channels // groups) * kh * kw
    return weights + (out_channels if bias else 0)


def linear_params(in_features: int, out_features: int, *, bias: bool = True) -> int:
    """Learnable parameters of a fully connected layer: ``(in + 1) * out`` with bias.

    Examples
    --------
    >>> linear_params(120, 84)
    10164
    >>> linear_params(9216, 4096)
    37752832
    """
    in_features = check_int("in_features", in_features, minimum=1)
    out_features = check_int("out_features", out_features, minimum=1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return (in_features + int(bias)) * out_features



def module_params(module: Any, *, trainable_only: bool = False) -> int:
    """Number of parameters of a torch module (shared tensors counted once).

    Examples
    --------
    >>> import torch
    >>> module_params(torch.nn.Conv2d(1, 6, 5))
    156
    """
    module = check_module("module", module)
    seen: set[int] = set()
    total = 0
    for p in module.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


@dataclass(frozen=True)
class LayerRow:
    """One row of a :class:`LayerTable`: a layer call and what it produced."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int


_HEADERS = {
    "en": ("#", "name", "kind", "output shape", "parameters"),
    "es": ("#", "nombre", "tipo", "forma de salida", "parámetros"),
}
_TOTALS = {
    "en": ("total parameters", "trainable"),
    "es": ("parámetros en total", "entrenables"),
}


def _format_shape(shape: Sequence[int], lang: str) -> str:
    if not shape:
        return "-"
    return fmt.shape(shape) if lang == "es" else "x".join(str(s) for s in shape)


def _format_count(n: int, lang: str) -> str:
    """60965224 -> '60.965.224' (Spanish, :mod:`cnncourse.fmt`) or '60,965,224'."""
    return fmt.integer(n) if lang == "es" else f"{n:,}"


@dataclass
class LayerTable:
    """Per-layer summary of a model: name, kind, output shape (without the batch
    dimension, as C x H x W) and parameters of each leaf layer, plus totals.

    Shows as an HTML table in a notebook and as aligned text with ``print``.
    ``lang`` picks the headers and how numbers are written: ``'es'`` as the book
    writes them (:mod:`cnncourse.fmt`: ``60.965.224``, ``96 × 55 × 55``), ``'en'`` as
    ``60,965,224`` and ``96x55x55``.
    """

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    lang: str = "en"
    input_shape: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.lang not in _HEADERS:
            raise ValueError(f"lang must be one of {sorted(_HEADERS)}, got {self.lang!r}")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: int | str) -> LayerRow:
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"no layer named {key!r}; layers: {[r.name for r in self.rows]}")
        return self.rows[key]

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (str(i + 1), r.name, r.kind, _format_shape(r.output_shape, self.lang),
             _format_count(r.params, self.lang))
            for i, r in enumerate(self.rows)
        ]

    def _footer(self) -> str:
        total, trainable = _TOTALS[self.lang]
        return (f"{total}: {_format_count(self.total_params, self.lang)} "
                f"({trainable}: {_format_count(self.trainable_params, self.lang)})")

    def to_text(self) -> str:
        """The table as aligned plain text."""
        headers = _HEADERS[self.lang]
        cells = self._cells()
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        right = {0, 4}

        def line(values: Sequence[str]) -> str:
            return "  ".join(
                v.rjust(w) if i in right else v.ljust(w)
                for i, (v, w) in enumerate(zip(values, widths))
            ).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        body = [line(headers), rule, *(line(c) for c in cells), rule, self._footer()]
        return "\n".join(body)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        headers = _HEADERS[self.lang]
        pad = "padding:2px 12px"
        head = "".join(
            f'<th style="{pad};text-align:{"right" if i in (0, 4) else "left"}">'
            f"{html.escape(h)}</th>"
            for i, h in enumerate(headers)
        )
        rows = "".join(
            "<tr>"
            + "".join(
                f'<td style="{pad};text-align:{"right" if i in (0, 4) else "left"}">'
                f"{html.escape(v)}</td>"
                for i, v in enumerate(cells)
            )
            + "</tr>"
            for cells in self._cells()
        )
        foot = f'<tr><td colspan="5" style="{pad}"><b>{html.escape(self._footer())}</b></td></tr>'
        return (
            '<table class="cnncourse-layer-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}{foot}</tbody></table>"
        )


def layer_table(
    model: Any,
    input_shape: Sequence[int],
    *,
    lang: str = "en",
    include_input: bool = True,
) -> LayerTable:
    """Run one input through ``model`` and tabulate every leaf layer it calls.

    Parameters
    ----------
    model : torch.nn.Module
        The model; its training mode and parameters are left unchanged.
    input_shape : sequence of int
        Shape of one example without the batch dimension, e.g. ``(3, 227, 227)``.
    lang : {'en', 'es'}, optional
        Language of the headers and of the numbers (see :class:`LayerTable`).
    include_input : bool, optional
        Start the table with an ``input`` row, as the documents' tables do.

    Returns
    -------
    LayerTable
        One row per leaf-module call, in call order.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU())
    >>> table = layer_table(net, (1, 28, 28))
    >>> [(r.name, r.output_shape, r.params) for r in table.rows]
    [('input', (1, 28, 28), 0), ('0', (16, 28, 28), 160), ('1', (16, 28, 28), 0)]
    >>> table.total_params
    160
    """
    shape, calls = trace_leaf_calls(model, input_shape)
    rows = [LayerRow("input", "Input", shape, 0)] if include_input else []
    for call in calls:
        out = call.output[0] if isinstance(call.output, (tuple, list)) else call.output
        out_shape = tuple(out.shape[1:]) if hasattr(out, "shape") else ()
        own = sum(p.numel() for p in call.module.parameters(recurse=False))
        rows.append(LayerRow(call.name, type(call.module).__name__, out_shape, own))
    return LayerTable(
        rows=rows,
        total_params=module_params(model),
        trainable_params=module_params(model, trainable_only=True),
        lang=lang,
        input_shape=shape,
    )
