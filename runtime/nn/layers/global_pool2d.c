/* global_pool2d.c: GlobalAveragePooling2D, the mean over height and width of
 * each channel: (B, H, W, C) to (B, C), or (B, 1, 1, C) with keepdims (the
 * same values).  It is average pooling with one window the size of the
 * image, so it runs the AveragePooling2D kernels on that geometry.  No
 * weights; no JIT code. */
#include "runtime/nn/layers/layers.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->kh = L->sh = L->in[0];
    L->kw = L->sw = L->in[1];
    L->flops = (double)L->in_size;
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    kern_pool_geom(g, B, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->kh, L->kw, L->sh, L->sw, 0);
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

const layer_ops layer_global_avgpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .forward = forward,
                                           .backward = backward };
