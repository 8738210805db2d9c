"""Swapped stride and padding: calls tamano_salida_conv(n, f, s, p) positionally."""

FAILS = ["test_forma_conv", "test_alexnet_227"]

# %% same_solucion
def padding_same(f):
    if f % 2 == 0:
        raise ValueError("el filtro tiene que ser impar")
    return (f - 1) // 2


def forma_salida_conv(forma, filtros, f, p=0, s=1):
    alto, ancho, _ = forma
    if p == "same":
        p = padding_same(f)
    return (tamano_salida_conv(alto, f, s, p), tamano_salida_conv(ancho, f, s, p), filtros)
