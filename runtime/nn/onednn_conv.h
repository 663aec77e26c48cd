/* onednn_conv.h: Conv2D's forward and backward on oneDNN's convolution
 * primitives, in f32 or in mixed_bfloat16, behind the same contract as
 * kern_conv2d_forward/backward (kernels.h): Keras layouts (x and y NHWC,
 * kernel (kh, kw, C, F)), backward accumulating into dw and db and
 * overwriting dx.
 *
 * A state belongs to one layer: one geometry (B apart), one activation, one
 * precision.  It keeps the kernel packed in the layout oneDNN's kernels read
 * (and in bf16, converted), repacked from the f32 master only when the
 * caller's weights version changes; and the primitives of the last two
 * batch sizes seen.  In bf16 the GEMM operands (x, the kernel, dz) are
 * bf16; y, dx, dw, db and every sum are f32. */
#ifndef HPTC_ONEDNN_CONV_H
#define HPTC_ONEDNN_CONV_H
#include "runtime/err.h"
#include "runtime/nn/kernels.h"

typedef struct onednn_conv onednn_conv;

/* A state for convolutions of g's geometry (g->B is ignored) with act,
 * bias or not, the pre-activation z kept by the caller or not, in bf16 or
 * f32.  Primitives are made on first use.  NULL with e filled when out of
 * memory or oneDNN has no engine. */
onednn_conv *onednn_conv_new(const kern_geom *g, kern_act act, int has_bias, int keep_z, int bf16, hpt_error *e);
/* The same for a grouped and dilated convolution (DepthwiseConv2D,
 * SeparableConv2D's depthwise step, Conv1D's dilation_rate): `groups`
 * divides C and F, each group's F/groups outputs reading its C/groups
 * inputs, the kernel in Keras's grouped layout (kh, kw, C/groups, F) (hwigo:
 * a depthwise kernel (kh, kw, C, multiplier) is it with groups = C); taps
 * dh, dw apart (1: dense).  g->kh, kw are the taps; g's output size and
 * pad_top, pad_left are the caller's, for the dilated window's extent
 * (k - 1) * d + 1.  onednn_conv_new is this with 1, 1, 1. */
onednn_conv *onednn_conv_new_grouped(const kern_geom *g, int groups, int dh, int dw, kern_act act, int has_bias,
                                     int keep_z, int bf16, hpt_error *e);
void onednn_conv_free(onednn_conv *c);
/* 1 when c was made for these settings (a layer whose policy changed makes a new one). */
int onednn_conv_fits(const onednn_conv *c, kern_act act, int keep_z, int bf16);

/* y = act(conv(x, w) + b) as kern_conv2d_forward, z kept when non-NULL.
 * w_version: the caller's weights version; w is repacked when it differs
 * from the one last packed (or w moved).  0, or -1 with e filled when
 * oneDNN cannot run these shapes (nothing written: fall back to im2col).
 * A state that failed once fails every later call at once. */
int onednn_conv_forward(onednn_conv *c, const kern_geom *g, const float *x /* (B, H, W, C) */,
                        const float *w /* (kh, kw, C, F) */, unsigned long w_version,
                        const float *b /* (F) or NULL */, float *y /* (B, OH, OW, F) */,
                        float *z /* (B, OH, OW, F) or NULL */, hpt_error *e);

/* As kern_conv2d_backward: dy becomes dz in place (act as given: LINEAR
 * when the caller made dz itself), db += Σ dz (db NULL: skipped),
 * dw += conv_w'(x, dz), dx = conv_x'(dz, w) (dx NULL: skipped).  x is the
 * last forward's input.  0, or -1 with e filled before anything was
 * written when oneDNN cannot run these shapes (a primitive that was made
 * but then fails to run would leave dz in dy: oneDNN's CPU primitives do
 * not fail to run with a user scratchpad). */
int onednn_conv_backward(onednn_conv *c, const kern_geom *g, const float *x /* (B, H, W, C) */,
                         const float *w /* (kh, kw, C, F) */, unsigned long w_version,
                         const float *y /* (B, OH, OW, F) */, const float *z /* or NULL */,
                         float *dy /* (B, OH, OW, F), becomes dz */, float *dx /* (B, H, W, C) or NULL */,
                         float *dw /* (kh, kw, C, F) += */, float *db /* (F) += or NULL */,
                         kern_act act, hpt_error *e);

/* The implementation oneDNN chose for the batch size's forward, backward
 * data and backward weights ("brg_conv_fwd:avx512_core" ...), for
 * benchmarks and notes; "" for one not made yet. */
void onednn_conv_describe(const onednn_conv *c, int B, char *buf, size_t n);

#endif
