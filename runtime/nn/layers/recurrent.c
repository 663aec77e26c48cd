/* recurrent.c: LSTM and GRU over (B, steps, features) samples, to (B, units)
 * or, with return_sequences, (B, steps, units).  Keras's weights, shapes and
 * gate order, so weights files are Keras's:
 *   kernel (features, G), recurrent_kernel (units, G), bias,
 * G = 4·units for the LSTM (gates i, f, c, o; bias (G)) and 3·units for the
 * GRU (z, r, h; reset_after's bias (2, G): the input row, then the recurrent).
 *
 *   LSTM: i, f, o = σ(x·W + h·U + b) per gate, c̃ = act(...),
 *         c = f·c₋ + i·c̃, h = o·act(c)
 *   GRU:  z, r = σ(x·W + b_x + h₋·U + b_h) per gate,
 *         h̃ = act(x·W_h + b_xh + r·(h₋·U_h + b_hh)), h = z·h₋ + (1 - z)·h̃
 * (σ is recurrent_activation, act is activation; PyTorch's GRU is the same
 * function with the gates in the order r, z, n.)
 *
 * Work per step is GEMMs and elementwise loops, every GEMM on oneDNN's
 * matmul (runtime/nn/matmul.h) with its weights kept packed, falling back to
 * OpenBLAS's sgemm if oneDNN refuses.  The input projection x·W + b of every
 * step is one GEMM over (steps·B) rows, and so is its backward (dW, db and
 * dx): bf16 operands under mixed_bfloat16.  The recurrent h·U is one GEMM per
 * step, in float32 under either policy (at B rows by units it is too small
 * for the bf16 conversions of h to pay, and the state stays exact f32); the
 * backward through time is one dgates·Uᵀ GEMM per step (from a transposed
 * copy of U made once per backward) and, after the loop,
 * dU = Σ h₋ᵀ·dgates as one GEMM over all steps.  Activations use the
 * vectorised kernels (kern_act_forward); their derivatives are taken from
 * the outputs (tanh, sigmoid, relu and linear only: the shape rule says so).
 * Measured on the Fashion LSTM (128 units, batch 64): moving the per-step
 * GEMMs from OpenBLAS to oneDNN's packed f32 kernels, and vectorising the
 * gate loops, took an epoch of 10.8k rows from 6.5 s to 3.0 s (on the shared
 * 2-core machine under load, so roughly).
 *
 * Inside the layer the sequence is time-major: the input is transposed to
 * (steps, B, features) once, so each step's rows are contiguous and the
 * states h₀..h_T sit in one (steps + 1, B, units) block with h₀ = 0, which
 * makes dU one GEMM.  Everything the backward reads lives in the layer's
 * scratch (layout() below), sized for the largest batch.  No JIT code: the
 * same kernels run under --backend jit. */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/nn/matmul.h"
#include "runtime/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As kernels.c: -O2's "very cheap" vectoriser model refuses every loop whose
 * trip count is not a known multiple of the vector width (all of these). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

/* LAPACK, Fortran calling convention (OpenBLAS exports them). */
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork,
             int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau, double *work,
             const int *lwork, int *info);

extern const layer_ops layer_gru;

/* The layer's oneDNN GEMMs (its kernel_state). */
typedef struct rnn_state {
    dense_mm *mm;               /* the input projection x·W + b over every step, bf16 under mixed_bfloat16 */
    dense_mm *rec;              /* h₋·U per step, f32 with U kept packed (NULL: OpenBLAS) */
    dense_mm *rec_t;            /* dgates·Uᵀ per step, f32, from the transposed copy rt */
    dense_mm *rec_dw;           /* dU = hsᵀ·dgates over every step, f32 (its own batch sizes: T·B rows) */
    int bf16;
    int failed;                 /* oneDNN refused: OpenBLAS in f32 from then on */
    int rec_failed;             /* the same for the recurrent side's GEMMs */
} rnn_state;

/* One run's geometry and its views into the scratch. */
typedef struct rnn {
    int B, T, F, U, G, gru;
    float *xt;                  /* (T, B, F) the input, time-major */
    float *gates;               /* (T, B, G) x·W + b, then the activated gates */
    float *hs;                  /* (T + 1, B, U) states; hs[0] = h₀ = 0 */
    float *cs;                  /* (T, B, U) LSTM: cell states; GRU: h₋·U_h + b_hh */
    float *tcs;                 /* (T, B, U) LSTM: act(c) */
    float *dgates;              /* (T, B, G) the gates' pre-activation gradients (GRU: the input side's) */
    float *dgrec;               /* (T, B, G) GRU: the recurrent side's */
    float *dh, *dc;             /* (B, U) */
    float *dxt;                 /* (T, B, F) */
    float *tmp;                 /* (B, G) h₋·U; in backward dgates·Uᵀ */
    float *rt;                  /* (G, U) Uᵀ, for the backward's GEMMs */
} rnn;

static int units_of(const trial_layer *L) { return L->outs[L->out_rank - 1]; }

/* Point r's views at base (NULL: only count) for B rows; returns the floats taken. */
static size_t layout(const trial_layer *L, int B, float *base, rnn *r)
{
    rnn n = { .B = B, .T = L->in[0], .F = L->in[1], .U = units_of(L), .gru = L->ops == &layer_gru };
    n.G = (int)(L->size[1] / (size_t)n.U);
    size_t T = (size_t)n.T, b = (size_t)B, F = (size_t)n.F, U = (size_t)n.U, G = (size_t)n.G;
    struct { float **view; size_t n; } parts[] = {
        { &n.xt, T * b * F }, { &n.gates, T * b * G }, { &n.hs, (T + 1) * b * U }, { &n.cs, T * b * U },
        { &n.tcs, n.gru ? 0 : T * b * U }, { &n.dgates, T * b * G }, { &n.dgrec, n.gru ? T * b * G : 0 },
        { &n.dh, b * U }, { &n.dc, b * U }, { &n.dxt, T * b * F }, { &n.tmp, b * G }, { &n.rt, G * U },
    };
    size_t at = 0;
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        *parts[k].view = base ? base + at : NULL;
        at += parts[k].n;
    }
    if (r) *r = n;
    return at;
}

static int plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    /* LSTM and GRU share RECURRENT_ARGS's positions (shape_rules.c asserts it). */
    L->cell_act = layer_act_of(args[LSTM_activation]);
    L->gate_act = layer_act_of(args[LSTM_recurrent_activation]);
    L->return_sequences = args[LSTM_return_sequences].type == V_BOOL && args[LSTM_return_sequences].u.b;
    L->unit_forget_bias = L->ops != &layer_gru && args[LSTM_unit_forget_bias].type == V_BOOL &&
                          args[LSTM_unit_forget_bias].u.b;
    hpt_value how = args[LSTM_kernel_initializer], rec = args[LSTM_recurrent_initializer];
    L->initializer = how.type == V_STRING ? how.u.s : "glorot_uniform";
    L->recurrent_initializer = rec.type == V_STRING ? rec.u.s : "orthogonal";
    return 0;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s)
{
    s->y = B * L->out_size;
    s->scratch = layout(L, (int)B, NULL, NULL);
}

/* ---- initialisers ------------------------------------------------------------ */

/* Keras's Orthogonal(gain 1) for a (rows, cols) matrix: the QR of a normal
 * (max, min) matrix, Q's columns multiplied by the signs of R's diagonal,
 * transposed when rows < cols.  Here A is drawn column-major, so Q's buffer
 * read row-major is already that transpose.  -1 when memory is short. */
static int orthogonal(float *w, int rows, int cols, uint64_t key)
{
    int m = rows > cols ? rows : cols, n = rows > cols ? cols : rows, lwork = -1, info = 0;
    double *a = malloc(sizeof *a * (size_t)m * n), *tau = malloc(sizeof *tau * (size_t)n), *sign = malloc(sizeof *sign * (size_t)n);
    double query = 0, *work = NULL;
    int rc = -1;
    if (!a || !tau || !sign) goto done;
    rng r = rng_stream(key);
    for (size_t i = 0; i < (size_t)m * n; i++) a[i] = rng_normal(&r);
    dgeqrf_(&m, &n, a, &m, tau, &query, &lwork, &info);
    lwork = (int)query + n;
    if (info || !(work = malloc(sizeof *work * (size_t)lwork))) goto done;
    dgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info) goto done;
    for (int j = 0; j < n; j++) sign[j] = a[j + (size_t)j * m] < 0 ? -1.0 : 1.0;
    dorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    if (info) goto done;
    /* Q (m, n) column-major: Q[i][j] = a[i + j·m]. */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            w[(size_t)i * cols + j] = rows < cols ? (float)(a[j + (size_t)i * m] * sign[i])
                                                  : (float)(a[i + (size_t)j * m] * sign[j]);
    rc = 0;
done:
    free(a), free(tau), free(sign), free(work);
    return rc;
}

static void init(trial_layer *L, uint64_t key)
{
    int F = L->in[1], U = units_of(L), G = (int)(L->size[1] / (size_t)U);
    layer_init_kernel(L->weight[0], L->size[0], F, G, L->initializer, rng_key(key, 0));
    if (strcmp(L->recurrent_initializer, "orthogonal") || orthogonal(L->weight[1], U, G, rng_key(key, 1)))
        layer_init_kernel(L->weight[1], L->size[1], U, G, "glorot_uniform", rng_key(key, 1));
    /* Biases start at zero; unit_forget_bias starts the forget gate's at 1 (Keras). */
    if (L->size[2] && L->unit_forget_bias) kern_fill(L->weight[2] + U, (size_t)U, 1.0f);
}

/* ---- the input projection: x·W + b over every step ---------------------------- */

static void release(trial_layer *L)
{
    rnn_state *s = L->kernel_state;
    dense_mm_free(s->mm);
    dense_mm_free(s->rec);
    dense_mm_free(s->rec_t);
    dense_mm_free(s->rec_dw);
    free(s);
    L->kernel_state = NULL;
}

static void give_up(trial_layer *L, rnn_state *s, const hpt_error *e)
{
    fprintf(stderr, "hptc: warning: %s: recurrent layer %d runs on OpenBLAS in float32 from now on\n", e->message,
            L->index);
    dense_mm_free(s->mm);
    s->mm = NULL;
    s->failed = 1;
}

/* The oneDNN GEMM for this policy, or NULL for OpenBLAS's. */
static dense_mm *projection(trial_layer *L, const layer_run *r, const float *bias)
{
    rnn_state *s = L->kernel_state;
    if (!s && !(s = L->kernel_state = calloc(1, sizeof *s))) return NULL;
    if (s->failed) return NULL;
    if (s->mm && s->bf16 == r->bf16) return s->mm;
    dense_mm_free(s->mm);
    hpt_error e;
    s->mm = dense_mm_new(L->in[1], (int)(L->size[0] / (size_t)L->in[1]), bias != NULL, r->bf16, KERN_LINEAR, &e);
    s->bf16 = r->bf16;
    if (!s->mm) give_up(L, s, &e);
    return s->mm;
}

/* g (rows, G) = xt (rows, F)·W + bias. */
static void project_forward(trial_layer *L, const layer_run *r, const rnn *n, const float *bias, int rows)
{
    dense_mm *mm = projection(L, r, bias);
    hpt_error e;
    if (mm && dense_mm_forward(mm, n->xt, L->weight[0], r->weights_version, bias, n->gates, rows, &e) == 0) return;
    if (mm) give_up(L, L->kernel_state, &e);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n->G, n->F, 1.0f, n->xt, n->F, L->weight[0], n->G,
                0.0f, n->gates, n->G);
    if (bias)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n->G; j++) n->gates[(size_t)i * n->G + j] += bias[j];
}

/* dW = xtᵀ·dg and db = colsum(dg), both OVERWRITTEN; dxt = dg·Wᵀ (dxt NULL: skipped). */
static void project_backward(trial_layer *L, const layer_run *r, const rnn *n, const float *dg, float *dxt, float *db,
                             int rows)
{
    rnn_state *s = L->kernel_state;
    hpt_error e;
    if (s && s->mm && !s->failed) {
        if (dense_mm_backward(s->mm, n->xt, dg, L->weight[0], r->weights_version, dxt, L->grad[0], db, rows, &e))
            give_up(L, s, &e);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n->F, n->G, rows, 1.0f, n->xt, n->F, dg, n->G, 0.0f,
                L->grad[0], n->G);
    if (dxt)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n->F, n->G, 1.0f, dg, n->G, L->weight[0], n->G,
                    0.0f, dxt, n->F);
    if (db) {
        memset(db, 0, sizeof *db * (size_t)n->G);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n->G; j++) db[j] += dg[(size_t)i * n->G + j];
    }
}

/* One of the recurrent side's f32 GEMMs (in -> out, no bias), made on first
 * use in *slot; NULL (OpenBLAS from then on) when oneDNN cannot make it. */
static dense_mm *f32_gemm(trial_layer *L, dense_mm **slot, int in, int out)
{
    rnn_state *s = L->kernel_state;
    if (!s || s->failed || s->rec_failed) return NULL;
    if (!*slot) {
        hpt_error e;
        if (!(*slot = dense_mm_new(in, out, 0, 0, KERN_LINEAR, &e))) {
            fprintf(stderr, "hptc: warning: %s: recurrent layer %d's per-step GEMMs run on OpenBLAS from now on\n",
                    e.message, L->index);
            s->rec_failed = 1;
        }
    }
    return *slot;
}

/* h₋·U for one step: into n->tmp on oneDNN (returned: the caller adds it),
 * else, when acc is given, accumulated into acc by OpenBLAS (NULL returned). */
static const float *recurrent_product(trial_layer *L, const layer_run *r, const rnn *n, const float *hp, float *acc)
{
    rnn_state *s = L->kernel_state;
    dense_mm *mm = s ? f32_gemm(L, &s->rec, n->U, n->G) : NULL;
    hpt_error e;
    if (mm && dense_mm_forward(mm, hp, L->weight[1], r->weights_version, NULL, n->tmp, n->B, &e) == 0) return n->tmp;
    if (acc)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n->B, n->G, n->U, 1.0f, hp, n->U, L->weight[1], n->G,
                    1.0f, acc, n->G);
    return NULL;
}

/* dgates_t (B, G)·Uᵀ for one step, into out (B, U) (beta 0) or added to it
 * (beta 1).  On oneDNN from the transposed copy n->rt (made once per
 * backward by the caller), else OpenBLAS from U itself. */
static void recurrent_grad(trial_layer *L, const layer_run *r, const rnn *n, const float *dg, float *out, float beta)
{
    rnn_state *s = L->kernel_state;
    hpt_error e;
    dense_mm *mm = s ? f32_gemm(L, &s->rec_t, n->G, n->U) : NULL;
    if (mm && dense_mm_forward(mm, dg, n->rt, r->weights_version, NULL, beta ? n->tmp : out, n->B, &e) == 0) {
        if (beta)
            for (size_t i = 0; i < (size_t)n->B * n->U; i++) out[i] += n->tmp[i];
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n->B, n->U, n->G, 1.0f, dg, n->G, L->weight[1], n->G, beta,
                out, n->U);
}

/* ---- elementwise pieces -------------------------------------------------------- */

/* The derivative of act at the point whose output is y, branch-free so the
 * loops around it vectorise: one of the four terms is live. */
typedef struct act_slope { float tanh_like, sigmoid_like, relu_like, linear_like; } act_slope;

static act_slope slope_of(kern_act a)
{
    return (act_slope){ a == KERN_TANH, a == KERN_SIGMOID, a == KERN_RELU, a == KERN_LINEAR };
}

static inline float slope(act_slope s, float y)
{
    return s.tanh_like * (1.0f - y * y) + s.sigmoid_like * y * (1.0f - y) + (y > 0.0f ? s.relu_like : 0.0f) +
           s.linear_like;
}

static void act_inplace(float *v, int n, kern_act a)
{
    if (a != KERN_LINEAR) kern_act_forward(v, v, 1, n, a);
}

/* x (B, T, F) -> xt (T, B, F), and back. */
static void to_time_major(const float *x, float *xt, int B, int T, int F)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(xt + ((size_t)t * B + b) * F, x + ((size_t)b * T + t) * F, sizeof *x * (size_t)F);
}

static void to_batch_major(const float *xt, float *x, int B, int T, int F)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(x + ((size_t)b * T + t) * F, xt + ((size_t)t * B + b) * F, sizeof *x * (size_t)F);
}

/* ---- LSTM ---------------------------------------------------------------------- */

/* gates holds x·W + b; run the steps: gates become i, f, c̃, o; cs, tcs, hs filled. */
static void lstm_forward_steps(trial_layer *L, const layer_run *r, const rnn *n)
{
    int B = n->B, U = n->U, G = n->G;
    for (int t = 0; t < n->T; t++) {
        float *g = n->gates + (size_t)t * B * G;
        const float *hp = n->hs + (size_t)t * B * U;
        float *h = n->hs + (size_t)(t + 1) * B * U;
        const float *cp = t ? n->cs + (size_t)(t - 1) * B * U : NULL;
        float *c = n->cs + (size_t)t * B * U, *tc = n->tcs + (size_t)t * B * U;
        const float *hr = t ? recurrent_product(L, r, n, hp, g) : NULL;
        for (int b = 0; b < B; b++) {
            float *row = g + (size_t)b * G;
            if (hr)
                for (int j = 0; j < G; j++) row[j] += hr[(size_t)b * G + j];
            act_inplace(row, 2 * U, L->gate_act);           /* i, f */
            act_inplace(row + 2 * U, U, L->cell_act);       /* c̃ */
            act_inplace(row + 3 * U, U, L->gate_act);       /* o */
            const float *i = row, *f = row + U, *cc = row + 2 * U;
            float *cb = c + (size_t)b * U;
            if (cp) {
                const float *cpb = cp + (size_t)b * U;
                for (int j = 0; j < U; j++) cb[j] = f[j] * cpb[j] + i[j] * cc[j];
            } else {
                for (int j = 0; j < U; j++) cb[j] = i[j] * cc[j];
            }
            float *tcb = tc + (size_t)b * U, *hb = h + (size_t)b * U;
            if (L->cell_act == KERN_LINEAR) memcpy(tcb, cb, sizeof *cb * (size_t)U);
            else kern_act_forward(cb, tcb, 1, U, L->cell_act);
            const float *o = row + 3 * U;
            for (int j = 0; j < U; j++) hb[j] = o[j] * tcb[j];
        }
    }
}

/* dh (B, U) holds dL/dh_T (plus dy_t each step with return_sequences, dy
 * (B, T, U)); fills dgates with the pre-activation gradients. */
static void lstm_backward_steps(trial_layer *L, const layer_run *r, const rnn *n, const float *dy)
{
    int B = n->B, U = n->U, G = n->G, T = n->T;
    act_slope gs = slope_of(L->gate_act), cs = slope_of(L->cell_act);
    memset(n->dc, 0, sizeof *n->dc * (size_t)B * U);
    for (int t = T - 1; t >= 0; t--) {
        const float *g = n->gates + (size_t)t * B * G;
        float *dg = n->dgates + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            const float *i = g + (size_t)b * G, *f = i + U, *cc = i + 2 * U, *o = i + 3 * U;
            const float *tc = n->tcs + ((size_t)t * B + b) * U;
            const float *cp = t ? n->cs + ((size_t)(t - 1) * B + b) * U : NULL;
            float *dh = n->dh + (size_t)b * U, *dc = n->dc + (size_t)b * U;
            float *di = dg + (size_t)b * G, *df = di + U, *dcc = di + 2 * U, *dout = di + 3 * U;
            if (L->return_sequences) {
                const float *dyb = dy + ((size_t)b * T + t) * U;
                for (int j = 0; j < U; j++) dh[j] += dyb[j];
            }
            for (int j = 0; j < U; j++) {
                float dcv = dc[j] + dh[j] * o[j] * slope(cs, tc[j]);
                dout[j] = dh[j] * tc[j] * slope(gs, o[j]);
                di[j] = dcv * cc[j] * slope(gs, i[j]);
                dcc[j] = dcv * i[j] * slope(cs, cc[j]);
                df[j] = cp ? dcv * cp[j] * slope(gs, f[j]) : 0.0f;
                dc[j] = dcv * f[j];
            }
        }
        /* dh₋ = dgates·Uᵀ (h₀ is a constant: nothing below it). */
        if (t) recurrent_grad(L, r, n, dg, n->dh, 0.0f);
    }
}

/* ---- GRU (reset_after) ---------------------------------------------------------- */

static void gru_forward_steps(trial_layer *L, const layer_run *r, const rnn *n)
{
    int B = n->B, U = n->U, G = n->G;
    const float *R = L->weight[1], *bh = L->size[2] ? L->weight[2] + G : NULL;
    for (int t = 0; t < n->T; t++) {
        float *g = n->gates + (size_t)t * B * G;
        const float *hp = n->hs + (size_t)t * B * U;
        float *h = n->hs + (size_t)(t + 1) * B * U, *rh = n->cs + (size_t)t * B * U;
        if (!t) memset(n->tmp, 0, sizeof *n->tmp * (size_t)B * G);
        else if (recurrent_product(L, r, n, hp, NULL) != n->tmp)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, G, U, 1.0f, hp, U, R, G, 0.0f, n->tmp, G);
        for (int b = 0; b < B; b++) {
            float *row = g + (size_t)b * G;
            const float *hr = n->tmp + (size_t)b * G;
            float *rhb = rh + (size_t)b * U;
            if (bh) {
                for (int j = 0; j < 2 * U; j++) row[j] += hr[j] + bh[j];
                for (int j = 0; j < U; j++) rhb[j] = hr[2 * U + j] + bh[2 * U + j];
            } else {
                for (int j = 0; j < 2 * U; j++) row[j] += hr[j];
                for (int j = 0; j < U; j++) rhb[j] = hr[2 * U + j];
            }
            act_inplace(row, 2 * U, L->gate_act);           /* z, r */
            const float *z = row, *r = row + U;
            float *hh = row + 2 * U;
            for (int j = 0; j < U; j++) hh[j] += r[j] * rhb[j];
            act_inplace(hh, U, L->cell_act);                /* h̃ */
            const float *hpb = hp + (size_t)b * U;
            float *hb = h + (size_t)b * U;
            for (int j = 0; j < U; j++) hb[j] = z[j] * hpb[j] + (1.0f - z[j]) * hh[j];
        }
    }
}

static void gru_backward_steps(trial_layer *L, const layer_run *r, const rnn *n, const float *dy)
{
    int B = n->B, U = n->U, G = n->G, T = n->T;
    act_slope gs = slope_of(L->gate_act), cs = slope_of(L->cell_act);
    for (int t = T - 1; t >= 0; t--) {
        const float *g = n->gates + (size_t)t * B * G;
        float *dgx = n->dgates + (size_t)t * B * G, *dgr = n->dgrec + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            const float *z = g + (size_t)b * G, *r = z + U, *hh = z + 2 * U;
            const float *hp = n->hs + ((size_t)t * B + b) * U, *rh = n->cs + ((size_t)t * B + b) * U;
            float *dh = n->dh + (size_t)b * U;
            float *dxz = dgx + (size_t)b * G, *dxr = dxz + U, *dxh = dxz + 2 * U;
            float *drz = dgr + (size_t)b * G, *drr = drz + U, *drh = drz + 2 * U;
            if (L->return_sequences) {
                const float *dyb = dy + ((size_t)b * T + t) * U;
                for (int j = 0; j < U; j++) dh[j] += dyb[j];
            }
            for (int j = 0; j < U; j++) {
                float dz = dh[j] * (hp[j] - hh[j]) * slope(gs, z[j]);
                float dah = dh[j] * (1.0f - z[j]) * slope(cs, hh[j]);
                float dr = dah * rh[j] * slope(gs, r[j]);
                dxz[j] = drz[j] = dz;
                dxr[j] = drr[j] = dr;
                dxh[j] = dah;
                drh[j] = dah * r[j];
                dh[j] *= z[j];
            }
        }
        if (t) recurrent_grad(L, r, n, dgr, n->dh, 1.0f);
    }
}

/* ---- the layer ------------------------------------------------------------------- */

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    rnn n;
    layout(L, r->B, L->scratch, &n);
    int rows = n.T * n.B;
    L->out = L->y;
    L->sets_grads = 1;      /* every gradient of the layer is written whole by its backward */
    to_time_major(x, n.xt, n.B, n.T, n.F);
    project_forward(L, r, &n, L->size[2] ? L->weight[2] : NULL, rows);
    memset(n.hs, 0, sizeof *n.hs * (size_t)n.B * n.U);
    if (n.gru) gru_forward_steps(L, r, &n);
    else lstm_forward_steps(L, r, &n);
    if (L->return_sequences) to_batch_major(n.hs + (size_t)n.B * n.U, L->y, n.B, n.T, n.U);
    else memcpy(L->y, n.hs + (size_t)rows * n.U, sizeof *L->y * (size_t)n.B * n.U);
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    rnn n;
    layout(L, r->B, L->scratch, &n);
    int rows = n.T * n.B;
    if (L->return_sequences) memset(n.dh, 0, sizeof *n.dh * (size_t)n.B * n.U);
    else memcpy(n.dh, dy, sizeof *n.dh * (size_t)n.B * n.U);
    for (int i = 0; i < n.U; i++)
        for (int j = 0; j < n.G; j++) n.rt[(size_t)j * n.U + i] = L->weight[1][(size_t)i * n.G + j];
    if (n.gru) gru_backward_steps(L, r, &n, dy);
    else lstm_backward_steps(L, r, &n, dy);
    /* dU = Σ_t h₋ᵀ·dgates_t: hs[0..T-1] against every step's recurrent-side gradient. */
    const float *drec = n.gru ? n.dgrec : n.dgates;
    rnn_state *s = L->kernel_state;
    hpt_error e;
    dense_mm *mm = s ? f32_gemm(L, &s->rec_dw, n.U, n.G) : NULL;
    if (!mm ||
        dense_mm_backward(mm, n.hs, drec, L->weight[1], r->weights_version, NULL, L->grad[1], NULL, rows, &e))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n.U, n.G, rows, 1.0f, n.hs, n.U, drec, n.G, 0.0f,
                    L->grad[1], n.G);
    float *db = L->size[2] ? L->grad[2] : NULL;
    if (db && n.gru) {
        /* The recurrent bias row: colsum of the recurrent side. */
        float *dbh = db + n.G;
        memset(dbh, 0, sizeof *dbh * (size_t)n.G);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n.G; j++) dbh[j] += drec[(size_t)i * n.G + j];
    }
    project_backward(L, r, &n, n.dgates, dx ? n.dxt : NULL, db, rows);
    if (dx) to_batch_major(n.dxt, dx, n.B, n.T, n.F);
    return 1;
}

/* ONNX: LSTM or GRU over (steps, N, features), the kernels transposed to
 * (gates, inputs) and the gates put in ONNX's order (the LSTM's i, o, f, c
 * from Keras's i, f, c, o; the GRU's z, r, h are Keras's), the bias as
 * ONNX's (input, recurrent) pair: the LSTM's recurrent half zero, the GRU's
 * Keras's second row; reset_after is linear_before_reset. */
static int onnx(const trial_layer *L, onnx_graph *g)
{
    static const int lstm_gate[4] = { 0, 3, 1, 2 };    /* ONNX gate k is Keras's gate lstm_gate[k] */
    int gru = L->ops == &layer_gru, U = units_of(L), F = L->in[L->in_rank - 1], G = (gru ? 3 : 4) * U;
    /* linear is ONNX's Affine with alpha 1, beta 0 (the lists hold one value per Affine, in order). */
    kern_act kinds[3] = { L->gate_act, L->cell_act, L->cell_act };
    const char *acts[3];
    float alpha[3], beta[3];
    int n_acts = gru ? 2 : 3, n_affine = 0;
    for (int k = 0; k < n_acts; k++) {
        acts[k] = kinds[k] == KERN_LINEAR ? "Affine" : onnx_rnn_activation(kinds[k]);
        if (kinds[k] == KERN_LINEAR) alpha[n_affine] = 1, beta[n_affine++] = 0;
        if (!acts[k]) return onnx_fail(g, L, "its activation has no counterpart among ONNX's recurrent activations");
    }
    float *w = malloc(sizeof *w * ((size_t)G * F + (size_t)G * U + 2 * (size_t)G));
    if (!w) return onnx_fail(g, L, "out of memory");
    float *rk = w + (size_t)G * F, *b = rk + (size_t)G * U;
    const float *bias = L->size[2] ? L->weight[2] : NULL;
    for (int k = 0; k < G / U; k++)
        for (int j = 0; j < U; j++) {
            int row = k * U + j, col = (gru ? k : lstm_gate[k]) * U + j;
            for (int f = 0; f < F; f++) w[(size_t)row * F + f] = L->weight[0][(size_t)f * G + col];
            for (int i = 0; i < U; i++) rk[(size_t)row * U + i] = L->weight[1][(size_t)i * G + col];
            b[row] = bias ? bias[col] : 0;
            b[G + row] = bias && gru ? bias[G + col] : 0;
        }
    int64_t wd[3] = { 1, G, F }, rd[3] = { 1, G, U }, bd[2] = { 1, 2 * G }, tnf[3] = { 1, 0, 2 };
    onnx_attrs t = { 0 }, a = { 0 };
    const char *x = onnx_input(g, L, 0, ONNX_HPTC, 0);
    onnx_attr_ints(&t, "perm", 3, tnf);
    const char *in[4] = { onnx_node(g, L, "Transpose", &t, 1, &x, 1, NULL), onnx_floats(g, L, "kernel", w, 3, wd),
                          onnx_floats(g, L, "recurrent_kernel", rk, 3, rd), onnx_floats(g, L, "bias", b, 2, bd) };
    free(w);
    onnx_attr_int(&a, "hidden_size", U);
    onnx_attr_strings(&a, "activations", n_acts, acts);
    if (n_affine) onnx_attr_floats(&a, "activation_alpha", n_affine, alpha), onnx_attr_floats(&a, "activation_beta", n_affine, beta);
    if (gru) onnx_attr_int(&a, "linear_before_reset", 1);
    const char *out[2];
    onnx_node(g, L, gru ? "GRU" : "LSTM", &a, 4, in, 2, out);
    if (L->return_sequences) {
        /* Y (steps, 1, N, units) -> (N, steps, units) */
        const char *sq[2] = { out[0], onnx_int64s(g, L, 1, (const int64_t[]){ 1 }) };
        const char *y = onnx_node(g, L, "Squeeze", NULL, 2, sq, 1, NULL);
        onnx_attr_ints(&t, "perm", 3, tnf);
        onnx_output(g, L, onnx_node(g, L, "Transpose", &t, 1, &y, 1, NULL), ONNX_HPTC);
    } else {
        const char *sq[2] = { out[1], onnx_int64s(g, L, 1, (const int64_t[]){ 0 }) };
        onnx_output(g, L, onnx_node(g, L, "Squeeze", NULL, 2, sq, 1, NULL), ONNX_HPTC);
    }
    return 0;
}

const layer_ops layer_lstm = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .init = init, .forward = forward,
                               .backward = backward, .release = release, .onnx = onnx };
const layer_ops layer_gru = { .flags = LAYER_BLAS, .plan = plan, .sizes = sizes, .init = init, .forward = forward,
                              .backward = backward, .release = release, .onnx = onnx };
