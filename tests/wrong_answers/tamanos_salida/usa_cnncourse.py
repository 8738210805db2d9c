"""Wraps cnncourse.shapes instead of implementing the formula: the hidden tests notice."""

FAILS = [
    "test_alexnet_227",
    "test_conv_sin_relleno",
    "test_forma_conv",
    "test_pool",
]

# %% conv_solucion
from cnncourse.shapes import conv_output_size


def tamano_salida_conv(n, f, p=0, s=1):
    return conv_output_size(n, f, stride=s, padding=p)
