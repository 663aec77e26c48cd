/* conv1d.c: Conv1D over (B, steps, C) sequences, y = act(conv(x, kernel)
 * + bias).  Weights: kernel (kernel_size, C, filters), then bias (filters;
 * size 0 without use_bias): Keras's get_weights().
 *
 * A sequence is an image of height 1 and the kernel a (1, k, C, F) one, so
 * the layer runs as a 2-D convolution on oneDNN (conv_step.h): f32, or bf16
 * operands under mixed_bfloat16, dilation_rate as oneDNN's dilation.
 * "causal" pads (k - 1) * dilation_rate zeros before the sequence and none
 * after, so output t reads steps t and before.  No JIT code: the same
 * kernels under both backends. */
#include "runtime/nn/layers/conv_step.h"
#include "runtime/nn/onnx.h"

#include <stdlib.h>
#include <string.h>

typedef struct conv1d {
    conv_step step;             /* step.dil_w: dilation_rate */
    int causal;
} conv1d;

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    conv1d *s = calloc(1, sizeof *s);
    if (!s) return snprintf(why, n, "out of memory"), -1;
    L->kernel_state = s;
    s->step = (conv_step){ .groups = 1, .dil_h = 1, .dil_w = (int)value_as_double(args[Conv1D_dilation_rate]) };
    s->causal = !strcmp(args[Conv1D_padding].u.s, "causal");
    L->act = layer_act_of(args[Conv1D_activation]);
    L->kh = 1, L->sh = 1;
    L->kw = (int)value_as_double(args[Conv1D_kernel_size]);
    L->sw = (int)value_as_double(args[Conv1D_strides]);
    L->same = !strcmp(args[Conv1D_padding].u.s, "same");
    hpt_value how = args[Conv1D_kernel_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    const conv1d *s = L->kernel_state;
    int steps = L->in[0], C = L->in[1], F = L->outs[1];
    if (!s->causal) {
        conv_step_geom(g, B, 1, steps, C, F, 1, L->kw, 1, L->sw, 1, s->step.dil_w, L->same);
        return;
    }
    /* A window of one tap gives the causal output length; then the real taps, all the padding before. */
    conv_step_geom(g, B, 1, steps, C, F, 1, 1, 1, L->sw, 1, 1, 0);
    g->kw = L->kw;
    g->pad_left = (L->kw - 1) * s->step.dil_w;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

/* fan_in = k * C, fan_out = k * filters, as Keras counts a (k, C, F) kernel. */
static void init(trial_layer *L, uint64_t key)
{
    layer_init_kernel(L->weight[0], L->size[0], L->kw * L->in[1], L->kw * L->outs[1], L->initializer, key);
}

static void release(trial_layer *L)
{
    conv1d *s = L->kernel_state;
    conv_step_free(&s->step);
    free(s);
    L->kernel_state = NULL;
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    conv_step_forward(&((conv1d *)L->kernel_state)->step, r, &g, x, L->weight[0], L->size[1] ? L->weight[1] : NULL,
                      L->y, L->z, L->act, L->index);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    conv_step_backward(&((conv1d *)L->kernel_state)->step, r, &g, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0],
                       L->size[1] ? L->grad[1] : NULL, r->skip_act ? KERN_LINEAR : L->act);
    return 1;
}

/* ONNX: a 1-D Conv over (N, C, steps), dilated, causal as pads before only. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    kern_geom geo;
    geom(L, 1, &geo);
    int d = ((const conv1d *)L->kernel_state)->step.dil_w;
    const char *y = onnx_conv(g, L, onnx_input(g, L, 0, ONNX_CF, 0), &geo, 1, 1, d, 1, L->weight[0], geo.C, geo.F,
                              L->size[1] ? L->weight[1] : NULL);
    onnx_output(g, L, onnx_activation(g, L, L->act, y, 1), ONNX_CF);
    return 0;
}

const layer_ops layer_conv1d = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .init = init, .forward = forward,
                                 .backward = backward, .release = release, .onnx = onnx };
