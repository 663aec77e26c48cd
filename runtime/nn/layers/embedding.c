/* embedding.c: Embedding, a trained lookup table: each sample is (steps,)
 * integer indices, stored as floats in the input buffer as every input is,
 * and becomes (steps, output_dim), row idx of the table per step.
 * Weights: the table (input_dim, output_dim), Keras's "uniform" start,
 * U(-0.05, 0.05).
 *
 * An index is read as Keras casts it (truncated toward zero); one outside
 * [0, input_dim) looks up a zero vector and trains nothing (Keras on a CPU
 * stops with an error; a step of hptc has no way to fail, so the row is
 * inert instead).  The backward scatters dy into the table's gradient;
 * indices have no gradient, so an input gradient asked for is zero.  No
 * GEMM, no JIT code: the same C loops in every policy and backend. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/rng.h"

#include <string.h>

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static int vocabulary(const trial_layer *L) { return (int)(L->size[0] / (size_t)L->outs[1]); }

/* Keras's RandomUniform(-0.05, 0.05). */
static void init(trial_layer *L, uint64_t key)
{
    for (size_t i = 0; i < L->size[0]; i++) L->weight[0][i] = (float)((2.0 * ((rng_at(key, i) >> 11) * 0x1p-53) - 1.0) * 0.05);
}

/* The table row of index value v, or -1 when v is not a valid index. */
static long row_of(float v, int vocab) { return v >= 0.0f && v < (float)vocab ? (long)v : -1; }

/* y (B, steps, dim) = table[x] with x (B, steps). */
static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    int dim = L->outs[1], vocab = vocabulary(L);
    size_t n = (size_t)r->B * (size_t)L->in_size;
    L->out = L->y;
    for (size_t i = 0; i < n; i++) {
        long row = row_of(x[i], vocab);
        float *y = L->y + i * (size_t)dim;
        if (row < 0) memset(y, 0, sizeof *y * (size_t)dim);
        else memcpy(y, L->weight[0] + (size_t)row * dim, sizeof *y * (size_t)dim);
    }
}

/* dtable[x] += dy; dx (the indices' gradient) is zero. */
static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    int dim = L->outs[1], vocab = vocabulary(L);
    size_t n = (size_t)r->B * (size_t)L->in_size;
    for (size_t i = 0; i < n; i++) {
        long row = row_of(x[i], vocab);
        if (row < 0) continue;
        float *g = L->grad[0] + (size_t)row * dim;
        const float *d = dy + i * (size_t)dim;
        for (int j = 0; j < dim; j++) g[j] += d[j];
    }
    if (dx) memset(dx, 0, sizeof *dx * n);
    return 1;
}

/* ONNX: Gather of the table at the indices cast to int64; an index outside
 * [0, input_dim) reads row 0 and is then zeroed, as forward gives zeros. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int64_t dims[2] = { vocabulary(L), L->outs[1] };
    onnx_attrs cast = { 0 }, back = { 0 };
    const char *x = onnx_input(g, L, 0, ONNX_HPTC, 0);
    const char *valid = onnx_op2(g, L, "And", onnx_op2(g, L, "GreaterOrEqual", x, onnx_scalar(g, L, 0)),
                                 onnx_op2(g, L, "Less", x, onnx_scalar(g, L, (float)dims[0])));
    onnx_attr_int(&cast, "to", 7);     /* INT64: truncates, as forward's (long) cast */
    const char *idx = onnx_node(g, L, "Cast", &cast, 1, &x, 1, NULL);
    const char *zero = onnx_int64s(g, L, 1, (const int64_t[]){ 0 });
    const char *where[3] = { valid, idx, zero };
    const char *safe = onnx_node(g, L, "Where", NULL, 3, where, 1, NULL);
    const char *rows = onnx_op2(g, L, "Gather", onnx_floats(g, L, "embeddings", L->weight[0], 2, dims), safe);
    onnx_attr_int(&back, "to", 1);     /* FLOAT */
    const char *mask = onnx_node(g, L, "Cast", &back, 1, &valid, 1, NULL);
    const char *unsq[2] = { mask, onnx_int64s(g, L, 1, (const int64_t[]){ -1 }) };
    mask = onnx_node(g, L, "Unsqueeze", NULL, 2, unsq, 1, NULL);
    onnx_output(g, L, onnx_op2(g, L, "Mul", rows, mask), ONNX_HPTC);
    return 0;
}

const layer_ops layer_embedding = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .init = init,
                                    .forward = forward, .backward = backward, .onnx = onnx };
