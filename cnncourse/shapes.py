"""Output sizes of convolution and pooling layers.

One formula covers every case of the course::

    out = (n + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1

With ``dilation = 1`` this is the ``(n + 2p - f) / s + 1`` of the lecture notes. The
functions here are exact by default: when the division leaves a remainder, the layer
does not tile its input, which is almost always a mistake in the input size, the
padding or the stride, so they raise a ``ValueError`` that says so. Frameworks
silently take the floor instead; pass ``floor=True`` to get that behaviour.

This module only needs the standard library, so light exercises can import it
without paying for torch.
"""

from __future__ import annotations

from typing import Literal, Union

from cnncourse._validate import check_int, check_pair

Padding = Union[int, Literal["valid", "same"]]

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "same_padding",
    "conv_output_shape",
    "pool_output_shape",
]


def same_padding(kernel: int, dilation: int = 1) -> int:
    """Padding that keeps the spatial size at stride 1: ``P = (F - 1) / 2``.

    Parameters
    ----------
    kernel : int
        Filter size ``F`` (odd, so that the padding is the same on both sides).
    dilation : int, optional
        Spacing between kernel taps; the effective size is ``dilation * (F - 1) + 1``.

    Returns
    -------
    int
        Zero rows (and columns) to add on each side.

    Raises
    ------
    ValueError
        If the effective kernel size is even: no symmetric padding keeps the size.

    Examples
    --------
    >>> same_padding(3)
    1
    >>> same_padding(5)
    2
    >>> same_padding(3, dilation=2)
    2
    >>> same_padding(4)
    Traceback (most recent call last):
    ...
    ValueError: kernel=4 (effective size 4) is even: 'same' padding would need 1.5 zeros per side; use an odd kernel or pad asymmetrically
    """
    kernel = check_int("kernel", kernel, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    effective = dilation * (kernel - 1) + 1
    if effective % 2 == 0:
        raise ValueError(
            f"kernel={kernel} (effective size {effective}) is even: 'same' padding would "
            f"need {(effective - 1) / 2} zeros per side; use an odd kernel or pad "
            "asymmetrically"
        )
    return (effective - 1) // 2


def _resolve_padding(padding: Padding, kernel: int, stride: int, dilation: int) -> int:
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            if stride != 1:
                raise ValueError(
                    f"padding='same' needs stride=1 (got stride={stride}): with a larger "
                    "stride no padding keeps the size; give the padding as an integer"
                )
            return same_padding(kernel, dilation)
        raise ValueError(
            f"padding must be an integer >= 0, 'valid' or 'same', got {padding!r}"
        )
    return check_int("padding", padding, minimum=0)


def _output_size(
    n: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    floor: bool,
    layer: str,
) -> int:
    effective = dilation * (kernel - 1) + 1
    padded = n + 2 * padding
    if effective > padded:
        raise ValueError(
            f"kernel={kernel} (effective size {effective}) is larger than the padded input "
            f"n + 2*padding = {n} + 2*{padding} = {padded}: the {layer} has no valid "
            "position; use a smaller kernel or more padding"
        )
    span = padded - effective
    if span % stride and not floor:
        exact = span / stride + 1
        raise ValueError(
            f"(n + 2*padding - kernel) / stride + 1 = ({n} + 2*{padding} - {effective}) / "
            f"{stride} + 1 = {exact:g} is not an integer: the {layer} does not tile the "
            f"input, {span % stride} row(s) would be left over. Check the input size, the "
            "padding and the stride (AlexNet's paper says 224x224 inputs, but its first "
            "layer only fits 227x227: (227 - 11) / 4 + 1 = 55). Pass floor=True to drop "
            "the leftover rows as PyTorch does."
        )
    return span // stride + 1


def conv_output_size(
    n: int,
    kernel: int,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    *,
    floor: bool = False,
) -> int:
    """Size of a convolution's output along one spatial dimension.

    Parameters
    ----------
    n : int
        Input size (width or height), ``>= 1``.
    kernel : int
        Filter size ``F``.
    stride : int, optional
        Step ``S`` between filter positions.
    padding : int or {'valid', 'same'}, optional
        Zeros added on each side, ``P``. ``'valid'`` is 0; ``'same'`` keeps the size
        (stride 1 and odd kernels only).
    dilation : int, optional
        Spacing between kernel taps.
    floor : bool, optional
        If True, drop the rows the filter cannot reach, as frameworks do, instead of
        raising.

    Returns
    -------
    int
        ``(n + 2P - dilation*(F-1) - 1) / S + 1``.

    Raises
    ------
    TypeError
        If a size is not an integer.
    ValueError
        If a size is out of range, the kernel does not fit the padded input, or the
        output size is not an integer (and ``floor`` is False).

    Examples
    --------
    >>> conv_output_size(7, 3)
    5
    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(28, 3, padding="same")
    28
    >>> conv_output_size(227, 11, stride=4)
    55

    The input size printed in the AlexNet paper does not fit its first layer:

    >>> conv_output_size(224, 11, stride=4)
    Traceback (most recent call last):
    ...
    ValueError: (n + 2*padding - kernel) / stride + 1 = (224 + 2*0 - 11) / 4 + 1 = 54.25 is not an integer: the convolution does not tile the input, 1 row(s) would be left over. Check the input size, the padding and the stride (AlexNet's paper says 224x224 inputs, but its first layer only fits 227x227: (227 - 11) / 4 + 1 = 55). Pass floor=True to drop the leftover rows as PyTorch does.
    >>> conv_output_size(224, 11, stride=4, floor=True)
    54
    """
    n = check_int("n", n, minimum=1)
    kernel = check_int("kernel", kernel, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    pad = _resolve_padding(padding, kernel, stride, dilation)
    if not isinstance(floor, bool):
        raise TypeError(f"floor must be True or False, got {floor!r}")
    return _output_size(n, kernel, stride, pad, dilation, floor, "convolution")


def pool_output_size(
    n: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    *,
    floor: bool = False,
) -> int:
    """Size of a pooling layer's output along one spatial dimension.

    Same formula as :func:`conv_output_size`; the stride defaults to the kernel size
    (non-overlapping windows, as in PyTorch) and the padding may be at most half the
    kernel.

    Examples
    --------
    >>> pool_output_size(28, 2)
    14
    >>> pool_output_size(55, 3, stride=2)
    27
    >>> pool_output_size(13, 3, stride=2)
    6
    """
    n = check_int("n", n, minimum=1)
    kernel = check_int("kernel", kernel, minimum=1)
    stride = kernel if stride is None else check_int("stride", stride, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    dilation = check_int("dilation", dilation, minimum=1)
    if padding > kernel // 2:
        raise ValueError(
            f"padding={padding} is more than half of kernel={kernel}: a pooling window "
            f"would see only padding; use padding <= {kernel // 2}"
        )
    if not isinstance(floor, bool):
        raise TypeError(f"floor must be True or False, got {floor!r}")
    return _output_size(n, kernel, stride, padding, dilation, floor, "pooling")


def conv_output_shape(
    size: int | tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: Padding | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    *,
    floor: bool = False,
) -> tuple[int, int]:
    """Height and width of a 2-D convolution's output.

    Each argument is an integer (the same for both dimensions) or a pair
    ``(height, width)``.

    Examples
    --------
    >>> conv_output_shape((32, 24), 5)
    (28, 20)
    >>> conv_output_shape(28, 3, padding="same")
    (28, 28)
    """
    hw = check_pair("size", size, minimum=1)
    ks = check_pair("kernel", kernel, minimum=1)
    ss = check_pair("stride", stride, minimum=1)
    ds = check_pair("dilation", dilation, minimum=1)
    ps = (padding, padding) if isinstance(padding, str) else check_pair("padding", padding)
    return tuple(  # type: ignore[return-value]
        conv_output_size(hw[i], ks[i], ss[i], ps[i], ds[i], floor=floor) for i in range(2)
    )


def pool_output_shape(
    size: int | tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    *,
    floor: bool = False,
) -> tuple[int, int]:
    """Height and width of a 2-D pooling layer's output.

    Examples
    --------
    >>> pool_output_shape((28, 28), 2)
    (14, 14)
    """
    hw = check_pair("size", size, minimum=1)
    ks = check_pair("kernel", kernel, minimum=1)
    ss = ks if stride is None else check_pair("stride", stride, minimum=1)
    ps = check_pair("padding", padding)
    return tuple(  # type: ignore[return-value]
        pool_output_size(hw[i], ks[i], ss[i], ps[i], floor=floor) for i in range(2)
    )
