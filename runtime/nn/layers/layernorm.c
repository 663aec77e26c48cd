/* layernorm.c: LayerNormalization over the last axis (F features; the other
 * axes and the batch are N rows), the same in training and at inference:
 * no statistics, no batch dependence.  Weights: gamma (F; size 0 with
 * scale = False) then beta (F; 0 with center = False), Keras's order.  The
 * scratch keeps each row's mean and inverse deviation for backward.  No
 * JIT code (C kernels on both backends). */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

#include <stdlib.h>

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->epsilon = (float)value_as_double(args[LayerNormalization_epsilon]);
    return 0;
}

static int features(const trial_layer *L) { return L->outs[L->out_rank - 1]; }

static void sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    s->y = B * L->out_size;
    s->scratch = 2 * B * (L->out_size / (size_t)features(L));
}

/* Keras: gamma 1, beta 0. */
static void init(trial_layer *L, uint64_t key) { kern_ones(L->weight[0], L->size[0]); }

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    size_t N = (size_t)r->B * (L->out_size / (size_t)features(L));
    L->out = L->y;
    kern_layernorm_forward(x, L->y, L->size[0] ? L->weight[0] : NULL, L->size[1] ? L->weight[1] : NULL, N,
                           features(L), L->epsilon, L->scratch);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    size_t N = (size_t)r->B * (L->out_size / (size_t)features(L));
    kern_layernorm_backward(x, dy, dx, L->size[0] ? L->weight[0] : NULL, L->size[0] ? L->grad[0] : NULL,
                            L->size[1] ? L->grad[1] : NULL, N, features(L), L->scratch);
    return 1;
}

/* ONNX: LayerNormalization (opset 17) over the last axis; no gamma is ones. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int64_t F = features(L);
    float *ones = NULL;
    const float *gamma = L->size[0] ? L->weight[0] : NULL;
    if (!gamma) {
        if (!(ones = malloc(sizeof *ones * (size_t)F))) return -1;
        for (int64_t k = 0; k < F; k++) ones[k] = 1;
        gamma = ones;
    }
    onnx_attrs a = { 0 };
    const char *in[3] = { onnx_input(g, L, 0, ONNX_HPTC, 0), onnx_floats(g, L, "gamma", gamma, 1, &F),
                          L->size[1] ? onnx_floats(g, L, "beta", L->weight[1], 1, &F) : "" };
    free(ones);
    onnx_attr_int(&a, "axis", -1);
    onnx_attr_float(&a, "epsilon", L->epsilon);
    onnx_output(g, L, onnx_node(g, L, "LayerNormalization", &a, L->size[1] ? 3 : 2, in, 1, NULL), ONNX_HPTC);
    return 0;
}

const layer_ops layer_layernorm = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .init = init,
                                    .forward = forward, .backward = backward, .onnx = onnx };
