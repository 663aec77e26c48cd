/* dense.c: Dense, y = act(x . kernel + bias) over a flat input (B, in).
 * Weights: kernel (in, units), then bias (units; size 0 without use_bias).
 *
 * The GEMMs run on oneDNN (runtime/nn/matmul.h) with the kernel kept packed
 * between steps: always under mixed_bfloat16, and for the f32 forward when
 * DENSE_F32_FORWARD_ONEDNN says it wins; otherwise on OpenBLAS (kernels.c).
 * On the JIT backend the bias + activation epilogue (and a following
 * Dropout) is the compiled code's, the GEMMs stay the library's. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/nn/matmul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Measured at the seed MLP's shapes (NOTES.md, issue 13). */
#define DENSE_F32_FORWARD_ONEDNN 1

/* The layer's oneDNN GEMMs, made for one policy and backend. */
typedef struct dense_state {
    dense_mm *mm;
    int bf16, jit;
    int failed;                 /* oneDNN refused: OpenBLAS in f32 from then on */
} dense_state;

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->act = layer_act_of(args[Dense_activation]);
    hpt_value how = args[Dense_kernel_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void init(trial_layer *L, uint64_t key)
{
    layer_init_kernel(L->weight[0], L->size[0], (int)L->in_size, (int)L->out_size, L->initializer, key);
}

static void release(trial_layer *L)
{
    dense_state *s = L->kernel_state;
    dense_mm_free(s->mm);
    free(s);
    L->kernel_state = NULL;
}

/* The activation the GEMM's output pass applies: none on the JIT backend
 * (its epilogue does), none when the pre-activation z is kept. */
static kern_act fused_act(const trial_layer *L, const layer_run *r)
{
    return r->jit || L->z || !dense_mm_fuses(L->act) ? KERN_LINEAR : L->act;
}

static void give_up(trial_layer *L, dense_state *s, const hpt_error *e)
{
    fprintf(stderr, "hptc: warning: %s: Dense layer %d runs on OpenBLAS in float32 from now on\n", e->message,
            L->index);
    dense_mm_free(s->mm);
    s->mm = NULL;
    s->failed = 1;
}

/* The oneDNN GEMMs for this run, or NULL for OpenBLAS's. */
static dense_mm *gemm_of(trial_layer *L, const layer_run *r)
{
    if (!r->bf16 && !DENSE_F32_FORWARD_ONEDNN) return NULL;
    dense_state *s = L->kernel_state;
    if (!s) {
        if (!(s = L->kernel_state = calloc(1, sizeof *s))) return NULL;
    }
    if (s->failed) return NULL;
    if (s->mm && s->bf16 == r->bf16 && s->jit == (r->jit != NULL)) return s->mm;
    dense_mm_free(s->mm);
    hpt_error e;
    int bias = L->size[1] && !r->jit;
    s->mm = dense_mm_new((int)L->in_size, (int)L->out_size, bias, r->bf16, fused_act(L, r), &e);
    s->bf16 = r->bf16;
    s->jit = r->jit != NULL;
    if (!s->mm) give_up(L, s, &e);
    return s->mm;
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    float *bias = L->size[1] ? L->weight[1] : NULL;
    int in = (int)L->in_size, out = (int)L->out_size;
    L->out = L->y;
    dense_mm *mm = gemm_of(L, r);
    L->sets_grads = mm != NULL;
    hpt_error e;
    if (r->jit) {
        /* With a Dropout fused in, this epilogue writes its output too. */
        int drop = r->training && L->next && L->next->drop_fused;
        float *ydrop = drop ? L->next->y : NULL;
        float rate = drop ? L->next->rate : 0;
        uint64_t key = layer_dropout_key(r, L->index + 1);
        if (mm && dense_mm_forward(mm, x, L->weight[0], r->weights_version, NULL, L->y, r->B, &e) == 0) {
            jit_forward(r->jit, L->index, L->y, L->y, L->z, bias, (size_t)r->B, ydrop, rate, key);
            return;
        }
        if (mm) give_up(L, L->kernel_state, &e);
        L->sets_grads = 0;
        jit_dense_forward(r->jit, L->index, x, L->weight[0], bias, L->y, L->z, ydrop, r->B, in, out, rate, key);
        return;
    }
    if (mm) {
        float *dst = L->z ? L->z : L->y;
        if (dense_mm_forward(mm, x, L->weight[0], r->weights_version, bias, dst, r->B, &e) == 0) {
            if (fused_act(L, r) != L->act) kern_act_forward(dst, L->y, (size_t)r->B, out, L->act);
            return;
        }
        give_up(L, L->kernel_state, &e);
        L->sets_grads = 0;
    }
    kern_dense_forward(x, L->weight[0], bias, L->y, L->z, r->B, in, out, L->act);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    float *dbias = L->size[1] ? L->grad[1] : NULL;
    int in = (int)L->in_size, out = (int)L->out_size;
    dense_state *s = L->kernel_state;
    dense_mm *mm = s && !s->failed ? s->mm : NULL;
    /* A Dropout fused into this layer: its mask is part of the JIT's backward chain. */
    int drop = r->jit && L->next && L->next->drop_fused;
    if (!mm) {
        if (r->jit)
            jit_dense_backward(r->jit, L->index, x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias, r->B,
                               in, out, drop ? L->next->rate : 0, layer_dropout_key(r, L->index + 1));
        else
            kern_dense_backward(x, L->weight[0], L->out, L->z, dy, dx, L->grad[0], dbias, r->B, in, out,
                                r->skip_act ? KERN_LINEAR : L->act);
        return 1;
    }
    /* dz in place in dy (and db on the JIT), then the GEMMs. */
    if (r->jit) {
        /* The compiled chain adds into db: the layer sets its gradients (sets_grads). */
        if (dbias) memset(dbias, 0, sizeof *dbias * (size_t)out);
        jit_backward(r->jit, L->index, L->out, L->z, dy, dbias, (size_t)r->B, drop ? L->next->rate : 0,
                     layer_dropout_key(r, L->index + 1));
        dbias = NULL;
    } else {
        kern_act_backward(L->z, L->out, dy, dy, (size_t)r->B, out, r->skip_act ? KERN_LINEAR : L->act);
    }
    hpt_error e;
    if (dense_mm_backward(mm, x, dy, L->weight[0], r->weights_version, dx, L->grad[0], dbias, r->B, &e))
        give_up(L, L->kernel_state, &e);
    return 1;
}

/* Rows the optimizer updates and packs at a time: with Adam, four arrays of
 * 8 rows of 512 floats stay in L2. */
#define FUSED_ROWS 8

static int fused_update(trial_layer *L, const layer_run *r, layer_update_fn update, void *ctx, size_t offset)
{
    dense_state *s = L->kernel_state;
    if (!s || !s->mm || s->failed || !dense_mm_pack_rows_known(s->mm)) return 0;
    size_t in = L->in_size, out = L->out_size;
    if (L->size[1] && L->weight[1] != L->weight[0] + L->size[0]) return 0;
    int rows = FUSED_ROWS - FUSED_ROWS % dense_mm_pack_rows_step(s->mm);
    for (size_t k = 0; k < in; k += (size_t)rows) {
        size_t k1 = k + (size_t)rows < in ? k + (size_t)rows : in;
        update(ctx, offset + k * out, offset + k1 * out);
        dense_mm_pack_rows(s->mm, L->weight[0], (int)k, (int)k1);
    }
    if (L->size[1]) update(ctx, offset + L->size[0], offset + L->size[0] + L->size[1]);
    dense_mm_set_packed(s->mm, r->weights_version);
    return 1;
}

static void jit(const trial_layer *L, int last_fused, jit_layer *J) { layer_jit_elementwise(L, last_fused, 1, J); }

/* ONNX: act(x . kernel + bias), MatMul then Add. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    int64_t dims[2] = { (int64_t)L->in_size, (int64_t)L->out_size };
    const char *y = onnx_op2(g, L, "MatMul", onnx_input(g, L, 0, ONNX_HPTC, 0), onnx_floats(g, L, "kernel", L->weight[0], 2, dims));
    if (L->size[1]) y = onnx_op2(g, L, "Add", y, onnx_floats(g, L, "bias", L->weight[1], 1, dims + 1));
    onnx_output(g, L, onnx_activation(g, L, L->act, y, -1), ONNX_HPTC);
    return 0;
}

const layer_ops layer_dense = { .flags = LAYER_BLAS | LAYER_JIT, .plan = plan, .sizes = sizes, .init = init,
                                .forward = forward, .backward = backward, .jit = jit, .release = release,
                                .fused_update = fused_update, .onnx = onnx };
