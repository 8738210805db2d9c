"""Counts n_in * n_out weights in a fully connected layer and forgets the biases."""

FAILS = ["test_fc", "test_lenet5", "test_alexnet", "test_vgg"]

# %% fc_solucion
def parametros_fc(n_ent, n_sal, sesgo=True):
    return n_ent * n_sal
