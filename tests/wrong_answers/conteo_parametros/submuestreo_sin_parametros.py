"""Treats S2 and S4 as a modern average pooling with no parameters, as the lecture notes
describe them, so LeNet-5 comes out 44 parameters short of 60,000."""

FAILS = ["test_lenet5"]

# %% lenet_solucion
def parametros_submuestreo(mapas):
    return 0


def parametros_tabla(tabla, f):
    return sum(len(entradas) * f * f + 1 for entradas in tabla)


def parametros_lenet5():
    return {
        "C1": parametros_conv(1, 6, 5),
        "S2": parametros_submuestreo(6),
        "C3": parametros_tabla(TABLA_C3, 5),
        "S4": parametros_submuestreo(16),
        "C5": parametros_conv(16, 120, 5),
        "F6": parametros_fc(120, 84),
    }
