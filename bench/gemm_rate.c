/* gemm_rate.c: OpenBLAS, oneDNN and libxsmm, one thread, at the exact GEMM
 * and convolution shapes of hptc's trials, in f32 and bf16 (issue 13, item 5:
 * choose the kernel library with figures).
 *
 *   gemm_rate [--seconds S]      S = measuring time per figure (default 0.3)
 *
 * Every GEMM is row-major C(M,N) = op(A)(M,K) op(B)(K,N), Keras layouts
 * (Dense kernel (in,out), batch first).  For a Dense layer in->out at batch B:
 *   fwd  Y  = X W      M=B  K=in  N=out  A = X (B,in), B = W (in,out)      NN
 *   dw   dW = X^T dY   M=in K=B   N=out  A = X stored (B,in): transposed   TN
 *   dx   dX = dY W^T   M=B  K=out N=in   B = W stored (in,out): transposed NT
 * The "weights" operand of a library (oneDNN's WEIGHTS, the packed one) is
 * always op(B): W for fwd and dx, dY for dw.  Convolutions run hptc's own
 * im2col + sgemm path (copied from runtime/nn/kernels.c: chunks of about 1024
 * output rows) and oneDNN's convolution primitives, NHWC activations.
 *
 * Each variant is checked once against OpenBLAS f32 before it is timed
 * (max |C - C_ref| / max |C_ref|; bf16 within 3e-2).  Every GEMM here is
 * beta = 0 (hptc's dW accumulates with beta = 1: one more read of C).
 * Timing: warm up, then the median of many repeats (calls
 * shorter than 20 us are timed in groups).  Operand conversions and packing
 * are done once outside the timed loop; the reorder rows give that cost.
 * Last lines, for scripts: "gemm_rate SHAPE VARIANT GFLOPS", and for the
 * reorders "gemm_rate SHAPE reorder_..._us MICROSECONDS". */
#include <cblas.h>
#include <libxsmm.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/nn/blas.h"
#include "runtime/nn/onednn.h"

static double budget = 0.3; /* seconds of measuring per figure */

/* ------------------------------------------------------------- timing */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef void (*run_fn)(void *ctx);

/* Median seconds of one call of run(ctx): warm-up first (page faults, JIT,
 * clocks), then repeats filling the budget; calls under 20 us are timed in
 * groups so the clock's own cost stays below 1%. */
static double median_seconds(run_fn run, void *ctx)
{
    double t0 = now();
    long calls = 0;
    while (calls < 5 || now() - t0 < 0.2 * budget) run(ctx), calls++;
    double per_call = (now() - t0) / (double)calls;
    int group = per_call < 20e-6 ? (int)(20e-6 / per_call) + 1 : 1;
    int samples = (int)(budget / (per_call * group));
    if (samples < 21) samples = 21;
    if (samples > 20000) samples = 20000;
    double *t = malloc((size_t)samples * sizeof *t);
    if (t == NULL) return -1;
    for (int i = 0; i < samples; i++) {
        double s = now();
        for (int g = 0; g < group; g++) run(ctx);
        t[i] = (now() - s) / group;
    }
    qsort(t, (size_t)samples, sizeof *t, cmp_double);
    double m = samples % 2 ? t[samples / 2] : 0.5 * (t[samples / 2 - 1] + t[samples / 2]);
    free(t);
    return m;
}

/* ------------------------------------------------------------ results */

#define MAX_RESULTS 512

typedef struct result {
    char shape[24], variant[32];
    double gflops, base; /* base: the OpenBLAS figure of the same shape */
    double us;           /* reorder rows: microseconds, and gflops is 0 */
    char impl[48];       /* oneDNN's implementation, libxsmm's kernel, ... */
    char note[160];
} result;

static result results[MAX_RESULTS];
static int nresults;

static void add_result(const char *shape, const char *variant, double gflops, double base,
                       const char *impl, const char *note)
{
    if (nresults == MAX_RESULTS) return;
    result *r = &results[nresults++];
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    snprintf(r->variant, sizeof r->variant, "%s", variant);
    r->gflops = gflops, r->base = base, r->us = 0;
    snprintf(r->impl, sizeof r->impl, "%s", impl ? impl : "");
    snprintf(r->note, sizeof r->note, "%s", note ? note : "");
}

/* The figure already measured for (shape, variant), or 0. */
static double gflops_of(const char *shape, const char *variant)
{
    for (int i = 0; i < nresults; i++)
        if (!strcmp(results[i].shape, shape) && !strcmp(results[i].variant, variant))
            return results[i].gflops;
    return 0;
}

/* --------------------------------------------------------- buffers */

static float *filled(size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (p == NULL) fprintf(stderr, "gemm_rate: out of memory\n"), exit(1);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

/* f32 -> bf16, round to nearest even (inputs here are finite). */
static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/* max |c - ref| / max |ref|: 0 for equal, about 1e-6 for f32 reordering. */
static double rel_error(const float *c, const float *ref, size_t n)
{
    double err = 0, big = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - ref[i]), r = fabs((double)ref[i]);
        if (d > err || d != d) err = d != d ? INFINITY : d;
        if (r > big) big = r;
    }
    return big > 0 ? err / big : err;
}

/* "ok 3.1e-07" or "WRONG 0.5", and whether it passed. */
static int check(const float *c, const float *ref, size_t n, int bf16, char *note, size_t len)
{
    double e = rel_error(c, ref, n);
    int ok = e <= (bf16 ? 3e-2 : 1e-4);
    snprintf(note, len, "%s %.1e", ok ? "check ok" : "WRONG", e);
    return ok;
}

/* ------------------------------------------------------------ shapes */

typedef struct shape {
    const char *name, *what;
    int m, n, k;
    int ta, tb; /* row-major op(A), op(B) transposed */
} shape;

static const shape shapes[] = {
    {"mlp1_fwd", "Dense 784->512 fwd  Y=X W", 32, 512, 784, 0, 0},
    {"mlp1_dw", "Dense 784->512 dW=X^T dY", 784, 512, 32, 1, 0},
    {"mlp1_dx", "Dense 784->512 dX=dY W^T", 32, 784, 512, 0, 1},
    {"mlp2_fwd", "Dense 512->10 fwd", 32, 10, 512, 0, 0},
    {"mlp2_dw", "Dense 512->10 dW", 512, 10, 32, 1, 0},
    {"mlp2_dx", "Dense 512->10 dX", 32, 512, 10, 0, 1},
    {"cnn_d1_fwd", "CNN Dense 1600->128 fwd", 32, 128, 1600, 0, 0},
    {"cnn_d1_dw", "CNN Dense 1600->128 dW", 1600, 128, 32, 1, 0},
    {"cnn_d1_dx", "CNN Dense 1600->128 dX", 32, 1600, 128, 0, 1},
    {"cnn_d2_fwd", "CNN Dense 128->10 fwd", 32, 10, 128, 0, 0},
    {"cnn_d2_dw", "CNN Dense 128->10 dW", 128, 10, 32, 1, 0},
    {"cnn_d2_dx", "CNN Dense 128->10 dX", 32, 128, 10, 0, 1},
    /* hptc's im2col GEMMs, one chunk (2 images of 26x26, 9 of 11x11). */
    {"conv1_gemm_fwd", "Conv 1->32 im2col fwd", 1352, 32, 9, 0, 0},
    {"conv1_gemm_dw", "Conv 1->32 im2col dW", 9, 32, 1352, 1, 0},
    {"conv1_gemm_dx", "Conv 1->32 im2col dcol", 1352, 9, 32, 0, 1},
    {"conv2_gemm_fwd", "Conv 32->64 im2col fwd", 1089, 64, 288, 0, 0},
    {"conv2_gemm_dw", "Conv 32->64 im2col dW", 288, 64, 1089, 1, 0},
    {"conv2_gemm_dx", "Conv 32->64 im2col dcol", 1089, 288, 64, 0, 1},
};

typedef struct operands {
    const shape *s;
    float *a, *b, *c, *ref; /* a, b stored as op says: ta ? (K,M) : (M,K) */
    int lda, ldb;
} operands;

static double flops_of(const shape *s) { return 2.0 * s->m * s->n * s->k; }

static double flops_of_name(const char *name)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].name, name)) return flops_of(&shapes[i]);
    return 0;
}

/* ------------------------------------------------------------ OpenBLAS */

static void run_openblas(void *ctx)
{
    operands *o = ctx;
    const shape *s = o->s;
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                s->m, s->n, s->k, 1.0f, o->a, o->lda, o->b, o->ldb, 0.0f, o->c, s->n);
}

static void run_dnnl_sgemm(void *ctx)
{
    operands *o = ctx;
    const shape *s = o->s;
    dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, 1.0f, o->a, o->lda, o->b,
               o->ldb, 0.0f, o->c, s->n);
}

/* ------------------------------------------------------------ oneDNN */

/* Any oneDNN primitive with its arguments bound: matmul, reorder, conv. */
typedef struct onednn_run {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[4];
    dnnl_memory_t owned[8]; /* memories to free */
    int nowned;
    char impl[48];
} onednn_run;

static void run_onednn(void *ctx)
{
    onednn_run *r = ctx;
    dnnl_primitive_execute(r->prim, onednn_stream(), r->nargs, r->args);
}

static void onednn_free(onednn_run *r)
{
    if (r->prim) dnnl_primitive_destroy(r->prim);
    for (int i = 0; i < r->nowned; i++) dnnl_memory_destroy(r->owned[i]);
    memset(r, 0, sizeof *r);
}

static void impl_of(const_dnnl_primitive_desc_t pd, char *buf, size_t n)
{
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s)
        s = "?";
    snprintf(buf, n, "%s", s);
}

/* Copy memory `from` into a new memory of layout `to` (allocated by oneDNN)
 * through a reorder: how packed and bf16 copies are made.  NULL on failure. */
static dnnl_memory_t reordered(dnnl_memory_t from, const dnnl_memory_desc_t *to)
{
    const dnnl_memory_desc_t *from_md;
    dnnl_memory_get_memory_desc(from, &from_md);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t out;
    if (dnnl_reorder_primitive_desc_create(&pd, from_md, onednn_engine(), to, onednn_engine(),
                                           NULL) != dnnl_success)
        return NULL;
    dnnl_primitive_create(&prim, pd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_create(&out, to, onednn_engine(), DNNL_MEMORY_ALLOCATE);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, out}};
    dnnl_primitive_execute(prim, onednn_stream(), 2, args);
    dnnl_stream_wait(onednn_stream());
    dnnl_primitive_destroy(prim);
    return out;
}

static dnnl_memory_t user_memory(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag,
                                 void *data)
{
    dnnl_memory_desc_t md;
    dnnl_memory_t m;
    dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag);
    return dnnl_memory_create(&m, &md, onednn_engine(), data) == dnnl_success ? m : NULL;
}

/* A matmul at shape s: A in dt (ba when transposed), B in dt, either packed
 * (format any, reordered once here) or plain (ba when transposed), C f32
 * plain onto o->c.  -1 with why filled when oneDNN has no implementation. */
static int matmul_create(onednn_run *r, const operands *o, dnnl_data_type_t dt, int packed,
                         char *why, size_t len)
{
    const shape *s = o->s;
    memset(r, 0, sizeof *r);
    dnnl_dims_t ad = {s->m, s->k}, bd = {s->k, s->n}, cd = {s->m, s->n};
    dnnl_memory_desc_t amd, bmd, cmd;
    dnnl_memory_desc_init_by_tag(&amd, 2, ad, dt, s->ta ? dnnl_ba : dnnl_ab);
    dnnl_memory_desc_init_by_tag(&bmd, 2, bd, dt,
                                 packed ? dnnl_format_tag_any : s->tb ? dnnl_ba : dnnl_ab);
    dnnl_memory_desc_init_by_tag(&cmd, 2, cd, dnnl_f32, dnnl_ab);
    dnnl_matmul_desc_t desc;
    dnnl_primitive_desc_t pd;
    dnnl_matmul_desc_init(&desc, &amd, &bmd, NULL, &cmd);
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, NULL, onednn_engine(), NULL);
    if (st != dnnl_success) return snprintf(why, len, "no implementation (status %d)", st), -1;
    impl_of(pd, r->impl, sizeof r->impl);
    dnnl_primitive_create(&r->prim, pd);
    dnnl_memory_t ua = user_memory(2, ad, s->ta ? dnnl_ba : dnnl_ab, o->a);
    dnnl_memory_t ub = user_memory(2, bd, s->tb ? dnnl_ba : dnnl_ab, o->b);
    dnnl_memory_t c = user_memory(2, cd, dnnl_ab, o->c);
    dnnl_memory_t a = dt == dnnl_f32 ? ua : reordered(ua, &amd);
    dnnl_memory_t b = reordered(ub, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
    dnnl_primitive_desc_destroy(pd);
    r->owned[r->nowned++] = ua, r->owned[r->nowned++] = ub, r->owned[r->nowned++] = c;
    if (a != ua) r->owned[r->nowned++] = a;
    if (b) r->owned[r->nowned++] = b;
    if (!a || !b || !c) return snprintf(why, len, "reorder failed"), onednn_free(r), -1;
    r->nargs = 3;
    r->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, a};
    r->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, b};
    r->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, c};
    return 0;
}

/* The per-step cost of refreshing a packed copy of shape s's B operand from
 * its plain f32 master: a reorder into the matmul's own weights layout. */
static int packing_create(onednn_run *r, const operands *o, dnnl_data_type_t dt, char *why,
                          size_t len)
{
    onednn_run mm;
    if (matmul_create(&mm, o, dt, 1, why, len) != 0) return -1;
    const dnnl_memory_desc_t *packed_md;
    dnnl_memory_get_memory_desc(mm.args[1].memory, &packed_md);
    dnnl_memory_desc_t to = *packed_md;
    onednn_free(&mm);
    memset(r, 0, sizeof *r);
    const shape *s = o->s;
    dnnl_dims_t bd = {s->k, s->n};
    dnnl_memory_t from = user_memory(2, bd, s->tb ? dnnl_ba : dnnl_ab, o->b), out;
    const dnnl_memory_desc_t *from_md;
    dnnl_memory_get_memory_desc(from, &from_md);
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, from_md, onednn_engine(), &to, onednn_engine(),
                                           NULL) != dnnl_success)
        return snprintf(why, len, "no reorder"), dnnl_memory_destroy(from), -1;
    impl_of(pd, r->impl, sizeof r->impl);
    dnnl_primitive_create(&r->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_create(&out, &to, onednn_engine(), DNNL_MEMORY_ALLOCATE);
    r->owned[r->nowned++] = from, r->owned[r->nowned++] = out;
    r->nargs = 2;
    r->args[0] = (dnnl_exec_arg_t){DNNL_ARG_FROM, from};
    r->args[1] = (dnnl_exec_arg_t){DNNL_ARG_TO, out};
    return 0;
}

/* ------------------------------------------------------------ libxsmm */

/* libxsmm is column-major: row-major C = op(A) op(B) is column-major
 * C^T (N,M) = op(B)^T op(A)^T, so libxsmm's a is our B and its b our A.
 * 1.17's JIT has no transposed a (our B transposed, dx) in f32 and no
 * transposes at all in bf16, where a must also be VNNI-packed (pairs of k
 * interleaved) and K even.  Where the layout is missing, the operand is
 * re-laid once here, outside the timed loop, and the note says so. */
typedef struct xsmm_run {
    libxsmm_smmfunction f32;
    libxsmm_bsmmfunction bf16;
    void *a, *b; /* libxsmm's a and b (our B and A), in the layout dispatched */
    float *c;
} xsmm_run;

static void run_xsmm(void *ctx)
{
    xsmm_run *x = ctx;
    if (x->f32) x->f32(x->a, x->b, x->c);
    else x->bf16(x->a, x->b, x->c);
}

/* Row-major (rows, cols) -> row-major (cols, rows). */
static float *transposed(const float *p, int rows, int cols)
{
    float *t = malloc((size_t)rows * cols * sizeof *t);
    if (t == NULL) fprintf(stderr, "gemm_rate: out of memory\n"), exit(1);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) t[(size_t)j * rows + i] = p[(size_t)i * cols + j];
    return t;
}

static int xsmm_create(xsmm_run *x, const operands *o, int bf16, char *note, size_t len)
{
    const shape *s = o->s;
    memset(x, 0, sizeof *x);
    x->c = o->c;
    const float alpha = 1, beta = 0;
    libxsmm_blasint m = s->n, n = s->m, k = s->k, ldc = s->n;
    note[0] = 0;
    if (!bf16) {
        /* a = B: stored (K,N) is column-major (N,K), lda N; transposed
         * (stored (N,K)) needs TRANS_A, which the JIT lacks: pre-transpose. */
        const float *b = o->b;
        if (s->tb) b = transposed(o->b, s->n, s->k), snprintf(note, len, "B pre-transposed");
        int flags = s->ta ? LIBXSMM_GEMM_FLAG_TRANS_B : 0;
        libxsmm_blasint lda = s->n, ldb = s->ta ? s->m : s->k;
        x->f32 = libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
        x->a = (void *)b, x->b = o->a;
        if (x->f32) return 0;
        if (b != o->b) free((void *)b);
        return snprintf(note, len, "smmdispatch: no kernel"), -1;
    }
    if (s->k % 2) return snprintf(note, len, "bf16 needs even K (VNNI pairs); K=%d", s->k), -1;
    /* a = B as column-major (N,K) in VNNI: [k/2][n][2].  b = A as
     * column-major (K,M) plain: A row-major (M,K). */
    const float *b = s->tb ? transposed(o->b, s->n, s->k) : o->b;     /* (K,N) */
    const float *a = s->ta ? transposed(o->a, s->k, s->m) : o->a;     /* (M,K) */
    uint16_t *av = malloc((size_t)s->k * s->n * sizeof *av);
    uint16_t *bv = malloc((size_t)s->m * s->k * sizeof *bv);
    if (!av || !bv) fprintf(stderr, "gemm_rate: out of memory\n"), exit(1);
    for (int kk = 0; kk < s->k; kk++)
        for (int j = 0; j < s->n; j++)
            av[((size_t)(kk / 2) * s->n + j) * 2 + kk % 2] = to_bf16(b[(size_t)kk * s->n + j]);
    for (size_t i = 0; i < (size_t)s->m * s->k; i++) bv[i] = to_bf16(a[i]);
    if (b != o->b) free((void *)b);
    if (a != o->a) free((void *)a);
    snprintf(note, len, "B VNNI-packed%s%s", s->tb ? ", B pre-transposed" : "",
             s->ta ? ", A pre-transposed" : "");
    int flags = LIBXSMM_GEMM_FLAG_VNNI_A;
    libxsmm_blasint lda = s->n, ldb = s->k;
    x->bf16 = libxsmm_bsmmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
    x->a = av, x->b = bv;
    if (x->bf16) return 0;
    free(av), free(bv);
    return snprintf(note, len, "bsmmdispatch: no kernel"), -1;
}

/* ------------------------------------------------------- GEMM section */

static void gemm_row(const char *shape, const char *variant, double fl, double secs, double base,
                     const char *impl, const char *note)
{
    add_result(shape, variant, secs > 0 ? fl / secs * 1e-9 : 0, base, impl, note);
}

/* Check the variant's C against the reference and time it; 0 GFLOP/s and
 * the reason when it has no kernel or computes something else. */
static void measure(const char *variant, run_fn run, void *ctx, operands *o, int bf16,
                    double base, const char *impl, const char *note)
{
    const shape *s = o->s;
    size_t nc = (size_t)s->m * s->n;
    char chk[32], full[256];
    memset(o->c, 0, nc * sizeof *o->c);
    run(ctx);
    dnnl_stream_wait(onednn_stream());
    int ok = check(o->c, o->ref, nc, bf16, chk, sizeof chk);
    snprintf(full, sizeof full, "%s%s%s", chk, note && *note ? "; " : "", note ? note : "");
    gemm_row(s->name, variant, flops_of(s), ok ? median_seconds(run, ctx) : 0, base, impl, full);
}

static void gemm_section(const shape *s)
{
    operands o = {.s = s};
    o.a = filled((size_t)s->m * s->k);
    o.b = filled((size_t)s->k * s->n);
    o.c = filled((size_t)s->m * s->n);
    o.ref = filled((size_t)s->m * s->n);
    o.lda = s->ta ? s->m : s->k;
    o.ldb = s->tb ? s->k : s->n;
    char why[96];

    run_openblas(&o);
    memcpy(o.ref, o.c, (size_t)s->m * s->n * sizeof *o.c);
    double base = flops_of(s) / median_seconds(run_openblas, &o) * 1e-9;
    char what[96];
    snprintf(what, sizeof what, "%s: M=%d N=%d K=%d %c%c", s->what, s->m, s->n, s->k,
             s->ta ? 'T' : 'N', s->tb ? 'T' : 'N');
    add_result(s->name, "openblas_f32", base, base, blas_core_name(), what);

    measure("onednn_sgemm", run_dnnl_sgemm, &o, &o, 0, base, "dnnl_sgemm", NULL);

    static const struct {
        const char *name;
        dnnl_data_type_t dt;
        int packed;
    } mm[] = {
        {"onednn_f32_packed", dnnl_f32, 1},
        {"onednn_f32_plain", dnnl_f32, 0},
        {"onednn_bf16_packed", dnnl_bf16, 1},
        {"onednn_bf16_plain", dnnl_bf16, 0},
    };
    for (size_t i = 0; i < sizeof mm / sizeof *mm; i++) {
        onednn_run r;
        if (mm[i].dt == dnnl_bf16 && !onednn_has_bf16()) {
            add_result(s->name, mm[i].name, 0, base, "", "skipped: no bf16 instructions here");
            continue;
        }
        if (matmul_create(&r, &o, mm[i].dt, mm[i].packed, why, sizeof why) != 0) {
            add_result(s->name, mm[i].name, 0, base, "", why);
            continue;
        }
        measure(mm[i].name, run_onednn, &r, &o, mm[i].dt == dnnl_bf16, base, r.impl, NULL);
        onednn_free(&r);
    }

    for (int bf16 = 0; bf16 <= 1; bf16++) {
        const char *name = bf16 ? "libxsmm_bf16" : "libxsmm_f32";
        xsmm_run x;
        if (xsmm_create(&x, &o, bf16, why, sizeof why) != 0) {
            add_result(s->name, name, 0, base, "", why);
            continue;
        }
        measure(name, run_xsmm, &x, &o, bf16, base, libxsmm_get_target_arch(), why);
        if (x.a != o.b) free(x.a);
        if (x.b != o.a) free(x.b);
    }

    /* The packed weights' per-step refresh (forward shapes: B is W). */
    if (!s->ta && !s->tb) {
        for (int bf16 = 0; bf16 <= 1; bf16++) {
            onednn_run r;
            const char *name = bf16 ? "reorder_f32_to_bf16_packed" : "reorder_f32_to_f32_packed";
            if (bf16 && !onednn_has_bf16()) continue;
            if (packing_create(&r, &o, bf16 ? dnnl_bf16 : dnnl_f32, why, sizeof why) != 0) {
                add_result(s->name, name, 0, base, "", why);
                continue;
            }
            double t = median_seconds(run_onednn, &r);
            /* Compared with the GEMM it feeds: how many forward GEMMs one
             * refresh of W costs. */
            double served = gflops_of(s->name, bf16 ? "onednn_bf16_packed" : "onednn_f32_packed");
            char note[160];
            snprintf(note, sizeof note, "per refresh of W (%dx%d); = %.2f %s GEMMs", s->k, s->n,
                     served > 0 ? t / (flops_of(s) / served * 1e-9) : 0,
                     bf16 ? "onednn_bf16_packed" : "onednn_f32_packed");
            add_result(s->name, name, 0, base, r.impl, note);
            results[nresults - 1].us = t * 1e6;
            onednn_free(&r);
        }
    }
    free(o.a), free(o.b), free(o.c), free(o.ref);
}

/* ------------------------------------------------------ conv section */

/* One Conv2D layer of the CNN example: valid 3x3, stride 1, NHWC,
 * Keras weights (kh, kw, C, F). */
typedef struct conv {
    const char *name;
    int B, H, W, C, F, k, OH, OW, chunk;
    float *x, *w, *y, *dy, *dw, *dx, *col;
    float *ref_y, *ref_dw, *ref_dx;
} conv;

static size_t conv_kkc(const conv *c) { return (size_t)c->k * c->k * c->C; }
static size_t conv_rows(const conv *c) { return (size_t)c->OH * c->OW; }
static double conv_flops(const conv *c)
{
    return 2.0 * c->B * c->OH * c->OW * c->F * (double)conv_kkc(c);
}

/* im2col and col2im as runtime/nn/kernels.c has them (valid padding). */
static void im2col(const conv *g, const float *x, int nimg, float *col)
{
    const int C = g->C, kw = g->k;
    const size_t kkc = conv_kkc(g);
    for (int b = 0; b < nimg; b++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                float *row = col + (((size_t)b * g->OH + oh) * g->OW + ow) * kkc;
                for (int ki = 0; ki < g->k; ki++)
                    memcpy(row + (size_t)ki * kw * C,
                           x + (((size_t)b * g->H + oh + ki) * g->W + ow) * C,
                           (size_t)kw * C * sizeof *row);
            }
}

static void col2im(const conv *g, const float *col, int nimg, float *dx)
{
    const int C = g->C, kw = g->k;
    const size_t kkc = conv_kkc(g), len = (size_t)kw * C;
    memset(dx, 0, (size_t)nimg * g->H * g->W * C * sizeof *dx);
    for (int b = 0; b < nimg; b++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                const float *row = col + (((size_t)b * g->OH + oh) * g->OW + ow) * kkc;
                for (int ki = 0; ki < g->k; ki++) {
                    const float *restrict src = row + (size_t)ki * kw * C;
                    float *restrict dst = dx + (((size_t)b * g->H + oh + ki) * g->W + ow) * C;
                    for (size_t i = 0; i < len; i++) dst[i] += src[i];
                }
            }
}

/* hptc's path over the whole batch, chunk by chunk, as kern_conv2d_*:
 * with_layout = 0 times the GEMMs alone on a col block made once (hot, as
 * it is in hptc right after im2col), 1 adds im2col / col2im. */
typedef struct im2col_run {
    conv *c;
    int pass; /* 0 fwd, 1 bwd data, 2 bwd weights */
    int with_layout;
} im2col_run;

static void run_im2col(void *ctx)
{
    im2col_run *r = ctx;
    conv *g = r->c;
    const int F = g->F, kkc = (int)conv_kkc(g);
    const size_t in_img = (size_t)g->H * g->W * g->C, out_rows = conv_rows(g);
    if (r->pass == 2) memset(g->dw, 0, (size_t)kkc * F * sizeof *g->dw);
    for (int b0 = 0; b0 < g->B; b0 += g->chunk) {
        int nimg = g->B - b0 < g->chunk ? g->B - b0 : g->chunk;
        int rows = (int)(nimg * out_rows);
        const float *x = g->x + (size_t)b0 * in_img;
        if (r->pass == 0) {
            if (r->with_layout) im2col(g, x, nimg, g->col);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, F, kkc, 1.0f, g->col, kkc,
                        g->w, F, 0.0f, g->y + (size_t)b0 * out_rows * F, F);
        } else if (r->pass == 2) {
            if (r->with_layout) im2col(g, x, nimg, g->col);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kkc, F, rows, 1.0f, g->col, kkc,
                        g->dy + (size_t)b0 * out_rows * F, F, 1.0f, g->dw, F);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, kkc, F, 1.0f,
                        g->dy + (size_t)b0 * out_rows * F, F, g->w, F, 0.0f, g->col, kkc);
            if (r->with_layout) col2im(g, g->col, nimg, g->dx + (size_t)b0 * in_img);
        }
    }
}

/* The reference results: hptc's path with the layout steps. */
static void conv_reference(conv *g)
{
    for (int pass = 0; pass < 3; pass++) {
        im2col_run r = {g, pass, 1};
        run_im2col(&r);
    }
    memcpy(g->ref_y, g->y, (size_t)g->B * conv_rows(g) * g->F * sizeof *g->y);
    memcpy(g->ref_dw, g->dw, conv_kkc(g) * g->F * sizeof *g->dw);
    memcpy(g->ref_dx, g->dx, (size_t)g->B * g->H * g->W * g->C * sizeof *g->dx);
}

/* oneDNN convolution for one pass: activations NHWC (bf16 in, f32 out when
 * dt is bf16), weights `any` (the primitive's blocked layout, reordered from
 * Keras hwio once here, not timed).  After one run it checks the output
 * (weights gradient reordered back to hwio) against the reference. */
static int conv_create(onednn_run *r, conv *g, int pass, dnnl_data_type_t dt, double *err,
                       char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    dnnl_dims_t sd = {g->B, g->C, g->H, g->W}, wd = {g->F, g->C, g->k, g->k},
                dd = {g->B, g->F, g->OH, g->OW}, strides = {1, 1}, pad = {0, 0};
    dnnl_data_type_t out = dnnl_f32;
    dnnl_memory_desc_t smd, wmd, dmd, dsmd, dwmd, ddmd;
    dnnl_memory_desc_init_by_tag(&smd, 4, sd, dt, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dmd, 4, dd, out, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&dsmd, 4, sd, out, dnnl_nhwc);   /* diff_src: f32 */
    dnnl_memory_desc_init_by_tag(&dwmd, 4, wd, out, dnnl_format_tag_any); /* diff_weights: f32 */
    dnnl_memory_desc_init_by_tag(&ddmd, 4, dd, dt, dnnl_nhwc);    /* diff_dst: dt */
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, pd;
    dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &smd,
                                       &wmd, NULL, &dmd, strides, pad, pad);
    dnnl_status_t st = dnnl_primitive_desc_create(&fpd, &fd, NULL, onednn_engine(), NULL);
    if (st != dnnl_success) return snprintf(why, len, "no forward implementation (%d)", st), -1;
    if (pass == 0) {
        pd = fpd;
    } else {
        if (pass == 1)
            dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &dsmd, &wmd,
                                                     &ddmd, strides, pad, pad);
        else
            dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &smd, &dwmd,
                                                        NULL, &ddmd, strides, pad, pad);
        st = dnnl_primitive_desc_create(&pd, &bd, NULL, onednn_engine(), fpd);
        dnnl_primitive_desc_destroy(fpd);
        if (st != dnnl_success) return snprintf(why, len, "no implementation (%d)", st), -1;
    }
    impl_of(pd, r->impl, sizeof r->impl);
    dnnl_primitive_create(&r->prim, pd);
    dnnl_memory_t ux = user_memory(4, sd, dnnl_nhwc, g->x), uw = user_memory(4, wd, dnnl_hwio, g->w),
                  udy = user_memory(4, dd, dnnl_nhwc, g->dy), uy = user_memory(4, dd, dnnl_nhwc, g->y),
                  udx = user_memory(4, sd, dnnl_nhwc, g->dx);
    dnnl_memory_t mine[5] = {ux, uw, udy, uy, udx};
    for (int i = 0; i < 5; i++) r->owned[r->nowned++] = mine[i];
    const dnnl_memory_desc_t *want_w = dnnl_primitive_desc_query_md(
        pd, pass == 2 ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
    dnnl_memory_t w = NULL, x = NULL, dy = NULL;
    if (pass == 2) dnnl_memory_create(&w, want_w, onednn_engine(), DNNL_MEMORY_ALLOCATE);
    else w = reordered(uw, want_w);
    if (pass != 1) x = dt == dnnl_f32 ? ux : reordered(ux, &smd);
    if (pass != 0) dy = dt == dnnl_f32 ? udy : reordered(udy, &ddmd);
    if (w) r->owned[r->nowned++] = w;
    if (x && x != ux) r->owned[r->nowned++] = x;
    if (dy && dy != udy) r->owned[r->nowned++] = dy;
    dnnl_primitive_desc_destroy(pd);
    if (!w || (pass != 1 && !x) || (pass != 0 && !dy))
        return snprintf(why, len, "reorder failed"), onednn_free(r), -1;
    r->nargs = 3;
    if (pass == 0) {
        r->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, x};
        r->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, w};
        r->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, uy};
    } else if (pass == 1) {
        r->args[0] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, dy};
        r->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, w};
        r->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, udx};
    } else {
        r->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, x};
        r->args[1] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, dy};
        r->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS, w};
    }
    run_onednn(r);
    dnnl_stream_wait(onednn_stream());
    if (pass == 0) {
        *err = rel_error(g->y, g->ref_y, (size_t)g->B * conv_rows(g) * g->F);
    } else if (pass == 1) {
        *err = rel_error(g->dx, g->ref_dx, (size_t)g->B * g->H * g->W * g->C);
    } else {
        const dnnl_memory_desc_t *hwio;
        dnnl_memory_get_memory_desc(uw, &hwio);
        dnnl_memory_t back = reordered(w, hwio);
        void *p = NULL;
        dnnl_memory_get_data_handle(back, &p);
        *err = back && p ? rel_error(p, g->ref_dw, conv_kkc(g) * g->F) : INFINITY;
        if (back) dnnl_memory_destroy(back);
    }
    return 0;
}

static void conv_section(conv *g)
{
    static const char *pass_name[3] = {"fwd", "bwd_data", "bwd_weights"};
    srand(2);
    size_t xs = (size_t)g->B * g->H * g->W * g->C, ys = (size_t)g->B * conv_rows(g) * g->F;
    size_t ws = conv_kkc(g) * g->F;
    g->x = filled(xs), g->dx = filled(xs), g->ref_dx = filled(xs);
    g->y = filled(ys), g->dy = filled(ys), g->ref_y = filled(ys);
    g->w = filled(ws), g->dw = filled(ws), g->ref_dw = filled(ws);
    g->col = filled((size_t)g->chunk * conv_rows(g) * conv_kkc(g));
    conv_reference(g);
    im2col(g, g->x, g->chunk, g->col); /* the hot block of the GEMM-only runs */
    double fl = conv_flops(g);
    char shape_name[24], note[96];
    for (int pass = 0; pass < 3; pass++) {
        snprintf(shape_name, sizeof shape_name, "%s_%s", g->name, pass_name[pass]);
        im2col_run full = {g, pass, 1}, gemm = {g, pass, 0};
        double base = fl / median_seconds(run_im2col, &full) * 1e-9;
        snprintf(note, sizeof note, "B=%d %dx%dx%d -> %dx%dx%d, 3x3 valid; %s", g->B, g->H, g->W,
                 g->C, g->OH, g->OW, g->F, pass == 1 ? "GEMM + col2im" : "GEMM + im2col");
        add_result(shape_name, "openblas_im2col", base, base, blas_core_name(), note);
        gemm_row(shape_name, "openblas_gemm_only", fl, median_seconds(run_im2col, &gemm), base,
                 blas_core_name(), "the chunk GEMMs alone, col block hot");
        for (int bf16 = 0; bf16 <= 1; bf16++) {
            const char *variant = bf16 ? "onednn_conv_bf16" : "onednn_conv_f32";
            onednn_run r;
            double err;
            char why[96];
            if (bf16 && !onednn_has_bf16()) {
                add_result(shape_name, variant, 0, base, "", "skipped: no bf16 instructions here");
                continue;
            }
            if (conv_create(&r, g, pass, bf16 ? dnnl_bf16 : dnnl_f32, &err, why, sizeof why)) {
                add_result(shape_name, variant, 0, base, "", why);
                continue;
            }
            int ok = err <= (bf16 ? 3e-2 : 1e-4);
            snprintf(note, sizeof note, "%s %.1e", ok ? "check ok" : "WRONG", err);
            gemm_row(shape_name, variant, fl, ok ? median_seconds(run_onednn, &r) : 0, base,
                     r.impl, note);
            onednn_free(&r);
        }
    }
    free(g->x), free(g->dx), free(g->ref_dx), free(g->y), free(g->dy), free(g->ref_y);
    free(g->w), free(g->dw), free(g->ref_dw), free(g->col);
}

/* ------------------------------------------------------------- output */

static void print_table(void)
{
    const char *last = "";
    printf("%-22s %-27s %8s %7s  %-34s %s\n", "shape", "library/variant", "GFLOP/s", "ratio",
           "implementation", "notes");
    for (int i = 0; i < nresults; i++) {
        const result *r = &results[i];
        if (strcmp(r->shape, last) != 0 && i > 0) printf("\n");
        last = r->shape;
        if (r->us > 0) /* ratio: the refresh over OpenBLAS's GEMM at this shape */
            printf("%-22s %-27s %6.1fus %7.2f  %-34s %s\n", r->shape, r->variant, r->us,
                   r->us * 1e-6 / (flops_of_name(r->shape) / r->base * 1e-9), r->impl, r->note);
        else if (r->gflops > 0)
            printf("%-22s %-27s %8.1f %7.2f  %-34s %s\n", r->shape, r->variant, r->gflops,
                   r->base > 0 ? r->gflops / r->base : 0, r->impl, r->note);
        else
            printf("%-22s %-27s %8s %7s  %-34s %s\n", r->shape, r->variant, "-", "-", r->impl,
                   r->note);
    }
    printf("\n");
    for (int i = 0; i < nresults; i++) {
        const result *r = &results[i];
        if (r->us > 0) printf("gemm_rate %s %s_us %.2f\n", r->shape, r->variant, r->us);
        else printf("gemm_rate %s %s %.1f\n", r->shape, r->variant, r->gflops);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: gemm_rate [--seconds S]   (S: measuring time per figure, default 0.3)\n");
    return 2;
}

int main(int argc, char **argv)
{
    hpt_error err;
    if (blas_fix_coretype(argv, &err) != 0) fprintf(stderr, "gemm_rate: warning: %s\n", err.message);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) budget = atof(argv[++i]);
        else return usage();
    }
    if (budget <= 0) return usage();
    blas_set_threads(1); /* OpenBLAS and oneDNN (onednn_set_threads) */
    omp_set_num_threads(1);
    blas_flush_denormals();
    libxsmm_init();
    if (!onednn_stream()) return fprintf(stderr, "gemm_rate: oneDNN has no CPU engine\n"), 1;

    char line[160];
    blas_describe(line, sizeof line);
    printf("%s, 1 thread\n", line);
    onednn_describe(line, sizeof line);
    printf("%s, 1 OpenMP thread\n", line);
    printf("libxsmm %s, target %s\n", LIBXSMM_VERSION, libxsmm_get_target_arch());
    blas_cpu_features(blas_cpu_detect(), line, sizeof line);
    printf("CPU features: %s; %.2f s per figure, median of repeats, beta = 0\n\n", line, budget);

    srand(1);
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) gemm_section(&shapes[i]);
    /* The CNN example at filters 32, batch 32: conv1 28x28x1 -> 26x26x32,
     * max-pool 2, conv2 13x13x32 -> 11x11x64.  chunk as kern_conv_geom:
     * ceil(1024 / (OH*OW)) images per GEMM. */
    conv c1 = {.name = "conv1", .B = 32, .H = 28, .W = 28, .C = 1, .F = 32, .k = 3, .OH = 26,
               .OW = 26};
    conv c2 = {.name = "conv2", .B = 32, .H = 13, .W = 13, .C = 32, .F = 64, .k = 3, .OH = 11,
               .OW = 11};
    c1.chunk = (1024 + c1.OH * c1.OW - 1) / (c1.OH * c1.OW); /* 2 */
    c2.chunk = (1024 + c2.OH * c2.OW - 1) / (c2.OH * c2.OW); /* 9 */
    conv_section(&c1);
    conv_section(&c2);
    print_table();
    libxsmm_finalize();
    return 0;
}
