/* pool2d.c: MaxPooling2D and AveragePooling2D over (B, H, W, C) windows.
 * They share their arguments' positions (the catalogue's POOL_ARGS) and
 * their plan; max pooling keeps each output's winning input (argmax) for
 * backward.  No weights; no JIT code (C kernels on both backends). */
#include "runtime/nn/layers/layers.h"

#include <string.h>

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    st_pair(args[MaxPooling2D_pool_size], &L->kh, &L->kw);
    if (args[MaxPooling2D_strides].type == V_NONE) L->sh = L->kh, L->sw = L->kw;
    else st_pair(args[MaxPooling2D_strides], &L->sh, &L->sw);
    L->same = !strcmp(args[MaxPooling2D_padding].u.s, "same");
    L->flops = (double)L->out_size * L->kh * L->kw;
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    kern_pool_geom(g, B, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->kh, L->kw, L->sh, L->sw, L->same);
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

static void avg_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void avg_forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    kern_avgpool2d_forward(&g, x, L->y);
}

static int avg_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    if (dx) kern_avgpool2d_backward(&g, dy, dx);
    return 1;
}

const layer_ops layer_maxpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = max_sizes, .forward = max_forward,
                                    .backward = max_backward };
const layer_ops layer_avgpool2d = { .flags = LAYER_BLAS, .plan = plan, .sizes = avg_sizes, .forward = avg_forward,
                                    .backward = avg_backward };
