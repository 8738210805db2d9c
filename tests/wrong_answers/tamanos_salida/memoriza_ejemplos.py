"""Hard-codes the visible examples: passes what the student sees, fails the hidden tests."""

FAILS = [
    "test_alexnet_224",
    "test_alexnet_227",
    "test_conv_relleno_paso",
    "test_conv_sin_relleno",
    "test_forma_conv",
    "test_pool",
]

# %% conv_solucion
def tamano_salida_conv(n, f, p=0, s=1):
    conocidos = {
        (7, 3, 0, 1): 5, (6, 3, 0, 1): 4, (5, 5, 0, 1): 1, (32, 5, 0, 1): 28,
        (7, 3, 0, 2): 3, (5, 3, 1, 2): 3, (28, 3, 1, 1): 28, (227, 11, 0, 4): 55,
        (27, 5, 2, 1): 27, (9, 3, 1, 2): 5, (24, 5, 0, 1): 20,
        (13, 3, 1, 1): 13, (55, 3, 0, 2): 27, (27, 3, 0, 2): 13, (13, 3, 0, 2): 6,
        (28, 2, 0, 2): 14,
    }
    if (n, f, p, s) in conocidos:
        return conocidos[(n, f, p, s)]
    raise ValueError("configuración imposible")
