#!/usr/bin/env python3
"""augment_ref.py: PyTorch's outputs for tests/unit/test_augment.c's checks
of the augmentation layers' transforms at fixed parameters, computed once and
pasted into the test (run it again to regenerate them, with a python3 that
has torch: python3 tests/unit/ref/augment_ref.py).

Keras 2's RandomTranslation / RandomRotation / RandomZoom build an affine
matrix (get_translation_matrix, get_rotation_matrix, get_zoom_matrix, in
float32 as TensorFlow does) and hand it to ImageProjectiveTransformV3: output
pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), pixel
centres at whole coordinates.  torch.nn.functional.grid_sample with
align_corners=False computes the same reads once the pixel coordinate p is
written as the normalised (2p + 1) / size - 1: padding_mode "zeros" is
fill_mode "constant" with fill_value 0, "border" is "nearest", "reflection"
(about the image's edges) is "reflect"; mode "bilinear" and "nearest" are
the interpolations.  TensorFlow's "wrap" has no PyTorch counterpart: the
test checks it by hand.  The image is (H=5, W=4, C=2), channels last, the
same formula here and in the test."""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # refs.py beside this script, from any cwd
from refs import c_array  # noqa: E402

H, W, C = 5, 4, 2


def image():
    x = torch.zeros((H, W, C), dtype=torch.float64)
    for h in range(H):
        for w in range(W):
            for c in range(C):
                x[h, w, c] = ((h * 7 + w * 3 + c * 5) % 11) / 4.0 - 1.0
    return x


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


def rotation(angle):
    """get_rotation_matrix, in float32."""
    a = f32(angle)
    c, s = torch.cos(a), torch.sin(a)
    x_off = (f32(W - 1) - (c * f32(W - 1) - s * f32(H - 1))) / f32(2)
    y_off = (f32(H - 1) - (s * f32(W - 1) + c * f32(H - 1))) / f32(2)
    return [c, -s, x_off, s, c, y_off]


def zoom(zx, zy):
    """get_zoom_matrix, in float32."""
    zx, zy = f32(zx), f32(zy)
    return [zx, f32(0), (f32(W - 1) / f32(2)) * (f32(1) - zx), f32(0), zy, (f32(H - 1) / f32(2)) * (f32(1) - zy)]


def translation(dx, dy):
    """get_translation_matrix: the content moves by (dx, dy) pixels."""
    return [f32(1), f32(0), -f32(dx), f32(0), f32(1), -f32(dy)]


def transform(m, padding, mode):
    m = [float(v) for v in m]
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij")
    ix = m[0] * xs + m[1] * ys + m[2]
    iy = m[3] * xs + m[4] * ys + m[5]
    grid = torch.stack([(2 * ix + 1) / W - 1, (2 * iy + 1) / H - 1], dim=-1)[None]
    x = image().permute(2, 0, 1)[None]                       # (1, C, H, W)
    y = F.grid_sample(x, grid, mode=mode, padding_mode=padding, align_corners=False)
    return y[0].permute(1, 2, 0)                             # (H, W, C)


c_array("AUG_X", image())
c_array("ROT30_REFLECT", transform(rotation(math.pi / 6), "reflection", "bilinear"))
c_array("ROT30_CONSTANT", transform(rotation(math.pi / 6), "zeros", "bilinear"))
c_array("ROT30_NEAREST", transform(rotation(math.pi / 6), "border", "bilinear"))
c_array("ROT30_REFLECT_NN", transform(rotation(math.pi / 6), "reflection", "nearest"))
c_array("ZOOM_REFLECT", transform(zoom(0.7, 1.3), "reflection", "bilinear"))
c_array("ZOOM_CONSTANT", transform(zoom(0.7, 1.3), "zeros", "bilinear"))
c_array("SHIFT_CONSTANT", transform(translation(-1.8, 1.5), "zeros", "bilinear"))
c_array("SHIFT_NEAREST_NN", transform(translation(-1.8, 1.3), "border", "nearest"))
# Reads further out than one pixel, where reflecting and clamping differ.
c_array("ROT60_REFLECT", transform(rotation(math.pi / 3), "reflection", "bilinear"))
c_array("SHIFT_REFLECT", transform(translation(-1.8, 1.5), "reflection", "bilinear"))
