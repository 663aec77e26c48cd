/* dense.c: Dense, y = act(x . kernel + bias) over a flat input (B, in).
 * Weights: kernel (in, units), then bias (units; size 0 without use_bias).
 * On the JIT backend the bias + activation epilogue (and a following
 * Dropout) is compiled for the trial; the GEMMs stay on BLAS. */
#include "runtime/nn/layers/layers.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->act = layer_act_of(args[Dense_activation]);
    hpt_value how = args[Dense_kernel_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    L->flops = 2.0 * (double)L->size[0];
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void init(trial_layer *L, uint64_t key)
{
    layer_init_kernel(L->weight[0], L->size[0], (int)L->in_size, (int)L->out_size, L->initializer, key);
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    float *bias = L->size[1] ? L->weight[1] : NULL;
    L->out = L->y;
    if (r->jit) {
        /* With a Dropout fused in, this epilogue writes its output too. */
        int drop = r->training && L->next && L->next->drop_fused;
        jit_dense_forward(r->jit, L->index, x, L->weight[0], bias, L->y, L->z, drop ? L->next->y : NULL, r->B,
                          (int)L->in_size, (int)L->out_size, drop ? L->next->rate : 0,
                          layer_dropout_key(r, L->index + 1));
        return;
    }
    kern_dense_forward(x, L->weight[0], bias, L->y, L->z, r->B, (int)L->in_size, (int)L->out_size, L->act);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    float *dbias = L->size[1] ? L->grad[1] : NULL;
    if (r->jit) {
        /* A Dropout fused into this layer: its mask is part of the JIT's backward chain. */
        int drop = L->next && L->next->drop_fused;
        jit_dense_backward(r->jit, L->index, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias, r->B,
                           (int)L->in_size, (int)L->out_size, drop ? L->next->rate : 0,
                           layer_dropout_key(r, L->index + 1));
        return 1;
    }
    kern_dense_backward(x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias, r->B, (int)L->in_size,
                        (int)L->out_size, r->skip_act ? KERN_LINEAR : L->act);
    return 1;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J) { layer_jit_elementwise(L, last_fused, 1, J); }

const layer_ops layer_dense = { .flags = LAYER_BLAS | LAYER_JIT, .plan = plan, .sizes = sizes, .init = init,
                                .forward = forward, .backward = backward, .jit = jit };
