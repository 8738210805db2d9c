"""Counts only the filter weights of a convolution and forgets the one bias per filter."""

FAILS = ["test_conv_basico", "test_conv_grupos", "test_lenet5", "test_alexnet", "test_pila", "test_vgg"]

# %% conv_solucion
def parametros_conv(c_ent, c_sal, f, sesgo=True, grupos=1):
    if c_ent % grupos != 0 or c_sal % grupos != 0:
        raise ValueError(f"grupos={grupos} debe dividir a {c_ent} y a {c_sal}")
    return c_sal * (c_ent // grupos) * f * f
