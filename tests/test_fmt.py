"""Tests for cnncourse.fmt: how the book writes numbers and tables (Spanish conventions)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from cnncourse import fmt
from cnncourse.fmt import Table, cell, duration, glue, integer, num, pct, shape, table


# -- num ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.713, 3, "0,713"),
        (14.4, 1, "14,4"),
        (1234.56, 1, "1.234,6"),
        (1234567.891, 2, "1.234.567,89"),
        (999.96, 1, "1.000,0"),  # rounding carries into a new thousands group
        (-1234.5, 0, "-1.234"),  # half to even, like format()
        (2, 0, "2"),
        (0, 2, "0,00"),
        (-0.0, 1, "0,0"),
        (-0.04, 1, "0,0"),  # rounds to zero: no "-0,0"
        (-0.04, 2, "-0,04"),
        (1e-7, 3, "0,000"),
    ],
)
def test_num_spanish_decimal_comma_and_thousands_point(value, digits, expected):
    assert num(value, digits) == expected


def test_num_sign_only_where_asked():
    assert num(0.5, 1, sign=True) == "+0,5"
    assert num(-0.5, 1, sign=True) == "-0,5"
    assert num(0.5, 1) == "0,5"


def test_num_accepts_numpy_and_torch_scalars():
    assert num(np.float32(0.25), 2) == "0,25"
    assert num(np.float64(1500.0), 0) == "1.500"
    assert num(np.array(2.5), 1) == "2,5"  # 0-d array
    assert num(torch.tensor(0.875), 3) == "0,875"  # 0-d tensor (a loss, an accuracy)
    assert num(torch.tensor([3.0]), 1) == "3,0"  # one-element tensor
    assert num(Fraction(1, 4), 2) == "0,25"


def test_num_non_finite():
    assert num(math.inf) == "∞"
    assert num(-math.inf) == "-∞"
    assert num(math.nan) == "NaN"


@pytest.mark.parametrize("bad", ["0.5", None, True, [0.5], np.array([1.0, 2.0]), 1 + 2j])
def test_num_rejects_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match="x must be a real number"):
        num(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_num_rejects_bad_digits(bad):
    with pytest.raises((TypeError, ValueError), match="digits"):
        num(1.0, bad)


# -- integer --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1000, "1.000"),
        (1797, "1.797"),
        (60965224, "60.965.224"),
        (-60965224, "-60.965.224"),
        (10**12, "1.000.000.000.000"),
        (7.0, "7"),
        (np.int64(4821600), "4.821.600"),
        (torch.tensor(138357544), "138.357.544"),
        (2**60, "1.152.921.504.606.846.976"),  # exact: no detour through float
    ],
)
def test_integer_groups_thousands_with_points(value, expected):
    assert integer(value) == expected


def test_integer_rejects_fractions_and_non_numbers():
    with pytest.raises(ValueError, match="n must be a whole number, got 7.5"):
        integer(7.5)
    with pytest.raises(ValueError, match="whole number"):
        integer(math.nan)
    with pytest.raises(TypeError, match="n must be a real number"):
        integer("1000")
    with pytest.raises(TypeError):
        integer(True)


# -- pct ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.978, 1, "97,8 %"),
        (1, 1, "100,0 %"),
        (0, 0, "0 %"),
        (0.0312, 2, "3,12 %"),
        (0.26, 0, "26 %"),
        (12.5, 0, "1.250 %"),  # a ratio, not a fraction: still grouped
        (np.float64(0.75), 0, "75 %"),
        (torch.tensor(0.5), 1, "50,0 %"),
    ],
)
def test_pct_writes_a_fraction_as_a_spanish_percentage(value, digits, expected):
    assert pct(value, digits) == expected


def test_pct_sign_and_type_errors():
    assert pct(0.015, sign=True) == "+1,5 %"
    assert pct(-0.015, sign=True) == "-1,5 %"
    with pytest.raises(TypeError, match="fraction must be a real number"):
        pct("97 %")


# -- sci --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.00068, 1, "6,8 × 10⁻⁴"),
        (2.3e-11, 2, "2,30 × 10⁻¹¹"),
        (-4.5e-8, 1, "-4,5 × 10⁻⁸"),
        (123456, 0, "1 × 10⁵"),
        (9.96e-5, 1, "1,0 × 10⁻⁴"),  # the mantissa never rounds up to 10
        (1.0, 1, "1,0 × 10⁰"),
        (0, 1, "0"),
        (math.inf, 1, "∞"),
        (np.float64(7.58e3), 1, "7,6 × 10³"),
    ],
)
def test_sci(value, digits, expected):
    assert fmt.sci(value, digits) == expected


def test_sci_rejects_non_numbers():
    with pytest.raises(TypeError, match="x must be a real number"):
        fmt.sci("1e-4")


# -- duration -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0,00 s"),
        (0.4213, "0,42 s"),
        (0.999, "1,0 s"),  # would round to "1,00 s": one decimal from 1 s on
        (4.21, "4,2 s"),
        (9.97, "10 s"),  # would round to "10,0 s": whole seconds from 10 s on
        (42.4, "42 s"),
        (59.96, "60 s"),
        (61, "1 min 01 s"),
        (125, "2 min 05 s"),
        (3599.6, "1 h 00 min"),  # never "60 min 00 s"
        (3725, "1 h 02 min"),
        (90000, "25 h 00 min"),
    ],
)
def test_duration(seconds, expected):
    assert duration(seconds) == expected


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan])
def test_duration_rejects_negative_or_non_finite(bad):
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0"):
        duration(bad)


# -- shape and cell -------------------------------------------------------------------
def test_shape():
    assert shape((96, 55, 55)) == "96 × 55 × 55"
    assert shape([4096]) == "4.096"
    assert shape(torch.Size([1, 3, 227, 227])) == "1 × 3 × 227 × 227"
    assert shape(np.array([8, 8])) == "8 × 8"
    assert shape(()) == ""
    with pytest.raises(ValueError):
        shape((2.5, 3))


def test_cell_formats_each_kind_of_value():
    assert cell(60965224) == "60.965.224"
    assert cell(0.713) == "0,7"
    assert cell(0.713, 3) == "0,713"
    assert cell("conv1") == "conv1"
    assert cell(None) == "—"
    assert cell(True) == "sí" and cell(False) == "no"
    assert cell(np.bool_(True)) == "sí"
    assert cell(np.int32(1168)) == "1.168"
    assert cell(np.float32(2.5)) == "2,5"
    assert cell(torch.tensor(3)) == "3"


# -- Table ----------------------------------------------------------------------------
def test_table_text_aligns_numbers_right_and_names_left():
    t = Table(["capa", "parámetros"], [["conv1", 34944], ["fc6", 37752832]])
    lines = str(t).splitlines()
    assert lines[0] == "capa   parámetros"
    assert lines[2] == "conv1      34.944"
    assert lines[3] == "fc6    37.752.832"
    assert len(t) == 2
    assert repr(t) == str(t)


def test_table_right_aligns_numbers_already_formatted():
    t = Table(["modelo", "exactitud", "tiempo", "forma"],
              [["plana", pct(0.9), duration(4.2), shape((8, 8))],
               ["residual", pct(0.975), duration(125), shape((16, 4, 4))]])
    assert t.align == "lrrr"
    assert str(t).splitlines()[2].endswith("8 × 8")


def test_table_digits_none_caption_footer_and_explicit_align():
    t = Table(["a", "b"], [[1.23456, None], [2.0, 3]], digits=2, caption="Tabla 1",
              footer="total: 2", align="lr")
    text = str(t).splitlines()
    assert text[0] == "Tabla 1" and text[-1] == "total: 2"
    assert text[3].startswith("1,23") and text[3].rstrip().endswith("—")
    assert t.align == "lr"


def test_table_html_escapes_and_aligns():
    t = Table(["x<y", "n"], [["<b>", 1000]], caption="a & b", footer="nota")
    out = t._repr_html_()
    assert out.startswith('<table class="cnncourse-table">')
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert "x&lt;y" in out and "a &amp; b" in out
    assert "text-align:right\">1.000</td>" in out
    assert 'colspan="2"' in out and "nota" in out


def test_table_empty_rows_are_allowed():
    t = Table(["a", "b"], [])
    assert len(t) == 0 and t.align == "ll"
    assert "<tbody></tbody>" in t.to_html()


def test_table_validation_names_the_problem():
    with pytest.raises(ValueError, match="row 1 has 1 cells but there are 2 headers"):
        Table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="align must have one 'l' or 'r' per column"):
        Table(["a", "b"], [[1, 2]], align="lx")
    with pytest.raises(ValueError, match="align"):
        Table(["a", "b"], [[1, 2]], align="l")
    with pytest.raises((TypeError, ValueError), match="digits"):
        Table(["a"], [[1.0]], digits=-1)


def test_table_function_is_the_class():
    t = table(["a"], ([i] for i in range(3)))  # any iterable of rows, even a generator
    assert isinstance(t, Table) and len(t) == 3


# -- glue -----------------------------------------------------------------------------
def test_glue_outside_jupyter_returns_the_values():
    values = glue(exactitud=pct(0.978), parametros=integer(60965224))
    assert values == {"exactitud": "97,8 %", "parametros": "60.965.224"}
    assert glue() == {}


def test_glue_result_shows_nothing_at_the_end_of_a_cell():
    from IPython.core.formatters import DisplayFormatter

    result = glue(a="1")
    assert isinstance(result, dict)
    assert result._ipython_display_() is None  # IPython calls this instead of printing the dict
    assert DisplayFormatter().format(result) is not None  # still an ordinary dict otherwise


def test_glue_in_a_kernel_publishes_each_value(monkeypatch):
    published = []
    import IPython
    import myst_nb

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: published.append(
        (name, value, display)))
    glue(a="1", b="2,5 %")
    assert published == [("a", "1", False), ("b", "2,5 %", False)]


def test_module_exports():
    assert set(fmt.__all__) == {"num", "integer", "pct", "sci", "duration", "shape", "cell",
                                "Table", "table", "glue"}
