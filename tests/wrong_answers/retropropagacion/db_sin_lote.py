"""Sums the bias gradient over the positions of the first image only, forgetting the
rest of the batch (the visible example has a batch of one)."""

FAILS = ["test_conv_db"]

# %% conv_backward_solucion
def conv_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout[0].sum(axis=(1, 2))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    filas = slice(i * stride, i * stride + HH)
                    columnas = slice(j * stride, j * stride + WW)
                    dw[f] += xp[n, :, filas, columnas] * dout[n, f, i, j]
                    dxp[n, :, filas, columnas] += w[f] * dout[n, f, i, j]
    dx = dxp[:, :, padding:padding + H, padding:padding + W]
    return dx, dw, db
