/* test_kernels.c: every kernel of runtime/nn/kernels.c, four ways.
 *
 *  1. forward on tiny inputs against values worked out by hand;
 *  2. every input and parameter gradient against central differences of
 *     L = Σ y·r (r random, so dL/dy = r), or of the loss itself, one line
 *     per tensor with the norm-wise relative error;
 *  3. the BLAS paths (Dense, Conv2D incl. several im2col chunks and the 1x1
 *     shortcut) against naive loops in double;
 *  4. dropout's mask: reproducible, key-dependent, the right kept fraction,
 *     exact scaling.
 * Buffers come from a small pool freed at the end so the ASan build sees no
 * leak. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/kernels.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

/* ------------------------------------------------------------ helpers */

static void *pool[1024];
static int npool;

static float *newf(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p || npool == (int)(sizeof pool / sizeof *pool)) abort();
    pool[npool++] = p;
    return p;
}

static void free_pool(void)
{
    while (npool) free(pool[--npool]);
}

static void randu(float *a, size_t n, uint64_t key, float lo, float hi)
{
    rng r = rng_stream(key);
    for (size_t i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng_float(&r);
}

static float *randf(size_t n, uint64_t key, float lo, float hi)
{
    float *a = newf(n);
    randu(a, n, key, lo, hi);
    return a;
}

static float *copyf(const float *a, size_t n)
{
    float *b = newf(n);
    memcpy(b, a, n * sizeof *b);
    return b;
}

static double dotd(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Norm-wise relative difference ||a - b|| / max(||a||, ||b||). */
static double rel_diff(const float *a, const double *b, size_t n)
{
    double d2 = 0, a2 = 0, b2 = 0;
    for (size_t i = 0; i < n; i++) {
        d2 += (a[i] - b[i]) * (a[i] - b[i]);
        a2 += (double)a[i] * a[i];
        b2 += b[i] * b[i];
    }
    double m = sqrt(fmax(a2, b2));
    return m > 0 ? sqrt(d2) / m : sqrt(d2);
}

static void check_close(const char *what, const float *got, const double *want, size_t n, double tol)
{
    double e = rel_diff(got, want, n);
    CHECK(e <= tol, "%s (rel err %.2e)", what, e);
}

/* The loss a gradient check differentiates: runs the forward pass on the
 * current (perturbed) inputs. */
typedef double (*loss_fn)(void *ctx);

/* Central differences of f over every element of p against `analytic`;
 * h is the perturbation actually stored in float. */
static void gradcheck(const char *what, loss_fn f, void *ctx, float *p, size_t n,
                      const float *analytic, float eps)
{
    double d2 = 0, a2 = 0, n2 = 0;
    for (size_t i = 0; i < n; i++) {
        float save = p[i];
        p[i] = save + eps;
        double hp = p[i], lp = f(ctx);
        p[i] = save - eps;
        double hm = p[i], lm = f(ctx);
        p[i] = save;
        double num = (lp - lm) / (hp - hm);
        d2 += (num - analytic[i]) * (num - analytic[i]);
        a2 += (double)analytic[i] * analytic[i];
        n2 += num * num;
    }
    double rel = sqrt(d2) / fmax(1e-30, fmax(sqrt(a2), sqrt(n2)));
    CHECK(rel < 1e-3 && a2 > 0, "%s: gradient vs central differences (%zu values, rel err %.2e)", what, n, rel);
}

/* Smallest |z|: relu checks redraw their data until no pre-activation is
 * within reach of the finite-difference step, so the kink never lies
 * between f(x - eps) and f(x + eps). */
static float min_abs(const float *z, size_t n)
{
    float m = INFINITY;
    for (size_t i = 0; i < n; i++) m = fminf(m, fabsf(z[i]));
    return m;
}

static const char *act_name[] = { "linear", "relu", "tanh", "sigmoid", "gelu", "softmax" };

/* ------------------------------------------------------- 1. hand values */

static void test_dense_values(void)
{
    float x[] = { 1, 2, 3, -1 };
    float w[] = { 0.5f, -1, 2, 1, 0.25f, -0.5f };
    float b[] = { 0.1f, 0.2f, -3 };
    float y[6], z[6];
    kern_dense_forward(x, w, b, y, z, 2, 2, 3, KERN_RELU);
    double want_z[] = { 2.6, -0.3, -2, 0.6, -3.05, 3.5 }, want_y[] = { 2.6, 0, 0, 0.6, 0, 3.5 };
    check_close("dense 2x2->3 relu: z by hand", z, want_z, 6, 1e-6);
    check_close("dense 2x2->3 relu: y by hand", y, want_y, 6, 1e-6);
    kern_dense_forward(x, w, NULL, y, NULL, 2, 2, 3, KERN_LINEAR);
    double want_nb[] = { 2.5, -0.5, 1, 0.5, -3.25, 6.5 };
    check_close("dense without bias by hand", y, want_nb, 6, 1e-6);
    kern_dense_forward(x, w, b, y, z, 2, 2, 3, KERN_SOFTMAX);
    double e0 = exp(2.6), e1 = exp(-0.3), e2 = exp(-2), s = e0 + e1 + e2;
    double want_sm[] = { e0 / s, e1 / s, e2 / s };
    check_close("dense softmax row 0 by hand", y, want_sm, 3, 1e-6);
    check_close("dense softmax keeps the logits in z", z, want_z, 6, 1e-6);
}

static void test_conv_values(void)
{
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    kern_geom g;
    float y[16];

    float k2[] = { 1, 0, 0, -1 }, b = 0.5f;
    CHECK(kern_conv_geom(&g, 1, 4, 4, 1, 1, 2, 2, 1, 1, 0) == 0 && g.OH == 3 && g.OW == 3,
          "conv geometry 4x4 k2 valid -> 3x3");
    float *scr = newf(kern_conv2d_scratch_floats(&g));
    kern_conv2d_forward(&g, x, k2, &b, y, NULL, KERN_LINEAR, scr);
    double want_v[9];
    for (int i = 0; i < 9; i++) want_v[i] = -4.5;
    check_close("conv 4x4x1 valid, kernel [[1,0],[0,-1]] + 0.5 by hand", y, want_v, 9, 1e-6);

    float ones[9];
    for (int i = 0; i < 9; i++) ones[i] = 1;
    kern_conv_geom(&g, 1, 4, 4, 1, 1, 3, 3, 1, 1, 1);
    scr = newf(kern_conv2d_scratch_floats(&g));
    kern_conv2d_forward(&g, x, ones, NULL, y, NULL, KERN_LINEAR, scr);
    double want_s[] = { 14, 24, 30, 22, 33, 54, 63, 45, 57, 90, 99, 69, 46, 72, 78, 54 };
    check_close("conv 4x4x1 same 3x3 ones: neighbourhood sums by hand", y, want_s, 16, 1e-6);

    /* TF puts the odd padding row/column after: window rows 0-2 and 2-4(pad). */
    kern_conv_geom(&g, 1, 4, 4, 1, 1, 3, 3, 2, 2, 1);
    CHECK(g.OH == 2 && g.OW == 2 && g.pad_top == 0 && g.pad_left == 0,
          "conv geometry 4x4 k3 s2 same -> 2x2, padding after");
    scr = newf(kern_conv2d_scratch_floats(&g));
    kern_conv2d_forward(&g, x, ones, NULL, y, NULL, KERN_LINEAR, scr);
    double want_s2[] = { 54, 45, 72, 54 };
    check_close("conv 4x4x1 same stride 2 by hand", y, want_s2, 4, 1e-6);

    kern_conv_geom(&g, 1, 5, 5, 1, 1, 4, 4, 1, 1, 1);
    CHECK(g.pad_top == 1 && g.pad_left == 1 && g.OH == 5, "same k4 on 5: pad 1 before, 2 after");

    float xp[] = { 1, 2 }, wp[] = { 1, 2, 3, 4 }, yp[2];
    kern_conv_geom(&g, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0);
    CHECK(kern_conv2d_scratch_floats(&g) == 0, "1x1 stride-1 conv needs no im2col scratch");
    kern_conv2d_forward(&g, xp, wp, NULL, yp, NULL, KERN_LINEAR, NULL);
    double want_p[] = { 7, 10 };
    check_close("1x1 conv, two channels in and out, by hand", yp, want_p, 2, 1e-6);

    CHECK(kern_conv_out_size(28, 3, 1, 0) == 26 && kern_conv_out_size(28, 3, 2, 1) == 14 &&
          kern_conv_out_size(7, 2, 2, 0) == 3 && kern_conv_out_size(7, 2, 2, 1) == 4 &&
          kern_conv_out_size(2, 3, 1, 0) == 0,
          "kern_conv_out_size valid/same");
    CHECK(kern_conv_geom(&g, 1, 2, 2, 1, 1, 3, 3, 1, 1, 0) == -1, "conv geometry refuses an empty output");
}

static void test_pool_values(void)
{
    float x[16], y[4], dx[16];
    int32_t am[4];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    kern_geom g;

    kern_pool_geom(&g, 1, 4, 4, 1, 2, 2, 2, 2, 0);
    kern_maxpool2d_forward(&g, x, y, am);
    double want_max[] = { 6, 8, 14, 16 }, want_avg[] = { 3.5, 5.5, 11.5, 13.5 };
    check_close("maxpool 2x2/2 on 4x4 by hand", y, want_max, 4, 0);
    CHECK(am[0] == 5 && am[1] == 7 && am[2] == 13 && am[3] == 15, "maxpool argmax indices");
    kern_avgpool2d_forward(&g, x, y);
    check_close("avgpool 2x2/2 on 4x4 by hand", y, want_avg, 4, 1e-7);

    kern_pool_geom(&g, 1, 4, 4, 1, 3, 3, 2, 2, 1);
    kern_avgpool2d_forward(&g, x, y);
    /* 9, 6, 6 and 4 valid cells: TF divides by those, not by 9. */
    double want_avg_same[] = { 6, 7.5, 12, 13.5 };
    check_close("avgpool 3x3/2 same divides by valid cells", y, want_avg_same, 4, 1e-7);
    kern_maxpool2d_forward(&g, x, y, am);
    double want_max_same[] = { 11, 12, 15, 16 };
    check_close("maxpool 3x3/2 same by hand", y, want_max_same, 4, 0);

    float dy[4] = { 1, 2, 3, 4 };
    kern_avgpool2d_backward(&g, dy, dx);
    CHECK(fabsf(dx[0] - 1.0f / 9) < 1e-7f && fabsf(dx[15] - 1.0f) < 1e-7f &&
          fabsf(dx[10] - (1.0f / 9 + 2.0f / 6 + 3.0f / 6 + 1.0f)) < 1e-6f,
          "avgpool same backward spreads dy/count");

    float flat[16];
    for (int i = 0; i < 16; i++) flat[i] = 1.0f;
    kern_pool_geom(&g, 1, 4, 4, 1, 2, 2, 2, 2, 0);
    kern_maxpool2d_forward(&g, flat, y, am);
    kern_maxpool2d_backward(&g, dy, dx, am);
    CHECK(am[0] == 0 && am[3] == 10 && dx[0] == 1 && dx[1] == 0 && dx[4] == 0 && dx[5] == 0 && dx[10] == 4,
          "maxpool ties go to the first maximum");

    /* Two channels interleaved (NHWC): channel 1 is channel 0 negated. */
    float x2[32], y2[8];
    for (int i = 0; i < 16; i++) x2[2 * i] = (float)(i + 1), x2[2 * i + 1] = -(float)(i + 1);
    kern_pool_geom(&g, 1, 4, 4, 2, 2, 2, 2, 2, 0);
    kern_maxpool2d_forward(&g, x2, y2, NULL);
    CHECK(y2[0] == 6 && y2[1] == -1 && y2[6] == 16 && y2[7] == -11, "maxpool per channel in NHWC");
}

static void test_bn_values(void)
{
    float x[] = { 1, 2, 3, 4 }, y[4], gamma = 2, beta = 0.5f, mm = 0, mv = 1, state[6];
    CHECK(kern_batchnorm_scratch_floats(1) == 6, "batchnorm state is 6 floats per channel");
    kern_batchnorm_forward_train(x, y, &gamma, &beta, &mm, &mv, 4, 1, 0.99f, 1e-3f, state);
    double want[4];
    for (int i = 0; i < 4; i++) want[i] = 2.0 * (x[i] - 2.5) / sqrt(1.25 + 1e-3) + 0.5;
    check_close("batchnorm train on [1,2,3,4]: batch mean 2.5, biased var 1.25", y, want, 4, 1e-6);
    CHECK_NEAR(mm, 0.025, 1e-5, "moving_mean = 0*0.99 + 2.5*0.01");
    CHECK_NEAR(mv, 0.99 + 0.0125, 1e-6, "moving_var = 1*0.99 + 1.25*0.01");
    float m2 = 1, v2 = 4;
    kern_batchnorm_forward_infer(x, y, &gamma, &beta, &m2, &v2, 4, 1, 1e-3f);
    for (int i = 0; i < 4; i++) want[i] = 2.0 * (x[i] - 1) / sqrt(4 + 1e-3) + 0.5;
    check_close("batchnorm inference uses the moving statistics", y, want, 4, 1e-6);
    kern_batchnorm_forward_infer(x, y, NULL, NULL, &m2, &v2, 4, 1, 1e-3f);
    for (int i = 0; i < 4; i++) want[i] = (x[i] - 1) / sqrt(4 + 1e-3);
    check_close("batchnorm with scale and center off", y, want, 4, 1e-6);

    /* A larger batch with a big offset: two-pass variance stays exact. */
    size_t N = 4000;
    float *xb = randf(2 * N, 11, -1, 1), *yb = newf(2 * N), st[12], mmb[2] = { 0, 0 }, mvb[2] = { 1, 1 };
    for (size_t i = 0; i < 2 * N; i++) xb[i] += 1000.0f;
    kern_batchnorm_forward_train(xb, yb, NULL, NULL, mmb, mvb, N, 2, 0.0f, 1e-3f, st);
    double m0 = 0, v0 = 0;
    for (size_t r = 0; r < N; r++) m0 += xb[2 * r];
    m0 /= N;
    for (size_t r = 0; r < N; r++) v0 += (xb[2 * r] - m0) * (xb[2 * r] - m0);
    v0 /= N;
    CHECK_NEAR(mmb[0], m0, 1e-6, "batchnorm mean of 4000 values near 1000");
    CHECK_NEAR(mvb[0], v0, 1e-4, "batchnorm variance of 4000 values near 1000 (momentum 0)");
}

static void test_loss_values(void)
{
    float z[] = { 1, 2, 3 }, d[6];
    int32_t lab2 = 2;
    double l = kern_sparse_softmax_ce(z, &lab2, d, 1, 3);
    CHECK_NEAR(l, 0.40760596444438, 1e-9, "sparse softmax CE of [1,2,3], label 2");
    double s = exp(1) + exp(2) + exp(3);
    double want_d[] = { exp(1) / s, exp(2) / s, exp(3) / s - 1 };
    check_close("its gradient softmax - onehot", d, want_d, 3, 1e-6);

    float big[] = { 1000, 0, -1000, 1000, 0, -1000 };
    int32_t labs[] = { 0, 1 };
    l = kern_sparse_softmax_ce(big, labs, d, 2, 3);
    CHECK_NEAR(l, 500.0, 1e-12, "logits of ±1000: losses 0 and 1000, mean 500, no overflow");
    double want_big[] = { 0, 0, 0, 0.5, -0.5, 0 };
    check_close("logits of ±1000: finite gradient", d, want_big, 6, 1e-7);

    float oh[] = { 0, 0, 1 };
    l = kern_softmax_ce(z, oh, d, 1, 3);
    CHECK_NEAR(l, 0.40760596444438, 1e-9, "categorical CE from logits, one-hot target");
    check_close("categorical CE gradient", d, want_d, 3, 1e-6);

    float p[] = { 0.2f, 0.3f, 0.5f }, pu[] = { 0.4f, 0.6f, 1.0f };
    l = kern_sparse_ce_probs(p, &lab2, NULL, 1, 3);
    CHECK_NEAR(l, -log(0.5), 1e-7, "sparse CE from probabilities [0.2,0.3,0.5], label 2");
    l = kern_sparse_ce_probs(pu, &lab2, NULL, 1, 3);
    CHECK_NEAR(l, -log(0.5), 1e-7, "... renormalised when the row sums to 2");
    l = kern_ce_probs(p, oh, NULL, 1, 3);
    CHECK_NEAR(l, -log(0.5), 1e-7, "categorical CE from probabilities");
    float sure[] = { 1, 0, 0 };
    int32_t lab1 = 1;
    l = kern_sparse_ce_probs(sure, &lab1, d, 1, 3);
    CHECK_NEAR(l, -log(1e-7), 1e-7, "probability 0 is clipped to 1e-7: loss 16.118");
    CHECK(d[0] == 0 && d[1] == 0 && d[2] == 0, "no gradient through the clip");
    float onehot1[] = { 0, 1, 0 };
    l = kern_ce_probs(sure, onehot1, d, 1, 3);
    CHECK_NEAR(l, -log(1e-7), 1e-7, "categorical from probabilities clips too");

    float pr[] = { 1, 2 }, tg[] = { 0, 4 };
    l = kern_mse(pr, tg, d, 1, 2);
    CHECK_NEAR(l, 2.5, 1e-12, "mse of [1,2] vs [0,4]");
    CHECK(d[0] == 1.0f && d[1] == -2.0f, "mse gradient 2(p-t)/n");

    int32_t bad = 7;
    l = kern_sparse_softmax_ce(z, &bad, d, 1, 3);
    CHECK(isnan(l) && d[0] == 0, "a label out of range gives NaN loss, zero gradient");

    float sc[] = { 0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.0f, 0.0f, 0.0f, 3.0f };
    int32_t lb[] = { 1, 1, 2 };
    float t3[] = { 0, 1, 0, 1, 0, 0, 0, 0, 1 };
    CHECK(kern_accuracy_sparse(sc, lb, 3, 3) == 2, "sparse accuracy: ties go to the first max");
    CHECK(kern_accuracy_onehot(sc, t3, 3, 3) == 3, "one-hot accuracy");
}

/* Our exp/tanh/sigmoid/erf against libm in double. */
static void test_activation_accuracy(void)
{
    enum { N = 4001 };
    float *x = newf(N), *y = newf(N);
    for (int i = 0; i < N; i++) x[i] = -20.0f + 0.01f * i;
    double e_t = 0, e_s = 0, e_g = 0, e_gt = 0, e_gd = 0;
    kern_act_forward(x, y, 1, N, KERN_TANH);
    for (int i = 0; i < N; i++) e_t = fmax(e_t, fabs(y[i] - tanh(x[i])) / fabs(tanh(x[i]) + 1e-300));
    kern_act_forward(x, y, 1, N, KERN_SIGMOID);
    for (int i = 0; i < N; i++) {
        double s = 1 / (1 + exp(-(double)x[i]));
        e_s = fmax(e_s, fabs(y[i] - s) / s);
    }
    kern_act_forward(x, y, 1, N, KERN_GELU);
    for (int i = 0; i < N; i++) {
        double g = 0.5 * x[i] * erfc(-x[i] / sqrt(2.0));
        if (x[i] >= -5) e_g = fmax(e_g, fabs(y[i] - g) / fmax(fabs(g), 1e-30));
        else e_gt = fmax(e_gt, fabs(y[i] - g));
    }
    /* gelu'(x) = Φ(x) + x φ(x), through the backward with dy = 1. */
    float *ones = newf(N), *dx = newf(N);
    for (int i = 0; i < N; i++) ones[i] = 1;
    kern_act_backward(x, y, ones, dx, 1, N, KERN_GELU);
    for (int i = 0; i < N; i++) {
        double d = 0.5 * erfc(-x[i] / sqrt(2.0)) + x[i] * exp(-0.5 * x[i] * x[i]) / sqrt(2 * M_PI);
        e_gd = fmax(e_gd, fabs(dx[i] - d));
    }
    CHECK(e_t < 1e-6, "tanh on [-20,20] vs libm: max rel err %.2e", e_t);
    CHECK(e_s < 1e-6, "sigmoid on [-20,20] vs libm: max rel err %.2e", e_s);
    CHECK(e_g < 2e-6, "gelu (erf form) on [-5,20] vs libm: max rel err %.2e", e_g);
    CHECK(e_gt < 1e-7, "gelu on [-20,-5] vs libm: max abs err %.2e", e_gt);
    CHECK(e_gd < 1e-6, "gelu derivative vs Φ + xφ: max abs err %.2e", e_gd);

    float big[] = { 100, -100, NAN, 0 }, out[4];
    kern_act_forward(big, out, 1, 4, KERN_SIGMOID);
    CHECK(out[0] == 1 && out[1] < 1e-30f && isnan(out[2]) && out[3] == 0.5f, "sigmoid saturates and keeps NaN");
    kern_act_forward(big, out, 1, 4, KERN_TANH);
    CHECK(out[0] == 1 && out[1] == -1 && isnan(out[2]) && out[3] == 0, "tanh saturates and keeps NaN");
    kern_act_forward(big, out, 1, 4, KERN_RELU);
    CHECK(out[0] == 100 && out[1] == 0 && isnan(out[2]) && out[3] == 0, "relu keeps NaN");

    float sm[] = { 1000, 999, -1000, 3, 3, 3 }, so[6];
    kern_act_forward(sm, so, 2, 3, KERN_SOFTMAX);
    double e1 = exp(-1.0);
    double want[] = { 1 / (1 + e1), e1 / (1 + e1), 0, 1.0 / 3, 1.0 / 3, 1.0 / 3 };
    check_close("softmax rows, logits near 1000 stay finite", so, want, 6, 1e-6);
    CHECK(kern_act_needs_z(KERN_GELU) && !kern_act_needs_z(KERN_RELU) && !kern_act_needs_z(KERN_SOFTMAX),
          "only gelu needs the pre-activation");
}

static void test_init(void)
{
    size_t n = 100000;
    float *a = newf(n), *b = newf(n), *c = newf(n);
    kern_glorot_uniform(a, n, 784, 512, 42);
    kern_glorot_uniform(b, n, 784, 512, 42);
    kern_glorot_uniform(c, n, 784, 512, 43);
    double lim = sqrt(6.0 / (784 + 512)), mean = 0, var = 0, lo = 1, hi = -1;
    for (size_t i = 0; i < n; i++) {
        mean += a[i];
        var += (double)a[i] * a[i];
        lo = fmin(lo, a[i]), hi = fmax(hi, a[i]);
    }
    mean /= n, var /= n;
    CHECK(lo >= -lim && hi < lim && hi > 0.99 * lim && lo < -0.99 * lim, "glorot_uniform within ±sqrt(6/(in+out))");
    CHECK(fabs(mean) < 0.01 * lim && fabs(var / (lim * lim / 3) - 1) < 0.02, "glorot_uniform mean 0, variance l²/3");
    CHECK(memcmp(a, b, n * sizeof *a) == 0 && memcmp(a, c, n * sizeof *a) != 0, "glorot_uniform is a function of the key");
    kern_ones(a, 3);
    kern_zeros(a + 3, 2);
    kern_fill(a + 5, 1, 2.5f);
    CHECK(a[0] == 1 && a[2] == 1 && a[3] == 0 && a[4] == 0 && a[5] == 2.5f, "ones, zeros, fill");
}

/* ----------------------------------------------- 2. gradient checks */

typedef struct act_ctx {
    float *x, *y, *r;
    size_t rows;
    int cols;
    kern_act act;
} act_ctx;

static double act_loss(void *p)
{
    act_ctx *c = p;
    kern_act_forward(c->x, c->y, c->rows, c->cols, c->act);
    return dotd(c->y, c->r, c->rows * c->cols);
}

static void test_act_grads(void)
{
    for (int a = KERN_LINEAR; a <= KERN_SOFTMAX; a++) {
        act_ctx c = { randf(15, 100 + a, -2, 2), newf(15), randf(15, 200 + a, -1, 1), 3, 5, a };
        for (int i = 0; i < 15; i++)   /* keep relu's kink out of reach of eps */
            if (fabsf(c.x[i]) < 0.05f) c.x[i] += 0.1f;
        float *dx = newf(15), *dy = copyf(c.r, 15);
        kern_act_forward(c.x, c.y, 3, 5, a);
        kern_act_backward(c.x, c.y, dy, dx, 3, 5, a);
        char what[64];
        snprintf(what, sizeof what, "activation %s dx", act_name[a]);
        gradcheck(what, act_loss, &c, c.x, 15, dx, 1e-2f);
        kern_act_forward(c.x, c.y, 3, 5, a);   /* gradcheck left y at x - eps */
        kern_act_backward(c.x, c.y, dy, dy, 3, 5, a);
        CHECK(memcmp(dx, dy, sizeof(float) * 15) == 0, "activation %s backward in place (dx == dy)", act_name[a]);
    }
}

typedef struct dense_ctx {
    float *x, *w, *b, *y, *r;
    int B, in, out;
    kern_act act;
} dense_ctx;

static double dense_loss(void *p)
{
    dense_ctx *c = p;
    kern_dense_forward(c->x, c->w, c->b, c->y, NULL, c->B, c->in, c->out, c->act);
    return dotd(c->y, c->r, (size_t)c->B * c->out);
}

static void test_dense_grads(void)
{
    const int B = 3, in = 4, out = 5;
    for (int a = KERN_LINEAR; a <= KERN_SOFTMAX; a++) {
        dense_ctx c = { randf(B * in, 1 + a, -1, 1), randf(in * out, 2 + a, -1, 1), randf(out, 3 + a, -0.5f, 0.5f),
                        newf(B * out), randf(B * out, 4 + a, -1, 1), B, in, out, a };
        float *z = newf(B * out), *dy = copyf(c.r, B * out);
        float *dx = newf(B * in), *dw = newf(in * out), *db = newf(out);
        kern_dense_forward(c.x, c.w, c.b, c.y, z, B, in, out, a);
        for (uint64_t k = 1; a == KERN_RELU && min_abs(z, B * out) < 1e-2f && k < 100; k++) {
            randu(c.b, out, 3 + a + 1000 * k, -0.5f, 0.5f);
            kern_dense_forward(c.x, c.w, c.b, c.y, z, B, in, out, a);
        }
        kern_dense_backward(c.x, c.w, c.y, z, dy, dx, dw, db, B, in, out, a);
        float eps = a == KERN_RELU ? 1e-3f : 1e-2f;
        char what[64];
        snprintf(what, sizeof what, "dense %s dx", act_name[a]);
        gradcheck(what, dense_loss, &c, c.x, B * in, dx, eps);
        snprintf(what, sizeof what, "dense %s dW", act_name[a]);
        gradcheck(what, dense_loss, &c, c.w, in * out, dw, eps);
        snprintf(what, sizeof what, "dense %s db", act_name[a]);
        gradcheck(what, dense_loss, &c, c.b, out, db, eps);
    }
}

typedef struct conv_ctx {
    kern_geom g;
    float *x, *w, *b, *y, *r, *scratch;
    kern_act act;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    kern_conv2d_forward(&c->g, c->x, c->w, c->b, c->y, NULL, c->act, c->scratch);
    return dotd(c->y, c->r, (size_t)c->g.B * c->g.OH * c->g.OW * c->g.F);
}

static void conv_gradcheck(const char *name, int B, int H, int W, int C, int F, int kh, int kw,
                           int sh, int sw, int same, kern_act act, uint64_t seed)
{
    conv_ctx c;
    kern_conv_geom(&c.g, B, H, W, C, F, kh, kw, sh, sw, same);
    size_t nx = (size_t)B * H * W * C, nw = (size_t)kh * kw * C * F, ny = (size_t)B * c.g.OH * c.g.OW * F;
    c.x = randf(nx, seed, -1, 1), c.w = randf(nw, seed + 1, -1, 1), c.b = randf(F, seed + 2, -0.5f, 0.5f);
    c.y = newf(ny), c.r = randf(ny, seed + 3, -1, 1), c.scratch = newf(kern_conv2d_scratch_floats(&c.g));
    c.act = act;
    float *z = newf(ny), *dy = copyf(c.r, ny), *dx = newf(nx), *dw = newf(nw), *db = newf(F);
    kern_conv2d_forward(&c.g, c.x, c.w, c.b, c.y, z, act, c.scratch);
    for (uint64_t k = 1; act == KERN_RELU && min_abs(z, ny) < 1e-2f && k < 100; k++) {
        randu(c.b, F, seed + 2 + 1000 * k, -0.5f, 0.5f);
        kern_conv2d_forward(&c.g, c.x, c.w, c.b, c.y, z, act, c.scratch);
    }
    kern_conv2d_backward(&c.g, c.x, c.w, c.y, z, dy, dx, dw, db, act, c.scratch);
    char what[128];
    float eps = act == KERN_RELU ? 1e-3f : 1e-2f;
    snprintf(what, sizeof what, "conv %s dx", name);
    gradcheck(what, conv_loss, &c, c.x, nx, dx, eps);
    snprintf(what, sizeof what, "conv %s dW", name);
    gradcheck(what, conv_loss, &c, c.w, nw, dw, eps);
    snprintf(what, sizeof what, "conv %s db", name);
    gradcheck(what, conv_loss, &c, c.b, F, db, eps);
}

static void test_conv_grads(void)
{
    conv_gradcheck("5x6x2->3, 3x3 stride 2 same, tanh", 2, 5, 6, 2, 3, 3, 3, 2, 2, 1, KERN_TANH, 300);
    conv_gradcheck("5x6x2->3, 2x3 stride (2,1) valid, linear", 2, 5, 6, 2, 3, 2, 3, 2, 1, 0, KERN_LINEAR, 310);
    conv_gradcheck("4x4x3->2, 3x3 stride 1 same, sigmoid", 2, 4, 4, 3, 2, 3, 3, 1, 1, 1, KERN_SIGMOID, 320);
    conv_gradcheck("6x5x1->2, 4x4 stride 3 same, gelu", 1, 6, 5, 1, 2, 4, 4, 3, 3, 1, KERN_GELU, 330);
    conv_gradcheck("3x3x2->4, 1x1 pointwise, relu", 2, 3, 3, 2, 4, 1, 1, 1, 1, 0, KERN_RELU, 340);
    conv_gradcheck("4x4x2->3, 2x2 stride 2 valid, softmax", 2, 4, 4, 2, 3, 2, 2, 2, 2, 0, KERN_SOFTMAX, 350);
}

typedef struct pool_ctx {
    kern_geom g;
    float *x, *y, *r;
    int max;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    if (c->max) kern_maxpool2d_forward(&c->g, c->x, c->y, NULL);
    else kern_avgpool2d_forward(&c->g, c->x, c->y);
    return dotd(c->y, c->r, (size_t)c->g.B * c->g.OH * c->g.OW * c->g.C);
}

static void pool_gradcheck(const char *name, int max, int B, int H, int W, int C,
                           int ph, int pw, int sh, int sw, int same, uint64_t seed)
{
    pool_ctx c;
    kern_pool_geom(&c.g, B, H, W, C, ph, pw, sh, sw, same);
    size_t nx = (size_t)B * H * W * C, ny = (size_t)B * c.g.OH * c.g.OW * C;
    c.x = newf(nx), c.y = newf(ny), c.r = randf(ny, seed, -1, 1), c.max = max;
    /* Distinct values 0.05 apart in shuffled order: eps = 1e-3 never
     * changes which one is the maximum. */
    rng s = rng_stream(seed + 1);
    for (size_t i = 0; i < nx; i++) c.x[i] = 0.05f * (float)i;
    for (size_t i = nx - 1; i > 0; i--) {
        size_t j = rng_below(&s, i + 1);
        float t = c.x[i];
        c.x[i] = c.x[j], c.x[j] = t;
    }
    float *dx = newf(nx);
    int32_t *am = calloc(kern_maxpool2d_scratch_ints(&c.g), sizeof *am);
    if (max) {
        kern_maxpool2d_forward(&c.g, c.x, c.y, am);
        kern_maxpool2d_backward(&c.g, c.r, dx, am);
    } else {
        kern_avgpool2d_forward(&c.g, c.x, c.y);
        kern_avgpool2d_backward(&c.g, c.r, dx);
    }
    free(am);
    char what[128];
    snprintf(what, sizeof what, "%s dx", name);
    /* avg pooling is linear: a larger step only shrinks the rounding noise. */
    gradcheck(what, pool_loss, &c, c.x, nx, dx, max ? 1e-3f : 1e-2f);
}

static void test_pool_grads(void)
{
    pool_gradcheck("maxpool 2x2/2 valid on 5x5x2", 1, 2, 5, 5, 2, 2, 2, 2, 2, 0, 400);
    pool_gradcheck("maxpool 2x2/2 same on 5x5x2", 1, 2, 5, 5, 2, 2, 2, 2, 2, 1, 410);
    pool_gradcheck("maxpool 3x3/1 same on 4x5x1 (overlapping)", 1, 1, 4, 5, 1, 3, 3, 1, 1, 1, 420);
    pool_gradcheck("avgpool 2x2/2 valid on 5x5x2", 0, 2, 5, 5, 2, 2, 2, 2, 2, 0, 430);
    pool_gradcheck("avgpool 3x3/2 same on 5x6x2", 0, 2, 5, 6, 2, 3, 3, 2, 2, 1, 440);
    pool_gradcheck("avgpool 2x3/1 same on 4x4x1 (overlapping)", 0, 1, 4, 4, 1, 2, 3, 1, 1, 1, 450);
}

typedef struct bn_ctx {
    float *x, *y, *gamma, *beta, *mm, *mv, *state, *r;
    size_t N;
    int C;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    kern_batchnorm_forward_train(c->x, c->y, c->gamma, c->beta, c->mm, c->mv, c->N, c->C, 0.99f, 1e-3f, c->state);
    return dotd(c->y, c->r, c->N * c->C);
}

static void test_bn_grads(void)
{
    /* (B=2, H=2, W=2, C=3) normalised over the 8 rows of each channel. */
    size_t N = 8;
    int C = 3;
    bn_ctx c = { randf(N * C, 500, -2, 2), newf(N * C), randf(C, 501, 0.5f, 1.5f), randf(C, 502, -1, 1),
                 newf(C), newf(C), newf(kern_batchnorm_scratch_floats(C)), randf(N * C, 503, -1, 1), N, C };
    for (int i = 0; i < C; i++) c.mv[i] = 1;
    float *dx = newf(N * C), *dg = newf(C), *dbt = newf(C);
    bn_loss(&c);
    kern_batchnorm_backward(c.x, c.r, dx, c.gamma, dg, dbt, N, C, c.state);
    gradcheck("batchnorm train dx", bn_loss, &c, c.x, N * C, dx, 1e-2f);
    gradcheck("batchnorm train dgamma", bn_loss, &c, c.gamma, C, dg, 1e-2f);
    gradcheck("batchnorm train dbeta", bn_loss, &c, c.beta, C, dbt, 1e-2f);
    /* scale/center off */
    c.gamma = NULL, c.beta = NULL;
    bn_loss(&c);
    kern_batchnorm_backward(c.x, c.r, dx, NULL, NULL, NULL, N, C, c.state);
    gradcheck("batchnorm train dx, scale and center off", bn_loss, &c, c.x, N * C, dx, 1e-2f);
}

typedef struct loss_ctx {
    float *in, *target;
    int32_t *labels;
    int B, K, kind;
} loss_ctx;

static double loss_value(void *p)
{
    loss_ctx *c = p;
    switch (c->kind) {
    case 0: return kern_sparse_softmax_ce(c->in, c->labels, NULL, c->B, c->K);
    case 1: return kern_softmax_ce(c->in, c->target, NULL, c->B, c->K);
    case 2: return kern_sparse_ce_probs(c->in, c->labels, NULL, c->B, c->K);
    case 3: return kern_ce_probs(c->in, c->target, NULL, c->B, c->K);
    default: return kern_mse(c->in, c->target, NULL, c->B, c->K);
    }
}

static void test_loss_grads(void)
{
    const int B = 4, K = 5;
    static const char *names[] = { "sparse softmax CE (logits)", "categorical CE (logits, soft target)",
                                   "sparse CE from probabilities", "categorical CE from probabilities",
                                   "mse" };
    int32_t labels[] = { 0, 3, 4, 2 };
    for (int kind = 0; kind < 5; kind++) {
        loss_ctx c = { NULL, randf(B * K, 600, 0, 1), labels, B, K, kind };
        /* Logits anywhere; probabilities positive and unnormalised, so the
         * renormalisation's share of the gradient is exercised. */
        c.in = kind == 2 || kind == 3 ? randf(B * K, 601, 0.05f, 1) : randf(B * K, 602, -3, 3);
        float *d = newf(B * K);
        switch (kind) {
        case 0: kern_sparse_softmax_ce(c.in, labels, d, B, K); break;
        case 1: kern_softmax_ce(c.in, c.target, d, B, K); break;
        case 2: kern_sparse_ce_probs(c.in, labels, d, B, K); break;
        case 3: kern_ce_probs(c.in, c.target, d, B, K); break;
        default: kern_mse(c.in, c.target, d, B, K); break;
        }
        char what[96];
        snprintf(what, sizeof what, "loss %s", names[kind]);
        gradcheck(what, loss_value, &c, c.in, B * K, d, 1e-3f);
    }
}

/* Fused path equivalence: sparse CE from probabilities of softmax(z), with
 * the gradient pushed back through the softmax, equals the fused loss on z. */
static void test_fused_equivalence(void)
{
    enum { B = 6, K = 7 };
    float *z = randf(B * K, 700, -4, 4), *p = newf(B * K), *dp = newf(B * K), *dz = newf(B * K), *dzf = newf(B * K);
    int32_t lab[] = { 0, 1, 2, 3, 4, 6 };
    kern_act_forward(z, p, B, K, KERN_SOFTMAX);
    double lp = kern_sparse_ce_probs(p, lab, dp, B, K);
    kern_act_backward(NULL, p, dp, dz, B, K, KERN_SOFTMAX);
    double lf = kern_sparse_softmax_ce(z, lab, dzf, B, K);
    CHECK_NEAR(lp, lf, 1e-6, "from-probabilities loss of softmax(z) = fused loss on z");
    double ref[B * K];
    for (int i = 0; i < B * K; i++) ref[i] = dzf[i];
    check_close("... and the same gradient with respect to z", dz, ref, B * K, 1e-5);
}

/* --------------------------------------------- 3. BLAS vs naive loops */

static void test_dense_vs_naive(void)
{
    const int B = 7, in = 33, out = 19;
    float *x = randf(B * in, 800, -1, 1), *w = randf(in * out, 801, -1, 1), *b = randf(out, 802, -1, 1);
    float *y = newf(B * out), *dy = randf(B * out, 803, -1, 1), *dy0 = copyf(dy, B * out);
    float *dw = randf(in * out, 804, -1, 1), *dw0 = copyf(dw, in * out), *db = randf(out, 805, -1, 1), *db0 = copyf(db, out);
    float *dx = newf(B * in);
    for (int i = 0; i < B * in; i++) dx[i] = NAN;   /* must be overwritten, not accumulated */
    double ry[7 * 19], rdw[33 * 19], rdb[19], rdx[7 * 33];
    kern_dense_forward(x, w, b, y, NULL, B, in, out, KERN_LINEAR);
    kern_dense_backward(x, w, y, NULL, dy, dx, dw, db, B, in, out, KERN_LINEAR);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < out; j++) {
            double s = b[j];
            for (int k = 0; k < in; k++) s += (double)x[i * in + k] * w[k * out + j];
            ry[i * out + j] = s;
        }
    for (int k = 0; k < in; k++)
        for (int j = 0; j < out; j++) {
            double s = dw0[k * out + j];
            for (int i = 0; i < B; i++) s += (double)x[i * in + k] * dy0[i * out + j];
            rdw[k * out + j] = s;
        }
    for (int j = 0; j < out; j++) {
        double s = db0[j];
        for (int i = 0; i < B; i++) s += dy0[i * out + j];
        rdb[j] = s;
    }
    for (int i = 0; i < B; i++)
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int j = 0; j < out; j++) s += (double)dy0[i * out + j] * w[k * out + j];
            rdx[i * in + k] = s;
        }
    check_close("dense 7x33->19 forward, BLAS vs naive", y, ry, B * out, 1e-6);
    check_close("dense dW accumulates (+=), BLAS vs naive", dw, rdw, in * out, 1e-6);
    check_close("dense db accumulates (+=)", db, rdb, out, 1e-6);
    check_close("dense dx overwrites (was NaN), BLAS vs naive", dx, rdx, B * in, 1e-6);
    float *dw2 = copyf(dw0, in * out);
    memcpy(dy, dy0, sizeof(float) * B * out);
    kern_dense_backward(x, w, y, NULL, dy, NULL, dw2, NULL, B, in, out, KERN_LINEAR);
    check_close("dense backward with dx and db NULL still gives dW", dw2, rdw, in * out, 1e-6);
}

static void conv_vs_naive(const char *name, int B, int H, int W, int C, int F, int kh, int kw,
                          int sh, int sw, int same, uint64_t seed)
{
    kern_geom g;
    kern_conv_geom(&g, B, H, W, C, F, kh, kw, sh, sw, same);
    size_t nx = (size_t)B * H * W * C, nw = (size_t)kh * kw * C * F, ny = (size_t)B * g.OH * g.OW * F;
    float *x = randf(nx, seed, -1, 1), *w = randf(nw, seed + 1, -1, 1), *b = randf(F, seed + 2, -1, 1);
    float *y = newf(ny), *dy = randf(ny, seed + 3, -1, 1), *dy0 = copyf(dy, ny);
    float *dw = randf(nw, seed + 4, -1, 1), *dw0 = copyf(dw, nw), *dx = newf(nx);
    float *scr = newf(kern_conv2d_scratch_floats(&g));
    for (size_t i = 0; i < nx; i++) dx[i] = NAN;
    double *ry = calloc(ny, sizeof *ry), *rdw = calloc(nw, sizeof *rdw), *rdx = calloc(nx, sizeof *rdx);
    for (size_t i = 0; i < nw; i++) rdw[i] = dw0[i];
    for (int n = 0; n < B; n++)
        for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++)
                for (int f = 0; f < F; f++) {
                    size_t yi = (((size_t)n * g.OH + oh) * g.OW + ow) * F + f;
                    double s = b[f];
                    for (int ki = 0; ki < kh; ki++)
                        for (int kj = 0; kj < kw; kj++) {
                            int ih = oh * sh - g.pad_top + ki, iw = ow * sw - g.pad_left + kj;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            for (int c = 0; c < C; c++) {
                                size_t xi = (((size_t)n * H + ih) * W + iw) * C + c;
                                size_t wi = (((size_t)ki * kw + kj) * C + c) * F + f;
                                s += (double)x[xi] * w[wi];
                                rdw[wi] += (double)x[xi] * dy0[yi];
                                rdx[xi] += (double)w[wi] * dy0[yi];
                            }
                        }
                    ry[yi] = s;
                }
    kern_conv2d_forward(&g, x, w, b, y, NULL, KERN_LINEAR, scr);
    kern_conv2d_backward(&g, x, w, y, NULL, dy, dx, dw, NULL, KERN_LINEAR, scr);
    char what[160];
    snprintf(what, sizeof what, "conv %s forward, im2col+BLAS vs naive", name);
    check_close(what, y, ry, ny, 1e-6);
    snprintf(what, sizeof what, "conv %s dW (+=), vs naive", name);
    check_close(what, dw, rdw, nw, 5e-6);   /* sums over up to 1440 float products */
    snprintf(what, sizeof what, "conv %s dx (overwritten), col2im vs naive", name);
    check_close(what, dx, rdx, nx, 1e-6);
    free(ry), free(rdw), free(rdx);
}

static void test_conv_vs_naive(void)
{
    conv_vs_naive("3x9x7x3->5, 3x2 stride (2,1) same", 3, 9, 7, 3, 5, 3, 2, 2, 1, 1, 900);
    conv_vs_naive("40x6x6x2->4, 3x3 same (two im2col chunks, the last partial)", 40, 6, 6, 2, 4, 3, 3, 1, 1, 1, 910);
    conv_vs_naive("2x11x10x4->3, 5x5 stride 3 valid", 2, 11, 10, 4, 3, 5, 5, 3, 3, 0, 920);
    conv_vs_naive("3x5x5x6->7, 1x1 pointwise", 3, 5, 5, 6, 7, 1, 1, 1, 1, 1, 930);
    conv_vs_naive("2x8x8x3->2, 1x1 stride 2", 2, 8, 8, 3, 2, 1, 1, 2, 2, 0, 940);
    kern_geom g;
    kern_conv_geom(&g, 40, 6, 6, 2, 4, 3, 3, 1, 1, 1);
    CHECK(g.chunk == 29, "conv chunk: ceil(1024 / 36) = 29 images per GEMM (got %d)", g.chunk);
}

/* ----------------------------------------------------------- 4. dropout */

static void test_dropout(void)
{
    size_t n = 100003;
    float rate = 0.2f, scale = 1.0f / (1.0f - rate);
    float *x = randf(n, 1000, 0.5f, 1.5f), *y = newf(n), *y2 = newf(n), *y3 = newf(n);
    kern_dropout_forward(x, y, n, rate, 77);
    kern_dropout_forward(x, y2, n, rate, 77);
    kern_dropout_forward(x, y3, n, rate, 78);
    CHECK(memcmp(y, y2, n * sizeof *y) == 0, "dropout: same key, same mask");
    size_t kept = 0, differ = 0, exact = 1;
    for (size_t i = 0; i < n; i++) {
        kept += y[i] != 0;
        differ += (y[i] != 0) != (y3[i] != 0);
        if (y[i] != 0 && y[i] != x[i] * scale) exact = 0;
    }
    double frac = (double)kept / n;
    CHECK(differ > n / 5, "dropout: another key, another mask (%zu of %zu differ)", differ, n);
    CHECK(fabs(frac - 0.8) < 0.02 * 0.8, "dropout rate 0.2: kept fraction %.4f within 2%% of 0.8", frac);
    CHECK(exact, "dropout: kept units scaled by exactly 1/(1-rate)");

    /* The mask of element i does not depend on n, and backward reuses it. */
    float *dy = randf(n, 1001, -1, 1), *dx = newf(n), *small = newf(101);
    kern_dropout_forward(x, small, 101, rate, 77);
    CHECK(memcmp(small, y, 101 * sizeof *y) == 0, "dropout mask is a function of the element index only");
    kern_dropout_backward(dy, dx, n, rate, 77);
    int same = 1;
    for (size_t i = 0; i < n; i++)
        if (dx[i] != (y[i] != 0 ? dy[i] * scale : 0.0f)) same = 0;
    CHECK(same, "dropout backward: the forward's mask and scale");
    kern_dropout_backward(dy, dy, n, rate, 77);
    CHECK(memcmp(dy, dx, n * sizeof *dx) == 0, "dropout backward in place");
    kern_dropout_forward(x, y, n, 0.0f, 77);
    CHECK(memcmp(x, y, n * sizeof *y) == 0, "dropout rate 0 is the identity");
    kern_dropout_forward(x, y, n, 0.5f, 5);
    kept = 0;
    for (size_t i = 0; i < n; i++) kept += y[i] != 0;
    CHECK(fabs((double)kept / n - 0.5) < 0.01, "dropout rate 0.5: kept fraction %.4f", (double)kept / n);
}

int main(void)
{
    test_dense_values();
    test_conv_values();
    test_pool_values();
    test_bn_values();
    test_loss_values();
    test_activation_accuracy();
    test_init();
    test_act_grads();
    test_dense_grads();
    test_conv_grads();
    test_pool_grads();
    test_bn_grads();
    test_loss_grads();
    test_fused_equivalence();
    test_dense_vs_naive();
    test_conv_vs_naive();
    test_dropout();
    free_pool();
    return check_exit();
}
