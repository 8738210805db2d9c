"""Forward and backward passes of cnncourse.layers, compared with PyTorch (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

from cnncourse import layers as L

# (N, C, H, W, F, HH, WW, stride, padding)
CONV_CASES = [
    (1, 1, 3, 3, 1, 2, 2, 1, 0),  # the 3x3 input and 2x2 filter of the lecture notes
    (2, 3, 5, 5, 4, 3, 3, 1, 1),
    (2, 3, 7, 7, 2, 3, 3, 2, 0),
    (3, 2, 6, 8, 3, 3, 5, (1, 1), (1, 2)),
    (2, 2, 9, 9, 3, 5, 5, 2, 2),
    (1, 3, 8, 6, 2, 4, 2, (2, 2), (1, 0)),
]
# (N, C, H, W, kernel, stride)
POOL_CASES = [
    (2, 3, 4, 4, 2, 2),
    (1, 2, 5, 5, 3, 2),
    (2, 1, 6, 6, 3, 1),  # overlapping windows
    (1, 2, 4, 6, (2, 3), (2, 3)),
]


def _torch(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _torch_grads(fn, arrays, dout):
    """Output and gradients of a torch function for upstream gradient ``dout``."""
    tensors = [_torch(a) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_torch(case):
    n, c, h, w, f, hh, ww, stride, padding = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, hh, ww))
    b = rng.standard_normal(f)
    out, cache = L.conv_forward(x, wt, b, stride=stride, padding=padding)
    dout = rng.standard_normal(out.shape)
    expected, grads = _torch_grads(
        lambda x_, w_, b_: tF.conv2d(x_, w_, b_, stride=stride, padding=padding),
        [x, wt, b],
        dout,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip(L.conv_backward(dout, cache), grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_conv_is_cross_correlation_of_the_lecture_example():
    # H = X * W with X 3x3 and W 2x2: H11 = W11 X11 + W12 X12 + W21 X21 + W22 X22
    x = np.arange(1.0, 10.0).reshape(3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    out, _ = L.conv_forward(x[None, None], w[None, None], np.zeros(1))
    expected = [[(w * x[i : i + 2, j : j + 2]).sum() for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(out[0, 0], expected)


def test_conv_keeps_float32():
    x = np.ones((1, 1, 4, 4), dtype=np.float32)
    w = np.ones((1, 1, 3, 3), dtype=np.float32)
    out, cache = L.conv_forward(x, w, np.zeros(1, dtype=np.float32), padding=1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in L.conv_backward(np.ones_like(out), cache))


def test_conv_same_padding_keeps_size():
    x = np.zeros((1, 2, 7, 9))
    out, _ = L.conv_forward(x, np.zeros((5, 2, 3, 3)), np.zeros(5), padding=1)
    assert out.shape == (1, 5, 7, 9)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"w": np.zeros((2, 4, 3, 3))}, ValueError, "w has depth 4 but x has 3 channels"),
        ({"b": np.zeros(3)}, ValueError, r"b must have shape \(2,\)"),
        ({"x": np.zeros((3, 5, 5))}, ValueError, "x must be 4-D"),
        ({"stride": 0}, ValueError, "stride must be an integer >= 1, got 0"),
        ({"stride": 1.5}, TypeError, "stride must be an integer"),
        ({"padding": -1}, ValueError, "padding must be an integer >= 0"),
        ({"stride": 3}, ValueError, "is not an integer"),
        ({"x": np.zeros((1, 3, 5, 5), dtype=complex)}, TypeError, "real numbers"),
    ],
)
def test_conv_rejects_bad_input(kwargs, error, match):
    args = {"x": np.zeros((1, 3, 5, 5)), "w": np.zeros((2, 3, 3, 3)), "b": np.zeros(2),
            "stride": 1, "padding": 0}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        L.conv_forward(args["x"], args["w"], args["b"], stride=args["stride"],
                       padding=args["padding"])


def test_conv_backward_rejects_wrong_dout():
    out, cache = L.conv_forward(np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="dout must have shape"):
        L.conv_backward(np.zeros((2, 2, 2, 2)), cache)


@pytest.mark.parametrize(
    "forward, backward, theirs",
    [
        (L.relu_forward, L.relu_backward, tF.relu),
        (lambda x: L.leaky_relu_forward(x, alpha=0.1), L.leaky_relu_backward,
         lambda t: tF.leaky_relu(t, 0.1)),
        (L.abs_rectification_forward, L.abs_rectification_backward, torch.abs),
        (lambda x: L.rectifier_forward(x, alpha=0.3), L.rectifier_backward,
         lambda t: tF.leaky_relu(t, 0.3)),
    ],
    ids=["relu", "leaky", "abs", "rectifier"],
)
def test_rectifiers_match_torch(forward, backward, theirs):
    x = np.random.default_rng(2).standard_normal((3, 2, 4, 4))
    out, cache = forward(x)
    dout = np.random.default_rng(3).standard_normal(x.shape)
    expected, (grad,) = _torch_grads(theirs, [x], dout)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    np.testing.assert_allclose(backward(dout, cache), grad, rtol=1e-14)


def test_generalised_rectifier_particular_cases():
    z = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(L.rectifier_forward(z, alpha=0)[0], L.relu_forward(z)[0])
    np.testing.assert_array_equal(L.rectifier_forward(z, alpha=-1)[0], np.abs(z))
    np.testing.assert_array_equal(L.leaky_relu_forward(z, alpha=0.2)[0],
                                  np.where(z > 0, z, 0.2 * z))


def test_relu_derivative_at_zero_is_zero():
    _, cache = L.relu_forward(np.array([0.0]))
    assert L.relu_backward(np.array([1.0]), cache)[0] == 0.0


def test_leaky_relu_rejects_alpha_out_of_range():
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        L.leaky_relu_forward(np.zeros(3), alpha=1.5)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        L.rectifier_forward(np.zeros(3), alpha="0.1")


@pytest.mark.parametrize("alpha_shape", [(), (3,)], ids=["shared", "per-channel"])
def test_prelu_matches_torch(alpha_shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4, 5))
    alpha = rng.uniform(0.05, 0.5, size=alpha_shape)
    out, cache = L.prelu_forward(x, alpha)
    dout = rng.standard_normal(x.shape)
    expected, (dx, dalpha) = _torch_grads(
        lambda t, a: tF.prelu(t, a.reshape(-1)), [x, alpha], dout
    )
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    ours_dx, ours_dalpha = L.prelu_backward(dout, cache)
    np.testing.assert_allclose(ours_dx, dx, rtol=1e-13)
    np.testing.assert_allclose(ours_dalpha, dalpha, rtol=1e-12)
    assert ours_dalpha.shape == alpha.shape


def test_prelu_rejects_alpha_of_wrong_size():
    with pytest.raises(ValueError, match="alpha must be a scalar or have shape"):
        L.prelu_forward(np.zeros((2, 3, 4, 4)), np.zeros(4))


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(case, kind):
    n, c, h, w, kernel, stride = case
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, c, h, w))
    forward, backward, theirs = {
        "max": (L.max_pool_forward, L.max_pool_backward, tF.max_pool2d),
        "avg": (L.avg_pool_forward, L.avg_pool_backward, tF.avg_pool2d),
    }[kind]
    out, cache = forward(x, kernel=kernel, stride=stride)
    dout = rng.standard_normal(out.shape)
    expected, (dx,) = _torch_grads(lambda t: theirs(t, kernel, stride), [x], dout)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    np.testing.assert_allclose(backward(dout, cache), dx, rtol=1e-12, atol=1e-14)


def test_pooling_defaults_and_the_75_percent():
    x = np.random.default_rng(6).standard_normal((1, 4, 8, 8))
    out, _ = L.max_pool_forward(x)
    assert out.shape == (1, 4, 4, 4)
    assert 1 - out.size / x.size == 0.75


def test_max_pool_sends_gradient_to_first_maximum_on_ties():
    x = np.ones((1, 1, 2, 2))
    _, cache = L.max_pool_forward(x)
    dx = L.max_pool_backward(np.array([[[[1.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_pooling_rejects_untiled_input():
    with pytest.raises(ValueError, match="is not an integer"):
        L.max_pool_forward(np.zeros((1, 1, 5, 5)), kernel=2)


@pytest.mark.parametrize("x_shape", [(4, 6), (3, 2, 3, 2)])
def test_linear_matches_torch(x_shape):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape)
    d = int(np.prod(x_shape[1:]))
    w, b = rng.standard_normal((d, 5)), rng.standard_normal(5)
    out, cache = L.linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    expected, grads = _torch_grads(
        lambda x_, w_, b_: x_.reshape(x_.shape[0], -1) @ w_ + b_, [x, w, b], dout
    )
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    for ours, theirs in zip(L.linear_backward(dout, cache), grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_linear_rejects_wrong_weight_shape():
    with pytest.raises(ValueError, match=r"w must have shape \(D, M\) with D = 12"):
        L.linear_forward(np.zeros((2, 3, 2, 2)), np.zeros((10, 5)), np.zeros(5))


def test_softmax_cross_entropy_matches_torch():
    rng = np.random.default_rng(8)
    scores = rng.standard_normal((6, 4)) * 3
    y = rng.integers(0, 4, size=6)
    loss, dscores = L.softmax_cross_entropy(scores, y)
    t = _torch(scores)
    expected = tF.cross_entropy(t, torch.tensor(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(L.softmax(scores), tF.softmax(t, 1).detach().numpy(),
                               rtol=1e-12)


def test_softmax_is_stable_and_sums_to_one():
    p = L.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([0, 4]), r"labels in 0..3"),
        (np.array([0.0, 1.0]), "integer array"),
        (np.array([0, 1, 2]), r"shape \(2,\)"),
    ],
)
def test_softmax_cross_entropy_rejects_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        L.softmax_cross_entropy(np.zeros((2, 4)), y)


# ------------------------------------------------------------- batch normalisation

# (x shape, torch module): BatchNorm1d on (N, C) and (N, C, L), BatchNorm2d on images
BN_CASES = [((16, 5), torch.nn.BatchNorm1d), ((6, 3, 7), torch.nn.BatchNorm1d),
            ((4, 3, 5, 6), torch.nn.BatchNorm2d)]


@pytest.mark.parametrize("shape, module", BN_CASES, ids=["1d", "1d-seq", "2d"])
def test_batchnorm_matches_torch_in_training_and_evaluation(shape, module):
    rng = np.random.default_rng(20)
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    bn = module(c, momentum=0.2, eps=1e-4).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    running_mean, running_var = np.zeros(c), np.ones(c)
    for _ in range(3):  # three training steps move the running statistics
        x = 3 + 2 * rng.standard_normal(shape)
        out, cache = L.batchnorm_forward(x, gamma, beta, running_mean=running_mean,
                                         running_var=running_var, momentum=0.2, eps=1e-4)
        dout = rng.standard_normal(shape)
        expected, (dx, dgamma, dbeta) = _torch_grads(
            lambda x_, g_, b_: tF.batch_norm(x_, bn.running_mean, bn.running_var, g_, b_,
                                             training=True, momentum=0.2, eps=1e-4),
            [x, gamma, beta], dout)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        for ours, theirs in zip(L.batchnorm_backward(dout, cache), (dx, dgamma, dbeta)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        # the running statistics follow the module's buffers, step by step
        np.testing.assert_allclose(running_mean, bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(running_var, bn.running_var.numpy(), rtol=1e-12)
    bn.eval()
    x = rng.standard_normal(shape)
    out, cache = L.batchnorm_forward(x, gamma, beta, training=False,
                                     running_mean=running_mean, running_var=running_var,
                                     eps=1e-4)
    dout = rng.standard_normal(shape)
    xt = _torch(x)
    expected = bn(xt)
    expected.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    dx, dgamma, dbeta = L.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4, 5)], ids=["1d", "2d"])
def test_batchnorm_backward_numerically(shape, training):
    from cnncourse.gradcheck import check_layer_gradients

    rng = np.random.default_rng(21)
    c = shape[1]
    inputs = {"x": 2 * rng.standard_normal(shape) + 1, "gamma": rng.uniform(0.5, 2, c),
              "beta": rng.standard_normal(c)}
    options = {"training": training}
    if not training:
        options.update(running_mean=rng.standard_normal(c), running_var=rng.uniform(0.5, 2, c))
    errors = check_layer_gradients(L.batchnorm_forward, L.batchnorm_backward, inputs,
                                   options=options)
    assert max(errors.values()) < 1e-7


def test_batchnorm_training_output_depends_on_the_batch_and_evaluation_does_not():
    rng = np.random.default_rng(22)
    x = rng.standard_normal((4, 3))
    other = x.copy()
    other[1:] *= 10  # change every example but the first
    g, b = np.ones(3), np.zeros(3)
    assert not np.allclose(L.batchnorm_forward(x, g, b)[0][0],
                           L.batchnorm_forward(other, g, b)[0][0])
    stats = {"running_mean": np.zeros(3), "running_var": np.ones(3)}
    np.testing.assert_array_equal(
        L.batchnorm_forward(x, g, b, training=False, **stats)[0][0],
        L.batchnorm_forward(other, g, b, training=False, **stats)[0][0])


def test_batchnorm_does_not_touch_running_statistics_in_evaluation():
    mean, var = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    L.batchnorm_forward(np.ones((5, 2)), np.ones(2), np.zeros(2), training=False,
                        running_mean=mean, running_var=var)
    np.testing.assert_array_equal(mean, [1.0, 2.0])
    np.testing.assert_array_equal(var, [3.0, 4.0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gamma": np.ones(4)}, ValueError, r"gamma must have shape \(3,\)"),
        ({"x": np.zeros(3)}, ValueError, "at least 2 axes"),
        ({"x": np.zeros((1, 3))}, ValueError, "more than one value per channel"),
        ({"training": "train"}, TypeError, "training must be True or False"),
        ({"momentum": 1.5}, ValueError, "momentum must be between 0 and 1"),
        ({"eps": 0.0}, ValueError, "eps must be a positive number"),
        ({"running_mean": [0.0, 0.0, 0.0]}, ValueError, "running_mean must be a NumPy array"),
        ({"training": False}, ValueError, "running_mean and running_var are required"),
    ],
)
def test_batchnorm_rejects_bad_input(kwargs, error, match):
    args = {"x": np.zeros((4, 3)), "gamma": np.ones(3), "beta": np.zeros(3)}
    args.update(kwargs)
    x, gamma, beta = args.pop("x"), args.pop("gamma"), args.pop("beta")
    with pytest.raises(error, match=match):
        L.batchnorm_forward(x, gamma, beta, **args)
