"""Returns the gradient of the padded input: dx has the wrong shape whenever padding > 0."""

FAILS = ["test_conv_dx"]

# %% conv_backward_solucion
def conv_backward(dout, cache):
    x, w, b, stride, padding = cache
    F, _, HH, WW = w.shape
    N, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    filas = slice(i * stride, i * stride + HH)
                    columnas = slice(j * stride, j * stride + WW)
                    dw[f] += xp[n, :, filas, columnas] * dout[n, f, i, j]
                    dx[n, :, filas, columnas] += w[f] * dout[n, f, i, j]
    return dx, dw, db
