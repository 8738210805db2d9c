"""Assigns the gradient to the maximum instead of adding it: where windows overlap, a
value that is the maximum of several windows keeps only the last one's gradient."""

FAILS = ["test_max_pool_solapado"]

# %% max_pool_backward_solucion
def max_pool_backward(dout, cache):
    x, f, s = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    ventana = x[n, c, i * s:i * s + f, j * s:j * s + f]
                    u, v = np.unravel_index(np.argmax(ventana), ventana.shape)
                    dx[n, c, i * s + u, j * s + v] = dout[n, c, i, j]
    return dx
