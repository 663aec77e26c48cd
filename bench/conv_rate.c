/* conv_rate.c: one Conv2D layer's training step (forward, then backward
 * with dW, db and, unless --skip-dx, dX) on each kernel hptc has for it:
 * im2col + OpenBLAS sgemm (kernels.c), oneDNN f32 and oneDNN
 * mixed_bfloat16 (onednn_conv.c), one thread, median milliseconds per
 * part and GFLOP/s over the step's FLOPs.
 *
 *   conv_rate [--skip-dx] [--reps N] B H W C F k stride same act
 *   e.g. conv_rate 32 13 13 32 64 3 1 0 relu    (the CNN example's second conv)
 *
 * Like hptc's main(), it calls blas_fix_coretype() first, so OpenBLAS runs
 * the kernel hptc would; measure with OPENBLAS_CORETYPE unset.  Build after
 * `make` (it links build/libhptc.a with hptc's LDLIBS):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -march=native -I. -I/usr/include/x86_64-linux-gnu/openblas-pthread \
 *      -o build/bench/conv_rate bench/conv_rate.c build/libhptc.a $(LDLIBS of the Makefile) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/nn/blas.h"
#include "runtime/nn/kernels.h"
#include "runtime/nn/onednn.h"
#include "runtime/nn/onednn_conv.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *randf(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return p;
}

enum { IM2COL, ONEDNN_F32, ONEDNN_BF16 };

int main(int argc, char **argv)
{
    hpt_error err;
    if (blas_fix_coretype(argv, &err) != 0) fprintf(stderr, "conv_rate: warning: %s\n", err.message);
    blas_set_threads(1);
    blas_flush_denormals();
    int skip_dx = 0, reps = 200;
    while (argc > 1 && !strncmp(argv[1], "--", 2)) {
        if (!strcmp(argv[1], "--skip-dx")) skip_dx = 1;
        else if (!strcmp(argv[1], "--reps") && argc > 2) reps = atoi(argv[2]), argv++, argc--;
        argv++, argc--;
    }
    if (argc != 10) {
        fprintf(stderr, "usage: conv_rate [--skip-dx] [--reps N] B H W C F k stride same relu|linear\n");
        return 2;
    }
    int B = atoi(argv[1]), H = atoi(argv[2]), W = atoi(argv[3]), C = atoi(argv[4]), F = atoi(argv[5]);
    int k = atoi(argv[6]), s = atoi(argv[7]), same = atoi(argv[8]);
    kern_act act = !strcmp(argv[9], "relu") ? KERN_RELU : KERN_LINEAR;
    kern_geom g;
    if (kern_conv_geom(&g, B, H, W, C, F, k, k, s, s, same)) return fprintf(stderr, "bad geometry\n"), 2;
    size_t nx = (size_t)B * H * W * C, ny = (size_t)B * g.OH * g.OW * F, nw = (size_t)k * k * C * F;
    float *x = randf(nx, 1), *w = randf(nw, 2), *b = randf(F, 3), *dy0 = randf(ny, 4);
    float *y = malloc(ny * 4), *dy = malloc(ny * 4), *dx = malloc(nx * 4), *dw = calloc(nw, 4), *db = calloc(F, 4);
    float *scratch = malloc((kern_conv2d_scratch_floats(&g) + 1) * 4);
    double flops = 2.0 * ny * k * k * C * (skip_dx ? 2 : 3);
    printf("conv %dx%dx%d -> %d, %dx%d stride %d %s, batch %d, %s, oneDNN %s, %s\n", H, W, C, F, k, k, s,
           same ? "same" : "valid", B, argv[9], onednn_isa_name(), skip_dx ? "no dX" : "with dX");
    const char *names[] = { "im2col+sgemm", "oneDNN f32", "oneDNN bf16" };
    for (int kind = IM2COL; kind <= ONEDNN_BF16; kind++) {
        if (kind == ONEDNN_BF16 && !onednn_has_bf16()) {
            printf("%-14s skipped: no bf16 instructions here\n", names[kind]);
            continue;
        }
        hpt_error e;
        onednn_conv *c = kind == IM2COL ? NULL : onednn_conv_new(&g, act, 1, 0, kind == ONEDNN_BF16, &e);
        if (kind != IM2COL && !c) return fprintf(stderr, "%s\n", e.message), 1;
        double *tf = malloc(reps * sizeof *tf), *tb = malloc(reps * sizeof *tb);
        for (int r = -10; r < reps; r++) {
            memcpy(dy, dy0, ny * 4);
            double t0 = now();
            if (kind == IM2COL) kern_conv2d_forward(&g, x, w, b, y, NULL, act, scratch);
            else if (onednn_conv_forward(c, &g, x, w, 1, b, y, NULL, &e)) return fprintf(stderr, "%s\n", e.message), 1;
            double t1 = now();
            if (kind == IM2COL) kern_conv2d_backward(&g, x, w, y, NULL, dy, skip_dx ? NULL : dx, dw, db, act, scratch);
            else if (onednn_conv_backward(c, &g, x, w, 1, y, NULL, dy, skip_dx ? NULL : dx, dw, db, act, &e))
                return fprintf(stderr, "%s\n", e.message), 1;
            double t2 = now();
            if (r >= 0) tf[r] = t1 - t0, tb[r] = t2 - t1;
        }
        qsort(tf, reps, sizeof *tf, cmp), qsort(tb, reps, sizeof *tb, cmp);
        double f = tf[reps / 2] * 1e3, bw = tb[reps / 2] * 1e3;
        printf("%-14s forward %7.3f ms  backward %7.3f ms  step %7.3f ms  %6.1f GFLOP/s\n", names[kind], f, bw,
               f + bw, flops / ((f + bw) * 1e-3) * 1e-9);
        if (c) {
            char impl[512];
            onednn_conv_describe(c, B, impl, sizeof impl);
            printf("               %s\n", impl);
        }
        onednn_conv_free(c);
        free(tf), free(tb);
    }
    return 0;
}
