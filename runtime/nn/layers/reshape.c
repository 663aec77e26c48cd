/* reshape.c: Reshape gives each sample the target_shape the shape rule
 * resolved (one -1 inferred); the values keep their row-major order, so the
 * layer is a view: no buffer, the output is the input, the gradient stays. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

static void forward(trial_layer *L, const layer_run *r, const float *x) { L->out = (float *)x; }

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx) { return 0; }

/* ONNX: Reshape to (batch kept, target_shape). */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int64_t shape[4] = { 0 };
    for (int k = 0; k < L->out_rank; k++) shape[k + 1] = L->outs[k];
    onnx_output(g, L, onnx_op2(g, L, "Reshape", onnx_input(g, L, 0, ONNX_HPTC, 0), onnx_int64s(g, L, L->out_rank + 1, shape)),
                ONNX_HPTC);
    return 0;
}

const layer_ops layer_reshape = { .flags = LAYER_BLAS, .forward = forward, .backward = backward, .onnx = onnx };
