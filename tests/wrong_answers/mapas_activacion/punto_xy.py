"""Returns the maximum as (x, y) = (column, row) instead of (row, column)."""

FAILS = ["test_punto", "test_donde_miro"]

# %% region_solucion
def punto_maximo(M):
    fila, columna = np.unravel_index(np.argmax(M), np.shape(M))
    return int(columna), int(fila)


def region_mirada(M, fraccion=0.2):
    M = np.asarray(M, dtype=float)
    if M.max() <= 0:
        return np.zeros(M.shape, dtype=bool)
    return M >= fraccion * M.max()
