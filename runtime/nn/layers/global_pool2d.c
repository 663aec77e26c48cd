/* global_pool2d.c: the global poolings.  GlobalAveragePooling2D and
 * GlobalMaxPooling2D take the mean or the maximum over height and width of
 * each channel: (B, H, W, C) to (B, C), or (B, 1, 1, C) with keepdims (the
 * same values); GlobalAveragePooling1D and GlobalMaxPooling1D the same over
 * the steps of (B, steps, C), to (B, C) or (B, 1, C).  Each is a pooling
 * with one window the size of the image (a sequence being an image of
 * height 1), so it runs the pooling kernels of kernels.c on that geometry;
 * max pooling keeps each output's winner (argmax) for backward.  No
 * weights; no JIT code. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

extern const layer_ops layer_global_avgpool1d, layer_global_maxpool1d;

static int is_1d(const trial_layer *L) { return L->ops == &layer_global_avgpool1d || L->ops == &layer_global_maxpool1d; }

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->kh = L->sh = is_1d(L) ? 1 : L->in[0];
    L->kw = L->sw = is_1d(L) ? L->in[0] : L->in[1];
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    if (is_1d(L)) kern_pool_geom(g, B, 1, L->in[0], L->in[1], 1, L->kw, 1, L->sw, 0);
    else kern_pool_geom(g, B, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->kh, L->kw, L->sh, L->sw, 0);
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    kern_avgpool2d_forward(&g, x, L->y);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    if (dx) kern_avgpool2d_backward(&g, dy, dx);
    return 1;
}

static void max_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = s->ints = B * L->out_size; }

static void max_forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    kern_maxpool2d_forward(&g, x, L->y, L->argmax);
}

static int max_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    if (dx) kern_maxpool2d_backward(&g, dy, dx, L->argmax);
    return 1;
}

/* ONNX: ReduceMean or ReduceMax over the spatial axes of channels-first values. */
static int reduce_onnx(const trial_layer *L, onnx_graph *g, const char *op)
{
    int64_t axes[2] = { 2, 3 };
    onnx_attrs a = { 0 };
    const char *x = onnx_input(g, L, 0, ONNX_CF, !is_1d(L));
    onnx_attr_ints(&a, "axes", is_1d(L) ? 1 : 2, axes);
    onnx_attr_int(&a, "keepdims", L->out_rank > 1);
    onnx_output(g, L, onnx_node(g, L, op, &a, 1, &x, 1, NULL), ONNX_CF);
    return 0;
}

static int mean_onnx(const trial_layer *L, onnx_graph *g) { return reduce_onnx(L, g, "ReduceMean"); }
static int max_onnx(const trial_layer *L, onnx_graph *g) { return reduce_onnx(L, g, "ReduceMax"); }

const layer_ops layer_global_avgpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .forward = forward,
                                           .backward = backward, .onnx = mean_onnx };
const layer_ops layer_global_avgpool1d = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .forward = forward,
                                           .backward = backward, .onnx = mean_onnx };
const layer_ops layer_global_maxpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = max_sizes,
                                           .forward = max_forward, .backward = max_backward, .onnx = max_onnx };
const layer_ops layer_global_maxpool1d = { .flags = LAYER_BLAS, .plan = plan, .sizes = max_sizes,
                                           .forward = max_forward, .backward = max_backward, .onnx = max_onnx };
