"""Rectifies the class activation map (keeps only max(M, 0)), as many tutorials do: the raw map of the notes has negative values, and its mean plus the bias is no longer the class score."""

FAILS = ["test_cam", "test_identidad"]

# %% cam_solucion
def mapa_cam(A, W, k):
    return np.maximum(np.tensordot(W[k], A, axes=1), 0)
