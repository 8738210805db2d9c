"""Wraps the course's reference layer instead of writing the backward pass: the numbers
are right, the hidden tests notice whose code it is."""

FAILS = ["test_conv_db", "test_conv_dw", "test_conv_dx"]

# %% conv_backward_solucion
from cnncourse.layers import conv_backward as _referencia, conv_forward as _adelante


def conv_backward(dout, cache):
    x, w, b, stride, padding = cache
    _, cache_referencia = _adelante(x, w, b, stride=stride, padding=padding)
    return _referencia(dout, cache_referencia)
