"""Input checks shared by the public functions.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
impossible value) with a message that names the parameter, echoes the value and says
what would be valid.
"""

from __future__ import annotations

import numbers


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


def check_number(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
) -> float:
    """Return ``value`` as a ``float`` if it is a real number in the allowed range.

    ``minimum``/``maximum`` are inclusive bounds; ``low_open=True`` excludes
    ``minimum`` itself (for quantities that must be strictly positive). Booleans are
    rejected: ``True`` is an ``int`` to Python but never a learning rate.

    Examples
    --------
    >>> check_number("lr", 0.1, minimum=0)
    0.1
    >>> check_number("std", 0, minimum=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: std must be a number > 0, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    number = float(value)
    too_low = minimum is not None and (number <= minimum if low_open else number < minimum)
    too_high = maximum is not None and number > maximum
    if too_low or too_high or number != number:  # NaN compares unequal to itself
        parts = []
        if minimum is not None:
            parts.append(f"{'>' if low_open else '>='} {minimum:g}")
        if maximum is not None:
            parts.append(f"<= {maximum:g}")
        rule = " and ".join(parts) if parts else "not NaN"
        raise ValueError(f"{name} must be a number {rule}, got {value!r}")
    return number


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
