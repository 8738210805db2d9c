"""'same' padding as f // 2 for every f: an even filter gets a padding instead of an error."""

FAILS = ["test_padding_same"]

# %% same_solucion
def padding_same(f):
    return f // 2


def forma_salida_conv(forma, filtros, f, p=0, s=1):
    alto, ancho, _ = forma
    if p == "same":
        p = padding_same(f)
    return (tamano_salida_conv(alto, f, p, s), tamano_salida_conv(ancho, f, p, s), filtros)
