#!/usr/bin/python3
"""layers_ref.py: PyTorch's outputs for tests/unit/test_layers.c's forward
tests of LayerNormalization, GlobalAveragePooling2D and Reshape, computed
once and pasted into the test (run it again to regenerate them:
/usr/bin/python3 tests/unit/ref/layers_ref.py).  The inputs and weights are
small fixed numbers written out here and in the test alike; samples are
channels-last (B, H, W, C) as in Keras and hptc."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # refs.py beside this script, from any cwd
from refs import c_array  # noqa: E402

torch.set_default_dtype(torch.float64)   # the reference in double; the test allows float error


# LayerNormalization(epsilon = 1e-3) over the last axis of (B=2, 2, 3) samples.
ln_x = torch.tensor([[[0.5, -1.0, 2.0], [3.0, 3.5, -0.25]],
                     [[-2.0, 0.0, 0.75], [1.5, -0.5, 0.1]]])
ln_gamma = torch.tensor([0.5, -1.0, 2.0])
ln_beta = torch.tensor([0.1, 0.2, -0.3])
c_array("LN_WANT", F.layer_norm(ln_x, (3,), ln_gamma, ln_beta, eps=1e-3))
# The same without gamma and beta (scale = False, center = False), epsilon 0.1.
c_array("LN_PLAIN_WANT", F.layer_norm(ln_x, (3,), None, None, eps=0.1))

# GlobalAveragePooling2D over (B=2, 3, 2, 2) samples: the mean over height and width.
gap_x = torch.arange(24, dtype=torch.float64).reshape(2, 3, 2, 2) * 0.25 - 2.0
gap_x[1, 2, 1, 0] = 7.0
c_array("GAP_WANT", gap_x.mean(dim=(1, 2)))

# Dense(6) then Reshape([2, -1]) then LayerNormalization(): the reshape keeps
# row-major order, so the normalisation sees features (0..2) and (3..5).
rs_x = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.25, 1.5, -1.0, 2.0]])
rs_w = torch.tensor([[0.1 * ((i * 5 + j * 3) % 7) - 0.3 for j in range(6)] for i in range(4)])   # kernel (4, 6)
rs_b = torch.tensor([0.05 * j for j in range(6)])
c_array("RESHAPE_WANT", F.layer_norm((rs_x @ rs_w + rs_b).reshape(2, 2, 3), (3,), eps=1e-3))
