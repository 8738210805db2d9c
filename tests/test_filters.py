"""Tests for cnncourse.filters: kernels, and both correlation implementations against
scipy.ndimage and torch.nn.functional.conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
import torch.nn.functional as tF

from cnncourse import filters
from cnncourse.filters import (
    convolve2d,
    convolve2d_loop,
    correlate2d,
    correlate2d_loop,
)

IMPLEMENTATIONS = {"loop": correlate2d_loop, "vectorised": correlate2d}
CONVOLUTIONS = {"loop": convolve2d_loop, "vectorised": convolve2d}


def torch_conv2d(x, w, *, stride=1, padding=0, bias=None):
    """Reference: PyTorch's conv2d in float64, back to NumPy."""
    b = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float64))
    out = tF.conv2d(
        torch.from_numpy(np.asarray(x, dtype=np.float64)),
        torch.from_numpy(np.asarray(w, dtype=np.float64)),
        bias=b,
        stride=stride,
        padding=padding,
    )
    return out.numpy()


def scipy_valid(x2d, k2d, *, stride=(1, 1), padding=(0, 0), flip=False):
    """Reference for 2-D inputs: scipy.ndimage on an explicitly zero-padded image,
    cropped to the positions where the whole kernel fits, then subsampled by the
    stride. ndimage centres the kernel at index k // 2 (correlate) and (k - 1) // 2
    (convolve, which also flips it), hence the two crops."""
    padded = np.pad(x2d, ((padding[0],) * 2, (padding[1],) * 2))
    kh, kw = k2d.shape
    out_h = padded.shape[0] - kh + 1
    out_w = padded.shape[1] - kw + 1
    if flip:
        full = ndi.convolve(padded, k2d, mode="constant", cval=0.0)
        r0, c0 = (kh - 1) // 2, (kw - 1) // 2
    else:
        full = ndi.correlate(padded, k2d, mode="constant", cval=0.0)
        r0, c0 = kh // 2, kw // 2
    valid = full[r0 : r0 + out_h, c0 : c0 + out_w]
    return valid[:: stride[0], :: stride[1]]


# ------------------------------------------------------------------------ kernels


def test_kernels_have_the_documented_sums_and_symmetries():
    assert np.allclose(filters.mean_kernel(5), 1 / 25)
    assert filters.mean_kernel((3, 5)).shape == (3, 5)
    g = filters.gaussian_kernel(7, sigma=1.5)
    assert g.shape == (7, 7)
    assert g.sum() == pytest.approx(1.0)
    assert np.allclose(g, g.T) and np.allclose(g, g[::-1, ::-1])
    assert g.argmax() == 24  # the centre of a 7x7 grid
    assert filters.laplacian_kernel().sum() == 0
    assert filters.sharpen_kernel(amount=2.0).sum() == pytest.approx(1.0)
    assert np.array_equal(filters.sobel_kernel("y"), filters.sobel_kernel("x").T)
    assert filters.sobel_kernel("x").sum() == 0


def test_gaussian_gets_wider_with_sigma():
    narrow = filters.gaussian_kernel(7, sigma=0.5)
    wide = filters.gaussian_kernel(7, sigma=3.0)
    assert narrow[3, 3] > wide[3, 3]
    assert narrow[0, 0] < wide[0, 0]


def test_sobel_x_finds_a_vertical_edge_with_the_right_sign():
    step = np.zeros((5, 6))
    step[:, 3:] = 1.0  # dark on the left, bright on the right
    gx = correlate2d(step, filters.sobel_kernel("x"))
    gy = correlate2d(step, filters.sobel_kernel("y"))
    assert np.all(gx[:, 1:3] == 4.0) and np.all(gx[:, [0, 3]] == 0.0)
    assert np.all(gy == 0.0)


def test_identity_and_sharpen_leave_flat_images_unchanged():
    flat = np.full((6, 7), 3.0)
    for kernel in (filters.identity_kernel(3), filters.sharpen_kernel()):
        assert np.allclose(correlate2d(flat, kernel), 3.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: filters.mean_kernel(0), "size must be an integer >= 1, got 0"),
        (lambda: filters.gaussian_kernel(4), "size must be an odd integer"),
        (lambda: filters.gaussian_kernel(5, sigma=0), "sigma must be a positive number, got 0"),
        (lambda: filters.sobel_kernel("z"), "axis must be 'x' or 'y', got 'z'"),
        (lambda: filters.identity_kernel(2), "got 2"),
    ],
)
def test_bad_kernel_arguments_name_the_parameter(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_example_image_is_the_slides_image():
    F = filters.example_image()
    assert F.shape == (10, 10)
    assert np.count_nonzero(F == 90) == 25  # 24 in the block + the lone pixel
    assert F[5, 4] == 0 and F[8, 2] == 90


# ----------------------------------------------------- the slides' worked examples


G3_SLIDES = np.array(
    [
        [0, 10, 20, 30, 30, 30, 20, 10],
        [0, 20, 40, 60, 60, 60, 40, 20],
        [0, 30, 60, 90, 90, 90, 60, 30],
        [0, 30, 50, 80, 80, 90, 60, 30],
        [0, 30, 50, 80, 80, 90, 60, 30],
        [0, 20, 30, 50, 50, 60, 40, 20],
        [10, 20, 30, 30, 30, 30, 20, 10],
        [10, 10, 10, 0, 0, 0, 0, 0],
    ]
)
G5_SLIDES = np.array(
    [
        [21.6, 32.4, 43.2, 54.0, 43.2, 32.4],
        [25.2, 39.6, 54.0, 68.4, 54.0, 43.2],
        [32.4, 50.4, 68.4, 86.4, 68.4, 54.0],
        [25.2, 39.6, 54.0, 68.4, 54.0, 43.2],
        [21.6, 32.4, 43.2, 50.4, 39.6, 32.4],
        [14.4, 21.6, 28.8, 32.4, 25.2, 21.6],
    ]
)


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_mean_filters_reproduce_the_slides_tables(name):
    correlate = IMPLEMENTATIONS[name]
    F = filters.example_image()
    assert np.allclose(correlate(F, filters.mean_kernel(3)), G3_SLIDES, atol=1e-12)
    assert np.allclose(correlate(F, filters.mean_kernel(5)), G5_SLIDES, atol=1e-12)


def test_one_dimensional_example_of_the_notes():
    # s1 = w2 x1 + w3 x2, s2 = w1 x1 + w2 x2 + w3 x3, ..., s5 = w1 x4 + w2 x5
    x = np.array([2.0, -1.0, 3.0, 5.0, 7.0])
    w1, w2, w3 = 0.5, -2.0, 3.0
    expected = [
        w2 * x[0] + w3 * x[1],
        w1 * x[0] + w2 * x[1] + w3 * x[2],
        w1 * x[1] + w2 * x[2] + w3 * x[3],
        w1 * x[2] + w2 * x[3] + w3 * x[4],
        w1 * x[3] + w2 * x[4],
    ]
    s = correlate2d(x[None, :], np.array([[w1, w2, w3]]), padding=(0, 1))
    assert np.allclose(s[0], expected)


# ------------------------------------------------------ against scipy and PyTorch

CASES_2D = [
    # (image shape, kernel shape, stride, padding)
    ((9, 9), (3, 3), (1, 1), (0, 0)),
    ((7, 11), (3, 5), (1, 1), (1, 2)),
    ((12, 8), (5, 3), (2, 3), (2, 0)),
    ((10, 13), (4, 2), (3, 2), (1, 1)),  # even kernels
    ((6, 5), (1, 1), (2, 1), (0, 3)),  # padding wider than the kernel
    ((8, 8), (8, 8), (1, 1), (0, 0)),  # kernel as large as the image
]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape, kshape, stride, padding", CASES_2D)
def test_2d_correlation_matches_scipy_and_torch(name, shape, kshape, stride, padding):
    rng = np.random.default_rng(sum(shape) + sum(kshape))
    x = rng.standard_normal(shape)
    k = rng.standard_normal(kshape)
    got = IMPLEMENTATIONS[name](x, k, stride=stride, padding=padding)
    assert np.allclose(got, scipy_valid(x, k, stride=stride, padding=padding), atol=1e-12)
    reference = torch_conv2d(x[None, None], k[None, None], stride=stride, padding=padding)
    assert np.allclose(got, reference[0, 0], atol=1e-12)


@pytest.mark.parametrize("name", CONVOLUTIONS)
@pytest.mark.parametrize("shape, kshape, stride, padding", CASES_2D)
def test_2d_convolution_matches_scipy(name, shape, kshape, stride, padding):
    rng = np.random.default_rng(7 + sum(shape))
    x = rng.standard_normal(shape)
    k = rng.standard_normal(kshape)
    got = CONVOLUTIONS[name](x, k, stride=stride, padding=padding)
    expected = scipy_valid(x, k, stride=stride, padding=padding, flip=True)
    assert np.allclose(got, expected, atol=1e-12)


def test_same_padding_matches_scipy_constant_mode_without_cropping():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((15, 20))
    k = rng.standard_normal((5, 3))
    got = correlate2d(x, k, padding="same")
    assert got.shape == x.shape
    assert np.allclose(got, ndi.correlate(x, k, mode="constant", cval=0.0))
    assert np.allclose(
        convolve2d(x, k, padding="same"), ndi.convolve(x, k, mode="constant", cval=0.0)
    )


def test_convolution_flips_an_asymmetric_kernel():
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1.0
    k = np.arange(9.0).reshape(3, 3)
    assert np.array_equal(convolve2d(impulse, k, padding=1)[1:4, 1:4], k)
    assert np.array_equal(correlate2d(impulse, k, padding=1)[1:4, 1:4], k[::-1, ::-1])
    x = np.random.default_rng(0).standard_normal((6, 6))
    assert not np.allclose(convolve2d(x, k), correlate2d(x, k))
    assert np.allclose(convolve2d(x, k), correlate2d(x, k[::-1, ::-1]))


VOLUME_CASES = [
    # (N, C, H, W), (F, kh, kw), stride, padding
    ((2, 3, 9, 7), (4, 3, 3), (1, 1), (1, 1)),
    ((3, 2, 10, 12), (5, 3, 5), (2, 3), (0, 2)),
    ((1, 4, 8, 8), (2, 2, 2), (2, 2), (1, 0)),
    ((2, 1, 6, 9), (3, 5, 1), (1, 2), (2, 0)),
]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("xshape, wshape, stride, padding", VOLUME_CASES)
def test_batches_and_filter_banks_match_torch(name, xshape, wshape, stride, padding):
    rng = np.random.default_rng(xshape[1] * 10 + wshape[0])
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((wshape[0], xshape[1], wshape[1], wshape[2]))
    b = rng.standard_normal(wshape[0])
    correlate = IMPLEMENTATIONS[name]
    expected = torch_conv2d(x, w, stride=stride, padding=padding, bias=b)
    batch = correlate(x, w, stride=stride, padding=padding, bias=b)
    assert batch.shape == expected.shape
    assert np.allclose(batch, expected, atol=1e-12)
    # one image (C, H, W) with the bank gives (F, Ho, Wo)
    single = correlate(x[0], w, stride=stride, padding=padding, bias=b)
    assert np.allclose(single, expected[0], atol=1e-12)
    # one filter (C, kh, kw) gives a single map (Ho, Wo)
    one = correlate(x[0], w[1], stride=stride, padding=padding, bias=b[1])
    assert np.allclose(one, expected[0, 1], atol=1e-12)


def test_a_volume_filter_is_the_sum_of_per_channel_correlations():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 8, 10))
    w = rng.standard_normal((3, 3, 3))
    per_channel = sum(correlate2d(x[c], w[c]) for c in range(3))
    assert np.allclose(correlate2d(x, w), per_channel)


def test_loop_and_vectorised_agree_on_a_larger_random_case():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 13, 11))
    w = rng.standard_normal((4, 3, 3, 4))
    for stride, padding in [(1, 1), ((2, 1), (0, 2)), (3, "valid")]:
        assert np.allclose(
            correlate2d_loop(x, w, stride=stride, padding=padding),
            correlate2d(x, w, stride=stride, padding=padding),
            atol=1e-12,
        )


def test_same_and_valid_keywords():
    x = np.random.default_rng(2).standard_normal((3, 28, 28))
    w = np.random.default_rng(3).standard_normal((16, 3, 3, 3))
    assert correlate2d(x, w, padding="same").shape == (16, 28, 28)
    assert correlate2d(x, w, padding="valid").shape == (16, 26, 26)
    assert np.allclose(correlate2d(x, w, padding="same"), correlate2d(x, w, padding=1))


def test_output_size_is_floored_like_torch():
    x = np.random.default_rng(4).standard_normal((1, 1, 8, 8))
    w = np.ones((1, 1, 3, 3))
    # (8 - 3) / 2 + 1 = 3.5: torch and we drop the last, incomplete position
    assert correlate2d(x, w, stride=2).shape == (1, 1, 3, 3)
    assert torch_conv2d(x, w, stride=2).shape == (1, 1, 3, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_is_kept_and_integers_become_float64(dtype):
    x = np.ones((4, 4), dtype=dtype)
    assert correlate2d(x, np.ones((3, 3), dtype=dtype)).dtype == dtype
    ints = correlate2d(np.ones((4, 4), dtype=np.uint8), np.ones((3, 3), dtype=int))
    assert ints.dtype == np.float64 and ints[0, 0] == 9.0


def test_uint8_images_do_not_overflow():
    x = np.full((3, 3), 200, dtype=np.uint8)
    assert correlate2d_loop(x, np.ones((3, 3), dtype=np.uint8))[0, 0] == 1800
    assert correlate2d(x, np.ones((3, 3), dtype=np.uint8))[0, 0] == 1800


def test_zero_pad_pads_only_the_last_two_axes():
    padded = filters.zero_pad(np.ones((2, 3, 4)), (1, 2))
    assert padded.shape == (2, 5, 8)
    assert padded.sum() == 24 and padded[:, 0].sum() == 0 and padded[..., :2].sum() == 0


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "image, kernel, options, error, message",
    [
        (np.ones(5), np.ones((3, 3)), {}, ValueError, r"image must be 2-D .* got shape \(5,\)"),
        (np.ones((5, 5)), np.ones((1, 1, 3, 3)), {}, ValueError, "a 2-D image"),
        (np.ones((3, 5, 5)), np.ones((2, 3, 3)), {}, ValueError, "kernel depth 2"),
        (np.ones((3, 5, 5)), np.ones((4, 2, 3, 3)), {}, ValueError, "3 channels of image"),
        (np.ones((3, 5, 5)), np.ones((3, 3)), {}, ValueError, "kernel must be"),
        (np.ones((4, 4)), np.ones((5, 3)), {}, ValueError, "along the height .* kernel=5"),
        (np.ones((4, 4)), np.ones((3, 3)), {"stride": 0}, ValueError, "stride must be"),
        (np.ones((4, 4)), np.ones((3, 3)), {"stride": 1.5}, TypeError, "stride must be"),
        (np.ones((4, 4)), np.ones((3, 3)), {"padding": -1}, ValueError, "padding must be"),
        (np.ones((4, 4)), np.ones((3, 3)), {"padding": "full"}, ValueError, "'full'"),
        (np.ones((6, 6)), np.ones((3, 3)), {"padding": "same", "stride": 2}, ValueError,
         "padding='same' needs stride=1"),
        (np.ones((6, 6)), np.ones((2, 2)), {"padding": "same"}, ValueError, "even"),
        (np.ones((2, 5, 5)), np.ones((4, 2, 3, 3)), {"bias": np.ones(3)}, ValueError,
         r"bias must have one value per filter, shape \(4,\), got shape \(3,\)"),
        (np.array([["a"]]), np.ones((1, 1)), {}, TypeError, "image must be a numeric array"),
        (np.ones((4, 4)), [[1j]], {}, TypeError, "kernel must be real"),
    ],
)
def test_bad_input_raises_a_clear_error(name, image, kernel, options, error, message):
    with pytest.raises(error, match=message):
        IMPLEMENTATIONS[name](image, kernel, **options)
