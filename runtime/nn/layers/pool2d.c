/* pool2d.c: MaxPooling2D and AveragePooling2D over (B, H, W, C) windows,
 * and MaxPooling1D over (B, steps, C) ones, pooled as images of height 1.
 * They share their arguments' positions (the catalogue's POOL_ARGS) and
 * their plan.  They run on oneDNN's pooling (runtime/nn/onednn_pool.h),
 * 3-4x the C kernels at the CNN example's shapes; the C kernels (max
 * pooling keeping each output's winning input, argmax, for backward) are
 * the fallback.  No weights; no JIT code (the same kernels on both backends). */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/nn/onednn_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const layer_ops layer_maxpool1d;

typedef struct pool_state {
    onednn_pool *pool;
    int failed;                 /* oneDNN refused once: the C kernels from then on */
    int on_onednn;              /* the last training forward ran on oneDNN */
} pool_state;

static void release(trial_layer *L)
{
    pool_state *s = L->kernel_state;
    onednn_pool_free(s->pool);
    free(s);
    L->kernel_state = NULL;
}

/* Forward on oneDNN; 0 when it could not (the caller runs the C kernel). */
static int pool_forward(trial_layer *L, int max, const kern_geom *g, const float *x, int training)
{
    pool_state *s = L->kernel_state;
    if (!s && !(s = L->kernel_state = calloc(1, sizeof *s))) return 0;
    hpt_error e;
    if (!s->failed && !s->pool && !(s->pool = onednn_pool_new(max, &e))) s->failed = 1;
    int ok = !s->failed && onednn_pool_forward(s->pool, g, x, L->y, training, &e) == 0;
    if (!ok && !s->failed) {
        fprintf(stderr, "hptc: warning: %s: pooling layer %d runs on the C kernels from now on\n", e.message, L->index);
        s->failed = 1;
    }
    if (training) s->on_onednn = ok;
    return ok;
}

static int pool_backward(trial_layer *L, const kern_geom *g, const float *dy, float *dx)
{
    pool_state *s = L->kernel_state;
    hpt_error e;
    return s && s->on_onednn && onednn_pool_backward(s->pool, g, dy, dx, &e) == 0;
}

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    st_pair(args[MaxPooling2D_pool_size], &L->kh, &L->kw);
    if (args[MaxPooling2D_strides].type == V_NONE) L->sh = L->kh, L->sw = L->kw;
    else st_pair(args[MaxPooling2D_strides], &L->sh, &L->sw);
    L->same = !strcmp(args[MaxPooling2D_padding].u.s, "same");
    return 0;
}

/* MaxPooling1D: kh = sh = 1, the window and stride along the steps in kw, sw. */
static int plan1d(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->kh = L->sh = 1;
    L->kw = (int)value_as_double(args[MaxPooling1D_pool_size]);
    L->sw = args[MaxPooling1D_strides].type == V_NONE ? L->kw : (int)value_as_double(args[MaxPooling1D_strides]);
    L->same = !strcmp(args[MaxPooling1D_padding].u.s, "same");
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    if (L->ops == &layer_maxpool1d) {
        kern_pool_geom(g, B, 1, L->in[0], L->in[1], 1, L->kw, 1, L->sw, L->same);
        return;
    }
    kern_pool_geom(g, B, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->kh, L->kw, L->sh, L->sw, L->same);
}

static void max_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = s->ints = B * L->out_size; }

static void max_forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    if (!pool_forward(L, 1, &g, x, r->training)) kern_maxpool2d_forward(&g, x, L->y, L->argmax);
}

static int max_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    if (dx && !pool_backward(L, &g, dy, dx)) kern_maxpool2d_backward(&g, dy, dx, L->argmax);
    return 1;
}

static void avg_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void avg_forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    if (!pool_forward(L, 0, &g, x, r->training)) kern_avgpool2d_forward(&g, x, L->y);
}

static int avg_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    if (dx && !pool_backward(L, &g, dy, dx)) kern_avgpool2d_backward(&g, dy, dx);
    return 1;
}

/* ONNX: MaxPool or AveragePool (padding not counted, as TF) over channels first. */
static int pool_onnx(const trial_layer *L, onnx_graph *g, const char *op)
{
    kern_geom geo;
    geom(L, 1, &geo);
    int one_d = L->ops == &layer_maxpool1d;
    int64_t pads[4], k[2] = { geo.kh, geo.kw }, s[2] = { geo.sh, geo.sw };
    onnx_pads(&geo, 1, 1, pads);
    onnx_attrs a = { 0 };
    if (one_d) {
        int64_t p1[2] = { pads[1], pads[3] };
        onnx_attr_ints(&a, "kernel_shape", 1, k + 1);
        onnx_attr_ints(&a, "strides", 1, s + 1);
        onnx_attr_ints(&a, "pads", 2, p1);
    } else {
        onnx_attr_ints(&a, "kernel_shape", 2, k);
        onnx_attr_ints(&a, "strides", 2, s);
        onnx_attr_ints(&a, "pads", 4, pads);
    }
    const char *x = onnx_input(g, L, 0, ONNX_CF, !one_d);
    onnx_output(g, L, onnx_node(g, L, op, &a, 1, &x, 1, NULL), ONNX_CF);
    return 0;
}

static int max_onnx(const trial_layer *L, onnx_graph *g) { return pool_onnx(L, g, "MaxPool"); }
static int avg_onnx(const trial_layer *L, onnx_graph *g) { return pool_onnx(L, g, "AveragePool"); }

const layer_ops layer_maxpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = max_sizes, .forward = max_forward,
                                    .backward = max_backward, .release = release, .onnx = max_onnx };
const layer_ops layer_avgpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = avg_sizes, .forward = avg_forward,
                                    .backward = avg_backward, .release = release, .onnx = avg_onnx };
const layer_ops layer_maxpool1d = { .flags = LAYER_BLAS, .plan = plan1d, .sizes = max_sizes, .forward = max_forward,
                                    .backward = max_backward, .release = release, .onnx = max_onnx };
