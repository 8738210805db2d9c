"""Builds a torch convolution and counts its parameters instead of doing the arithmetic:
the numbers are right, the hidden tests notice whose code it is."""

FAILS = ["test_conv_basico", "test_lenet5", "test_alexnet", "test_pila", "test_vgg"]

# %% conv_solucion
import torch


def parametros_conv(c_ent, c_sal, f, sesgo=True, grupos=1):
    capa = torch.nn.Conv2d(c_ent, c_sal, f, bias=sesgo, groups=grupos)
    return sum(p.numel() for p in capa.parameters())
