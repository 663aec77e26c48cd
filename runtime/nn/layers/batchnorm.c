/* batchnorm.c: BatchNormalization over the last axis (C channels; the other
 * axes and the batch are N rows).  Weights: gamma, beta (trained), moving
 * mean, moving variance (statistics, updated by training forwards with
 * momentum, used at inference).  The scratch keeps the batch's mean and
 * inverse deviation from forward to backward.  The JIT backend compiles the
 * training-mode reductions both ways; inference runs the C kernel. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->momentum = (float)value_as_double(args[BatchNormalization_momentum]);
    L->epsilon = (float)value_as_double(args[BatchNormalization_epsilon]);
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    s->y = B * L->out_size;
    s->scratch = kern_batchnorm_scratch_floats((int)L->size[0]);
}

/* Keras: gamma 1, beta 0, moving mean 0, moving variance 1. */
static void init(trial_layer *L, uint64_t key)
{
    kern_ones(L->weight[0], L->size[0]);
    kern_ones(L->weight[3], L->size[3]);
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    int C = (int)L->size[0];
    size_t N = (size_t)r->B * (L->out_size / (size_t)C);
    float **w = L->weight;
    L->out = L->y;
    if (r->training && r->jit)
        jit_batchnorm_forward_train(r->jit, L->index, x, L->y, w[0], w[1], w[2], w[3], N, L->momentum, L->epsilon,
                                    L->scratch);
    else if (r->training)
        kern_batchnorm_forward_train(x, L->y, w[0], w[1], w[2], w[3], N, C, L->momentum, L->epsilon, L->scratch);
    else
        kern_batchnorm_forward_infer(x, L->y, w[0], w[1], w[2], w[3], N, C, L->epsilon);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    int C = (int)L->size[0];
    size_t N = (size_t)r->B * (L->out_size / (size_t)C);
    if (r->jit)
        jit_batchnorm_backward(r->jit, L->index, x, dy, dx, L->weight[0], L->grad[0], L->grad[1], N, L->scratch);
    else
        kern_batchnorm_backward(x, dy, dx, L->weight[0], L->grad[0], L->grad[1], N, C, L->scratch);
    return 1;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J)
{
    J->kind = JIT_BATCHNORM;
    J->cols = (int)L->size[0];
}

/* ONNX: BatchNormalization with the moving statistics, over channels first. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int64_t C = (int64_t)L->size[0];
    onnx_attrs a = { 0 };
    const char *in[5] = { onnx_input(g, L, 0, ONNX_CF, 0) };
    for (int k = 0; k < 4; k++) in[k + 1] = onnx_floats(g, L, k < 2 ? (k ? "beta" : "gamma") : (k == 2 ? "mean" : "variance"), L->weight[k], 1, &C);
    onnx_attr_float(&a, "epsilon", L->epsilon);
    onnx_output(g, L, onnx_node(g, L, "BatchNormalization", &a, 5, in, 1, NULL), ONNX_CF);
    return 0;
}

const layer_ops layer_batchnorm = { .flags = LAYER_BLAS | LAYER_JIT, .plan = plan, .sizes = sizes, .init = init,
                                    .forward = forward, .backward = backward, .jit = jit, .onnx = onnx };
