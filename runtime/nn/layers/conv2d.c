/* conv2d.c: Conv2D over (B, H, W, C) samples, y = act(conv(x, kernel) + bias).
 * Weights: kernel (kh, kw, C, filters), then bias (filters; size 0 without
 * use_bias).
 *
 * The step runs on oneDNN's convolutions (onednn_conv.c), in f32 and in
 * mixed_bfloat16: measured at the CNN example's shapes (bench/conv_rate.c,
 * one thread, batch 32) they beat im2col + OpenBLAS sgemm by 2.1x (3x3
 * 1->32 on 28x28) and 1.25x (3x3 32->64 on 13x13) in f32; bf16 is 2.1x
 * im2col on the second.  The layer's kernel_state
 * is its onednn_conv: the kernel packed for oneDNN (bf16 in mixed_bfloat16),
 * repacked when the trial's weights version moves, and the primitives per
 * batch size.  When oneDNN cannot run a shape the layer runs the im2col
 * kernels of kernels.c (its scratch is their im2col block), in f32.
 *
 * On the JIT backend the backward chain (dz, db) is compiled; the
 * convolution's GEMMs then run on dz as on any other backend. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

#include <string.h>

#include "runtime/nn/onednn_conv.h"

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->act = layer_act_of(args[Conv2D_activation]);
    st_pair(args[Conv2D_kernel_size], &L->kh, &L->kw);
    st_pair(args[Conv2D_strides], &L->sh, &L->sw);
    L->same = !strcmp(args[Conv2D_padding].u.s, "same");
    hpt_value how = args[Conv2D_kernel_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    return 0;
}

static void geom(const trial_layer *L, int B, kern_geom *g)
{
    kern_conv_geom(g, B, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->outs[2], L->kh, L->kw, L->sh, L->sw,
                   L->same);
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    kern_geom g;
    geom(L, (int)B, &g);
    s->y = B * L->out_size;
    s->scratch = kern_conv2d_scratch_floats(&g);
}

/* fan_in = kh*kw*C, fan_out = kh*kw*filters, as Keras counts them. */
static void init(trial_layer *L, uint64_t key)
{
    layer_init_kernel(L->weight[0], L->size[0], (int)(L->size[0] / (size_t)L->outs[2]), L->kh * L->kw * L->outs[2],
                      L->initializer, key);
}

static void release(trial_layer *L)
{
    onednn_conv_free(L->kernel_state);
    L->kernel_state = NULL;
}

/* Under mixed_bfloat16, a conv with fewer products per output than this
 * stays f32: it is memory-bound, and bf16 only adds x's conversion
 * (measured at 3x3 1->32 on 28x28, batch 32: f32 0.43 ms a step, bf16
 * 0.45-0.54; at 3x3 32->64, 288 products, bf16 is 1.65x f32). */
enum { BF16_MIN_PRODUCTS = 32 };

/* The layer's oneDNN state for this run's precision, NULL when oneDNN has
 * none to give (then the im2col kernels run). */
static onednn_conv *state_of(trial_layer *L, const layer_run *r, const kern_geom *g)
{
    int bf16 = r->bf16 && g->kh * g->kw * g->C >= BF16_MIN_PRODUCTS;
    onednn_conv *c = L->kernel_state;
    if (c && onednn_conv_fits(c, L->act, L->z != NULL, bf16)) return c;
    release(L);
    hpt_error e;
    L->kernel_state = onednn_conv_new(g, L->act, L->size[1] > 0, L->z != NULL, bf16, &e);
    return L->kernel_state;
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    const float *bias = L->size[1] ? L->weight[1] : NULL;
    onednn_conv *c = state_of(L, r, &g);
    hpt_error e;
    if (c && onednn_conv_forward(c, &g, x, L->weight[0], r->weights_version, bias, L->y, L->z, &e) == 0) return;
    kern_conv2d_forward(&g, x, L->weight[0], bias, L->y, L->z, L->act, L->scratch);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    float *dbias = L->size[1] ? L->grad[1] : NULL;
    kern_act act = r->skip_act ? KERN_LINEAR : L->act;
    if (r->jit) {
        /* The JIT's chain makes dz and db; the convolution's GEMMs follow on dz. */
        jit_backward(r->jit, L->index, L->out, L->z, dy, dbias, (size_t)r->B * g.OH * g.OW, 0, 0);
        dbias = NULL, act = KERN_LINEAR;
    }
    onednn_conv *c = state_of(L, r, &g);
    hpt_error e;
    if (c && onednn_conv_backward(c, &g, x, L->weight[0], r->weights_version, L->out, L->z, dy, dx, L->grad[0],
                                  dbias, act, &e) == 0)
        return 1;
    kern_conv2d_backward(&g, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias, act, L->scratch);
    return 1;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J) { layer_jit_elementwise(L, last_fused, 0, J); }

/* ONNX: Conv over channels first, then the activation. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    kern_geom geo;
    geom(L, 1, &geo);
    const char *y = onnx_conv(g, L, onnx_input(g, L, 0, ONNX_CF, 1), &geo, 2, 1, 1, 1, L->weight[0], geo.C, geo.F,
                              L->size[1] ? L->weight[1] : NULL);
    onnx_output(g, L, onnx_activation(g, L, L->act, y, 1), ONNX_CF);
    return 0;
}

const layer_ops layer_conv2d = { .flags = LAYER_BLAS | LAYER_JIT, .plan = plan, .sizes = sizes, .init = init,
                                 .forward = forward, .backward = backward, .jit = jit, .release = release,
                                 .onnx = onnx };
