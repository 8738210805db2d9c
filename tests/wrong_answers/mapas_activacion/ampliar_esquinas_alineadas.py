"""Bilinear interpolation with the corners aligned (np.linspace(0, n - 1, m), PyTorch's align_corners=True) instead of the pixel centres."""

FAILS = ["test_ampliar"]

# %% ampliar_solucion
def ampliar(M, alto, ancho):
    def pesos(n, m):
        u = np.linspace(0, n - 1, m)
        j = np.minimum(np.floor(u).astype(int), n - 1)
        t = u - j
        P = np.zeros((m, n))
        P[np.arange(m), j] += 1 - t
        P[np.arange(m), np.minimum(j + 1, n - 1)] += t
        return P

    M = np.asarray(M, dtype=float)
    return pesos(M.shape[0], alto) @ M @ pesos(M.shape[1], ancho).T
