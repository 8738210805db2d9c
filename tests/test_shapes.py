"""Tests for cnncourse.shapes: every formula case and every bad-input path."""

import numpy as np
import pytest
import torch

from cnncourse.shapes import (
    conv_output_shape,
    conv_output_size,
    pool_output_shape,
    pool_output_size,
    same_padding,
)


@pytest.mark.parametrize(
    ("n", "kernel", "stride", "padding", "expected"),
    [
        (7, 3, 1, 0, 5),  # 001: 7x7 with 3x3 at stride 1
        (7, 3, 2, 0, 3),  # 001: ... at stride 2
        (6, 3, 1, 0, 4),  # 004: 6x6 -> 4x4
        (28, 3, 1, 1, 28),  # 003: 'same' by hand
        (227, 11, 4, 0, 55),  # AlexNet conv1
        (27, 5, 1, 2, 27),  # AlexNet conv2
        (32, 5, 1, 0, 28),  # LeNet C1
        (10, 3, 1, 0, 8),  # 001: the 10x10 mean-filter example
        (10, 5, 1, 0, 6),
    ],
)
def test_conv_output_size_documents(n, kernel, stride, padding, expected):
    assert conv_output_size(n, kernel, stride, padding) == expected


def test_same_padding_keeps_size_for_odd_kernels():
    for k in (1, 3, 5, 7, 11):
        assert conv_output_size(28, k, padding="same") == 28
        assert conv_output_size(28, k, padding=same_padding(k)) == 28
    assert conv_output_size(28, 3, padding="valid") == 26


def test_dilation_enlarges_the_kernel():
    assert conv_output_size(10, 3, dilation=2) == 6
    assert same_padding(3, dilation=2) == 2


@pytest.mark.parametrize("n", range(5, 40))
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"),
                         [(3, 1, 0, 1), (3, 2, 1, 1), (5, 3, 2, 1), (3, 2, 0, 2), (4, 2, 1, 1)])
def test_matches_torch_with_floor(n, kernel, stride, padding, dilation):
    x = torch.zeros(1, 1, n, n)
    conv = torch.nn.functional.conv2d(
        x, torch.zeros(1, 1, kernel, kernel), stride=stride, padding=padding, dilation=dilation
    )
    assert conv_output_size(n, kernel, stride, padding, dilation, floor=True) == conv.shape[-1]
    if padding <= kernel // 2:
        pool = torch.nn.functional.max_pool2d(x, kernel, stride, padding, dilation)
        assert pool_output_size(n, kernel, stride, padding, dilation, floor=True) == pool.shape[-1]


def test_non_integer_size_explains_the_mistake():
    with pytest.raises(ValueError, match=r"54\.25 is not an integer.*227"):
        conv_output_size(224, 11, stride=4)
    assert conv_output_size(224, 11, stride=4, floor=True) == 54


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel=7 .*larger than the padded input.*5"):
        conv_output_size(3, 7, padding=1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        pool_output_size(2, 3, stride=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(n=0, kernel=3), ValueError, r"n must be an integer >= 1, got 0"),
        (dict(n=-5, kernel=3), ValueError, r"n must be .* got -5"),
        (dict(n=28.0, kernel=3), TypeError, r"n must be an integer.*28\.0.*float.*'//'"),
        (dict(n="28", kernel=3), TypeError, r"n must be an integer.*'28'.*str"),
        (dict(n=True, kernel=3), TypeError, r"n must be an integer.*True.*bool"),
        (dict(n=28, kernel=0), ValueError, r"kernel must be an integer >= 1, got 0"),
        (dict(n=28, kernel=3, stride=0), ValueError, r"stride must be an integer >= 1, got 0"),
        (dict(n=28, kernel=3, stride=1.5), TypeError, r"stride must be an integer.*1\.5"),
        (dict(n=28, kernel=3, padding=-1), ValueError, r"padding must be an integer >= 0, got -1"),
        (dict(n=28, kernel=3, padding="full"), ValueError, r"padding must be .*'valid' or 'same', got 'full'"),
        (dict(n=28, kernel=3, padding="same", stride=2), ValueError, r"'same' needs stride=1 \(got stride=2\)"),
        (dict(n=28, kernel=4, padding="same"), ValueError, r"kernel=4 .* is even"),
        (dict(n=28, kernel=3, dilation=0), ValueError, r"dilation must be an integer >= 1, got 0"),
        (dict(n=28, kernel=3, floor="yes"), TypeError, r"floor must be True or False, got 'yes'"),
    ],
)
def test_conv_bad_inputs_name_the_parameter(kwargs, error, message):
    with pytest.raises(error, match=message):
        conv_output_size(**kwargs)


def test_numpy_integers_are_accepted():
    assert conv_output_size(np.int64(28), np.int32(3), padding=np.int8(1)) == 28


def test_pool_defaults_and_errors():
    assert pool_output_size(28, 2) == 14
    assert pool_output_size(55, 3, stride=2) == 27
    with pytest.raises(ValueError, match=r"padding=2 is more than half of kernel=3"):
        pool_output_size(28, 3, stride=1, padding=2)
    with pytest.raises(ValueError, match=r"stride must be an integer >= 1, got 0"):
        pool_output_size(28, 2, stride=0)
    with pytest.raises(ValueError, match=r"13 \+ 2\*0 - 2\) / 2 \+ 1 = 6\.5"):
        pool_output_size(13, 2)
    with pytest.raises(TypeError, match="floor must be True or False"):
        pool_output_size(28, 2, floor=1)


def test_two_dimensional_shapes():
    assert conv_output_shape((32, 24), (5, 3)) == (28, 22)
    assert conv_output_shape((227, 227), 11, stride=4) == (55, 55)
    assert conv_output_shape(28, 3, padding="same") == (28, 28)
    assert conv_output_shape((9, 7), 3, stride=(2, 1), padding=(1, 0)) == (5, 5)
    assert pool_output_shape((55, 55), 3, stride=2) == (27, 27)
    assert pool_output_shape(28, 2) == (14, 14)
    with pytest.raises(ValueError, match=r"kernel must be an integer or a pair"):
        conv_output_shape(28, (3, 3, 3))
    with pytest.raises(ValueError, match=r"kernel\[1\] must be an integer >= 1, got 0"):
        conv_output_shape(28, (3, 0))
    with pytest.raises(ValueError, match=r"size must be an integer >= 1, got 0"):
        pool_output_shape(0, 2)
