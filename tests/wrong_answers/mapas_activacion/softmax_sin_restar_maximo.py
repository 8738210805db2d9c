"""Softmax without subtracting the largest score: exp overflows to inf with scores of a few hundred, and the probabilities become NaN."""

FAILS = ["test_probabilidades"]

# %% promedio_solucion
def promedio_global(A):
    return A.mean(axis=(1, 2))


def probabilidades(A, W, b):
    z = W @ promedio_global(A) + b
    return np.exp(z) / np.exp(z).sum()
