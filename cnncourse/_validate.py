"""Input checks shared by the public functions.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
impossible value) with a message that names the parameter, echoes the value and says
what would be valid.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``.

    Booleans and floats are rejected, even ``3.0``: a float here is almost always the
    result of a true division that should have been a floor division.

    Examples
    --------
    >>> check_int("stride", 2, minimum=1)
    2
    >>> check_int("stride", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: stride must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = ""
        if isinstance(value, float):
            hint = " (a float here usually comes from '/' where '//' was meant)"
        raise TypeError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}{hint}"
        )
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_pair(name: str, value: object, *, minimum: int = 0) -> tuple[int, int]:
    """Return ``(h, w)`` from an integer or a pair of integers, each ``>= minimum``.

    Examples
    --------
    >>> check_pair("kernel", 3)
    (3, 3)
    >>> check_pair("kernel", (5, 3))
    (5, 3)
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an integer or a pair (height, width), got {value!r}"
            )
        return (
            check_int(f"{name}[0]", value[0], minimum=minimum),
            check_int(f"{name}[1]", value[1], minimum=minimum),
        )
    single = check_int(name, value, minimum=minimum)
    return single, single


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a ``float`` if it is a real number (NaN and infinities
    included; booleans rejected).

    Examples
    --------
    >>> check_real("x", 3)
    3.0
    >>> check_real("x", True)
    Traceback (most recent call last):
    ...
    TypeError: x must be a real number, got True of type bool
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}"
        )
    return float(value)


def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a ``float`` if it is a real number in the allowed range.

    ``minimum``/``maximum`` are inclusive bounds unless ``low_open``/``high_open``
    exclude them (a standard deviation must be > 0, a dropout probability < 1).
    Booleans are rejected (``True`` is an ``int`` to Python but never a learning
    rate), and so is NaN; ``finite=True`` rejects infinities too. ``hint`` is added to the message in parentheses.

    Examples
    --------
    >>> check_number("lr", 0.1, minimum=0)
    0.1
    >>> check_number("std", 0, minimum=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: std must be a positive number, got 0
    >>> check_number("dropout", 1.0, minimum=0, maximum=1, high_open=True,
    ...              hint="the probability of zeroing a unit")
    Traceback (most recent call last):
    ...
    ValueError: dropout must be in [0, 1) (the probability of zeroing a unit), got 1.0
    >>> check_number("alpha", "0.1")
    Traceback (most recent call last):
    ...
    TypeError: alpha must be a real number, got '0.1' of type str
    """
    number = check_real(name, value)
    too_low = minimum is not None and (number <= minimum if low_open else number < minimum)
    too_high = maximum is not None and (number >= maximum if high_open else number > maximum)
    infinite = finite and number in (math.inf, -math.inf)
    if too_low or too_high or infinite or number != number:  # NaN is unequal to itself
        rule = _range_text(minimum, maximum, low_open, high_open)
        note = f" ({hint})" if hint else ""
        raise ValueError(f"{name} must be {rule}{note}, got {value!r}")
    return number


def _range_text(minimum: float | None, maximum: float | None, low_open: bool,
                high_open: bool) -> str:
    """'between 0 and 1', 'in (0, 1]', 'a positive number', '>= 0', '<= 1', ..."""
    if minimum is not None and maximum is not None:
        if not (low_open or high_open):
            return f"between {minimum:g} and {maximum:g}"
        return f"in {'(' if low_open else '['}{minimum:g}, {maximum:g}{')' if high_open else ']'}"
    if minimum == 0 and low_open:
        return "a positive number"
    if minimum is not None:
        return f"{'>' if low_open else '>='} {minimum:g}"
    if maximum is not None:
        return f"{'<' if high_open else '<='} {maximum:g}"
    return "a number (not NaN)"


def check_choice(name: str, value: object, choices: tuple) -> object:
    """Return ``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("loss", "mse", ("cross_entropy", "mse"))
    'mse'
    >>> check_choice("loss", "mae", ("cross_entropy", "mse"))
    Traceback (most recent call last):
    ...
    ValueError: loss must be one of ('cross_entropy', 'mse'), got 'mae'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_shape(name: str, value: object) -> tuple[int, ...]:
    """Return a non-empty sequence of integers >= 1 as a tuple (a tensor shape
    without the batch dimension).

    Examples
    --------
    >>> check_shape("input_shape", [3, 227, 227])
    (3, 227, 227)
    >>> check_shape("input_shape", 227)
    Traceback (most recent call last):
    ...
    TypeError: input_shape must be a sequence of integers such as (3, 227, 227), got 227
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a sequence of integers such as (3, 227, 227), got {value!r}"
        )
    shape = tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(value))
    if not shape:
        raise ValueError(f"{name} must not be empty; give e.g. (3, 227, 227)")
    return shape


def check_module(name: str, value: object) -> Any:
    """Return ``value`` if it is a ``torch.nn.Module`` (torch is imported only here,
    so that the modules that count without torch stay importable without it).

    Examples
    --------
    >>> check_module("model", "alexnet")
    Traceback (most recent call last):
    ...
    TypeError: model must be a torch.nn.Module, got str
    """
    import torch

    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value
