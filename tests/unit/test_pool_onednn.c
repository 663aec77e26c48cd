/* test_pool_onednn.c: pooling on oneDNN (runtime/nn/onednn_pool.h) equals
 * the C kernels of kernels.c, forward and backward, for max and average
 * pooling, "valid" and "same" padding, strides equal to and smaller than the
 * window, at two batch sizes sharing one state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/kernels.h"
#include "runtime/nn/onednn_pool.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void check_case(int max, int H, int W, int C, int k, int stride, int same)
{
    hpt_error e;
    onednn_pool *p = onednn_pool_new(max, &e);
    CHECK(p != NULL, "pooling state made");
    if (!p) return;
    const char *name = max ? "max" : "avg";
    for (int B = 5; B >= 2; B -= 3) {
        kern_geom g;
        kern_pool_geom(&g, B, H, W, C, k, k, stride, stride, same);
        size_t nx = (size_t)B * H * W * C, ny = (size_t)B * g.OH * g.OW * C;
        float *x = malloc(sizeof *x * nx), *y = malloc(sizeof *y * ny), *yref = malloc(sizeof *y * ny);
        float *dy = malloc(sizeof *dy * ny), *dx = malloc(sizeof *dx * nx), *dxref = malloc(sizeof *dx * nx);
        int32_t *argmax = malloc(sizeof *argmax * ny);
        rng r = rng_stream(11);
        for (size_t i = 0; i < nx; i++) x[i] = rng_float(&r) * 2 - 1;
        for (size_t i = 0; i < ny; i++) dy[i] = rng_float(&r) * 2 - 1;
        int ok = onednn_pool_forward(p, &g, x, y, 1, &e) == 0;
        CHECK(ok, "%s pool %dx%d/%d %s B=%d runs on oneDNN", name, k, k, stride, same ? "same" : "valid", B);
        if (max) kern_maxpool2d_forward(&g, x, yref, argmax);
        else kern_avgpool2d_forward(&g, x, yref);
        CHECK(ok && max_diff(y, yref, ny) <= 1e-6, "%s pool %dx%d/%d %s B=%d: forward equals the C kernel (%.1g)",
              name, k, k, stride, same ? "same" : "valid", B, max_diff(y, yref, ny));
        ok = onednn_pool_backward(p, &g, dy, dx, &e) == 0;
        if (max) kern_maxpool2d_backward(&g, dy, dxref, argmax);
        else kern_avgpool2d_backward(&g, dy, dxref);
        CHECK(ok && max_diff(dx, dxref, nx) <= 1e-6, "%s pool %dx%d/%d %s B=%d: backward equals the C kernel (%.1g)",
              name, k, k, stride, same ? "same" : "valid", B, max_diff(dx, dxref, nx));
        /* Inference mode gives the same values. */
        memset(y, 0, sizeof *y * ny);
        ok = onednn_pool_forward(p, &g, x, y, 0, &e) == 0;
        CHECK(ok && max_diff(y, yref, ny) <= 1e-6, "%s pool inference forward equals", name);
        free(x), free(y), free(yref), free(dy), free(dx), free(dxref), free(argmax);
    }
    onednn_pool_free(p);
}

int main(void)
{
    for (int max = 0; max <= 1; max++) {
        check_case(max, 26, 26, 32, 2, 2, 0);   /* the CNN example's first pooling */
        check_case(max, 11, 11, 64, 2, 2, 0);   /* its second: a row and a column left over */
        check_case(max, 7, 9, 3, 3, 2, 1);      /* "same" with padding on both sides */
        check_case(max, 8, 8, 5, 3, 1, 0);      /* overlapping windows */
    }
    return check_exit();
}
