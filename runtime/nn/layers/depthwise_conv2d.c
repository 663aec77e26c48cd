/* depthwise_conv2d.c: DepthwiseConv2D and SeparableConv2D over (B, H, W, C)
 * images.
 *
 * DepthwiseConv2D convolves each channel on its own into depth_multiplier
 * outputs, channel c's m-th at c * depth_multiplier + m: a grouped
 * convolution with C groups.  Weights: depthwise_kernel (kh, kw, C,
 * depth_multiplier), then bias (C * depth_multiplier; 0 without use_bias).
 *
 * SeparableConv2D is that depthwise step (no bias, no activation) into a
 * buffer of the layer's own, then a pointwise 1x1 convolution to `filters`
 * channels with the bias and the activation.  Weights, in Keras's order:
 * depthwise_kernel (kh, kw, C, depth_multiplier), pointwise_kernel (1, 1,
 * C * depth_multiplier, filters), bias (filters).  Its scratch is the
 * depthwise output and, in backward, its gradient.
 *
 * Both run on oneDNN (conv_step.h: grouped convolution, bf16 under
 * mixed_bfloat16 by Conv2D's rule) with direct C kernels as the fallback.
 * No JIT code: the same kernels under both backends. */
#include "runtime/nn/layers/conv_step.h"
#include "runtime/nn/onnx.h"
#include "runtime/rng.h"

#include <stdlib.h>
#include <string.h>

typedef struct separable {
    conv_step depthwise, pointwise;
    int multiplier;
    const char *pointwise_initializer;
} separable;

static const char *initializer_of(hpt_value how) { return how.type == V_STRING ? how.u.s : "glorot_uniform"; }

/* DepthwiseConv2D and SeparableConv2D share kernel_size, strides and padding's meaning, not their positions. */
static int plan_window(trial_layer *L, hpt_value kernel_size, hpt_value strides, hpt_value padding, int multiplier,
                       char *why, size_t n)
{
    separable *s = calloc(1, sizeof *s);
    if (!s) return snprintf(why, n, "out of memory"), -1;
    L->kernel_state = s;
    int C = L->in_rank == 3 ? L->in[2] : 1;
    s->depthwise = (conv_step){ .groups = C, .dil_h = 1, .dil_w = 1 };
    s->pointwise = (conv_step){ .groups = 1, .dil_h = 1, .dil_w = 1 };
    s->multiplier = multiplier;
    st_pair(kernel_size, &L->kh, &L->kw);
    st_pair(strides, &L->sh, &L->sw);
    L->same = !strcmp(padding.u.s, "same");
    return 0;
}

static int channels(const trial_layer *L) { return L->in_rank == 3 ? L->in[2] : 1; }

static void depthwise_geom(const trial_layer *L, int B, kern_geom *g)
{
    const separable *s = L->kernel_state;
    int C = channels(L);
    kern_conv_geom(g, B, L->in[0], L->in[1], C, C * s->multiplier, L->kh, L->kw, L->sh, L->sw, L->same);
}

static void release(trial_layer *L)
{
    separable *s = L->kernel_state;
    conv_step_free(&s->depthwise);
    conv_step_free(&s->pointwise);
    free(s);
    L->kernel_state = NULL;
}

/* ------------------------------------------------------------ DepthwiseConv2D */

static int dw_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    if (plan_window(L, args[DepthwiseConv2D_kernel_size], args[DepthwiseConv2D_strides], args[DepthwiseConv2D_padding],
                    (int)value_as_double(args[DepthwiseConv2D_depth_multiplier]), why, n))
        return -1;
    L->act = layer_act_of(args[DepthwiseConv2D_activation]);
    L->initializer = initializer_of(args[DepthwiseConv2D_depthwise_initializer]);
    return 0;
}

static void dw_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

/* Keras's fans of a (kh, kw, C, multiplier) kernel: kh*kw*C in, kh*kw*multiplier out. */
static void dw_init(trial_layer *L, uint64_t key)
{
    const separable *s = L->kernel_state;
    layer_init_kernel(L->weight[0], L->size[0], L->kh * L->kw * channels(L), L->kh * L->kw * s->multiplier,
                      L->initializer, key);
}

static void dw_forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    depthwise_geom(L, r->B, &g);
    L->out = L->y;
    conv_step_forward(&((separable *)L->kernel_state)->depthwise, r, &g, x, L->weight[0],
                      L->size[1] ? L->weight[1] : NULL, L->y, L->z, L->act, L->index);
}

static int dw_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    depthwise_geom(L, r->B, &g);
    conv_step_backward(&((separable *)L->kernel_state)->depthwise, r, &g, x, L->weight[0], L->out, L->z, dy, dx,
                       L->grad[0], L->size[1] ? L->grad[1] : NULL, r->skip_act ? KERN_LINEAR : L->act);
    return 1;
}

/* ONNX: a grouped Conv, one group per channel; the kernel (kh, kw, C, M) is
 * (kh, kw, 1, C * M) read as one, output channel c * M + m. */
static int dw_onnx(const trial_layer *L, onnx_graph *g)
{
    kern_geom geo;
    depthwise_geom(L, 1, &geo);
    const char *y = onnx_conv(g, L, onnx_input(g, L, 0, ONNX_CF, 1), &geo, 2, 1, 1, channels(L), L->weight[0], 1,
                              geo.F, L->size[1] ? L->weight[1] : NULL);
    onnx_output(g, L, onnx_activation(g, L, L->act, y, 1), ONNX_CF);
    return 0;
}

const layer_ops layer_depthwise_conv2d = { .flags = LAYER_BLAS, .plan = dw_plan, .sizes = dw_sizes, .init = dw_init,
                                           .forward = dw_forward, .backward = dw_backward, .release = release,
                                           .onnx = dw_onnx };

/* ------------------------------------------------------------ SeparableConv2D */

static int sep_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    if (plan_window(L, args[SeparableConv2D_kernel_size], args[SeparableConv2D_strides], args[SeparableConv2D_padding],
                    (int)value_as_double(args[SeparableConv2D_depth_multiplier]), why, n))
        return -1;
    separable *s = L->kernel_state;
    L->act = layer_act_of(args[SeparableConv2D_activation]);
    L->initializer = initializer_of(args[SeparableConv2D_depthwise_initializer]);
    s->pointwise_initializer = initializer_of(args[SeparableConv2D_pointwise_initializer]);
    return 0;
}

/* The depthwise output (per sample) the pointwise step reads. */
static size_t mid_size(const trial_layer *L)
{
    const separable *s = L->kernel_state;
    return (size_t)L->outs[0] * L->outs[1] * channels(L) * s->multiplier;
}

static void sep_sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    s->y = B * L->out_size;
    s->scratch = 2 * B * mid_size(L);     /* the depthwise output, then its gradient */
}

static void sep_init(trial_layer *L, uint64_t key)
{
    const separable *s = L->kernel_state;
    int mid = channels(L) * s->multiplier;
    layer_init_kernel(L->weight[0], L->size[0], L->kh * L->kw * channels(L), L->kh * L->kw * s->multiplier,
                      L->initializer, rng_key(key, 0));
    layer_init_kernel(L->weight[1], L->size[1], mid, L->outs[2], s->pointwise_initializer, rng_key(key, 1));
}

static void pointwise_geom(const trial_layer *L, int B, kern_geom *g)
{
    const separable *s = L->kernel_state;
    kern_conv_geom(g, B, L->outs[0], L->outs[1], channels(L) * s->multiplier, L->outs[2], 1, 1, 1, 1, 0);
}

static void sep_forward(trial_layer *L, const layer_run *r, const float *x)
{
    separable *s = L->kernel_state;
    kern_geom dg, pg;
    depthwise_geom(L, r->B, &dg);
    pointwise_geom(L, r->B, &pg);
    L->out = L->y;
    float *mid = L->scratch;
    conv_step_forward(&s->depthwise, r, &dg, x, L->weight[0], NULL, mid, NULL, KERN_LINEAR, L->index);
    conv_step_forward(&s->pointwise, r, &pg, mid, L->weight[1], L->size[2] ? L->weight[2] : NULL, L->y, L->z, L->act,
                      L->index);
}

static int sep_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    separable *s = L->kernel_state;
    kern_geom dg, pg;
    depthwise_geom(L, r->B, &dg);
    pointwise_geom(L, r->B, &pg);
    float *mid = L->scratch, *dmid = L->scratch + (size_t)r->B * mid_size(L);
    /* The depthwise kernel's gradient needs the pointwise step's input gradient, whether or not dx is wanted. */
    conv_step_backward(&s->pointwise, r, &pg, mid, L->weight[1], L->out, L->z, dy, dmid, L->grad[1],
                       L->size[2] ? L->grad[2] : NULL, r->skip_act ? KERN_LINEAR : L->act);
    conv_step_backward(&s->depthwise, r, &dg, x, L->weight[0], mid, NULL, dmid, dx, L->grad[0], NULL, KERN_LINEAR);
    return 1;
}

/* ONNX: the depthwise Conv (no bias), then the pointwise 1x1 Conv with the bias and activation. */
static int sep_onnx(const trial_layer *L, onnx_graph *g)
{
    kern_geom dg, pg;
    depthwise_geom(L, 1, &dg);
    pointwise_geom(L, 1, &pg);
    const char *mid = onnx_conv(g, L, onnx_input(g, L, 0, ONNX_CF, 1), &dg, 2, 1, 1, channels(L), L->weight[0], 1,
                                dg.F, NULL);
    const char *y = onnx_conv(g, L, mid, &pg, 2, 1, 1, 1, L->weight[1], pg.C, pg.F, L->size[2] ? L->weight[2] : NULL);
    onnx_output(g, L, onnx_activation(g, L, L->act, y, 1), ONNX_CF);
    return 0;
}

const layer_ops layer_separable_conv2d = { .flags = LAYER_BLAS, .plan = sep_plan, .sizes = sep_sizes, .init = sep_init,
                                           .forward = sep_forward, .backward = sep_backward, .release = release,
                                           .onnx = sep_onnx };
