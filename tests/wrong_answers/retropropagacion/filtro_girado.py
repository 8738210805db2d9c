"""Flips the filter (a true convolution, as in the signal-processing textbook) instead of
the cross-correlation every deep-learning library computes."""

FAILS = ["test_h_ejemplo", "test_dw_ejemplo"]

# %% calentamiento_solucion
def h_ejemplo(X, W):
    girado = W[::-1, ::-1]
    H = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            H[i, j] = np.sum(girado * X[i:i + 2, j:j + 2])
    return H


def dw_ejemplo(X, dH):
    dW = np.zeros((2, 2))
    for m in range(2):
        for n in range(2):
            dW[m, n] = np.sum(X[m:m + 2, n:n + 2] * dH)
    return dW[::-1, ::-1]
