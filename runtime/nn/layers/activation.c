/* activation.c: Activation, y = act(x) (softmax over the last axis, the
 * others elementwise), in place in backward.  On the JIT backend its
 * forward and backward are the compiled epilogue, a following Dropout fused. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->act = layer_act_of(args[Activation_activation]);
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

/* Softmax normalises the last axis; the other activations are elementwise. */
static int act_cols(const trial_layer *L) { return L->act == KERN_SOFTMAX ? L->outs[L->out_rank - 1] : (int)L->out_size; }

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    L->out = L->y;
    if (r->jit) {
        int drop = r->training && L->next && L->next->drop_fused;
        jit_forward(r->jit, L->index, x, L->y, NULL, NULL, (size_t)r->B * (L->out_size / (size_t)L->outs[L->out_rank - 1]),
                    drop ? L->next->y : NULL, drop ? L->next->rate : 0, layer_dropout_key(r, L->index + 1));
        return;
    }
    int cols = act_cols(L);
    kern_act_forward(x, L->y, (size_t)r->B * (L->out_size / (size_t)cols), cols, L->act);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    if (r->jit) {
        int drop = L->next && L->next->drop_fused;
        jit_backward(r->jit, L->index, L->out, x, dy, NULL, (size_t)r->B * (L->out_size / (size_t)L->outs[L->out_rank - 1]),
                     drop ? L->next->rate : 0, layer_dropout_key(r, L->index + 1));
        return 0;
    }
    int cols = act_cols(L);
    kern_act_backward(x, L->out, dy, dy, (size_t)r->B * (L->out_size / (size_t)cols), cols,
                      r->skip_act ? KERN_LINEAR : L->act);
    return 0;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J) { layer_jit_elementwise(L, last_fused, 1, J); }

/* ONNX: the activation on whichever layout the input has (softmax over channels). */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int layout = onnx_has(g, L, 0, ONNX_HPTC) ? ONNX_HPTC : ONNX_CF;
    int axis = layout == ONNX_CF && L->out_rank > 1 ? 1 : -1;
    onnx_output(g, L, onnx_activation(g, L, L->act, onnx_input(g, L, 0, layout, 0), axis), layout);
    return 0;
}

const layer_ops layer_activation = { .flags = LAYER_BLAS | LAYER_JIT | LAYER_ACT_OF_INPUT, .plan = plan, .sizes = sizes, .forward = forward,
                                     .backward = backward, .jit = jit, .onnx = onnx };
