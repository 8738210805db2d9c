"""cnncourse.gradcheck itself, and every backward pass of cnncourse.layers checked
against centred differences in float64 (relative error below 1e-7)."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import layers as L
from cnncourse.gradcheck import (
    assert_gradients_close,
    check_layer_gradients,
    numerical_gradient,
    rel_error,
)

TOL = 1e-7


# ------------------------------------------------------------ the checker itself


def test_numerical_gradient_of_a_scalar_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)


def test_numerical_gradient_with_upstream_gradient():
    rng = np.random.default_rng(0)
    a, x, df = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    grad = numerical_gradient(lambda v: a @ v, x, df)
    np.testing.assert_allclose(grad, a.T @ df, rtol=1e-8)


def test_numerical_gradient_leaves_its_input_alone():
    x = np.array([1.0, 2.0])
    before = x.copy()
    numerical_gradient(lambda v: float(v @ v), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_works_in_float64_for_float32_input():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [2.0, 4.0], rtol=1e-8)


def test_numerical_gradient_needs_df_for_array_outputs():
    with pytest.raises(ValueError, match="pass df"):
        numerical_gradient(lambda v: 2 * v, np.ones(3))
    with pytest.raises(ValueError, match="df has shape"):
        numerical_gradient(lambda v: 2 * v, np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="h must be a positive step"):
        numerical_gradient(lambda v: float(v.sum()), np.ones(3), h=0)
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3, np.ones(3))


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    a, b = np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-3])
    assert rel_error(a, b) == pytest.approx(1e-3 / (5 + np.hypot(3, 4 + 1e-3)))
    assert rel_error(1e6 * a, 1e6 * b) == pytest.approx(rel_error(a, b))  # scale-free
    # rounding noise on an entry that is zero does not count as a large error
    assert rel_error(np.array([0.0, 1.0]), np.array([1e-12, 1.0])) < 1e-11
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_assert_gradients_close_raises_with_location():
    good = np.arange(6.0).reshape(2, 3)
    bad = good.copy()
    bad[1, 2] += 1
    assert assert_gradients_close(good, good + 1e-12) < TOL
    with pytest.raises(AssertionError, match=r"dw: relative error .* worst entry at index \(1, 2\)"):
        assert_gradients_close(bad, good, name="dw")
    with pytest.raises(AssertionError, match="shape"):
        assert_gradients_close(good, good.T)
    with pytest.raises(AssertionError, match="NaN"):
        assert_gradients_close(np.full(2, np.nan), np.zeros(2))


def test_check_layer_gradients_catches_a_wrong_backward():
    def wrong_conv_backward(dout, cache):
        dx, dw, db = L.conv_backward(dout, cache)
        return dx, dw[:, :, ::-1, ::-1], db  # filter flipped: a convolution, not correlation

    rng = np.random.default_rng(1)
    inputs = {"x": rng.standard_normal((1, 2, 4, 4)), "w": rng.standard_normal((2, 2, 3, 3)),
              "b": rng.standard_normal(2)}
    with pytest.raises(AssertionError, match="dw: relative error"):
        check_layer_gradients(L.conv_forward, wrong_conv_backward, inputs)


def test_check_layer_gradients_needs_one_gradient_per_input():
    inputs = [np.ones((2, 3)), np.ones((3, 4)), np.ones(4)]
    with pytest.raises(AssertionError, match="returned 2 gradient"):
        check_layer_gradients(L.linear_forward, lambda d, c: L.linear_backward(d, c)[:2],
                              inputs)


# ----------------------------------------------- every backward against the numbers

# (N, C, H, W, F, HH, WW, stride, padding)
CONV_CASES = [
    (1, 1, 3, 3, 1, 2, 2, 1, 0),
    (2, 3, 5, 5, 4, 3, 3, 1, 1),
    (2, 2, 7, 7, 3, 3, 3, 2, 0),
    (1, 2, 6, 8, 2, 3, 5, 1, (1, 2)),
    (2, 1, 9, 9, 2, 5, 5, 2, 2),
    (1, 2, 8, 6, 3, 4, 2, 2, (1, 0)),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x{}x{}x{}x{}-w{}x{}x{}-s{}-p{}".format(
    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]))
def test_conv_backward(case):
    n, c, h, w, f, hh, ww, stride, padding = case
    rng = np.random.default_rng(10)
    inputs = {"x": rng.standard_normal((n, c, h, w)),
              "w": rng.standard_normal((f, c, hh, ww)),
              "b": rng.standard_normal(f)}
    errors = check_layer_gradients(L.conv_forward, L.conv_backward, inputs,
                                   options={"stride": stride, "padding": padding})
    assert max(errors.values()) < TOL


@pytest.mark.parametrize(
    "forward, backward, options",
    [
        (L.relu_forward, L.relu_backward, {}),
        (L.leaky_relu_forward, L.leaky_relu_backward, {"alpha": 0.1}),
        (L.abs_rectification_forward, L.abs_rectification_backward, {}),
        (L.rectifier_forward, L.rectifier_backward, {"alpha": 0.4}),
    ],
    ids=["relu", "leaky", "abs", "rectifier"],
)
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 4)])
def test_rectifier_backward(forward, backward, options, shape):
    x = np.random.default_rng(11).standard_normal(shape)
    errors = check_layer_gradients(forward, backward, {"x": x}, options=options)
    assert errors["x"] < TOL


@pytest.mark.parametrize("alpha_shape", [(), (3,)], ids=["shared", "per-channel"])
@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3, 4)])
def test_prelu_backward(x_shape, alpha_shape):
    rng = np.random.default_rng(12)
    inputs = {"x": rng.standard_normal(x_shape),
              "alpha": rng.uniform(0.05, 0.5, size=alpha_shape)}
    errors = check_layer_gradients(L.prelu_forward, L.prelu_backward, inputs)
    assert set(errors) == {"x", "alpha"}


# (N, C, H, W, kernel, stride)
POOL_CASES = [(2, 3, 4, 4, 2, 2), (1, 2, 5, 5, 3, 2), (2, 1, 6, 6, 3, 1), (1, 2, 4, 6, (2, 3), None)]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_backward(case, kind):
    n, c, h, w, kernel, stride = case
    forward, backward = {"max": (L.max_pool_forward, L.max_pool_backward),
                         "avg": (L.avg_pool_forward, L.avg_pool_backward)}[kind]
    x = np.random.default_rng(13).standard_normal((n, c, h, w))
    errors = check_layer_gradients(forward, backward, {"x": x},
                                   options={"kernel": kernel, "stride": stride})
    assert errors["x"] < TOL


@pytest.mark.parametrize("x_shape, m", [((3, 5), 4), ((2, 2, 3, 3), 6)])
def test_linear_backward(x_shape, m):
    rng = np.random.default_rng(14)
    d = int(np.prod(x_shape[1:]))
    inputs = {"x": rng.standard_normal(x_shape), "w": rng.standard_normal((d, m)),
              "b": rng.standard_normal(m)}
    errors = check_layer_gradients(L.linear_forward, L.linear_backward, inputs)
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("n, k", [(1, 3), (5, 10)])
def test_softmax_cross_entropy_gradient(n, k):
    rng = np.random.default_rng(15)
    scores = rng.standard_normal((n, k)) * 2
    y = rng.integers(0, k, size=n)
    _, dscores = L.softmax_cross_entropy(scores, y)
    numeric = numerical_gradient(lambda s: L.softmax_cross_entropy(s, y)[0], scores)
    assert assert_gradients_close(dscores, numeric, name="dscores") < TOL


def test_small_network_end_to_end():
    """conv -> relu -> max pool -> linear -> softmax loss, checked as one function."""
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 1, 6, 6))
    w1, b1 = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((3 * 3 * 3, 4)), rng.standard_normal(4)
    y = np.array([1, 3])

    def loss_and_grads(w1_):
        a, c1 = L.conv_forward(x, w1_, b1, padding=1)
        r, c2 = L.relu_forward(a)
        p, c3 = L.max_pool_forward(r, kernel=2)
        s, c4 = L.linear_forward(p, w2, b2)
        loss, ds = L.softmax_cross_entropy(s, y)
        dp = L.linear_backward(ds, c4)[0]
        dw1 = L.conv_backward(L.relu_backward(L.max_pool_backward(dp, c3), c2), c1)[1]
        return loss, dw1

    numeric = numerical_gradient(lambda w: loss_and_grads(w)[0], w1)
    assert assert_gradients_close(loss_and_grads(w1)[1], numeric, name="dw1") < TOL
