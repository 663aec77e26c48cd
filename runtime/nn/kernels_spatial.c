/* kernels_spatial.c: the grouped and dilated convolution, zero padding and
 * upsampling in plain loops (see kernels_spatial.h).  The convolution is
 * the direct sum, one output pixel at a time with every channel of it in
 * a row; it is the fallback of oneDNN's, so it is written to be plainly
 * right rather than fast. */
#include "runtime/nn/kernels_spatial.h"

#include <math.h>
#include <string.h>

/* ----------------------------------------------------- grouped, dilated conv */

/* The input row (or column) that tap k of output o reads, or -1 in the padding. */
static inline int tap(int o, int s, int pad, int k, int d, int in)
{
    int i = o * s - pad + k * d;
    return i >= 0 && i < in ? i : -1;
}

void kern_gconv_forward(const kern_geom *g, int groups, int dil_h, int dil_w, const float *x, const float *w,
                        const float *b, float *y, float *z, kern_act act)
{
    const int C = g->C, F = g->F, Cg = C / groups, Fg = F / groups;
    float *out = z ? z : y;
    for (int n = 0; n < g->B; n++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                float *o = out + (((size_t)n * g->OH + oh) * g->OW + ow) * F;
                for (int f = 0; f < F; f++) o[f] = b ? b[f] : 0.0f;
                for (int ki = 0; ki < g->kh; ki++) {
                    int ih = tap(oh, g->sh, g->pad_top, ki, dil_h, g->H);
                    if (ih < 0) continue;
                    for (int kj = 0; kj < g->kw; kj++) {
                        int iw = tap(ow, g->sw, g->pad_left, kj, dil_w, g->W);
                        if (iw < 0) continue;
                        const float *xp = x + (((size_t)n * g->H + ih) * g->W + iw) * C;
                        const float *wp = w + ((size_t)ki * g->kw + kj) * Cg * F;
                        for (int f = 0; f < F; f++) {
                            const float *xq = xp + (size_t)(f / Fg) * Cg;
                            float s = 0.0f;
                            for (int ci = 0; ci < Cg; ci++) s += xq[ci] * wp[(size_t)ci * F + f];
                            o[f] += s;
                        }
                    }
                }
            }
    if (z || act != KERN_LINEAR) kern_act_forward(out, y, (size_t)g->B * g->OH * g->OW, F, act);
}

void kern_gconv_backward(const kern_geom *g, int groups, int dil_h, int dil_w, const float *x, const float *w,
                         const float *y, const float *z, float *dy, float *dx, float *dw, float *db, kern_act act)
{
    const int C = g->C, F = g->F, Cg = C / groups, Fg = F / groups;
    size_t rows = (size_t)g->B * g->OH * g->OW;
    if (act != KERN_LINEAR) kern_act_backward(z, y, dy, dy, rows, F, act);
    if (db)
        for (size_t r = 0; r < rows; r++)
            for (int f = 0; f < F; f++) db[f] += dy[r * F + f];
    if (dx) memset(dx, 0, sizeof(float) * (size_t)g->B * g->H * g->W * C);
    for (int n = 0; n < g->B; n++)
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                const float *d = dy + (((size_t)n * g->OH + oh) * g->OW + ow) * F;
                for (int ki = 0; ki < g->kh; ki++) {
                    int ih = tap(oh, g->sh, g->pad_top, ki, dil_h, g->H);
                    if (ih < 0) continue;
                    for (int kj = 0; kj < g->kw; kj++) {
                        int iw = tap(ow, g->sw, g->pad_left, kj, dil_w, g->W);
                        if (iw < 0) continue;
                        size_t at = (((size_t)n * g->H + ih) * g->W + iw) * C;
                        const float *xp = x + at;
                        float *dxp = dx ? dx + at : NULL;
                        size_t wat = ((size_t)ki * g->kw + kj) * Cg * F;
                        for (int f = 0; f < F; f++) {
                            size_t q = (size_t)(f / Fg) * Cg;
                            for (int ci = 0; ci < Cg; ci++) {
                                dw[wat + (size_t)ci * F + f] += xp[q + ci] * d[f];
                                if (dxp) dxp[q + ci] += w[wat + (size_t)ci * F + f] * d[f];
                            }
                        }
                    }
                }
            }
}

/* ------------------------------------------------------------- ZeroPadding2D */

void kern_zero_pad2d_forward(const float *x, float *y, int B, int H, int W, int C, const int pad[4])
{
    int OH = H + pad[0] + pad[1], OW = W + pad[2] + pad[3];
    memset(y, 0, sizeof(float) * (size_t)B * OH * OW * C);
    for (int n = 0; n < B; n++)
        for (int i = 0; i < H; i++)
            memcpy(y + (((size_t)n * OH + i + pad[0]) * OW + pad[2]) * C, x + ((size_t)n * H + i) * W * C,
                   sizeof(float) * (size_t)W * C);
}

void kern_zero_pad2d_backward(const float *dy, float *dx, int B, int H, int W, int C, const int pad[4])
{
    int OH = H + pad[0] + pad[1], OW = W + pad[2] + pad[3];
    for (int n = 0; n < B; n++)
        for (int i = 0; i < H; i++)
            memcpy(dx + ((size_t)n * H + i) * W * C, dy + (((size_t)n * OH + i + pad[0]) * OW + pad[2]) * C,
                   sizeof(float) * (size_t)W * C);
}

/* -------------------------------------------------------------- UpSampling2D */

/* Where output index o of an axis upsampled by f reads: nearest, or the two
 * bilinear neighbours lo, hi with hi's weight t. */
static void source(int o, int f, int in, int bilinear, int *lo, int *hi, float *t)
{
    if (!bilinear) {
        *lo = *hi = o / f, *t = 0.0f;
        return;
    }
    double s = (o + 0.5) / f - 0.5;
    if (s < 0) s = 0;
    int i = (int)floor(s);
    *lo = i < in - 1 ? i : in - 1;
    *hi = i + 1 < in - 1 ? i + 1 : in - 1;
    *t = (float)(s - i);
}

void kern_upsample2d_forward(const float *x, float *y, int B, int H, int W, int C, int fh, int fw, int bilinear)
{
    int OH = H * fh, OW = W * fw;
    for (int n = 0; n < B; n++)
        for (int i = 0; i < OH; i++) {
            int i0, i1, j0, j1;
            float ti, tj;
            source(i, fh, H, bilinear, &i0, &i1, &ti);
            const float *r0 = x + ((size_t)n * H + i0) * W * C, *r1 = x + ((size_t)n * H + i1) * W * C;
            for (int j = 0; j < OW; j++) {
                source(j, fw, W, bilinear, &j0, &j1, &tj);
                float *o = y + (((size_t)n * OH + i) * OW + j) * C;
                const float *a = r0 + (size_t)j0 * C, *b = r0 + (size_t)j1 * C;
                const float *c = r1 + (size_t)j0 * C, *d = r1 + (size_t)j1 * C;
                if (!bilinear) {
                    memcpy(o, a, sizeof(float) * (size_t)C);
                    continue;
                }
                for (int k = 0; k < C; k++) {
                    float top = a[k] + (b[k] - a[k]) * tj, bottom = c[k] + (d[k] - c[k]) * tj;
                    o[k] = top + (bottom - top) * ti;
                }
            }
        }
}

void kern_upsample2d_backward(const float *dy, float *dx, int B, int H, int W, int C, int fh, int fw, int bilinear)
{
    int OH = H * fh, OW = W * fw;
    memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
    for (int n = 0; n < B; n++)
        for (int i = 0; i < OH; i++) {
            int i0, i1, j0, j1;
            float ti, tj;
            source(i, fh, H, bilinear, &i0, &i1, &ti);
            float *r0 = dx + ((size_t)n * H + i0) * W * C, *r1 = dx + ((size_t)n * H + i1) * W * C;
            for (int j = 0; j < OW; j++) {
                source(j, fw, W, bilinear, &j0, &j1, &tj);
                const float *d = dy + (((size_t)n * OH + i) * OW + j) * C;
                float w00 = (1 - ti) * (1 - tj), w01 = (1 - ti) * tj, w10 = ti * (1 - tj), w11 = ti * tj;
                float *a = r0 + (size_t)j0 * C, *b = r0 + (size_t)j1 * C;
                float *c = r1 + (size_t)j0 * C, *e = r1 + (size_t)j1 * C;
                for (int k = 0; k < C; k++) {
                    a[k] += w00 * d[k], b[k] += w01 * d[k];
                    c[k] += w10 * d[k], e[k] += w11 * d[k];
                }
            }
        }
}
