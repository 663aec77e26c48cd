/* dropout.c: Dropout, inverted scaling: while training each value is kept
 * with probability 1 - rate and scaled by 1 / (1 - rate); at inference the
 * layer is a view of its input.  The mask is drawn from (seed, step, layer),
 * never stored.  On the JIT backend the layer before writes this output in
 * its epilogue (drop_fused) and applies the mask in its backward chain. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->rate = (float)value_as_double(args[Dropout_rate]);
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    L->out = L->y;
    if (r->training && L->rate > 0 && L->drop_fused) return;
    if (r->training && L->rate > 0)
        kern_dropout_forward(x, L->y, (size_t)r->B * L->out_size, L->rate, layer_dropout_key(r, L->index));
    else
        L->out = (float *)x;
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    if (L->rate > 0 && !L->drop_fused)
        kern_dropout_backward(dy, dy, (size_t)r->B * L->out_size, L->rate, layer_dropout_key(r, L->index));
    return 0;
}


const layer_ops layer_dropout = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .forward = forward,
                                  .backward = backward, .onnx = onnx_identity };
