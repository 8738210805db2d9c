"""Numerical gradients by centred differences, to check backward passes.

The derivative of ``f`` along one coordinate ``x_i`` is approximated by

    (f(x + h e_i) - f(x - h e_i)) / (2 h)

whose error shrinks as ``h**2``. For an array-valued ``f`` (a layer's output) the check
uses an upstream gradient ``df`` (any fixed array of the output's shape), which turns
the layer into the scalar ``L = sum(f(x) * df)`` whose gradient is what a backward pass
returns for ``dout = df``.

Checks raise ``AssertionError`` with the size and the place of the worst mismatch; they
never just print.

Examples
--------
>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0])
>>> numerical_gradient(lambda v: float(np.sum(v ** 2)), x)  # the gradient is 2x
array([2., 4., 6.])
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "numerical_gradient",
    "rel_error",
    "assert_gradients_close",
    "check_layer_gradients",
]


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    df: np.ndarray | None = None,
    *,
    h: float = 1e-5,
) -> np.ndarray:
    """Gradient of ``f`` at ``x`` by centred differences.

    Parameters
    ----------
    f : callable
        Called as ``f(x_perturbed)`` with a float64 copy of ``x`` in which one entry
        has been moved by ``+h`` or ``-h``. Returns a scalar, or an array when ``df``
        is given.
    x : array_like
        Point at which to differentiate; it is not modified.
    df : array_like, optional
        Upstream gradient, with the shape of ``f``'s output. Required when ``f``
        returns an array of more than one value.
    h : float, optional
        Step. ``1e-5`` balances truncation (``~h**2``) and rounding (``~eps/h``) errors
        in float64.

    Returns
    -------
    ndarray, same shape as ``x``, float64
        ``d(sum(f(x) * df)) / dx`` (or ``df/dx`` for a scalar ``f``).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> x = np.array([1.0, -1.0])
    >>> numerical_gradient(lambda v: w @ v, x, df=np.array([1.0, 0.0])).round(6)
    array([1., 2.])
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    h = float(h)
    if not h > 0:
        raise ValueError(f"h must be a positive step, got {h}")
    point = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    upstream = None if df is None else np.asarray(df, dtype=np.float64)
    grad = np.zeros_like(point)

    def value() -> float:
        out = np.asarray(f(point), dtype=np.float64)
        if upstream is None:
            if out.size != 1:
                raise ValueError(
                    f"f returned an array of shape {out.shape}: pass df, an upstream "
                    "gradient of that shape, to check an array-valued function"
                )
            return float(out.reshape(()))
        if out.shape != upstream.shape:
            raise ValueError(
                f"df has shape {upstream.shape} but f returned shape {out.shape}"
            )
        return float(np.sum(out * upstream))

    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        plus = value()
        point[index] = original - h
        minus = value()
        point[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` of two arrays (Euclidean norms).

    Scale-free, so one threshold fits gradients of any size: in float64 a correct
    backward pass usually gives ``1e-12 .. 1e-9``; ``1e-7`` is the usual limit. It is
    measured on the whole array rather than entry by entry, because a centred
    difference carries a rounding error of about ``1e-16 * |f| / h`` on every entry:
    on an entry that is tiny or exactly zero (a pixel that few windows reach, a
    probability close to 0) that noise alone would be a large relative error.

    Returns 0 when both arrays are zero.

    Examples
    --------
    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    >>> round(rel_error(np.array([3.0, 4.0]), np.array([3.0, 4.5])), 4)
    0.048
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)


def assert_gradients_close(
    analytic: np.ndarray,
    numeric: np.ndarray,
    *,
    tol: float = 1e-7,
    name: str = "gradient",
) -> float:
    """Raise ``AssertionError`` unless ``rel_error(analytic, numeric) < tol``.

    The message names the gradient, gives the relative error (:func:`rel_error`) and
    shows the entry with the largest difference (its index and both values), which
    usually points at the bug.

    Returns
    -------
    float
        The relative error, when the check passes.

    Examples
    --------
    >>> assert_gradients_close(np.array([2.0, 4.0]), np.array([2.0, 4.0]), name="dx")
    0.0
    >>> assert_gradients_close(np.array([2.0, 4.0]), np.array([2.0, 5.0]), name="dx")
    Traceback (most recent call last):
    ...
    AssertionError: dx: relative error 0.101 >= 1e-07; worst entry at index (1,): analytic 4, numeric 5
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(
            f"{name}: the analytic gradient has shape {analytic.shape} but the numeric "
            f"one has shape {numeric.shape} (it must match the shape of the input)"
        )
    if not np.all(np.isfinite(analytic)):
        raise AssertionError(f"{name}: the analytic gradient contains NaN or infinity")
    error = rel_error(analytic, numeric)
    if not error < tol:
        worst = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), analytic.shape)
        raise AssertionError(
            f"{name}: relative error {error:.3g} >= {tol:g}; worst entry at index "
            f"{tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, "
            f"numeric {numeric[worst]:.6g}"
        )
    return error


def check_layer_gradients(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[[np.ndarray, Any], Any],
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    options: Mapping[str, Any] | None = None,
    tol: float = 1e-7,
    h: float = 1e-5,
    seed: int = 0,
) -> dict[str, float]:
    """Check a ``forward``/``backward`` pair against centred differences.

    ``forward(*inputs, **options)`` must return ``(out, cache)`` and
    ``backward(dout, cache)`` the gradients with respect to each input, in the same
    order (a single array when there is one input). A random upstream gradient
    ``dout`` (seeded) is used.

    Parameters
    ----------
    forward, backward : callable
        The layer's pair, e.g. :func:`cnncourse.layers.conv_forward` and
        :func:`cnncourse.layers.conv_backward`.
    inputs : mapping of name to array, or sequence of arrays
        The arrays to differentiate with respect to, in ``forward``'s order; use
        float64. The names (``x0``, ``x1``... for a sequence) label the messages.
    options : mapping, optional
        Keyword options of ``forward`` (``stride``, ``padding``...).
    tol : float, optional
        Largest relative error accepted.
    h : float, optional
        Step of the centred differences.
    seed : int, optional
        Seed of the upstream gradient.

    Returns
    -------
    dict
        Relative error of each gradient, by input name.

    Raises
    ------
    AssertionError
        If a gradient has the wrong shape or a relative error reaches ``tol``.

    Examples
    --------
    >>> from cnncourse.layers import conv_forward, conv_backward
    >>> rng = np.random.default_rng(0)
    >>> inputs = {"x": rng.standard_normal((2, 3, 5, 5)),
    ...           "w": rng.standard_normal((4, 3, 3, 3)), "b": rng.standard_normal(4)}
    >>> errors = check_layer_gradients(conv_forward, conv_backward, inputs,
    ...                                options={"stride": 2, "padding": 1})
    >>> sorted(errors), all(e < 1e-7 for e in errors.values())
    (['b', 'w', 'x'], True)
    """
    if isinstance(inputs, Mapping):
        names = [str(k) for k in inputs]
        arrays = [np.asarray(v) for v in inputs.values()]
    else:
        arrays = [np.asarray(v) for v in inputs]
        names = [f"x{i}" for i in range(len(arrays))]
    if not arrays:
        raise ValueError("inputs must hold at least one array")
    options = dict(options or {})
    out, cache = forward(*arrays, **options)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(arrays):
        raise AssertionError(
            f"backward returned {len(grads)} gradient(s) for {len(arrays)} input(s) "
            f"({', '.join(names)}): it must return one per input, in the same order"
        )
    errors: dict[str, float] = {}
    for i, (name, grad) in enumerate(zip(names, grads)):

        def f(value: np.ndarray, i: int = i) -> np.ndarray:
            args = arrays[:i] + [value] + arrays[i + 1 :]
            return forward(*args, **options)[0]

        numeric = numerical_gradient(f, arrays[i], dout, h=h)
        errors[name] = assert_gradients_close(grad, numeric, tol=tol, name=f"d{name}")
    return errors
