"""Averages the activation maps weighted by the class weights (divides by N): the shape of the map is right but its values, and the identity with the class score, are not."""

FAILS = ["test_cam", "test_identidad"]

# %% cam_solucion
def mapa_cam(A, W, k):
    return np.tensordot(W[k], A, axes=1) / len(A)
