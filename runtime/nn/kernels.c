/* kernels.c: forward/backward kernels for Dense, Conv2D, pooling,
 * BatchNormalization, Dropout, the activations, the losses and the
 * initialisers, over raw float buffers (see kernels.h for layouts).
 *
 * Invariants: nothing here allocates, prints or fails; parameter gradients
 * are accumulated and input gradients overwritten; every GEMM is one
 * cblas_sgemm.  Elementwise loops are written so GCC vectorises them
 * (AVX-512 under -march=native): no calls, switches or function pointers in
 * an inner loop, and exp/tanh/erf are our own branch-free polynomials
 * instead of libm's scalar calls.  Their accuracy (a few ulp) is checked
 * against double-precision libm by the unit tests.  Losses are summed in
 * double, as they are per row and cheap, so finite differences of them are
 * meaningful. */
#include "runtime/nn/kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "runtime/rng.h"

/* -O2's "very cheap" vectoriser model refuses any loop whose trip count is
 * not a known multiple of the vector width, i.e. all of ours. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

/* A loop vectorises only if these are inlined into it, and GCC's inliner
 * gives up on them once bias_act holds a few copies. */
#define KMATH static inline __attribute__((always_inline))

/* -------------------------------------------------------- scalar math */

/* exp(x) = 2^n · e^r with n = round(x / ln2) and |r| <= ln2/2.  ln2 is split
 * in a 9-bit head (n·head is exact) and a tail, so r is accurate to a float
 * ulp; Taylor to degree 7 then errs by < 1e-8 relative.  x is clamped to
 * [-87, 88] so 2^n stays a normal float; NaN passes through. */
KMATH float kexp(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* Adding 1.5·2^23 rounds x/ln2 to an integer held in the low mantissa bits. */
    float t = fmaf(x, 1.44269504088896341f, 12582912.0f);
    float n = t - 12582912.0f;
    float r = fmaf(n, -0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = fmaf(r, 1.0f / 5040.0f, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

KMATH float ksigmoid(float x) { return 1.0f / (1.0f + kexp(-x)); }

/* tanh: the odd Taylor series up to x^15 below |x| = 0.4 (error < 1e-9),
 * where (1 - e)/(1 + e), e = exp(-2|x|), would cancel; that form above. */
KMATH float ktanh(float x)
{
    float a = fabsf(x);
    float e = kexp(-2.0f * a);
    float big = copysignf((1.0f - e) / (1.0f + e), x);
    float x2 = x * x;
    float p = fmaf(x2, -929569.0f / 638512875.0f, 21844.0f / 6081075.0f);
    p = fmaf(p, x2, -1382.0f / 155925.0f);
    p = fmaf(p, x2, 62.0f / 2835.0f);
    p = fmaf(p, x2, -17.0f / 315.0f);
    p = fmaf(p, x2, 2.0f / 15.0f);
    p = fmaf(p, x2, -1.0f / 3.0f);
    float small = fmaf(p * x2, x, x);
    return a < 0.4f ? small : big;
}

/* Φ(x), the standard normal CDF, as 0.5·erfc(|x|/√2) or 1 minus that, so
 * never as a difference of close numbers.  erfc(a), a >= 0, is the
 * Chebyshev fit of Press et al., Numerical Recipes §6.2 (fractional error
 * < 1.2e-7 everywhere, tails included): t·exp(-a² + P(t)), t = 1/(1 + a/2).
 * -a² is formed as fma(-x/2, x, P) so its rounding does not grow with x². */
KMATH float kphi_cdf(float x)
{
    float a = fabsf(x) * 0.707106781186547524f;
    float t = 1.0f / fmaf(0.5f, a, 1.0f);
    float p = fmaf(t, 0.17087277f, -0.82215223f);
    p = fmaf(p, t, 1.48851587f);
    p = fmaf(p, t, -1.13520398f);
    p = fmaf(p, t, 0.27886807f);
    p = fmaf(p, t, -0.18628806f);
    p = fmaf(p, t, 0.09678418f);
    p = fmaf(p, t, 0.37409196f);
    p = fmaf(p, t, 1.00002368f);
    p = fmaf(p, t, -1.26551223f);
    float h = 0.5f * t * kexp(fmaf(-0.5f * x, x, p));
    return x < 0.0f ? h : 1.0f - h;
}

KMATH float kgelu(float x) { return x * kphi_cdf(x); }

/* d/dx x·Φ(x) = Φ(x) + x·φ(x). */
KMATH float kgelu_grad(float x)
{
    return kphi_cdf(x) + x * 0.398942280401432678f * kexp(-0.5f * x * x);
}

/* Sums with 16 partial accumulators: ordered float reductions do not
 * vectorise without -ffast-math, this pattern does. */
static float sum_f(const float *x, size_t n)
{
    float acc[16] = { 0 };
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

static float dot_f(const float *restrict x, const float *restrict y, size_t n)
{
    float acc[16] = { 0 };
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l] * y[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i] * y[i];
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

static float max_f(const float *x, size_t n)
{
    float m = x[0];
    for (size_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* ---------------------------------------------------------- activations */

int kern_act_needs_z(kern_act act) { return act == KERN_GELU; }

/* In place: y = exp(y - max) / Σ, per row. */
static void softmax_rows(float *y, size_t rows, int cols)
{
    for (size_t r = 0; r < rows; r++) {
        float *restrict yr = y + r * (size_t)cols;
        float m = max_f(yr, (size_t)cols);
        for (int j = 0; j < cols; j++) yr[j] = kexp(yr[j] - m);
        float inv = 1.0f / sum_f(yr, (size_t)cols);
        for (int j = 0; j < cols; j++) yr[j] *= inv;
    }
}

/* One pass per row of y: t = y + b (b optional), z = t (z optional),
 * y = F(t).  The four variants are separate loops so none has a branch. */
#define EPILOGUE(F)                                                                  \
    for (size_t r = 0; r < rows; r++) {                                              \
        float *restrict yr = y + r * (size_t)cols;                                   \
        float *restrict zr = z ? z + r * (size_t)cols : NULL;                        \
        if (b && zr)                                                                 \
            for (int j = 0; j < cols; j++) { float t = yr[j] + b[j]; zr[j] = t; yr[j] = F(t); } \
        else if (b)                                                                  \
            for (int j = 0; j < cols; j++) { float t = yr[j] + b[j]; yr[j] = F(t); } \
        else if (zr)                                                                 \
            for (int j = 0; j < cols; j++) { float t = yr[j]; zr[j] = t; yr[j] = F(t); } \
        else                                                                         \
            for (int j = 0; j < cols; j++) { float t = yr[j]; yr[j] = F(t); }       \
    }

#define F_LINEAR(t) (t)
#define F_RELU(t) ((t) < 0.0f ? 0.0f : (t))

/* y (rows, cols) holds x·w on entry; add b, keep z, apply act. */
static void bias_act(float *y, float *z, const float *restrict b, size_t rows, int cols, kern_act act)
{
    switch (act) {
    case KERN_LINEAR: EPILOGUE(F_LINEAR); break;
    case KERN_RELU: EPILOGUE(F_RELU); break;
    case KERN_TANH: EPILOGUE(ktanh); break;
    case KERN_SIGMOID: EPILOGUE(ksigmoid); break;
    case KERN_GELU: EPILOGUE(kgelu); break;
    case KERN_SOFTMAX:
        EPILOGUE(F_LINEAR);
        softmax_rows(y, rows, cols);
        break;
    }
}

void kern_act_forward(const float *x, float *y, size_t rows, int cols, kern_act act)
{
    size_t n = rows * (size_t)cols;
    if (y != x) memcpy(y, x, n * sizeof *y);
    bias_act(y, NULL, NULL, rows, cols, act);
}

void kern_act_backward(const float *x, const float *y, const float *dy, float *dx,
                       size_t rows, int cols, kern_act act)
{
    size_t n = rows * (size_t)cols;
    switch (act) {
    case KERN_LINEAR:
        if (dx != dy) memmove(dx, dy, n * sizeof *dx);
        break;
    case KERN_RELU:
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case KERN_TANH:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case KERN_SIGMOID:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case KERN_GELU:
        if (!x) {
            for (size_t i = 0; i < n; i++) dx[i] = NAN;
            break;
        }
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * kgelu_grad(x[i]);
        break;
    case KERN_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * (size_t)cols, *dyr = dy + r * (size_t)cols;
            float *dxr = dx + r * (size_t)cols;
            float d = dot_f(dyr, yr, (size_t)cols);
            for (int j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - d);
        }
        break;
    }
}

/* db += Σ_rows dz, with the row loop outside so the column loop vectorises. */
static void colsum_acc(const float *restrict dz, float *restrict db, size_t rows, int cols)
{
    for (size_t r = 0; r < rows; r++) {
        const float *restrict dzr = dz + r * (size_t)cols;
        for (int j = 0; j < cols; j++) db[j] += dzr[j];
    }
}

/* ----------------------------------------------------------------- Dense */

void kern_dense_forward(const float *x, const float *w, const float *b, float *y, float *z,
                        int B, int in, int out, kern_act act)
{
    if (B <= 0 || out <= 0) return;
    if (in > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in,
                    1.0f, x, in, w, out, 0.0f, y, out);
    else
        memset(y, 0, (size_t)B * out * sizeof *y);
    bias_act(y, z, b, (size_t)B, out, act);
}

void kern_dense_backward(const float *x, const float *w, const float *y, const float *z,
                         float *dy, float *dx, float *dw, float *db,
                         int B, int in, int out, kern_act act)
{
    if (B <= 0 || out <= 0 || in <= 0) return;
    kern_act_backward(z, y, dy, dy, (size_t)B, out, act);
    if (db) colsum_acc(dy, db, (size_t)B, out);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B,
                1.0f, x, in, dy, out, 1.0f, dw, out);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out,
                    1.0f, dy, out, w, out, 0.0f, dx, in);
}

/* ------------------------------------------------------ window geometry */

int kern_conv_out_size(int in, int k, int stride, int same)
{
    if (in <= 0 || k <= 0 || stride <= 0) return 0;
    if (same) return (in + stride - 1) / stride;
    return in < k ? 0 : (in - k) / stride + 1;
}

static int pad_before(int in, int out, int k, int s, int same)
{
    if (!same) return 0;
    int total = (out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

/* About this many im2col rows per GEMM: enough that the GEMM runs near
 * peak on small images, little enough that the block stays a few MB. */
#define CONV_GEMM_ROWS 1024

int kern_conv_geom(kern_geom *g, int B, int H, int W, int C, int F,
                   int kh, int kw, int sh, int sw, int same)
{
    memset(g, 0, sizeof *g);
    if (B <= 0 || H <= 0 || W <= 0 || C <= 0 || F <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0)
        return -1;
    g->B = B, g->H = H, g->W = W, g->C = C, g->F = F;
    g->kh = kh, g->kw = kw, g->sh = sh, g->sw = sw, g->same = same != 0;
    g->OH = kern_conv_out_size(H, kh, sh, same);
    g->OW = kern_conv_out_size(W, kw, sw, same);
    if (g->OH <= 0 || g->OW <= 0) return -1;
    g->pad_top = pad_before(H, g->OH, kh, sh, same);
    g->pad_left = pad_before(W, g->OW, kw, sw, same);
    int per_image = g->OH * g->OW;
    int chunk = (CONV_GEMM_ROWS + per_image - 1) / per_image;
    g->chunk = chunk < B ? chunk : B;
    return 0;
}

int kern_pool_geom(kern_geom *g, int B, int H, int W, int C,
                   int ph, int pw, int sh, int sw, int same)
{
    return kern_conv_geom(g, B, H, W, C, C, ph, pw, sh, sw, same);
}

/* Output row o of axis length `in` covers input [lo, hi) after clipping the
 * window [o·s - pad, o·s - pad + k) to the image. */
static inline void window(int o, int s, int pad, int k, int in, int *lo, int *hi)
{
    int start = o * s - pad;
    *lo = start < 0 ? 0 : start;
    *hi = start + k > in ? in : start + k;
}

/* ---------------------------------------------------------------- Conv2D */

/* 1x1 stride-1 convs are a plain GEMM over x seen as (B·H·W, C). */
static int conv_is_pointwise(const kern_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1;
}

size_t kern_conv2d_scratch_floats(const kern_geom *g)
{
    if (conv_is_pointwise(g)) return 0;
    return (size_t)g->chunk * g->OH * g->OW * g->kh * g->kw * g->C;
}

/* col row (b, oh, ow) = the window's pixels in (ki, kj, c) order, zeros
 * for padding, which matches w's (kh, kw, C, F) layout seen as (kh·kw·C, F).
 * For one ki the valid kj are contiguous in NHWC, so each is one memcpy. */
static void im2col(const kern_geom *g, const float *x /* (nimg, H, W, C) */, int nimg,
                   float *col /* (nimg·OH·OW, kh·kw·C) */)
{
    const int C = g->C, kw = g->kw;
    const size_t kkc = (size_t)g->kh * kw * C;
    for (int b = 0; b < nimg; b++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                float *row = col + (((size_t)b * g->OH + oh) * g->OW + ow) * kkc;
                int h0 = oh * g->sh - g->pad_top, w0 = ow * g->sw - g->pad_left;
                int kj0 = w0 < 0 ? -w0 : 0;
                int kj1 = w0 + kw > g->W ? g->W - w0 : kw;
                for (int ki = 0; ki < g->kh; ki++) {
                    float *dst = row + (size_t)ki * kw * C;
                    int ih = h0 + ki;
                    if (ih < 0 || ih >= g->H || kj1 <= kj0) {
                        memset(dst, 0, (size_t)kw * C * sizeof *dst);
                        continue;
                    }
                    if (kj0 > 0) memset(dst, 0, (size_t)kj0 * C * sizeof *dst);
                    memcpy(dst + (size_t)kj0 * C,
                           x + (((size_t)b * g->H + ih) * g->W + w0 + kj0) * C,
                           (size_t)(kj1 - kj0) * C * sizeof *dst);
                    if (kj1 < kw) memset(dst + (size_t)kj1 * C, 0, (size_t)(kw - kj1) * C * sizeof *dst);
                }
            }
}

/* The adjoint of im2col: dx = 0, then every col entry is added back to the
 * pixel it was copied from (padding entries are dropped). */
static void col2im(const kern_geom *g, const float *col, int nimg, float *dx /* (nimg, H, W, C) */)
{
    const int C = g->C, kw = g->kw;
    const size_t kkc = (size_t)g->kh * kw * C;
    memset(dx, 0, (size_t)nimg * g->H * g->W * C * sizeof *dx);
    for (int b = 0; b < nimg; b++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                const float *row = col + (((size_t)b * g->OH + oh) * g->OW + ow) * kkc;
                int h0 = oh * g->sh - g->pad_top, w0 = ow * g->sw - g->pad_left;
                int kj0 = w0 < 0 ? -w0 : 0;
                int kj1 = w0 + kw > g->W ? g->W - w0 : kw;
                if (kj1 <= kj0) continue;
                size_t len = (size_t)(kj1 - kj0) * C;
                for (int ki = 0; ki < g->kh; ki++) {
                    int ih = h0 + ki;
                    if (ih < 0 || ih >= g->H) continue;
                    const float *restrict src = row + ((size_t)ki * kw + kj0) * C;
                    float *restrict dst = dx + (((size_t)b * g->H + ih) * g->W + w0 + kj0) * C;
                    for (size_t i = 0; i < len; i++) dst[i] += src[i];
                }
            }
}

void kern_conv2d_forward(const kern_geom *g, const float *x, const float *w, const float *b,
                         float *y, float *z, kern_act act, float *scratch)
{
    const int F = g->F;
    const size_t kkc = (size_t)g->kh * g->kw * g->C;
    const size_t in_img = (size_t)g->H * g->W * g->C, out_rows = (size_t)g->OH * g->OW;
    if (conv_is_pointwise(g)) {
        size_t rows = (size_t)g->B * out_rows;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, F, g->C,
                    1.0f, x, g->C, w, F, 0.0f, y, F);
        bias_act(y, z, b, rows, F, act);
        return;
    }
    for (int b0 = 0; b0 < g->B; b0 += g->chunk) {
        int nimg = g->B - b0 < g->chunk ? g->B - b0 : g->chunk;
        size_t rows = (size_t)nimg * out_rows;
        float *yc = y + (size_t)b0 * out_rows * F;
        im2col(g, x + (size_t)b0 * in_img, nimg, scratch);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, F, (int)kkc,
                    1.0f, scratch, (int)kkc, w, F, 0.0f, yc, F);
        /* The epilogue runs on this chunk while it is still in cache. */
        bias_act(yc, z ? z + (size_t)b0 * out_rows * F : NULL, b, rows, F, act);
    }
}

void kern_conv2d_backward(const kern_geom *g, const float *x, const float *w, const float *y,
                          const float *z, float *dy, float *dx, float *dw, float *db,
                          kern_act act, float *scratch)
{
    const int F = g->F;
    const size_t kkc = (size_t)g->kh * g->kw * g->C;
    const size_t in_img = (size_t)g->H * g->W * g->C, out_rows = (size_t)g->OH * g->OW;
    const size_t all_rows = (size_t)g->B * out_rows;
    kern_act_backward(z, y, dy, dy, all_rows, F, act);
    if (db) colsum_acc(dy, db, all_rows, F);
    if (conv_is_pointwise(g)) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->C, F, (int)all_rows,
                    1.0f, x, g->C, dy, F, 1.0f, dw, F);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)all_rows, g->C, F,
                        1.0f, dy, F, w, F, 0.0f, dx, g->C);
        return;
    }
    for (int b0 = 0; b0 < g->B; b0 += g->chunk) {
        int nimg = g->B - b0 < g->chunk ? g->B - b0 : g->chunk;
        size_t rows = (size_t)nimg * out_rows;
        const float *dzc = dy + (size_t)b0 * out_rows * F;
        im2col(g, x + (size_t)b0 * in_img, nimg, scratch);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kkc, F, (int)rows,
                    1.0f, scratch, (int)kkc, dzc, F, 1.0f, dw, F);
        if (!dx) continue;
        /* col is spent: reuse the block for dcol. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kkc, F,
                    1.0f, dzc, F, w, F, 0.0f, scratch, (int)kkc);
        col2im(g, scratch, nimg, dx + (size_t)b0 * in_img);
    }
}

/* --------------------------------------------------------------- pooling */

size_t kern_maxpool2d_scratch_ints(const kern_geom *g)
{
    return (size_t)g->B * g->OH * g->OW * g->C;
}

void kern_maxpool2d_forward(const kern_geom *g, const float *x, float *y, int32_t *argmax)
{
    const int C = g->C;
    for (int b = 0; b < g->B; b++) {
        const float *xb = x + (size_t)b * g->H * g->W * C;
        for (int oh = 0; oh < g->OH; oh++) {
            int h0, h1;
            window(oh, g->sh, g->pad_top, g->kh, g->H, &h0, &h1);
            for (int ow = 0; ow < g->OW; ow++) {
                int w0, w1;
                window(ow, g->sw, g->pad_left, g->kw, g->W, &w0, &w1);
                size_t o = (((size_t)b * g->OH + oh) * g->OW + ow) * C;
                float *restrict yo = y + o;
                int32_t *restrict ao = argmax ? argmax + o : NULL;
                if (h1 <= h0 || w1 <= w0) {   /* a window of padding only */
                    for (int c = 0; c < C; c++) yo[c] = 0.0f;
                    if (ao) for (int c = 0; c < C; c++) ao[c] = -1;
                    continue;
                }
                int first = 1;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) {
                        int32_t idx = (int32_t)(ih * g->W + iw) * C;
                        const float *restrict xo = xb + idx;
                        if (first) {
                            for (int c = 0; c < C; c++) yo[c] = xo[c];
                            if (ao) for (int c = 0; c < C; c++) ao[c] = idx + c;
                            first = 0;
                        } else if (ao) {
                            /* Strictly greater: the first maximum keeps the gradient. */
                            for (int c = 0; c < C; c++) {
                                int gt = xo[c] > yo[c];
                                yo[c] = gt ? xo[c] : yo[c];
                                ao[c] = gt ? idx + c : ao[c];
                            }
                        } else {
                            for (int c = 0; c < C; c++) yo[c] = xo[c] > yo[c] ? xo[c] : yo[c];
                        }
                    }
            }
        }
    }
}

void kern_maxpool2d_backward(const kern_geom *g, const float *dy, float *dx, const int32_t *argmax)
{
    const size_t in_img = (size_t)g->H * g->W * g->C, out_img = (size_t)g->OH * g->OW * g->C;
    memset(dx, 0, (size_t)g->B * in_img * sizeof *dx);
    for (int b = 0; b < g->B; b++) {
        float *dxb = dx + (size_t)b * in_img;
        const float *dyb = dy + (size_t)b * out_img;
        const int32_t *ab = argmax + (size_t)b * out_img;
        for (size_t o = 0; o < out_img; o++)
            if (ab[o] >= 0) dxb[ab[o]] += dyb[o];
    }
}

void kern_avgpool2d_forward(const kern_geom *g, const float *x, float *y)
{
    const int C = g->C;
    for (int b = 0; b < g->B; b++) {
        const float *xb = x + (size_t)b * g->H * g->W * C;
        for (int oh = 0; oh < g->OH; oh++) {
            int h0, h1;
            window(oh, g->sh, g->pad_top, g->kh, g->H, &h0, &h1);
            for (int ow = 0; ow < g->OW; ow++) {
                int w0, w1;
                window(ow, g->sw, g->pad_left, g->kw, g->W, &w0, &w1);
                float *restrict yo = y + (((size_t)b * g->OH + oh) * g->OW + ow) * C;
                for (int c = 0; c < C; c++) yo[c] = 0.0f;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) {
                        const float *restrict xo = xb + ((size_t)ih * g->W + iw) * C;
                        for (int c = 0; c < C; c++) yo[c] += xo[c];
                    }
                int count = (h1 - h0) * (w1 - w0);
                float inv = count > 0 ? 1.0f / (float)count : 0.0f;
                for (int c = 0; c < C; c++) yo[c] *= inv;
            }
        }
    }
}

void kern_avgpool2d_backward(const kern_geom *g, const float *dy, float *dx)
{
    const int C = g->C;
    memset(dx, 0, (size_t)g->B * g->H * g->W * C * sizeof *dx);
    for (int b = 0; b < g->B; b++) {
        float *dxb = dx + (size_t)b * g->H * g->W * C;
        for (int oh = 0; oh < g->OH; oh++) {
            int h0, h1;
            window(oh, g->sh, g->pad_top, g->kh, g->H, &h0, &h1);
            for (int ow = 0; ow < g->OW; ow++) {
                int w0, w1;
                window(ow, g->sw, g->pad_left, g->kw, g->W, &w0, &w1);
                int count = (h1 - h0) * (w1 - w0);
                if (count <= 0) continue;
                float inv = 1.0f / (float)count;
                const float *restrict dyo = dy + (((size_t)b * g->OH + oh) * g->OW + ow) * C;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) {
                        float *restrict dxo = dxb + ((size_t)ih * g->W + iw) * C;
                        for (int c = 0; c < C; c++) dxo[c] += dyo[c] * inv;
                    }
            }
        }
    }
}

/* ---------------------------------------------------- BatchNormalization */

/* Column sums are accumulated a block of rows at a time into `part` and then
 * added to `sum`, which bounds the float error by (block + N/block)·ulp
 * instead of N·ulp. */
#define BN_BLOCK 256

size_t kern_batchnorm_scratch_floats(int C) { return 6 * (size_t)C; }

void kern_batchnorm_forward_train(const float *x, float *y, const float *gamma, const float *beta,
                                  float *moving_mean, float *moving_var,
                                  size_t N, int C, float momentum, float epsilon, float *state)
{
    float *restrict mean = state, *restrict inv = state + C;
    float *restrict part = state + 2 * (size_t)C, *restrict shift = state + 3 * (size_t)C;
    if (N == 0) return;
    /* Pass 1: mean. */
    for (int c = 0; c < C; c++) mean[c] = 0.0f;
    for (size_t r0 = 0; r0 < N; r0 += BN_BLOCK) {
        size_t r1 = r0 + BN_BLOCK < N ? r0 + BN_BLOCK : N;
        for (int c = 0; c < C; c++) part[c] = 0.0f;
        for (size_t r = r0; r < r1; r++) {
            const float *restrict xr = x + r * C;
            for (int c = 0; c < C; c++) part[c] += xr[c];
        }
        for (int c = 0; c < C; c++) mean[c] += part[c];
    }
    for (int c = 0; c < C; c++) mean[c] /= (float)N;
    /* Pass 2: the biased variance about that mean (no E[x²] - E[x]² cancellation). */
    for (int c = 0; c < C; c++) inv[c] = 0.0f;
    for (size_t r0 = 0; r0 < N; r0 += BN_BLOCK) {
        size_t r1 = r0 + BN_BLOCK < N ? r0 + BN_BLOCK : N;
        for (int c = 0; c < C; c++) part[c] = 0.0f;
        for (size_t r = r0; r < r1; r++) {
            const float *restrict xr = x + r * C;
            for (int c = 0; c < C; c++) {
                float d = xr[c] - mean[c];
                part[c] += d * d;
            }
        }
        for (int c = 0; c < C; c++) inv[c] += part[c];
    }
    for (int c = 0; c < C; c++) {
        float var = inv[c] / (float)N;
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1.0f - momentum);
        moving_var[c] = moving_var[c] * momentum + var * (1.0f - momentum);
        inv[c] = 1.0f / sqrtf(var + epsilon);
        /* y = x·scale + shift; scale kept in `part`. */
        part[c] = inv[c] * (gamma ? gamma[c] : 1.0f);
        shift[c] = (beta ? beta[c] : 0.0f) - mean[c] * part[c];
    }
    for (size_t r = 0; r < N; r++) {
        const float *restrict xr = x + r * C;
        float *restrict yr = y + r * C;
        for (int c = 0; c < C; c++) yr[c] = fmaf(xr[c], part[c], shift[c]);
    }
}

void kern_batchnorm_forward_infer(const float *x, float *y, const float *gamma, const float *beta,
                                  const float *moving_mean, const float *moving_var,
                                  size_t N, int C, float epsilon)
{
    for (size_t r = 0; r < N; r++) {
        const float *restrict xr = x + r * C;
        float *restrict yr = y + r * C;
        /* Recomputing scale per row is cheaper than asking for scratch: the
         * column loop vectorises and C divisions per row are noise next to a GEMM. */
        for (int c = 0; c < C; c++) {
            float s = (gamma ? gamma[c] : 1.0f) / sqrtf(moving_var[c] + epsilon);
            yr[c] = (xr[c] - moving_mean[c]) * s + (beta ? beta[c] : 0.0f);
        }
    }
}

void kern_batchnorm_backward(const float *x, const float *dy, float *dx, const float *gamma,
                             float *dgamma, float *dbeta, size_t N, int C, float *state)
{
    const float *restrict mean = state, *restrict inv = state + C;
    float *restrict sdy = state + 2 * (size_t)C, *restrict sdyx = state + 3 * (size_t)C;
    float *restrict pdy = state + 4 * (size_t)C, *restrict pdyx = state + 5 * (size_t)C;
    if (N == 0) return;
    for (int c = 0; c < C; c++) sdy[c] = sdyx[c] = 0.0f;
    /* Σ dy and Σ dy·x̂, blocked like the forward sums. */
    for (size_t r0 = 0; r0 < N; r0 += BN_BLOCK) {
        size_t r1 = r0 + BN_BLOCK < N ? r0 + BN_BLOCK : N;
        for (int c = 0; c < C; c++) pdy[c] = pdyx[c] = 0.0f;
        for (size_t r = r0; r < r1; r++) {
            const float *restrict xr = x + r * C, *restrict dyr = dy + r * C;
            for (int c = 0; c < C; c++) {
                pdy[c] += dyr[c];
                pdyx[c] += dyr[c] * (xr[c] - mean[c]) * inv[c];
            }
        }
        for (int c = 0; c < C; c++) {
            sdy[c] += pdy[c];
            sdyx[c] += pdyx[c];
        }
    }
    for (int c = 0; c < C; c++) {
        if (dbeta) dbeta[c] += sdy[c];
        if (dgamma) dgamma[c] += sdyx[c];
    }
    if (!dx) return;
    /* dx = k·(dy - a - x̂·s) with k = gamma·inv, a = mean(dy), s = mean(dy·x̂). */
    for (int c = 0; c < C; c++) {
        sdy[c] /= (float)N;
        sdyx[c] /= (float)N;
    }
    for (size_t r = 0; r < N; r++) {
        const float *restrict xr = x + r * C, *restrict dyr = dy + r * C;
        float *restrict dxr = dx + r * C;
        for (int c = 0; c < C; c++) {
            float xhat = (xr[c] - mean[c]) * inv[c];
            float k = (gamma ? gamma[c] : 1.0f) * inv[c];
            dxr[c] = k * (dyr[c] - sdy[c] - xhat * sdyx[c]);
        }
    }
}

/* ---------------------------------------------------------------- Dropout */

/* One 64-bit draw decides four elements, 16 bits each.  The draws for a
 * block are made first, in a loop GCC turns into AVX-512 64-bit multiplies,
 * then applied. */
#define DROP_BLOCK 256

static void dropout_apply(const float *x, float *y, size_t n, float rate, uint64_t key)
{
    if (rate <= 0.0f) {
        if (y != x) memmove(y, x, n * sizeof *y);
        return;
    }
    if (rate >= 1.0f) {
        memset(y, 0, n * sizeof *y);
        return;
    }
    const uint32_t thr = (uint32_t)(rate * 65536.0f + 0.5f);
    const float scale = 1.0f / (1.0f - rate);
    uint64_t draw[DROP_BLOCK];
    size_t nq = (n + 3) / 4;
    for (size_t q0 = 0; q0 < nq; q0 += DROP_BLOCK) {
        size_t m = nq - q0 < DROP_BLOCK ? nq - q0 : DROP_BLOCK;
        for (size_t k = 0; k < m; k++) draw[k] = rng_at(key, q0 + k);
        size_t i0 = q0 * 4, full = m * 4;
        if (i0 + full > n) full = n - i0;
        for (size_t k = 0; k < full; k++) {
            uint32_t lane = (uint32_t)(draw[k / 4] >> (16 * (k % 4))) & 0xffffu;
            y[i0 + k] = lane >= thr ? x[i0 + k] * scale : 0.0f;
        }
    }
}

/* LayerNormalization: sums in double, so a row of many features keeps float
 * precision; rows are independent (no statistics cross the batch). */
void kern_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta, size_t N, int F,
                            float epsilon, float *state)
{
    for (size_t r = 0; r < N; r++) {
        const float *restrict xr = x + r * (size_t)F;
        float *restrict yr = y + r * (size_t)F;
        double sum = 0, sq = 0;
        for (int f = 0; f < F; f++) sum += xr[f];
        float mean = (float)(sum / F);
        for (int f = 0; f < F; f++) sq += (double)(xr[f] - mean) * (xr[f] - mean);
        float inv = (float)(1.0 / sqrt(sq / F + epsilon));
        state[r] = mean, state[N + r] = inv;
        for (int f = 0; f < F; f++) {
            float v = (xr[f] - mean) * inv;
            yr[f] = v * (gamma ? gamma[f] : 1.0f) + (beta ? beta[f] : 0.0f);
        }
    }
}

void kern_layernorm_backward(const float *x, const float *dy, float *dx, const float *gamma, float *dgamma,
                             float *dbeta, size_t N, int F, const float *state)
{
    for (size_t r = 0; r < N; r++) {
        const float *restrict xr = x + r * (size_t)F, *restrict dyr = dy + r * (size_t)F;
        float mean = state[r], inv = state[N + r];
        double sg = 0, sgx = 0;
        for (int f = 0; f < F; f++) {
            float xhat = (xr[f] - mean) * inv;
            float g = dyr[f] * (gamma ? gamma[f] : 1.0f);
            if (dgamma) dgamma[f] += dyr[f] * xhat;
            if (dbeta) dbeta[f] += dyr[f];
            sg += g;
            sgx += (double)g * xhat;
        }
        if (!dx) continue;
        float a = (float)(sg / F), b = (float)(sgx / F);
        float *restrict dxr = dx + r * (size_t)F;
        for (int f = 0; f < F; f++) {
            float xhat = (xr[f] - mean) * inv;
            dxr[f] = inv * (dyr[f] * (gamma ? gamma[f] : 1.0f) - a - xhat * b);
        }
    }
}

void kern_dropout_forward(const float *x, float *y, size_t n, float rate, uint64_t key)
{
    dropout_apply(x, y, n, rate, key);
}

void kern_dropout_backward(const float *dy, float *dx, size_t n, float rate, uint64_t key)
{
    dropout_apply(dy, dx, n, rate, key);
}

/* ----------------------------------------------------------------- losses */

/* Keras's backend.epsilon(), the clip of probabilities. */
#define PROB_EPS 1e-7

/* Row r of logits: its max and log Σ exp(z - max), in double. */
static double row_lse(const float *zr, int K, double *max_out)
{
    double m = zr[0];
    for (int k = 1; k < K; k++) m = zr[k] > m ? zr[k] : m;
    double s = 0.0;
    for (int k = 0; k < K; k++) s += exp((double)zr[k] - m);
    *max_out = m;
    return log(s);
}

double kern_sparse_softmax_ce(const float *logits, const int32_t *labels, float *dlogits, int B, int K)
{
    double total = 0.0, invB = 1.0 / B;
    for (int r = 0; r < B; r++) {
        const float *zr = logits + (size_t)r * K;
        float *dr = dlogits ? dlogits + (size_t)r * K : NULL;
        int32_t y = labels[r];
        if (y < 0 || y >= K) {
            total += NAN;
            if (dr) memset(dr, 0, (size_t)K * sizeof *dr);
            continue;
        }
        double m, lse = row_lse(zr, K, &m);
        total += lse - ((double)zr[y] - m);
        if (dr) {
            for (int k = 0; k < K; k++) dr[k] = (float)(exp((double)zr[k] - m - lse) * invB);
            dr[y] = (float)((exp((double)zr[y] - m - lse) - 1.0) * invB);
        }
    }
    return total * invB;
}

double kern_softmax_ce(const float *logits, const float *target, float *dlogits, int B, int K)
{
    double total = 0.0, invB = 1.0 / B;
    for (int r = 0; r < B; r++) {
        const float *zr = logits + (size_t)r * K, *tr = target + (size_t)r * K;
        double m, lse = row_lse(zr, K, &m), tsum = 0.0;
        for (int k = 0; k < K; k++) {
            tsum += tr[k];
            total += tr[k] * (lse - ((double)zr[k] - m));
        }
        if (dlogits) {
            float *dr = dlogits + (size_t)r * K;
            for (int k = 0; k < K; k++)
                dr[k] = (float)((exp((double)zr[k] - m - lse) * tsum - tr[k]) * invB);
        }
    }
    return total * invB;
}

/* d/dq of -t·log(clip(q)): zero when the clip bites (TF passes the
 * gradient at the bounds themselves, as here). */
static inline double clip_log_grad(double q, double t, double *loss)
{
    double c = q < PROB_EPS ? PROB_EPS : q > 1.0 - PROB_EPS ? 1.0 - PROB_EPS : q;
    *loss -= t * log(c);
    return (q < PROB_EPS || q > 1.0 - PROB_EPS) ? 0.0 : -t / q;
}

/* With q = p / s the row's loss is Σ -t·log(clip(q)); given g_k = dL/dq_k,
 * dL/dp_j = (g_j - Σ_k g_k·q_k) / s.  The first pass gets the loss and
 * Σ g·q, the second recomputes g_j while writing the row. */
double kern_ce_probs(const float *probs, const float *target, float *dprobs, int B, int K)
{
    double total = 0.0, invB = 1.0 / B;
    for (int r = 0; r < B; r++) {
        const float *pr = probs + (size_t)r * K, *tr = target + (size_t)r * K;
        double s = 0.0;
        for (int k = 0; k < K; k++) s += pr[k];
        double gq = 0.0;
        for (int k = 0; k < K; k++) {
            double q = pr[k] / s;
            gq += clip_log_grad(q, tr[k], &total) * q;
        }
        if (!dprobs) continue;
        float *dr = dprobs + (size_t)r * K;
        double unused = 0.0;
        for (int k = 0; k < K; k++)
            dr[k] = (float)((clip_log_grad(pr[k] / s, tr[k], &unused) - gq) / s * invB);
    }
    return total * invB;
}

double kern_sparse_ce_probs(const float *probs, const int32_t *labels, float *dprobs, int B, int K)
{
    double total = 0.0, invB = 1.0 / B;
    for (int r = 0; r < B; r++) {
        const float *pr = probs + (size_t)r * K;
        float *dr = dprobs ? dprobs + (size_t)r * K : NULL;
        int32_t y = labels[r];
        if (y < 0 || y >= K) {
            total += NAN;
            if (dr) memset(dr, 0, (size_t)K * sizeof *dr);
            continue;
        }
        double s = 0.0;
        for (int k = 0; k < K; k++) s += pr[k];
        double q = pr[y] / s;
        double gy = clip_log_grad(q, 1.0, &total);
        if (dr) {
            /* Only g_y is non-zero, so Σ g·q = g_y·q_y. */
            for (int k = 0; k < K; k++) dr[k] = (float)(-gy * q / s * invB);
            dr[y] = (float)((gy - gy * q) / s * invB);
        }
    }
    return total * invB;
}

double kern_mse(const float *pred, const float *target, float *dpred, int B, int F)
{
    size_t n = (size_t)B * F;
    double total = 0.0, scale = 2.0 / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        total += d * d;
        if (dpred) dpred[i] = (float)(d * scale);
    }
    return n ? total / (double)n : 0.0;
}

static int argmax_row(const float *x, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (x[k] > x[best]) best = k;
    return best;
}

int kern_accuracy_sparse(const float *scores, const int32_t *labels, int B, int K)
{
    int hits = 0;
    for (int r = 0; r < B; r++) hits += argmax_row(scores + (size_t)r * K, K) == labels[r];
    return hits;
}

int kern_accuracy_onehot(const float *scores, const float *target, int B, int K)
{
    int hits = 0;
    for (int r = 0; r < B; r++)
        hits += argmax_row(scores + (size_t)r * K, K) == argmax_row(target + (size_t)r * K, K);
    return hits;
}

/* ----------------------------------------------------------- initialisers */

void kern_glorot_uniform(float *w, size_t n, int fan_in, int fan_out, uint64_t key)
{
    int fans = fan_in + fan_out;
    float limit = sqrtf(6.0f / (float)(fans > 0 ? fans : 1));
    for (size_t i = 0; i < n; i++) {
        float u = (float)(rng_at(key, i) >> 40) * 0x1p-24f;
        w[i] = (2.0f * u - 1.0f) * limit;
    }
}

void kern_fill(float *w, size_t n, float value)
{
    for (size_t i = 0; i < n; i++) w[i] = value;
}

void kern_zeros(float *w, size_t n) { memset(w, 0, n * sizeof *w); }
void kern_ones(float *w, size_t n) { kern_fill(w, n, 1.0f); }
