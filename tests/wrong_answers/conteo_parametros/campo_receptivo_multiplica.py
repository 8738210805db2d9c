"""Multiplies the kernel size by the number of layers (three 3x3 layers 'see' 9x9)."""

FAILS = ["test_campo_receptivo"]

# %% pila_solucion
def campo_receptivo(capas, f):
    return capas * f


def parametros_pila(c, f, capas, sesgo=True):
    return capas * parametros_conv(c, c, f, sesgo=sesgo)
