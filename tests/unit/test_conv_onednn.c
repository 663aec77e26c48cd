/* test_conv_onednn.c: Conv2D on oneDNN (onednn_conv.c) against the im2col
 * kernels of kernels.c, which the finite-difference checks of test_kernels
 * vouch for.
 *
 * Per tensor (y, dz, dx, dw, db), the error is max |got - want| over
 * max |want|: within 1e-4 in f32 (the two sum in different orders), within
 * 3e-2 in mixed_bfloat16 (x, the kernel and dz rounded to 8-bit mantissas,
 * sums in f32; backward checked from the forward that ran), over valid and same padding, strides 1 and 2, odd sizes,
 * with and without bias, and each activation.  Then what the state keeps:
 * the packed kernel follows the weights version, not the pointer's
 * contents; batch sizes come and go; backward accumulates into dw and db.
 * Last, a whole CNN trial in mixed_bfloat16 against the same trial in
 * float32.  bf16 is skipped, with the reason printed, on a CPU without it. */
#include "compiler/compile.h"
#include "runtime/nn/kernels.h"
#include "runtime/nn/onednn.h"
#include "runtime/nn/onednn_conv.h"
#include "runtime/nn/trial.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"
#include "tests/unit/layer_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F32_TOL 1e-4
/* x and the kernel each rounded by up to 2^-9 relative, over sums of up to
 * K = kh·kw·C = 144 products here: a few 1e-2 of the largest output. */
#define BF16_TOL 3e-2

static float *randf(size_t n, uint64_t seed)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    rng r = rng_stream(seed);
    for (size_t i = 0; i < n; i++) p[i] = rng_float(&r) * 2 - 1;
    return p;
}

static float *copyf(const float *x, size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    memcpy(p, x, sizeof(float) * n);
    return p;
}

static const char *act_name(kern_act a)
{
    static const char *names[] = { "linear", "relu", "tanh", "sigmoid", "gelu", "softmax" };
    return names[a];
}

typedef struct conv_case {
    int B, H, W, C, F, kh, kw, s, same, bias;
    kern_act act;
    int keep_z;             /* the caller keeps z (GELU needs it; a fused loss reads it) */
} conv_case;

/* The tensors of one case and their im2col reference. */
typedef struct conv_run {
    kern_geom g;
    size_t nx, ny, nw;
    float *x, *w, *b, *dy0;
    float *y, *z, *dy, *dx, *dw, *db;   /* im2col's */
} conv_run;

static void run_reference(const conv_case *k, conv_run *r, uint64_t seed)
{
    kern_conv_geom(&r->g, k->B, k->H, k->W, k->C, k->F, k->kh, k->kw, k->s, k->s, k->same);
    r->nx = (size_t)k->B * k->H * k->W * k->C;
    r->ny = (size_t)k->B * r->g.OH * r->g.OW * k->F;
    r->nw = (size_t)k->kh * k->kw * k->C * k->F;
    r->x = randf(r->nx, seed), r->w = randf(r->nw, seed + 1), r->b = k->bias ? randf(k->F, seed + 2) : NULL;
    r->dy0 = randf(r->ny, seed + 3);
    /* Gradients start non-zero: backward must add to them. */
    r->dw = randf(r->nw, seed + 4), r->db = randf(k->F, seed + 5);
    r->y = malloc(sizeof(float) * r->ny), r->z = k->keep_z ? malloc(sizeof(float) * r->ny) : NULL;
    r->dy = copyf(r->dy0, r->ny), r->dx = malloc(sizeof(float) * r->nx);
    float *scratch = malloc(sizeof(float) * (kern_conv2d_scratch_floats(&r->g) + 1));
    kern_conv2d_forward(&r->g, r->x, r->w, r->b, r->y, r->z, k->act, scratch);
    free(scratch);
}

/* im2col's backward from the given forward's y and z (oneDNN's: in bf16 a
 * y near 0 may round to the other side of relu's kink, and dz must then
 * follow the forward that ran). */
static void reference_backward(const conv_case *k, conv_run *r, const float *y, const float *z)
{
    float *scratch = malloc(sizeof(float) * (kern_conv2d_scratch_floats(&r->g) + 1));
    kern_conv2d_backward(&r->g, r->x, r->w, y, z, r->dy, r->dx, r->dw, k->bias ? r->db : NULL, k->act, scratch);
    free(scratch);
}

static void run_free(conv_run *r)
{
    free(r->x), free(r->w), free(r->b), free(r->dy0), free(r->y), free(r->z), free(r->dy), free(r->dx);
    free(r->dw), free(r->db);
}

/* oneDNN's forward and backward of case k against im2col's, each tensor
 * within tol. */
static void check_case(const conv_case *k, int bf16, double tol)
{
    conv_run r;
    run_reference(k, &r, 100 + (uint64_t)k->H * 7 + k->s * 3 + k->act);
    char name[160];
    snprintf(name, sizeof name, "%s %dx%dx%d->%d k%dx%d s%d %s%s %s%s", bf16 ? "bf16" : "f32", k->H, k->W, k->C, k->F,
             k->kh, k->kw, k->s, k->same ? "same" : "valid", k->bias ? " bias" : "", act_name(k->act),
             k->keep_z ? " z kept" : "");
    hpt_error e;
    onednn_conv *c = onednn_conv_new(&r.g, k->act, k->bias, k->keep_z, bf16, &e);
    if (!CHECK(c != NULL, "%s: state made", name)) return run_free(&r);
    float *y = malloc(sizeof(float) * r.ny), *z = k->keep_z ? malloc(sizeof(float) * r.ny) : NULL;
    float *dy = copyf(r.dy0, r.ny), *dx = malloc(sizeof(float) * r.nx);
    float *dw = randf(r.nw, 100 + (uint64_t)k->H * 7 + k->s * 3 + k->act + 4);
    float *db = randf(k->F, 100 + (uint64_t)k->H * 7 + k->s * 3 + k->act + 5);
    int ok = onednn_conv_forward(c, &r.g, r.x, r.w, 1, r.b, y, z, &e) == 0;
    if (!CHECK(ok, "%s: forward runs%s%s", name, ok ? "" : ": ", ok ? "" : e.message)) goto out;
    double ey = lc_rel_err(y, r.y, r.ny), ez = z ? lc_rel_err(z, r.z, r.ny) : 0;
    reference_backward(k, &r, y, z);
    ok = onednn_conv_backward(c, &r.g, r.x, r.w, 1, y, z, dy, dx, dw, k->bias ? db : NULL, k->act, &e) == 0;
    if (!CHECK(ok, "%s: backward runs%s%s", name, ok ? "" : ": ", ok ? "" : e.message)) goto out;
    double edz = lc_rel_err(dy, r.dy, r.ny);
    double edx = lc_rel_err(dx, r.dx, r.nx), edw = lc_rel_err(dw, r.dw, r.nw), edb = k->bias ? lc_rel_err(db, r.db, k->F) : 0;
    CHECK(ey <= tol && ez <= tol, "%s: y (%.1e) and z (%.1e) as im2col's", name, ey, ez);
    CHECK(edz <= tol && edx <= tol, "%s: dz (%.1e) and dx (%.1e) as im2col's", name, edz, edx);
    CHECK(edw <= tol && edb <= tol, "%s: dw += (%.1e) and db += (%.1e) as im2col's", name, edw, edb);
out:
    onednn_conv_free(c);
    free(y), free(z), free(dy), free(dx), free(dw), free(db);
    run_free(&r);
}

static const conv_case CASES[] = {
    /* B  H  W  C  F kh kw s same bias act */
    { 2, 7, 6, 3, 5, 3, 3, 1, 0, 1, KERN_RELU, 0 },
    { 2, 7, 6, 3, 5, 3, 3, 1, 1, 1, KERN_RELU, 0 },
    { 2, 7, 6, 3, 5, 3, 3, 2, 0, 1, KERN_LINEAR, 0 },
    { 2, 7, 7, 3, 5, 3, 3, 2, 1, 0, KERN_RELU, 0 },
    { 3, 8, 8, 4, 6, 2, 2, 2, 1, 0, KERN_LINEAR, 0 },
    { 3, 9, 9, 2, 4, 4, 4, 2, 1, 1, KERN_RELU, 0 },   /* even kernel, same: the larger pad after */
    { 2, 5, 5, 7, 3, 1, 1, 1, 0, 1, KERN_RELU, 0 },   /* pointwise: im2col's plain GEMM */
    { 2, 9, 7, 16, 32, 3, 3, 1, 1, 1, KERN_TANH, 0 },
    { 2, 9, 7, 3, 8, 3, 3, 1, 0, 1, KERN_SIGMOID, 0 },
    { 2, 6, 6, 3, 4, 3, 3, 1, 1, 1, KERN_GELU, 1 },
    { 2, 6, 6, 3, 4, 3, 3, 1, 0, 1, KERN_RELU, 1 },
    { 4, 28, 28, 1, 32, 3, 3, 1, 0, 1, KERN_RELU, 0 },  /* the CNN example's two convs */
    { 4, 13, 13, 32, 64, 3, 3, 1, 0, 1, KERN_RELU, 0 },
};

static void test_against_im2col(int bf16, double tol)
{
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) check_case(&CASES[i], bf16, tol);
}

/* The packed kernel is repacked when the version moves, and only then;
 * batch sizes evict each other's primitives and come back; the first
 * layer's dx (NULL) is skipped. */
static void test_state(int bf16, double tol)
{
    const char *p = bf16 ? "bf16" : "f32";
    conv_case k = { 5, 9, 9, 3, 8, 3, 3, 1, 1, 1, KERN_RELU, 0 };
    conv_run r;
    run_reference(&k, &r, 77);
    hpt_error e;
    onednn_conv *c = onednn_conv_new(&r.g, k.act, 1, 0, bf16, &e);
    if (!CHECK(c != NULL, "%s state: made", p)) return run_free(&r);
    float *y = malloc(sizeof(float) * r.ny), *y2 = malloc(sizeof(float) * r.ny);
    onednn_conv_forward(c, &r.g, r.x, r.w, 1, r.b, y, NULL, &e);
    CHECK(lc_rel_err(y, r.y, r.ny) <= tol, "%s state: first forward as im2col's", p);

    /* New weights under the same version: the packed copy stays. */
    float *w2 = randf(r.nw, 78), *keep = copyf(r.w, r.nw);
    memcpy(r.w, w2, sizeof(float) * r.nw);
    onednn_conv_forward(c, &r.g, r.x, r.w, 1, r.b, y2, NULL, &e);
    CHECK(memcmp(y, y2, sizeof(float) * r.ny) == 0, "%s state: same weights version, kernel not repacked", p);
    onednn_conv_forward(c, &r.g, r.x, r.w, 2, r.b, y2, NULL, &e);
    float *want = malloc(sizeof(float) * r.ny), *scratch = malloc(sizeof(float) * kern_conv2d_scratch_floats(&r.g));
    kern_conv2d_forward(&r.g, r.x, r.w, r.b, want, NULL, k.act, scratch);
    CHECK(lc_rel_err(y2, want, r.ny) <= tol, "%s state: new weights version, repacked (%.1e)", p,
          lc_rel_err(y2, want, r.ny));
    memcpy(r.w, keep, sizeof(float) * r.nw);

    /* Batch sizes 5, 2, 5, 1, 2 (two slots: 1 evicts 2's) on prefixes of x. */
    int sizes[] = { 5, 2, 5, 1, 2 };
    int ok = 1;
    for (int i = 0; i < 5; i++) {
        kern_geom g;
        kern_conv_geom(&g, sizes[i], k.H, k.W, k.C, k.F, k.kh, k.kw, k.s, k.s, k.same);
        size_t ny = (size_t)sizes[i] * g.OH * g.OW * k.F;
        kern_conv2d_forward(&g, r.x, r.w, r.b, want, NULL, k.act, scratch);
        ok &= onednn_conv_forward(c, &g, r.x, r.w, 3, r.b, y2, NULL, &e) == 0 && lc_rel_err(y2, want, ny) <= tol;
        /* Backward without dx (a first layer), dw and db from zero. */
        float *dy = copyf(r.dy0, ny), *dw = calloc(r.nw, sizeof(float)), *db = calloc(k.F, sizeof(float));
        float *dw_want = calloc(r.nw, sizeof(float)), *db_want = calloc(k.F, sizeof(float)), *dy_want = copyf(r.dy0, ny);
        kern_conv2d_backward(&g, r.x, r.w, y2, NULL, dy_want, NULL, dw_want, db_want, k.act, scratch);
        ok &= onednn_conv_backward(c, &g, r.x, r.w, 3, y2, NULL, dy, NULL, dw, db, k.act, &e) == 0;
        ok &= lc_rel_err(dw, dw_want, r.nw) <= tol && lc_rel_err(db, db_want, k.F) <= tol;
        free(dy), free(dw), free(db), free(dw_want), free(db_want), free(dy_want);
    }
    CHECK(ok, "%s state: batch sizes 5, 2, 5, 1, 2 through two slots, forward and backward without dx", p);
    onednn_conv_free(c);
    free(y), free(y2), free(w2), free(keep), free(want), free(scratch);
    run_free(&r);
}

/* A whole CNN trial: mixed_bfloat16's loss and gradients against float32's
 * on the same weights and batch.  Smooth activations and average pooling:
 * through relu's kink or max pooling's argmax, bf16's rounding flips a few
 * terms of the random-sign sums a gradient at initialisation is, and the
 * comparison would measure that (5-8% with relu and max pooling here), not
 * the layer's wiring. */
static const char *CNN =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [12, 12, 2])\n  Conv2D(8, 3, activation = \"tanh\")\n  AveragePooling2D(2)\n"
    "  Conv2D(16, 3, padding = \"same\", strides = 2, activation = \"sigmoid\")\n  Flatten()\n  Dense(10)\n}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")\n";

static void test_trial_bf16(void)
{
    enum { B = 16 };
    compile_result cr = compile_spec("test.hpt", CNN, strlen(CNN), stderr);
    if (!CHECK(cr.program != NULL, "bf16 trial: the CNN compiles")) return;
    hpt_value values[8];
    ir_default_assignment(cr.program, values);
    hpt_error e;
    trial *t = trial_expand(cr.program, values, B, 9, &e);
    if (!CHECK(t != NULL, "bf16 trial: the CNN expands")) return ir_free(cr.program);
    int32_t labels[B];
    rng r = rng_stream(3);
    float *x = trial_input(t);
    for (size_t i = 0; i < trial_input_size(t) * B; i++) x[i] = rng_float(&r);
    for (int i = 0; i < B; i++) labels[i] = i % 10;
    size_t n;
    double loss32 = trial_compute_gradients(t, labels, B, 0, NULL);
    const float *g = trial_gradients(t, &n);
    float *g32 = copyf(g, n);
    CHECK(trial_set_dtype_policy(t, TRIAL_MIXED_BFLOAT16, &e) == 0, "bf16 trial: policy set");
    double loss16 = trial_compute_gradients(t, labels, B, 0, NULL);
    float *g16 = trial_gradients(t, &n);
    /* Per conv tensor (kernel, bias of each), norm-wise. */
    size_t sizes[] = { 3 * 3 * 2 * 8, 8, 3 * 3 * 8 * 16, 16 }, off = 0;
    double worst = 0;
    for (int q = 0; q < 4; q++) {
        double num = 0, den = 0;
        for (size_t i = off; i < off + sizes[q]; i++)
            num += (g16[i] - g32[i]) * (double)(g16[i] - g32[i]), den += g32[i] * (double)g32[i];
        worst = fmax(worst, sqrt(num / den));
        off += sizes[q];
    }
    CHECK_NEAR(loss16, loss32, 1e-3, "bf16 trial: loss %.5f as float32's %.5f", loss16, loss32);
    CHECK(worst < 1e-2, "bf16 trial: each conv tensor's gradient as float32's (norm-wise rel %.1e < 1e-2)", worst);
    /* And back: float32 again gives float32's gradients exactly (its own state, repacked). */
    trial_set_dtype_policy(t, TRIAL_FLOAT32, &e);
    trial_compute_gradients(t, labels, B, 0, NULL);
    CHECK(memcmp(trial_gradients(t, &n), g32, sizeof(float) * n) == 0, "bf16 trial: back to float32, same gradients");
    free(g32);
    trial_free(t);
    ir_free(cr.program);
}

int main(void)
{
    printf("oneDNN here: %s\n", onednn_isa_name());
    test_against_im2col(0, F32_TOL);
    test_state(0, F32_TOL);
    if (onednn_has_bf16()) {
        test_against_im2col(1, BF16_TOL);
        test_state(1, BF16_TOL);
        test_trial_bf16();
    } else {
        printf("SKIP: mixed_bfloat16 convolutions: this CPU has no bf16 instructions (oneDNN ISA %s)\n",
               onednn_isa_name());
    }
    return check_exit();
}
