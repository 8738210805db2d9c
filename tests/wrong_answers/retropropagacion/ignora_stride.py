"""Slides the backward windows one pixel at a time whatever the stride: right on the
visible stride-1 examples, wrong on the hidden strided ones."""

FAILS = ["test_conv_dw", "test_conv_dx"]

# %% conv_backward_solucion
def conv_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    dw[f] += xp[n, :, i:i + HH, j:j + WW] * dout[n, f, i, j]
                    dxp[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]
    dx = dxp[:, :, padding:padding + H, padding:padding + W]
    return dx, dw, db
