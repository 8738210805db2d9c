"""Forgets that each max pooling halves the image: the first fully connected layer gets
224 x 224 x 512 inputs instead of 7 x 7 x 512."""

FAILS = ["test_vgg"]

# %% vgg_solucion
def parametros_vgg(configuracion, clases=1000):
    canales, total = 3, 0
    for capa in configuracion:
        if capa != "maxpool":
            f, filtros = capa.removeprefix("conv").split("-")
            total += parametros_conv(canales, int(filtros), int(f))
            canales = int(filtros)
    total += parametros_fc(224 * 224 * canales, 4096)
    total += parametros_fc(4096, 4096)
    total += parametros_fc(4096, clases)
    return total
