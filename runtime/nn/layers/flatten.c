/* flatten.c: Flatten keeps a sample's values in order and only gives them
 * one axis (the shape rule computes it), so it is a view: no buffer, the
 * output is the input, the gradient stays in place. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

static void forward(trial_layer *L, const layer_run *r, const float *x) { L->out = (float *)x; }

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx) { return 0; }

/* ONNX: Flatten(axis 1) of the channels-last values. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    onnx_attrs a = { 0 };
    const char *x = onnx_input(g, L, 0, ONNX_HPTC, 0);
    onnx_attr_int(&a, "axis", 1);
    onnx_output(g, L, onnx_node(g, L, "Flatten", &a, 1, &x, 1, NULL), ONNX_HPTC);
    return 0;
}

const layer_ops layer_flatten = { .flags = LAYER_BLAS, .forward = forward, .backward = backward, .onnx = onnx };
