/* conv_step.c: a layer's convolution on oneDNN with a direct-kernel
 * fallback (see conv_step.h).
 *
 * Precision under mixed_bfloat16.  A dense convolution follows Conv2D's
 * rule (conv2d.c): with fewer than 32 products per output (kh * kw * C) it
 * stays f32, being memory-bound.  A depthwise one (one input channel per
 * group) vectorises over the channels instead, so it goes by their count:
 * measured with oneDNN 2.6 (batch 32, 3x3, one thread, best of 40 on a
 * loaded machine), bf16 against f32 is even up to 16 channels at 28x28
 * (forward 0.12-0.16 vs 0.15-0.17 ms, backward 0.31-0.43 vs 0.31-0.38) and
 * ahead from 32 (28x28x32: forward 0.30 vs 0.33 ms, backward 0.58 vs 0.74;
 * 14x14x64: 0.12 vs 0.14, 0.25 vs 0.27), so it is bf16 from 32 channels. */
#include "runtime/nn/layers/conv_step.h"

#include <stdio.h>

#include "runtime/nn/kernels_spatial.h"

enum { BF16_MIN_PRODUCTS = 32, BF16_MIN_CHANNELS = 32 };

int conv_step_geom(kern_geom *g, int B, int H, int W, int C, int F, int kh, int kw, int sh, int sw, int dil_h,
                   int dil_w, int same)
{
    if (kern_conv_geom(g, B, H, W, C, F, (kh - 1) * dil_h + 1, (kw - 1) * dil_w + 1, sh, sw, same)) return -1;
    g->kh = kh, g->kw = kw;
    return 0;
}

/* The oneDNN state for this run's precision and activation, NULL when
 * oneDNN gives none (the first refusal is said once). */
static onednn_conv *state_of(conv_step *s, const layer_run *r, const kern_geom *g, kern_act act, int keep_z,
                             int has_bias, int index)
{
    if (s->refused) return NULL;
    int depthwise = s->groups > 1 && s->groups == g->C;
    int bf16 = r->bf16 && (depthwise ? g->C >= BF16_MIN_CHANNELS : g->kh * g->kw * g->C / s->groups >= BF16_MIN_PRODUCTS);
    if (s->dnn && onednn_conv_fits(s->dnn, act, keep_z, bf16)) return s->dnn;
    onednn_conv_free(s->dnn);
    hpt_error e;
    s->dnn = onednn_conv_new_grouped(g, s->groups, s->dil_h, s->dil_w, act, has_bias, keep_z, bf16, &e);
    if (!s->dnn) {
        fprintf(stderr, "hptc: warning: %s: layer %d's convolution runs on the C kernels from now on\n", e.message, index);
        s->refused = 1;
    }
    return s->dnn;
}

void conv_step_forward(conv_step *s, const layer_run *r, const kern_geom *g, const float *x, const float *w,
                       const float *b, float *y, float *z, kern_act act, int index)
{
    onednn_conv *c = state_of(s, r, g, act, z != NULL, b != NULL, index);
    hpt_error e;
    s->on_dnn = c && onednn_conv_forward(c, g, x, w, r->weights_version, b, y, z, &e) == 0;
    if (s->on_dnn) return;
    if (c) {
        fprintf(stderr, "hptc: warning: %s: layer %d's convolution runs on the C kernels from now on\n", e.message, index);
        onednn_conv_free(s->dnn);
        s->dnn = NULL, s->refused = 1;
    }
    kern_gconv_forward(g, s->groups, s->dil_h, s->dil_w, x, w, b, y, z, act);
}

void conv_step_backward(conv_step *s, const layer_run *r, const kern_geom *g, const float *x, const float *w,
                        const float *y, const float *z, float *dy, float *dx, float *dw, float *db, kern_act act)
{
    hpt_error e;
    if (s->on_dnn && s->dnn &&
        onednn_conv_backward(s->dnn, g, x, w, r->weights_version, y, z, dy, dx, dw, db, act, &e) == 0)
        return;
    kern_gconv_backward(g, s->groups, s->dil_h, s->dil_w, x, w, y, z, dy, dx, dw, db, act);
}

void conv_step_free(conv_step *s)
{
    onednn_conv_free(s->dnn);
    s->dnn = NULL;
}
