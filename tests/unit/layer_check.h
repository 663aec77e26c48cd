/* layer_check.h: the two checks every layer of the layer table gets, for
 * tests that include it (test_conv_layers.c): its forward against stored
 * PyTorch values on fixed inputs and weights, and the gradients of a small
 * network around it against central finite differences (which covers the
 * input gradient the layer passes down too), on either backend.  Header
 * only: each test is one program. */
#ifndef HPTC_TESTS_LAYER_CHECK_H
#define HPTC_TESTS_LAYER_CHECK_H
#include "compiler/compile.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/trial.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A spec around the model's lines; the loss is sparse cross-entropy when the
 * model ends in Dense(10), else mse. */
static ir_program *lc_compile(const char *model)
{
    char src[2000];
    snprintf(src, sizeof src, "data = csv(\"d.csv\")\nmodel {\n%s}\ncompile(optimizer = \"adam\", loss = \"%s\")\n", model,
             strstr(model, "Dense(10") ? "sparse_categorical_crossentropy" : "mse");
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

static trial *lc_expand(const ir_program *p, int batch, uint64_t seed)
{
    hpt_value values[64];
    ir_default_assignment(p, values);
    hpt_error e;
    trial *t = p ? trial_expand(p, values, batch, seed, &e) : NULL;
    if (p && !t) printf("expand: %s\n", e.message);
    return t;
}

/* The model's output for input x, its weights set to w (NULL: leave them),
 * against want element by element within tol (absolute), at inference and
 * in training mode, under float32 (bf16 0) or mixed_bfloat16 (1). */
static void lc_forward_check(const char *name, const char *model, int B, const float *x, const float *w, size_t nw,
                             const float *want, size_t n_want, int bf16, double tol)
{
    ir_program *p = lc_compile(model);
    trial *t = lc_expand(p, B, 1);
    if (!CHECK(t != NULL, "%s: the model expands", name)) {
        if (p) ir_free(p);
        return;
    }
    hpt_error e;
    if (bf16 && trial_set_dtype_policy(t, TRIAL_MIXED_BFLOAT16, &e)) {
        printf("SKIP: %s in mixed_bfloat16: %s\n", name, e.message);
        trial_free(t);
        return ir_free(p);
    }
    size_t n;
    float *weights = trial_weights(t, &n);
    CHECK(n == nw, "%s: %zu weights (want %zu)", name, n, nw);
    if (w && n == nw) memcpy(weights, w, sizeof(float) * n);
    memcpy(trial_input(t), x, sizeof(float) * trial_input_size(t) * (size_t)B);
    CHECK((size_t)trial_output_size(t) * (size_t)B == n_want, "%s: %d outputs per sample", name, trial_output_size(t));
    for (int training = 0; training < 2; training++) {
        const float *y = trial_forward(t, B, training, 0);
        double worst = 0;
        for (size_t i = 0; i < n_want; i++) worst = fmax(worst, fabs((double)y[i] - want[i]));
        CHECK(worst < tol, "%s%s: %s forward matches PyTorch's (max abs error %.2e over %zu values)", name,
              bf16 ? " in mixed_bfloat16" : "", training ? "the training" : "the", worst, n_want);
    }
    trial_free(t);
    ir_free(p);
}

/* Central differences over a sample of the parameters (moved off their
 * initial values first); the analytic gradient must agree norm-wise within
 * 1e-2.  jit: on the JIT backend (skipped, said, when it has none). */
static void lc_gradient_check(const char *name, const char *model, int jit)
{
    enum { B = 5 };
    ir_program *p = lc_compile(model);
    trial *t = lc_expand(p, B, 11);
    const char *on = jit ? " (JIT)" : "";
    if (!CHECK(t != NULL, "%s%s: the model expands", name, on)) {
        if (p) ir_free(p);
        return;
    }
    hpt_error e;
    if (jit && trial_set_backend(t, 1, &e)) {
        printf("SKIP: %s on the JIT: %s\n", name, e.message);
        trial_free(t);
        return ir_free(p);
    }
    int32_t labels[B];
    int K = trial_output_size(t);
    rng r = rng_stream(5);
    float *x = trial_input(t);
    for (size_t i = 0; i < trial_input_size(t) * B; i++) x[i] = rng_float(&r) * 2 - 1;
    for (int i = 0; i < B; i++) labels[i] = (i * 3) % K;
    size_t n, nw;
    float *w = trial_weights(t, &nw);
    for (size_t i = 0; i < nw; i++) w[i] += 0.3f * (rng_float(&r) - 0.5f);
    double loss = trial_compute_gradients(t, labels, B, 3, NULL);
    CHECK(isfinite(loss), "%s%s: loss is finite (%g)", name, on, loss);
    float *g = trial_gradients(t, &n);
    float *analytic = malloc(sizeof(float) * n);
    memcpy(analytic, g, sizeof(float) * n);
    double num = 0, den = 0;
    size_t stride = n / 80 + 1;
    for (size_t i = 0; i < n; i += stride) {
        /* trial_weights before each write: it moves the weights version, so packed kernels follow. */
        float keep = w[i], h = 2e-3f * fmaxf(1.0f, fabsf(keep));
        trial_weights(t, &nw)[i] = keep + h;
        double up = trial_compute_gradients(t, labels, B, 3, NULL);
        trial_weights(t, &nw)[i] = keep - h;
        double down = trial_compute_gradients(t, labels, B, 3, NULL);
        trial_weights(t, &nw)[i] = keep;
        double fd = (up - down) / (2.0 * h);
        num += (fd - analytic[i]) * (fd - analytic[i]);
        den += fd * fd + (double)analytic[i] * analytic[i];
    }
    double rel = sqrt(num / (den > 1e-30 ? den : 1e-30));
    CHECK(rel < 1e-2 && den > 1e-12, "%s%s: gradient vs finite differences (rel %.2e over %zu of %zu params)", name, on,
          rel, (n + stride - 1) / stride, n);
    free(analytic);
    trial_free(t);
    ir_free(p);
}

#endif
