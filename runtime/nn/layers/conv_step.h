/* conv_step.h: one convolution of a layer (Conv1D's, DepthwiseConv2D's,
 * each of SeparableConv2D's two), grouped and dilated, on oneDNN's
 * primitives (onednn_conv_new_grouped) in f32 or mixed_bfloat16, falling
 * back to the direct kernels of kernels_spatial.h when oneDNN refuses.
 * Kernels are in Keras's layout (kh, kw, C/groups, F); activations NHWC
 * (a sequence is an image of height 1). */
#ifndef HPTC_CONV_STEP_H
#define HPTC_CONV_STEP_H
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onednn_conv.h"

typedef struct conv_step {
    int groups, dil_h, dil_w;   /* 1, 1, 1: a plain convolution */
    onednn_conv *dnn;           /* made on first use, for the run's precision */
    int refused;                /* oneDNN refused once: the direct kernels from then on */
    int on_dnn;                 /* the last forward ran on oneDNN */
} conv_step;

/* y = act(conv(x, w) + b), z (pre-activation) kept when non-NULL.  index
 * names the layer in the warning printed when oneDNN refuses. */
void conv_step_forward(conv_step *s, const layer_run *r, const kern_geom *g, const float *x, const float *w,
                       const float *b, float *y, float *z, kern_act act, int index);
/* As kern_gconv_backward: dy becomes dz (act: LINEAR when the caller made
 * dz), db += (NULL: skipped), dw +=, dx = (NULL: skipped); on oneDNN when
 * the last forward ran there. */
void conv_step_backward(conv_step *s, const layer_run *r, const kern_geom *g, const float *x, const float *w,
                        const float *y, const float *z, float *dy, float *dx, float *dw, float *db, kern_act act);
void conv_step_free(conv_step *s);

/* The geometry of a convolution with dilated taps: g as kern_conv_geom for
 * the window's extent (k - 1) * d + 1, then the taps put back in kh, kw. */
int conv_step_geom(kern_geom *g, int B, int H, int W, int C, int F, int kh, int kw, int sh, int sw, int dil_h,
                   int dil_w, int same);

#endif
