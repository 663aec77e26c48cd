#!/usr/bin/python3
"""seqlayers_ref.py: PyTorch's outputs for tests/unit/test_seqlayers.c's
forward tests of Embedding, LSTM and GRU, computed once and pasted into the
test (run it again to regenerate them: python3 tests/unit/ref/seqlayers_ref.py).

hptc keeps Keras's weights: kernel (features, G), recurrent_kernel (units, G)
and bias, G = 4 units for the LSTM in the gate order i, f, c, o (bias (G)) and
3 units for the GRU in the order z, r, h (reset_after: bias (2, G), the input
row then the recurrent).  PyTorch keeps weight_ih (G, features) and weight_hh
(G, units), LSTM gates i, f, g, o (Keras's order) and GRU gates r, z, n, and
two biases: the mapping below is the one a Keras-to-PyTorch port uses.  Both
compute a GRU with the reset gate applied after the recurrent matrix.

Every weight is the fixed formula weight(i) = ((i * 37) % 23) / 23 - 0.5,
scaled by 0.8, over the layer's flat weights in Keras's order (the test fills
them with the same formula); inputs likewise with input(i)."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # refs.py beside this script, from any cwd
from refs import c_array  # noqa: E402

torch.set_default_dtype(torch.float64)   # the reference in double; the test allows float error


def weight(i):
    return 0.8 * (((i * 37) % 23) / 23.0 - 0.5)


def seq_input(i):
    return ((i * 11) % 17) / 17.0 * 2.0 - 1.0


def keras_weights(features, units, gates, bias_rows):
    """kernel, recurrent_kernel, bias from the flat formula, Keras's shapes."""
    G = gates * units
    sizes = [features * G, units * G, bias_rows * G]
    flat = torch.tensor([weight(i) for i in range(sum(sizes))])
    kernel = flat[:sizes[0]].reshape(features, G)
    recurrent = flat[sizes[0]:sizes[0] + sizes[1]].reshape(units, G)
    bias = flat[sizes[0] + sizes[1]:].reshape(bias_rows, G)
    return kernel, recurrent, bias


def lstm(x, units):
    """Keras LSTM(units) on x (B, T, F): every step's state (B, T, units)."""
    kernel, recurrent, bias = keras_weights(x.shape[2], units, 4, 1)
    m = torch.nn.LSTM(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(kernel.T)          # gates i, f, g, o: Keras's i, f, c, o
        m.weight_hh_l0.copy_(recurrent.T)
        m.bias_ih_l0.copy_(bias[0])
        m.bias_hh_l0.zero_()
        return m(x)[0]


def gru(x, units):
    """Keras GRU(units, reset_after=True) on x (B, T, F): every step's state."""
    kernel, recurrent, bias = keras_weights(x.shape[2], units, 3, 2)
    U = units

    def to_torch(w):   # columns z, r, h -> rows r, z, n
        return torch.cat([w[..., U:2 * U], w[..., :U], w[..., 2 * U:]], dim=-1)
    m = torch.nn.GRU(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(to_torch(kernel).T)
        m.weight_hh_l0.copy_(to_torch(recurrent).T)
        m.bias_ih_l0.copy_(to_torch(bias[0]))
        m.bias_hh_l0.copy_(to_torch(bias[1]))
        return m(x)[0]


# LSTM(6) and GRU(6) over B=3 samples of 5 steps of 3 features.
x = torch.tensor([seq_input(i) for i in range(3 * 5 * 3)]).reshape(3, 5, 3)
h = lstm(x, 6)
c_array("LSTM_LAST_WANT", h[:, -1, :])
c_array("LSTM_SEQ_WANT", h)
h = gru(x, 6)
c_array("GRU_LAST_WANT", h[:, -1, :])
c_array("GRU_SEQ_WANT", h)

# Embedding(7, 3) over B=2 samples of 4 indices, then LSTM(2): the table is
# the flat formula, the LSTM's weights the same formula from index 0 again.
idx = torch.tensor([[0, 3, 6, 2], [5, 5, 1, 4]])
table = torch.tensor([weight(i) for i in range(7 * 3)]).reshape(7, 3)
c_array("EMB_WANT", table[idx])
c_array("EMB_LSTM_WANT", lstm(table[idx], 2)[:, -1, :])
