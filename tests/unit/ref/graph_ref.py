#!/usr/bin/python3
"""graph_ref.py: PyTorch's outputs for tests/unit/test_merge.c's forward
test of a Residual block with a strided projection, computed once and
pasted into the test (run it again to regenerate them:
/usr/bin/python3 tests/unit/ref/graph_ref.py).  Inputs and weights are
small fixed numbers written out here and in the test alike, in Keras's
layouts: samples (B, H, W, C), kernels (kh, kw, C, F)."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # refs.py beside this script, from any cwd
from refs import c_array  # noqa: E402

torch.set_default_dtype(torch.float64)   # the reference in double; the test allows float error


def fill(n, a, b, c, scale, shift):
    """The test's weights: ((i * a + b) % c) * scale - shift, i = 0 .. n-1."""
    return torch.tensor([((i * a + b) % c) * scale - shift for i in range(n)])


# Input (2, 5, 5, 2); body Conv2D(3, 3, strides = 2, padding = "same") to
# (3, 3, 3); Residual projects the input by a 1x1 convolution of stride 2.
x = fill(2 * 5 * 5 * 2, 7, 3, 11, 0.2, 1.0).reshape(2, 5, 5, 2)
body_k = fill(3 * 3 * 2 * 3, 5, 1, 9, 0.1, 0.4).reshape(3, 3, 2, 3)
body_b = fill(3, 1, 0, 3, 0.05, 0.0)
proj_k = fill(2 * 3, 3, 2, 5, 0.25, 0.5).reshape(1, 1, 2, 3)
proj_b = fill(3, 2, 1, 3, 0.1, 0.1)

xc = x.permute(0, 3, 1, 2)                                   # NCHW
to_torch = lambda k: k.permute(3, 2, 0, 1)                  # (kh, kw, C, F) -> (F, C, kh, kw)
# Keras's "same" at stride 2 on 5: output 3, padding 2 in all, 1 on each side.
body = F.conv2d(xc, to_torch(body_k), body_b, stride=2, padding=1)
proj = F.conv2d(xc, to_torch(proj_k), proj_b, stride=2)
c_array("RESIDUAL_WANT", (body + proj).permute(0, 2, 3, 1))
