"""How the book writes numbers and tables: Spanish conventions, in one place.

Every number a chapter prints or glues into its prose goes through these functions, so
the whole book reads the same way:

- decimal comma: ``0,713``;
- one thousands separator, the point, for every integer from 1.000 up: ``60.965.224``;
- percentages with a space before the sign: ``97,8 %``;
- durations in seconds, minutes and hours: ``4,2 s``, ``2 min 05 s``, ``1 h 02 min``.

Tables are :class:`Table` objects: HTML in Jupyter and the built book (numbers aligned to
the right), plain text with ``print``. :func:`glue` publishes several values to the
prose at once.

Examples
--------
>>> num(3.14159, 2)
'3,14'
>>> integer(60965224)
'60.965.224'
>>> pct(0.978)
'97,8 %'
>>> duration(125)
'2 min 05 s'
"""

from __future__ import annotations

import html
import math
import re
import numbers
from typing import Any, Iterable, Sequence

from ._validate import check_int, check_real

__all__ = ["num", "integer", "pct", "sci", "duration", "shape", "cell", "Table", "table", "glue"]


def _scalar(value: Any) -> Any:
    """Unwrap a one-element array or tensor (``np.array(2.5)``, ``torch.tensor(0.9)``)."""
    if not isinstance(value, numbers.Number) and hasattr(value, "item"):
        size = getattr(value, "size", None)
        size = size() if callable(size) and not hasattr(value, "numel") else size
        count = value.numel() if hasattr(value, "numel") else size
        if count == 1:
            return value.item()
    return value


def _check_real(name: str, value: Any) -> float:
    return check_real(name, _scalar(value))


def _group(digits: str) -> str:
    """'60965224' -> '60.965.224'."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def num(x: float, digits: int = 1, *, sign: bool = False) -> str:
    """A real number with ``digits`` decimals, decimal comma and thousands points.

    Parameters
    ----------
    x : float
        The number (numpy and torch scalars work too).
    digits : int, optional
        Decimals to keep (rounded half to even, like Python's ``format``).
    sign : bool, optional
        Always write the sign (``+0,5``), for differences.

    Examples
    --------
    >>> num(1234.56)
    '1.234,6'
    >>> num(-0.04, 2)
    '-0,04'
    >>> num(0.5, 1, sign=True)
    '+0,5'
    >>> num(2, 0)
    '2'
    """
    value = _check_real("x", x)
    check_int("digits", digits, minimum=0)
    if not math.isfinite(value):
        return {math.inf: "∞", -math.inf: "-∞"}.get(value, "NaN")
    text = f"{abs(value):.{digits}f}"
    whole, _, frac = text.partition(".")
    negative = value < 0 and float(text) != 0
    prefix = "-" if negative else ("+" if sign else "")
    return prefix + _group(whole) + ("," + frac if frac else "")


def integer(n: int) -> str:
    """An integer with a point every three digits.

    Examples
    --------
    >>> integer(1797)
    '1.797'
    >>> integer(-60965224)
    '-60.965.224'
    >>> integer(7.0)
    '7'
    >>> integer(7.5)
    Traceback (most recent call last):
    ...
    ValueError: n must be a whole number, got 7.5
    """
    n = _scalar(n)
    value = _check_real("n", n)
    if not value.is_integer():
        raise ValueError(f"n must be a whole number, got {n!r}")
    whole = int(value) if not isinstance(n, numbers.Integral) else int(n)
    return ("-" if whole < 0 else "") + _group(str(abs(whole)))


def pct(fraction: float, digits: int = 1, *, sign: bool = False) -> str:
    """A fraction (0.978) written as a percentage (``'97,8 %'``).

    Examples
    --------
    >>> pct(0.978)
    '97,8 %'
    >>> pct(1)
    '100,0 %'
    >>> pct(0.0312, 2)
    '3,12 %'
    >>> pct(-0.015, sign=True)
    '-1,5 %'
    """
    value = _check_real("fraction", fraction)
    return num(100 * value, digits, sign=sign) + " %"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float, digits: int = 1) -> str:
    """A very small or very large number in scientific notation: ``'6,8 × 10⁻⁴'``.

    For gradient-check errors and other values that :func:`num` would write as
    ``0,0``. The exponent is written with superscript digits, so the text needs no
    formula rendering.

    Examples
    --------
    >>> sci(0.00068)
    '6,8 × 10⁻⁴'
    >>> sci(2.3e-11, 2)
    '2,30 × 10⁻¹¹'
    >>> sci(123456, 0)
    '1 × 10⁵'
    >>> sci(0)
    '0'
    """
    value = _check_real("x", x)
    check_int("digits", digits, minimum=0)
    if value == 0 or not math.isfinite(value):
        return num(value, 0) if value == 0 else num(value)
    mantissa, _, exponent = f"{value:.{digits}e}".partition("e")
    power = str(int(exponent)).translate(_SUPERSCRIPT)
    return f"{num(float(mantissa), digits)} × 10{power}"


def duration(seconds: float) -> str:
    """Seconds written for a reader: ``'0,42 s'``, ``'4,2 s'``, ``'2 min 05 s'``, ``'1 h 02 min'``.

    Examples
    --------
    >>> duration(0.4213)
    '0,42 s'
    >>> duration(4.21)
    '4,2 s'
    >>> duration(9.97)
    '10 s'
    >>> duration(59.96)
    '60 s'
    >>> duration(3725)
    '1 h 02 min'
    """
    value = _check_real("seconds", seconds)
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    if value < 0.995:  # below what rounds to 1,00
        return num(value, 2) + " s"
    if value < 9.95:  # below what rounds to 10,0
        return num(value, 1) + " s"
    if value < 60.5:
        return num(value, 0) + " s"
    whole = int(round(value))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = int(round(value / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


def shape(dims: Iterable[int]) -> str:
    """A tensor shape as the documents write it: ``55 × 55 × 96``.

    Examples
    --------
    >>> shape((96, 55, 55))
    '96 × 55 × 55'
    >>> shape([4096])
    '4.096'
    """
    return " × ".join(integer(d) for d in dims)


def cell(value: Any, digits: int = 1) -> str:
    """The text of one table cell: integers and reals through :func:`integer`/:func:`num`.

    Strings are returned as they are; ``None`` becomes an em dash.

    Examples
    --------
    >>> [cell(v) for v in (60965224, 0.713, "conv1", None, True)]
    ['60.965.224', '0,7', 'conv1', '—', 'sí']
    """
    if value is None:
        return "—"
    value = _scalar(value)
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, numbers.Integral):
        return integer(value)
    if isinstance(value, numbers.Real):
        return num(value, digits)
    return str(value)


_NUMBER_TEXT = re.compile(r"^[+\-−]?\d[\d.]*(,\d+)?( ?(%|s|min|h|×).*)?$")


def _is_numeric(value: Any) -> bool:
    """A number, or a number already written by this module (``'97,8 %'``, ``'4,2 s'``)."""
    value = _scalar(value)
    if isinstance(value, str):
        return bool(_NUMBER_TEXT.match(value))
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Table:
    """A small table that shows as HTML in Jupyter and as aligned text with ``print``.

    Numeric cells are formatted with :func:`cell` and aligned to the right; strings are
    kept as given (format them first with :func:`pct`, :func:`duration`, ...). A column
    goes to the right when all its cells are numbers or numbers written by this module
    (``'97,8 %'``, ``'4,2 s'``, ``'55 × 55'``), to the left otherwise, unless ``align``
    says otherwise.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : iterable of sequences
        One sequence per row, as long as ``headers``.
    digits : int, optional
        Decimals for real-valued cells.
    align : str, optional
        One letter per column, ``'l'`` or ``'r'``; by default numbers go right.
    caption : str, optional
        A title shown above the table.
    footer : str, optional
        A line shown under the table (totals, notes).

    Examples
    --------
    >>> t = Table(["capa", "parámetros"], [["conv1", 34944], ["fc6", 37752832]])
    >>> print(t)
    capa   parámetros
    -----  ----------
    conv1      34.944
    fc6    37.752.832
    """

    def __init__(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        digits: int = 1,
        align: str | None = None,
        caption: str | None = None,
        footer: str | None = None,
    ) -> None:
        self.headers = [str(h) for h in headers]
        raw = [list(r) for r in rows]
        width = len(self.headers)
        for i, row in enumerate(raw):
            if len(row) != width:
                raise ValueError(
                    f"row {i} has {len(row)} cells but there are {width} headers: {row!r}"
                )
        check_int("digits", digits, minimum=0)
        if align is None:
            align = "".join(
                "r" if raw and all(_is_numeric(r[j]) or r[j] is None for r in raw) else "l"
                for j in range(width)
            )
        if len(align) != width or set(align) - {"l", "r"}:
            raise ValueError(
                f"align must have one 'l' or 'r' per column ({width}), got {align!r}"
            )
        self.align = align
        self.rows = [[cell(v, digits) for v in row] for row in raw]
        self.caption = caption
        self.footer = footer

    def __len__(self) -> int:
        return len(self.rows)

    def to_text(self) -> str:
        """The table as aligned plain text."""
        widths = [
            max([len(h)] + [len(r[j]) for r in self.rows]) for j, h in enumerate(self.headers)
        ]

        def line(values: Sequence[str]) -> str:
            return "  ".join(
                v.rjust(w) if a == "r" else v.ljust(w)
                for v, w, a in zip(values, widths, self.align)
            ).rstrip()

        out = [self.caption] if self.caption else []
        out += [line(self.headers), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in self.rows]
        if self.footer:
            out.append(self.footer)
        return "\n".join(out)

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()

    def to_html(self) -> str:
        """The table as an HTML ``<table>`` (escaped cells, numbers aligned right)."""
        style = "padding:0.15em 0.8em;text-align:{}"

        def tag(name: str, value: str, a: str) -> str:
            side = "right" if a == "r" else "left"
            return f'<{name} style="{style.format(side)}">{html.escape(value)}</{name}>'

        parts = ['<table class="cnncourse-table">']
        if self.caption:
            parts.append(f"<caption>{html.escape(self.caption)}</caption>")
        parts.append(
            "<thead><tr>"
            + "".join(tag("th", h, a) for h, a in zip(self.headers, self.align))
            + "</tr></thead><tbody>"
        )
        for row in self.rows:
            parts.append(
                "<tr>" + "".join(tag("td", v, a) for v, a in zip(row, self.align)) + "</tr>"
            )
        parts.append("</tbody>")
        if self.footer:
            parts.append(
                f'<tfoot><tr><td colspan="{len(self.headers)}" style="{style.format("left")}">'
                f"{html.escape(self.footer)}</td></tr></tfoot>"
            )
        parts.append("</table>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], **options: Any) -> Table:
    """Shorthand for :class:`Table` (same arguments).

    Examples
    --------
    >>> len(table(["a", "b"], [[1, 2], [3, 4]]))
    2
    """
    return Table(headers, rows, **options)


class _Glued(dict):
    """The values :func:`glue` published: a dict that shows nothing as a cell's result."""

    def _ipython_display_(self) -> None:  # a cell may end with glue(...): no output
        return None


def glue(**values: Any) -> dict[str, Any]:
    """Publish several values to the prose at once (``{glue:text}`name```).

    Each keyword becomes one glued value, without showing it in the cell's output; in a
    plain Python session (no ``myst_nb``) the values are only returned. Format numbers
    first (:func:`num`, :func:`pct`, ...): the prose shows exactly the string glued.

    Returns
    -------
    dict
        The values glued, by name. In Jupyter it displays nothing, so a cell can end
        with a call to ``glue``.

    Examples
    --------
    >>> glue(precision=pct(0.912), parametros=integer(60965224))["parametros"]
    '60.965.224'
    """
    try:
        from IPython import get_ipython
        from myst_nb import glue as _glue
    except ImportError:  # the library works without the book's tools
        return _Glued(values)
    if get_ipython() is None:  # plain Python: nothing to publish to
        return _Glued(values)
    for name, value in values.items():
        _glue(name, value, display=False)
    return _Glued(values)
