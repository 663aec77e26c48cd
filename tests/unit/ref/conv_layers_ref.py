#!/usr/bin/python3
"""conv_layers_ref.py: PyTorch's outputs for tests/unit/test_conv_layers.c's
forward tests of Conv1D, MaxPooling1D, the global poolings, DepthwiseConv2D,
SeparableConv2D, ZeroPadding2D and UpSampling2D, computed once and pasted
into the test (run it again to regenerate them:
/usr/bin/python3 tests/unit/ref/conv_layers_ref.py).

Inputs and weights are made by pat(), which the test computes alike; samples
are channels-last as in Keras and hptc ((B, steps, C), (B, H, W, C)), kernels
in Keras's layouts, turned into PyTorch's here.  Keras's "same" padding puts
the smaller half before; "causal" pads (k - 1) * dilation before only."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # refs.py beside this script, from any cwd
from refs import c_array  # noqa: E402

torch.set_default_dtype(torch.float64)   # the reference in double; the test allows float error


def pat(n, a, m, off):
    """The test's pat(): ((i * a) % m) / m - off for i in 0..n-1."""
    return torch.tensor([((i * a) % m) / m - off for i in range(n)])


def same_pads(size, k, s, d=1):
    span = (k - 1) * d + 1
    out = (size + s - 1) // s
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def conv1d(x, kernel, bias, stride=1, padding="valid", dilation=1):
    """x (B, steps, C), kernel (k, C, F) as Keras."""
    k = kernel.shape[0]
    xt = x.permute(0, 2, 1)
    if padding == "same":
        xt = F.pad(xt, same_pads(x.shape[1], k, stride, dilation))
    elif padding == "causal":
        xt = F.pad(xt, ((k - 1) * dilation, 0))
    y = F.conv1d(xt, kernel.permute(2, 1, 0), bias, stride=stride, dilation=dilation)
    return y.permute(0, 2, 1)


def pad2d(xt, H, W, kh, kw, sh, sw, same):
    if not same:
        return xt
    top, bottom = same_pads(H, kh, sh)
    left, right = same_pads(W, kw, sw)
    return F.pad(xt, (left, right, top, bottom))


def depthwise(x, kernel, bias, strides=(1, 1), same=False):
    """x (B, H, W, C), kernel (kh, kw, C, m) as Keras: output c * m + j."""
    kh, kw, C, m = kernel.shape
    xt = pad2d(x.permute(0, 3, 1, 2), x.shape[1], x.shape[2], kh, kw, strides[0], strides[1], same)
    w = kernel.permute(2, 3, 0, 1).reshape(C * m, 1, kh, kw)
    return F.conv2d(xt, w, bias, stride=strides, groups=C).permute(0, 2, 3, 1)


# Conv1D on (B=2, steps=7, C=2) samples, 3 filters of width 3.
c1_x = pat(2 * 7 * 2, 5, 13, 0.4).reshape(2, 7, 2)
c1_k = pat(3 * 2 * 3, 7, 11, 0.5).reshape(3, 2, 3)
c1_b = pat(3, 3, 5, 0.2)
c_array("C1_VALID_S2_WANT", conv1d(c1_x, c1_k, c1_b, stride=2))
c_array("C1_SAME_WANT", conv1d(c1_x, c1_k, c1_b, padding="same"))
c_array("C1_CAUSAL_D2_WANT", conv1d(c1_x, c1_k, c1_b, padding="causal", dilation=2))
c_array("C1_SAME_D2_TANH_WANT", torch.tanh(conv1d(c1_x, c1_k, c1_b, padding="same", dilation=2)))

# MaxPooling1D over the same input: pool 3, strides 2, "same"; and the default pool 2.
xt = c1_x.permute(0, 2, 1)
c_array("MP1_SAME_WANT", F.max_pool1d(F.pad(xt, same_pads(7, 3, 2), value=-1e9), 3, 2).permute(0, 2, 1))
c_array("MP1_DEFAULT_WANT", F.max_pool1d(xt, 2).permute(0, 2, 1))

# The global poolings: over the steps of c1_x, and over height and width of (B=2, 3, 4, 2) images.
img_x = pat(2 * 3 * 4 * 2, 7, 17, 0.45).reshape(2, 3, 4, 2)
c_array("GAP1_WANT", c1_x.mean(dim=1))
c_array("GMP1_WANT", c1_x.amax(dim=1))
c_array("GMP2_WANT", img_x.amax(dim=(1, 2)))

# DepthwiseConv2D on (B=2, 5, 6, 2) images, kernel (2, 3), strides (1, 2), "same", depth_multiplier 2.
dw_x = pat(2 * 5 * 6 * 2, 5, 19, 0.5).reshape(2, 5, 6, 2)
dw_k = pat(2 * 3 * 2 * 2, 7, 13, 0.5).reshape(2, 3, 2, 2)
dw_b = pat(4, 3, 7, 0.3)
c_array("DW_WANT", depthwise(dw_x, dw_k, dw_b, strides=(1, 2), same=True))

# SeparableConv2D(3, 3, depth_multiplier = 2, activation = "relu") on the same images, "valid".
sep_dk = pat(3 * 3 * 2 * 2, 5, 11, 0.5).reshape(3, 3, 2, 2)
sep_pk = pat(1 * 1 * 4 * 3, 7, 9, 0.5).reshape(1, 1, 4, 3)
sep_b = pat(3, 2, 5, 0.3)
mid = depthwise(dw_x, sep_dk, None)
c_array("SEP_WANT", torch.relu(mid @ sep_pk.reshape(4, 3) + sep_b))

# ZeroPadding2D(((1, 2), (0, 3))) of img_x; UpSampling2D((2, 3)) nearest, and 2 bilinear.
c_array("ZP_WANT", F.pad(img_x.permute(0, 3, 1, 2), (0, 3, 1, 2)).permute(0, 2, 3, 1))
c_array("UP_NEAREST_WANT", img_x.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2))
c_array("UP_BILINEAR_WANT", F.interpolate(img_x.permute(0, 3, 1, 2), scale_factor=(2, 3), mode="bilinear",
                                          align_corners=False).permute(0, 2, 3, 1))

# Wide enough that mixed_bfloat16 computes in bf16 (32 products per output or
# more): Conv1D(4, 3) over 12 channels (36), and SeparableConv2D(3, 3,
# depth_multiplier = 4) over 8 channels, whose pointwise step sums 32.
wide_x = pat(2 * 6 * 12, 5, 23, 0.5).reshape(2, 6, 12)
wide_k = pat(3 * 12 * 4, 7, 29, 0.5).reshape(3, 12, 4)
wide_b = pat(4, 3, 7, 0.3)
c_array("C1_WIDE_WANT", conv1d(wide_x, wide_k, wide_b))
sw_x = pat(2 * 4 * 4 * 8, 5, 23, 0.5).reshape(2, 4, 4, 8)
sw_dk = pat(3 * 3 * 8 * 4, 7, 31, 0.5).reshape(3, 3, 8, 4)
sw_pk = pat(32 * 3, 11, 37, 0.5).reshape(1, 1, 32, 3)
sw_b = pat(3, 2, 5, 0.3)
c_array("SEP_WIDE_WANT", depthwise(sw_x, sw_dk, None) @ sw_pk.reshape(32, 3) + sw_b)
# DepthwiseConv2D(3, activation = "tanh") over 32 channels: bf16 under mixed_bfloat16 from 32 channels.
dwide_x = pat(2 * 3 * 3 * 32, 5, 23, 0.5).reshape(2, 3, 3, 32)
dwide_k = pat(3 * 3 * 32, 7, 31, 0.5).reshape(3, 3, 32, 1)
dwide_b = pat(32, 3, 7, 0.3)
c_array("DW_WIDE_WANT", torch.tanh(depthwise(dwide_x, dwide_k, dwide_b)))
