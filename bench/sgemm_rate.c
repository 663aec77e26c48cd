/* sgemm_rate.c: single-thread cblas_sgemm GFLOP/s at the exact GEMM shapes
 * of one training step of a Dense MLP.
 *
 *   sgemm_rate [--skip-dx0] [--seconds S] B in h1 ... out
 *   e.g. sgemm_rate 32 784 512 10
 *
 * For every layer in->out at batch B, a step does three GEMMs (row-major):
 *   forward  Y  = X W        (B,in) x (in,out)              NN
 *   dW      dW += X^T dY     (in,B) x (B,out), A transposed TN
 *   dX      dX  = dY W^T     (B,out) x (out,in), B transposed NT
 * --skip-dx0 drops the first layer's dX, which a trainer need not compute.
 * The step is timed as a whole, many times; the figure reported is total
 * step FLOPs over the median step time, and per shape the same from its own
 * median.  This is the denominator of "hptc's whole-epoch GEMM-FLOP rate
 * over the single-thread sgemm rate", so it runs the same kernel hptc would:
 * it calls blas_fix_coretype() first, as hptc's main() does.
 * The last line, "sgemm_step_gflops X", is for scripts. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/nn/blas.h"

#define MAX_LAYERS 32

typedef struct gemm {
    char name[24];
    CBLAS_TRANSPOSE ta, tb;
    int m, n, k;
    float beta;
    float *a, *b, *c;
    double *times; /* seconds, one per repetition */
} gemm;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (p == NULL) return NULL;
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void run(const gemm *g)
{
    int lda = g->ta == CblasNoTrans ? g->k : g->m;
    int ldb = g->tb == CblasNoTrans ? g->n : g->k;
    cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->a, lda, g->b, ldb,
                g->beta, g->c, g->n);
}

static int usage(void)
{
    fprintf(stderr, "usage: sgemm_rate [--skip-dx0] [--seconds S] BATCH IN H1 ... OUT\n"
                    "  e.g. sgemm_rate 32 784 512 10\n");
    return 2;
}

int main(int argc, char **argv)
{
    hpt_error err;
    if (blas_fix_coretype(argv, &err) != 0) fprintf(stderr, "sgemm_rate: warning: %s\n", err.message);
    blas_set_threads(1);
    blas_flush_denormals();

    int skip_dx0 = 0, ndims = 0, dims[MAX_LAYERS + 1];
    double budget = 2.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-dx0") == 0) skip_dx0 = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) budget = atof(argv[++i]);
        else if (ndims < MAX_LAYERS + 1 && atoi(argv[i]) > 0) dims[ndims++] = atoi(argv[i]);
        else return usage();
    }
    if (ndims < 3 || budget <= 0) return usage();
    int batch = dims[0], nlayers = ndims - 2;
    const int *w = dims + 1; /* layer l maps w[l] -> w[l+1] */

    gemm g[3 * MAX_LAYERS];
    int ng = 0;
    double step_flops = 0;
    srand(1);
    /* Per layer the buffers a real step has, shared the way a step shares
     * them (fwd and dX both read W, dW and dX both read dY), so the cache
     * working set is that of training, not of one GEMM repeated. */
    float *bufs[6 * MAX_LAYERS];
    int nb = 0;
    for (int l = 0; l < nlayers; l++) {
        int in = w[l], out = w[l + 1];
        float *x = bufs[nb++] = filled((size_t)batch * in);   /* (B, in) */
        float *wt = bufs[nb++] = filled((size_t)in * out);    /* (in, out) */
        float *y = bufs[nb++] = filled((size_t)batch * out);  /* (B, out) */
        float *dy = bufs[nb++] = filled((size_t)batch * out); /* (B, out) */
        float *dw = bufs[nb++] = filled((size_t)in * out);    /* (in, out) */
        float *dx = bufs[nb++] = filled((size_t)batch * in);  /* (B, in) */
        for (int i = nb - 6; i < nb; i++)
            if (bufs[i] == NULL) return fprintf(stderr, "sgemm_rate: out of memory\n"), 1;
        gemm f = {.ta = CblasNoTrans, .tb = CblasNoTrans, .m = batch, .n = out, .k = in,
                  .a = x, .b = wt, .c = y};
        snprintf(f.name, sizeof f.name, "fwd L%d", l + 1);
        gemm gw = {.ta = CblasTrans, .tb = CblasNoTrans, .m = in, .n = out, .k = batch,
                   .beta = 1.0f, .a = x, .b = dy, .c = dw};
        snprintf(gw.name, sizeof gw.name, "dW  L%d", l + 1);
        gemm gx = {.ta = CblasNoTrans, .tb = CblasTrans, .m = batch, .n = in, .k = out,
                   .a = dy, .b = wt, .c = dx};
        snprintf(gx.name, sizeof gx.name, "dX  L%d", l + 1);
        g[ng++] = f;
        g[ng++] = gw;
        if (!(l == 0 && skip_dx0)) g[ng++] = gx;
    }
    for (int i = 0; i < ng; i++) step_flops += 2.0 * g[i].m * g[i].n * g[i].k;

    /* Warm up (page faults, OpenBLAS buffers, clocks), then size the run to
     * the time budget from the warm-up's speed. */
    double t0 = now();
    int warm = 0;
    while (now() - t0 < 0.2 * budget || warm < 5) {
        for (int i = 0; i < ng; i++) run(&g[i]);
        warm++;
    }
    double per_step = (now() - t0) / warm;
    int reps = (int)(budget / per_step);
    if (reps < 21) reps = 21;
    if (reps > 200000) reps = 200000;
    double *steps = malloc((size_t)reps * sizeof *steps);
    for (int i = 0; i < ng; i++) g[i].times = malloc((size_t)reps * sizeof(double));
    for (int i = 0; i < ng; i++)
        if (!g[i].times || !steps) return fprintf(stderr, "sgemm_rate: out of memory\n"), 1;

    for (int r = 0; r < reps; r++) {
        double s = now(), prev = s;
        for (int i = 0; i < ng; i++) {
            run(&g[i]);
            double t = now();
            g[i].times[r] = t - prev;
            prev = t;
        }
        steps[r] = prev - s;
    }

    char line[256];
    blas_describe(line, sizeof line);
    printf("kernel: %s, 1 thread\n", line);
    printf("batch %d, layers", batch);
    for (int l = 0; l <= nlayers; l++) printf("%s%d", l ? "-" : " ", w[l]);
    printf(", %d GEMMs, %.3f MFLOP per step, %d repetitions\n", ng, step_flops * 1e-6, reps);
    printf("%-8s %6s %6s %6s %5s %10s %9s\n", "gemm", "M", "N", "K", "op", "median_us", "GFLOP/s");
    for (int i = 0; i < ng; i++) {
        double t = median(g[i].times, reps), fl = 2.0 * g[i].m * g[i].n * g[i].k;
        printf("%-8s %6d %6d %6d %4s%s %10.2f %9.1f\n", g[i].name, g[i].m, g[i].n, g[i].k,
               g[i].ta == CblasTrans ? "T" : "N", g[i].tb == CblasTrans ? "T" : "N", t * 1e6,
               fl / t * 1e-9);
    }
    double ts = median(steps, reps);
    printf("step: median %.2f us\n", ts * 1e6);
    printf("sgemm_step_gflops %.2f\n", step_flops / ts * 1e-9);

    for (int i = 0; i < ng; i++) free(g[i].times);
    for (int i = 0; i < nb; i++) free(bufs[i]);
    free(steps);
    return 0;
}
