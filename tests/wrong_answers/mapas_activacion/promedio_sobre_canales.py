"""Global average pooling over the wrong axis: averages the channels at each position instead of each map over its positions."""

FAILS = ["test_promedio", "test_probabilidades"]

# %% promedio_solucion
def promedio_global(A):
    return A.mean(axis=0).ravel()


def probabilidades(A, W, b):
    z = W @ promedio_global(A) + b
    e = np.exp(z - z.max())
    return e / e.sum()
