"""Reads the weights of class k as the column W[:, k] (the notes' W is N x K, PyTorch's is K x N), so the map mixes the wrong weights or does not even match the channels."""

FAILS = ["test_cam", "test_identidad", "test_donde_miro"]

# %% cam_solucion
def mapa_cam(A, W, k):
    pesos = W[:, k]
    return sum(pesos[n] * A[n] for n in range(len(pesos)))
