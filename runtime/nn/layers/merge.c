/* merge.c: the layers that join branches (docs/language.md, *Graphs*).
 *
 *   Add          y = x_0 + x_1 + ...; each input's gradient is dy.
 *   Concatenate  y = the inputs side by side along one axis; each input's
 *                gradient is its slice of dy.
 *   Residual     y = P(x) + f, x the block's input and f its body's output;
 *                P is the identity when their shapes agree, else a learned
 *                projection (stdlib/shape_rules.c's rule): a 1x1
 *                convolution strided down to f's height and width for
 *                (H, W, C) samples, a dense map of the last axis otherwise —
 *                both one GEMM over the (strided) positions, kernel (C, F)
 *                then bias (F), as Keras's Conv2D(F, 1, strides)/Dense(F).
 *
 * The projection's GEMMs run on OpenBLAS in float32 under either dtype
 * policy: a shortcut's 1x1 map is a small part of a residual block's work
 * next to the body's 3x3 convolutions.  No JIT code: the C loops run on
 * both backends. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"

#include <cblas.h>
#include <string.h>

/* ---- Add ---------------------------------------------------------------- */

static int add_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    return 0;
}

static void out_sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void add_forward(trial_layer *L, const layer_run *r, const float *x)
{
    size_t n = (size_t)r->B * L->out_size;
    float *y = L->out = L->y;
    const float *b = L->from[1]->out;
    for (size_t i = 0; i < n; i++) y[i] = x[i] + b[i];
    for (int k = 2; k < L->n_from; k++) {
        const float *c = L->from[k]->out;
        for (size_t i = 0; i < n; i++) y[i] += c[i];
    }
}

static void add_backward_input(trial_layer *L, const layer_run *r, const float *dy, int i, float *dx)
{
    if (dx) memcpy(dx, dy, sizeof *dx * (size_t)r->B * L->out_size);
}

/* ONNX: a chain of Add, channels first when every input is there already. */
static int inputs_layout(const trial_layer *L, onnx_graph *g)
{
    if (L->out_rank < 2) return ONNX_HPTC;
    for (int k = 0; k < L->n_from; k++)
        if (!onnx_has(g, L, k, ONNX_CF)) return ONNX_HPTC;
    return ONNX_CF;
}

static int add_onnx(const trial_layer *L, onnx_graph *g)
{
    int layout = inputs_layout(L, g);
    const char *y = onnx_input(g, L, 0, layout, 0);
    for (int k = 1; k < L->n_from; k++) y = onnx_op2(g, L, "Add", y, onnx_input(g, L, k, layout, 0));
    onnx_output(g, L, y, layout);
    return 0;
}

const layer_ops layer_add = { .flags = LAYER_BLAS, .plan = add_plan, .sizes = out_sizes, .forward = add_forward,
                              .backward_input = add_backward_input, .onnx = add_onnx };

/* ---- Concatenate -------------------------------------------------------- */

/* A sample as (outer, axis, inner): the axis joined, what comes before it
 * and after it.  kh holds the joined axis's position, sh the inner size. */
static int concat_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    int axis = (int)value_as_double(args[Concatenate_axis]);
    int at = axis < 0 ? L->out_rank + axis : axis - 1;
    L->kh = at;
    L->sh = 1;
    for (int j = at + 1; j < L->out_rank; j++) L->sh *= L->outs[j];
    return 0;
}

/* Rows of a sample (the product of the axes before the joined one). */
static size_t concat_rows(const trial_layer *L)
{
    size_t rows = 1;
    for (int j = 0; j < L->kh; j++) rows *= (size_t)L->outs[j];
    return rows;
}

/* Where input k starts within a row of the output, and its width there. */
static void concat_slice(const trial_layer *L, int k, size_t *offset, size_t *width)
{
    *offset = 0;
    for (int j = 0; j < k; j++) *offset += (size_t)L->from[j]->outs[L->kh] * (size_t)L->sh;
    *width = (size_t)L->from[k]->outs[L->kh] * (size_t)L->sh;
}

static void concat_forward(trial_layer *L, const layer_run *r, const float *x)
{
    size_t rows = (size_t)r->B * concat_rows(L), row = L->out_size / concat_rows(L);
    L->out = L->y;
    for (int k = 0; k < L->n_from; k++) {
        size_t offset, width;
        concat_slice(L, k, &offset, &width);
        const float *in = L->from[k]->out;
        for (size_t i = 0; i < rows; i++) memcpy(L->y + i * row + offset, in + i * width, sizeof(float) * width);
    }
}

static void concat_backward_input(trial_layer *L, const layer_run *r, const float *dy, int k, float *dx)
{
    if (!dx) return;
    size_t rows = (size_t)r->B * concat_rows(L), row = L->out_size / concat_rows(L), offset, width;
    concat_slice(L, k, &offset, &width);
    for (size_t i = 0; i < rows; i++) memcpy(dx + i * width, dy + i * row + offset, sizeof(float) * width);
}

/* ONNX: Concat along the joined axis of the channels-last values. */
static int concat_onnx(const trial_layer *L, onnx_graph *g)
{
    const char *in[ST_MAX_INPUTS];
    onnx_attrs a = { 0 };
    for (int k = 0; k < L->n_from; k++) in[k] = onnx_input(g, L, k, ONNX_HPTC, 0);
    onnx_attr_int(&a, "axis", L->kh + 1);
    onnx_output(g, L, onnx_node(g, L, "Concat", &a, L->n_from, in, 1, NULL), ONNX_HPTC);
    return 0;
}

const layer_ops layer_concatenate = { .flags = LAYER_BLAS, .plan = concat_plan, .sizes = out_sizes,
                                      .forward = concat_forward, .backward_input = concat_backward_input,
                                      .onnx = concat_onnx };

/* ---- Residual ----------------------------------------------------------- */

/* With a projection: C input channels (the last axis), F outputs, and for
 * images the strides (sh, sw) from the input's (H, W) to the output's. */
static int projects(const trial_layer *L) { return L->n_trainable && L->size[0] > 0; }
static int proj_in(const trial_layer *L) { return L->from[0]->outs[L->from[0]->out_rank - 1]; }
static int proj_out(const trial_layer *L) { return L->outs[L->out_rank - 1]; }
/* Output positions per sample: the GEMM's rows are B times this. */
static size_t positions(const trial_layer *L) { return L->out_size / (size_t)proj_out(L); }
/* Strided images read a gathered copy of the input; the rest read it in place. */
static int gathers(const trial_layer *L) { return projects(L) && L->out_rank == 3 && (L->sh > 1 || L->sw > 1); }

static int residual_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    L->sh = L->sw = 1;
    if (projects(L) && L->out_rank == 3) {
        const int *x = L->from[0]->outs;
        L->sh = (x[0] + L->outs[0] - 1) / L->outs[0];   /* the rule checked these reach the output's size */
        L->sw = (x[1] + L->outs[1] - 1) / L->outs[1];
    }
    L->initializer = "glorot_uniform";
    return 0;
}

static void residual_sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    s->y = B * L->out_size;
    s->scratch = gathers(L) ? B * positions(L) * (size_t)proj_in(L) : 0;
}

static void residual_init(trial_layer *L, uint64_t key)
{
    if (projects(L)) layer_init_kernel(L->weight[0], L->size[0], proj_in(L), proj_out(L), L->initializer, key);
}

/* The projection's input rows, (B * positions, C): the input itself, or its
 * strided pixels gathered into scratch. */
static const float *proj_rows(trial_layer *L, int B, const float *x)
{
    if (!gathers(L)) return x;
    const int *in = L->from[0]->outs;
    int C = in[2], OH = L->outs[0], OW = L->outs[1];
    float *g = L->scratch;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++, g += C)
                memcpy(g, x + (((size_t)b * in[0] + (size_t)i * L->sh) * in[1] + (size_t)j * L->sw) * C, sizeof(float) * C);
    return L->scratch;
}

static void residual_forward(trial_layer *L, const layer_run *r, const float *x)
{
    size_t n = (size_t)r->B * L->out_size;
    const float *f = L->from[1]->out;
    float *y = L->out = L->y;
    if (!projects(L)) {
        for (size_t i = 0; i < n; i++) y[i] = x[i] + f[i];
        return;
    }
    int rows = (int)((size_t)r->B * positions(L)), C = proj_in(L), F = proj_out(L);
    const float *bias = L->weight[1];
    L->sets_grads = 1;  /* backward writes the projection's gradients, not adds to them */
    for (int i = 0; i < rows; i++)
        for (int o = 0; o < F; o++) y[(size_t)i * F + o] = f[(size_t)i * F + o] + bias[o];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, F, C, 1.0f, proj_rows(L, r->B, x), C, L->weight[0], F,
                1.0f, y, F);
}

static void residual_backward_input(trial_layer *L, const layer_run *r, const float *dy, int i, float *dx)
{
    size_t n = (size_t)r->B * L->out_size;
    if (i == 1 || !projects(L)) {
        if (dx) memcpy(dx, dy, sizeof *dx * n);
        return;
    }
    /* The shortcut: the projection's weight gradients, then its input's. */
    int rows = (int)((size_t)r->B * positions(L)), C = proj_in(L), F = proj_out(L);
    const float *xr = gathers(L) ? L->scratch : L->from[0]->out;   /* forward's gather is still there */
    float *db = L->grad[1];
    memset(db, 0, sizeof *db * (size_t)F);
    for (int row = 0; row < rows; row++)
        for (int o = 0; o < F; o++) db[o] += dy[(size_t)row * F + o];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, F, rows, 1.0f, xr, C, dy, F, 0.0f, L->grad[0], F);
    if (!dx) return;
    if (!gathers(L)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, C, F, 1.0f, dy, F, L->weight[0], F, 0.0f, dx, C);
        return;
    }
    /* Strided: the gradient reaches only the pixels the projection read. */
    const int *in = L->from[0]->outs;
    int OH = L->outs[0], OW = L->outs[1];
    memset(dx, 0, sizeof *dx * (size_t)r->B * L->from[0]->out_size);
    for (int b = 0; b < r->B; b++)
        for (int y = 0; y < OH; y++) {
            const float *d = dy + (((size_t)b * OH + y) * OW) * F;
            float *to = dx + (((size_t)b * in[0] + (size_t)y * L->sh) * in[1]) * C;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OW, C, F, 1.0f, d, F, L->weight[0], F, 0.0f, to,
                        L->sw * C);
        }
}

/* ONNX: input + body; the projection a strided 1x1 Conv for images, a
 * MatMul over the last axis otherwise. */
static int residual_onnx(const trial_layer *L, onnx_graph *g)
{
    if (!projects(L)) return add_onnx(L, g);
    int C = proj_in(L), F = proj_out(L);
    int64_t dims[2] = { C, F };
    const char *x, *f;
    int layout = ONNX_HPTC;
    if (L->out_rank == 3) {
        const int *in = L->from[0]->outs;
        kern_geom geo = { .B = 1, .H = in[0], .W = in[1], .C = C, .kh = 1, .kw = 1, .sh = L->sh, .sw = L->sw,
                          .OH = L->outs[0], .OW = L->outs[1], .F = F };
        layout = ONNX_CF;
        x = onnx_conv(g, L, onnx_input(g, L, 0, ONNX_CF, 0), &geo, 2, 1, 1, 1, L->weight[0], C, F, L->weight[1]);
    } else {
        x = onnx_op2(g, L, "MatMul", onnx_input(g, L, 0, ONNX_HPTC, 0), onnx_floats(g, L, "kernel", L->weight[0], 2, dims));
        x = onnx_op2(g, L, "Add", x, onnx_floats(g, L, "bias", L->weight[1], 1, dims + 1));
    }
    f = onnx_input(g, L, 1, layout, 0);
    onnx_output(g, L, onnx_op2(g, L, "Add", x, f), layout);
    return 0;
}

const layer_ops layer_residual = { .flags = LAYER_BLAS, .plan = residual_plan, .sizes = residual_sizes,
                                   .init = residual_init, .forward = residual_forward,
                                   .backward_input = residual_backward_input, .onnx = residual_onnx };
