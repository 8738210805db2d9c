"""Gives C3 one bias per connection of the table instead of one per output map."""

FAILS = ["test_c3", "test_lenet5"]

# %% lenet_solucion
def parametros_submuestreo(mapas):
    return 2 * mapas


def parametros_tabla(tabla, f):
    return sum(len(entradas) * (f * f + 1) for entradas in tabla)


def parametros_lenet5():
    return {
        "C1": parametros_conv(1, 6, 5),
        "S2": parametros_submuestreo(6),
        "C3": parametros_tabla(TABLA_C3, 5),
        "S4": parametros_submuestreo(16),
        "C5": parametros_conv(16, 120, 5),
        "F6": parametros_fc(120, 84),
    }
