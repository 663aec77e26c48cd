/* kernels_spatial.h: the C kernels of the grouped and dilated convolution
 * (DepthwiseConv2D, SeparableConv2D's depthwise step, a dilated Conv1D),
 * ZeroPadding2D and UpSampling2D, under kernels.h's conventions: NHWC
 * float buffers, backward accumulating into parameter gradients and
 * overwriting dx (NULL: skipped), nothing allocated.
 *
 * The convolutions normally run on oneDNN (onednn_conv.h, which takes the
 * same layouts); the direct loops here are its fallback when oneDNN refuses
 * a shape, and a second implementation the tests compare it with. */
#ifndef HPTC_KERNELS_SPATIAL_H
#define HPTC_KERNELS_SPATIAL_H
#include "runtime/nn/kernels.h"

/* ------------------------------------------------ grouped, dilated conv */

/* A convolution of g's geometry (g->kh, kw the taps; OH, OW and the pads
 * the caller's, for the dilated extent (k - 1) * d + 1) in `groups`
 * groups: output channel f reads input channels [q * C/G, (q + 1) * C/G)
 * of its group q = f / (F/G).  The kernel is Keras's (kh, kw, C/G, F): a
 * depthwise (kh, kw, C, multiplier) kernel is it with groups = C, output
 * c * multiplier + m.  y = act(conv + b), z (pre-activation) kept when
 * non-NULL. */
void kern_gconv_forward(const kern_geom *g, int groups, int dil_h, int dil_w, const float *x /* (B, H, W, C) */,
                        const float *w /* (kh, kw, C/G, F) */, const float *b /* (F) or NULL */,
                        float *y /* (B, OH, OW, F) */, float *z /* (B, OH, OW, F) or NULL */, kern_act act);

/* dy becomes dz in place (act LINEAR when the caller made dz), db += Σ dz,
 * dw += the kernel's gradient, dx = the input's (NULL: skipped). */
void kern_gconv_backward(const kern_geom *g, int groups, int dil_h, int dil_w, const float *x /* (B, H, W, C) */,
                         const float *w /* (kh, kw, C/G, F) */, const float *y /* (B, OH, OW, F) */,
                         const float *z /* or NULL */, float *dy /* (B, OH, OW, F), becomes dz */,
                         float *dx /* (B, H, W, C) or NULL */, float *dw /* (kh, kw, C/G, F) += */,
                         float *db /* (F) += or NULL */, kern_act act);

/* ------------------------------------------------------------ ZeroPadding2D */

/* y = x with pad[0] rows above, pad[1] below, pad[2] columns left, pad[3]
 * right, all zero; dx = the inner window of dy. */
void kern_zero_pad2d_forward(const float *x /* (B, H, W, C) */, float *y /* (B, H+t+b, W+l+r, C) */, int B, int H,
                             int W, int C, const int pad[4]);
void kern_zero_pad2d_backward(const float *dy /* (B, H+t+b, W+l+r, C) */, float *dx /* (B, H, W, C) */, int B, int H,
                              int W, int C, const int pad[4]);

/* ------------------------------------------------------------- UpSampling2D */

/* Rows times fh, columns times fw: "nearest" repeats each value (output
 * (i, j) is input (i / fh, j / fw)); bilinear interpolates with half-pixel
 * centres, source (i + 0.5) / fh - 0.5 clamped at 0, as tf.image.resize and
 * PyTorch's interpolate(align_corners=False).  Backward overwrites dx with
 * the adjoint (each dy spread over the inputs it read, by the same weights). */
void kern_upsample2d_forward(const float *x /* (B, H, W, C) */, float *y /* (B, H*fh, W*fw, C) */, int B, int H, int W,
                             int C, int fh, int fw, int bilinear);
void kern_upsample2d_backward(const float *dy /* (B, H*fh, W*fw, C) */, float *dx /* (B, H, W, C) */, int B, int H,
                              int W, int C, int fh, int fw, int bilinear);

#endif
