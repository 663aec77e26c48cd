/* conv2d.c: Conv2D over (B, H, W, C) samples by im2col blocks and GEMMs,
 * y = act(conv(x, kernel) + bias).  Weights: kernel (kh, kw, C, filters),
 * then bias (filters; size 0 without use_bias).  The im2col block is the
 * layer's scratch.  On the JIT backend the backward chain (dz, db) is
 * compiled; the forward epilogue runs per im2col chunk, in cache, in C. */
#include "runtime/nn/layers/layers.h"

#include <string.h>

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->act = layer_act_of(args[Conv2D_activation]);
    st_pair(args[Conv2D_kernel_size], &L->kh, &L->kw);
    st_pair(args[Conv2D_strides], &L->sh, &L->sw);
    L->same = !strcmp(args[Conv2D_padding].u.s, "same");
    hpt_value how = args[Conv2D_kernel_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    L->flops = 2.0 * L->outs[0] * L->outs[1] * (double)L->size[0];
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

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    kern_geom g;
    geom(L, r->B, &g);
    L->out = L->y;
    kern_conv2d_forward(&g, x, L->weight[0], L->size[1] ? L->weight[1] : NULL, L->y, L->z, L->act, L->scratch);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    kern_geom g;
    geom(L, r->B, &g);
    float *dbias = L->size[1] ? L->grad[1] : NULL;
    if (r->jit) {
        /* The JIT's chain makes dz and db; the BLAS kernel does the GEMMs. */
        jit_backward(r->jit, L->index, L->out, L->z, dy, dbias, (size_t)r->B * g.OH * g.OW, 0, 0);
        kern_conv2d_backward(&g, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], NULL, KERN_LINEAR, L->scratch);
        return 1;
    }
    kern_conv2d_backward(&g, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias,
                         r->skip_act ? KERN_LINEAR : L->act, L->scratch);
    return 1;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J) { layer_jit_elementwise(L, last_fused, 0, J); }

const layer_ops layer_conv2d = { .flags = LAYER_BLAS | LAYER_JIT, .plan = plan, .sizes = sizes, .init = init,
                                 .forward = forward, .backward = backward, .jit = jit };
