"""Calls PyTorch's interpolate instead of programming the interpolation with NumPy: right values, but the assignment asks for NumPy and the hidden tests check it."""

FAILS = ["test_ampliar"]

# %% ampliar_solucion
def ampliar(M, alto, ancho):
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(np.asarray(M, dtype=float))[None, None]
    return F.interpolate(t, size=(alto, ancho), mode="bilinear", align_corners=False)[0, 0].numpy()
