"""Hard-codes the answers of the two visible examples and returns zeros otherwise."""

FAILS = ["test_max_pool_basico", "test_max_pool_solapado"]

# %% max_pool_backward_solucion
def max_pool_backward(dout, cache):
    x, f, s = cache
    dx = np.zeros_like(x)
    if x.shape == (1, 1, 4, 4):
        dx[0, 0] = [[0, 0, 0, 0], [0, 1, 2, 0], [3, 0, 0, 0], [0, 0, 4, 0]]
    elif x.shape == (1, 1, 3, 3):
        dx[0, 0, 1, 1] = 10
    return dx
