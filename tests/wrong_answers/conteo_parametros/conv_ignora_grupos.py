"""Ignores the groups: every filter sees every input channel, as the slides that give
614,400 for AlexNet's conv2 assume."""

FAILS = ["test_conv_grupos", "test_alexnet"]

# %% conv_solucion
def parametros_conv(c_ent, c_sal, f, sesgo=True, grupos=1):
    return c_sal * c_ent * f * f + (c_sal if sesgo else 0)
