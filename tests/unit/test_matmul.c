/* test_matmul.c: Dense's oneDNN GEMMs (runtime/nn/matmul.h) against the
 * OpenBLAS kernels of kernels.c: f32 to 1e-5, mixed_bfloat16 within the
 * tolerance bf16 operands allow (stated below), the packed weights' refresh
 * by version, several batch sizes sharing one packed copy, and the bf16
 * rounding itself. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/bf16.h"
#include "runtime/nn/kernels.h"
#include "runtime/nn/matmul.h"
#include "runtime/nn/onednn.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

/* bf16 keeps 8 significant bits: each operand is off by up to 2^-9
 * relative, a product by 2^-8; summed over K terms of random sign the error
 * stays far below this fraction of the output's largest magnitude. */
#define BF16_TOLERANCE 5e-3

static float *random_floats(size_t n, uint64_t key, float scale)
{
    float *v = malloc(sizeof *v * (n ? n : 1));
    for (size_t i = 0; i < n; i++) v[i] = scale * (2.0f * (float)(rng_at(key, i) >> 40) / (float)(1 << 24) - 1.0f);
    return v;
}

/* max |a - b| over max |b|. */
static double relative_error(const float *a, const float *b, size_t n)
{
    double diff = 0, mag = 1e-30;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        mag = fmax(mag, fabs((double)b[i]));
    }
    return diff / mag;
}

static void check_shape(int B, int in, int out, int bf16, kern_act act, int with_bias)
{
    hpt_error e;
    const char *kind = bf16 ? "bf16" : "f32";
    double tol = bf16 ? BF16_TOLERANCE : 1e-5;
    float *x = random_floats((size_t)B * in, 1, 1.0f), *w = random_floats((size_t)in * out, 2, 0.2f);
    float *b = with_bias ? random_floats((size_t)out, 3, 0.5f) : NULL, *dy = random_floats((size_t)B * out, 4, 1.0f);
    float *y = calloc((size_t)B * out, sizeof *y), *yref = calloc((size_t)B * out, sizeof *y);
    float *dw = calloc((size_t)in * out, sizeof *dw), *dwref = calloc((size_t)in * out, sizeof *dw);
    float *db = calloc((size_t)out, sizeof *db), *dbref = calloc((size_t)out, sizeof *db);
    float *dx = calloc((size_t)B * in, sizeof *dx), *dxref = calloc((size_t)B * in, sizeof *dx);
    float *dz = malloc(sizeof *dz * (size_t)B * out);
    memcpy(dz, dy, sizeof *dz * (size_t)B * out);

    dense_mm *m = dense_mm_new(in, out, with_bias, bf16, act, &e);
    CHECK(m != NULL, "%s Dense %d->%d made", kind, in, out);
    if (!m) return;
    CHECK(dense_mm_forward(m, x, w, 1, b, y, B, &e) == 0, "%s forward runs at B=%d", kind, B);
    kern_dense_forward(x, w, b, yref, NULL, B, in, out, act);
    double err = relative_error(y, yref, (size_t)B * out);
    CHECK(err <= tol, "%s forward %dx%dx%d %s%s equals OpenBLAS's (max error %.2g of max |y|, tolerance %.0g)", kind,
          B, in, out, act == KERN_RELU ? "relu" : "linear", with_bias ? " + bias" : "", err, tol);

    /* dz given (the activation's derivative is the caller's): compare the GEMMs. */
    CHECK(dense_mm_backward(m, x, dz, w, 1, dx, dw, with_bias ? db : NULL, B, &e) == 0, "%s backward runs", kind);
    kern_dense_backward(x, w, yref, NULL, dy, dxref, dwref, with_bias ? dbref : NULL, B, in, out, KERN_LINEAR);
    err = relative_error(dw, dwref, (size_t)in * out);
    CHECK(err <= tol, "%s kernel gradient %dx%dx%d equals OpenBLAS's (%.2g)", kind, B, in, out, err);
    err = relative_error(dx, dxref, (size_t)B * in);
    CHECK(err <= tol, "%s input gradient %dx%dx%d equals OpenBLAS's (%.2g)", kind, B, in, out, err);
    if (with_bias) CHECK(relative_error(db, dbref, (size_t)out) <= 1e-6, "%s bias gradient equals", kind);

    /* A kept copy is not repacked under the same version, a new version is;
     * without a copy (float32) the master is read as it is. */
    for (size_t i = 0; i < (size_t)in * out; i++) w[i] *= -1.0f;
    dense_mm_forward(m, x, w, 1, b, y, B, &e);
    if (dense_mm_keeps_copy(m)) {
        CHECK(relative_error(y, yref, (size_t)B * out) <= tol, "%s same version: the packed copy stands", kind);
    } else {
        kern_dense_forward(x, w, b, yref, NULL, B, in, out, act);
        CHECK(relative_error(y, yref, (size_t)B * out) <= tol, "%s: the master is read in place", kind);
    }
    CHECK(dense_mm_keeps_copy(m) == bf16, "%s: a packed copy is kept only in bf16", kind);
    dense_mm_forward(m, x, w, 2, b, y, B, &e);
    kern_dense_forward(x, w, b, yref, NULL, B, in, out, act);
    CHECK(relative_error(y, yref, (size_t)B * out) <= tol, "%s new version: repacked", kind);

    /* A smaller batch reads the same packed copy. */
    int B2 = B > 1 ? B / 2 + 1 : 1;
    dense_mm_forward(m, x, w, 2, b, y, B2, &e);
    kern_dense_forward(x, w, b, yref, NULL, B2, in, out, act);
    CHECK(relative_error(y, yref, (size_t)B2 * out) <= tol, "%s batch %d after batch %d", kind, B2, B);

    /* The optimizer's fused packing: rows packed in chunks of 8 equal a repack. */
    if (!dense_mm_keeps_copy(m)) {
        /* nothing to pack */
    } else if (dense_mm_pack_rows_known(m)) {
        for (size_t i = 0; i < (size_t)in * out; i++) w[i] = w[i] * 0.5f + 0.01f;
        int step = dense_mm_pack_rows_step(m);
        for (int k = 0; k < in; k += 8 - 8 % step) dense_mm_pack_rows(m, w, k, k + 8 - 8 % step < in ? k + 8 - 8 % step : in);
        dense_mm_set_packed(m, 3);
        dense_mm_forward(m, x, w, 3, b, y, B, &e);
        kern_dense_forward(x, w, b, yref, NULL, B, in, out, act);
        err = relative_error(y, yref, (size_t)B * out);
        CHECK(err <= tol, "%s kernel packed by rows (the optimizer's pass) as by the reorder (%.2g)", kind, err);
    } else {
        printf("SKIP: %s packing by rows: oneDNN chose a layout matmul.c does not write\n", kind);
    }

    dense_mm_free(m);
    free(x), free(w), free(b), free(dy), free(dz), free(y), free(yref), free(dw), free(dwref);
    free(db), free(dbref), free(dx), free(dxref);
}

static uint16_t bits_of(float f)
{
    uint16_t h;
    bf16_from_f32(&f, &h, 1);
    return h;
}

static void test_bf16_rounding(void)
{
    CHECK(bits_of(1.0f) == 0x3f80, "bf16(1) = 0x3f80");
    CHECK(bits_of(1.0f + 0x1p-8f) == 0x3f80, "halfway rounds to even (down)");
    CHECK(bits_of(1.0f + 3 * 0x1p-8f) == 0x3f82, "halfway rounds to even (up)");
    CHECK(bits_of(-2.0f) == 0xc000, "bf16(-2) = 0xc000");
    CHECK(bits_of(INFINITY) == 0x7f80, "infinity stays infinite");
    uint16_t nan = bits_of(NAN);
    CHECK((nan & 0x7f80) == 0x7f80 && (nan & 0x7f), "NaN stays NaN (0x%04x)", nan);
    /* The vector path and the tail agree with the scalar rule. */
    float v[37];
    uint16_t h[37];
    for (int i = 0; i < 37; i++) v[i] = 1.0f + (float)i * 0x1p-9f;
    bf16_from_f32(v, h, 37);
    int ok = 1;
    for (int i = 0; i < 37; i++) ok &= h[i] == bits_of(v[i]);
    CHECK(ok, "37 values: the vector loop and the tail round alike");
}

int main(void)
{
    test_bf16_rounding();
    check_shape(32, 784, 512, 0, KERN_RELU, 1);
    check_shape(7, 33, 10, 0, KERN_LINEAR, 1);
    check_shape(1, 5, 3, 0, KERN_RELU, 0);
    if (!onednn_has_bf16()) {
        printf("SKIP: mixed_bfloat16 GEMMs: oneDNN finds no bf16 instructions here (%s)\n", onednn_isa_name());
        return check_exit();
    }
    check_shape(32, 784, 512, 1, KERN_RELU, 1);
    check_shape(7, 33, 10, 1, KERN_LINEAR, 1);
    check_shape(1, 5, 3, 1, KERN_RELU, 0);
    check_shape(32, 512, 10, 1, KERN_LINEAR, 1);
    return check_exit();
}
