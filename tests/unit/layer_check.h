/* layer_check.h: the two checks every layer of the layer table gets, for
 * the tests that include it (test_layers.c, test_conv_layers.c,
 * test_seqlayers.c, test_augment.c, test_merge.c): its forward against
 * stored PyTorch values on fixed inputs and weights, and the gradients of a
 * small network around it against central finite differences (which covers
 * the input gradient the layer passes down too), on either backend; with
 * the spec around a model (lc_compile) and its trial (lc_expand) they use.
 * Header only (static inline: a test need not use them all): each test is
 * one program. */
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

/* max |got - want| / max |want|, 0 for two zero tensors; a NaN on one side only is infinite. */
static inline double lc_rel_err(const float *got, const float *want, size_t n)
{
    double diff = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)got[i] - want[i]));
        mag = fmax(mag, fabs((double)want[i]));
        if (isnan(got[i]) != isnan(want[i])) diff = INFINITY;
    }
    return mag > 0 ? diff / mag : diff;
}

/* A spec around the model's lines; the loss is sparse cross-entropy when the
 * model ends in Dense(10), else mse. */
static inline ir_program *lc_compile(const char *model)
{
    char src[2000];
    snprintf(src, sizeof src, "data = csv(\"d.csv\")\nmodel {\n%s}\ncompile(optimizer = \"adam\", loss = \"%s\")\n", model,
             strstr(model, "Dense(10") ? "sparse_categorical_crossentropy" : "mse");
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

/* The trial of p at the hyperparameter values given (NULL: the defaults);
 * NULL, the reason printed, when it does not expand, and for a NULL p (the
 * spec did not compile: lc_compile printed its errors). */
static inline trial *lc_expand_values(const ir_program *p, const hpt_value *values, int batch, uint64_t seed)
{
    hpt_value defaults[64];
    if (!p) return NULL;
    if (!values) ir_default_assignment(p, defaults), values = defaults;
    hpt_error e;
    trial *t = trial_expand(p, values, batch, seed, &e);
    if (!t) printf("expand: %s\n", e.message);
    return t;
}

static inline trial *lc_expand(const ir_program *p, int batch, uint64_t seed)
{
    return lc_expand_values(p, NULL, batch, seed);
}

/* The model's output for input x, its weights set to w (NULL: leave them),
 * against want element by element within tol (absolute), at inference and
 * in training mode, under float32 (bf16 0) or mixed_bfloat16 (1). */
static inline void lc_forward_check(const char *name, const char *model, int B, const float *x, const float *w,
                                    size_t nw, const float *want, size_t n_want, int bf16, double tol)
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

/* How lc_gradient_check_opts runs; zero fields take the defaults, so
 * (lc_grad_opts){ .jit = 1 } is lc_gradient_check on the JIT. */
typedef struct {
    int jit;             /* on the JIT backend (skipped, said, when it has none) */
    int bf16;            /* mixed_bfloat16: against float32's analytic gradient (below) */
    int batch;           /* samples in the batch; 0: 5 */
    int vocab;           /* > 0: the inputs are indices below vocab (an Embedding first) */
    int samples;         /* about how many parameters to difference; 0: 80 */
    int initial_weights; /* 1: at the initial weights (default: moved off them first) */
} lc_grad_opts;

/* Central differences over a sample of the parameters (moved off their
 * initial values first, so every term of the backward is exercised); the
 * analytic gradient must agree norm-wise within 1e-2.  In mixed_bfloat16
 * the loss moves in steps of bf16's rounding, too coarse for differences:
 * there the gradient must agree with float32's analytic one at the same
 * weights, within 3e-2. */
static inline void lc_gradient_check_opts(const char *name, const char *model, lc_grad_opts o)
{
    const int B = o.batch > 0 ? o.batch : 5;
    ir_program *p = lc_compile(model);
    trial *t = lc_expand(p, B, 11);
    char on[40];
    snprintf(on, sizeof on, "%s%s", o.jit ? " (JIT)" : "", o.bf16 ? " (mixed_bfloat16)" : "");
    if (!CHECK(t != NULL, "%s%s: the model expands", name, on)) {
        if (p) ir_free(p);
        return;
    }
    hpt_error e;
    if (o.jit && trial_set_backend(t, 1, &e)) {
        printf("SKIP: %s on the JIT: %s\n", name, e.message);
        trial_free(t);
        return ir_free(p);
    }
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)B);
    int K = trial_output_size(t);
    rng r = rng_stream(5);
    float *x = trial_input(t);
    for (size_t i = 0; i < trial_input_size(t) * (size_t)B; i++)
        x[i] = o.vocab > 0 ? (float)rng_below(&r, (uint64_t)o.vocab) : rng_float(&r) * 2 - 1;
    for (int i = 0; i < B; i++) labels[i] = (i * 3) % K;
    size_t n, nw;
    float *w = trial_weights(t, &nw);
    for (size_t i = 0; !o.initial_weights && i < nw; i++) w[i] += 0.3f * (rng_float(&r) - 0.5f);
    double loss = trial_compute_gradients(t, labels, B, 3, NULL);
    CHECK(isfinite(loss), "%s%s: loss is finite (%g)", name, on, loss);
    float *g = trial_gradients(t, &n);
    float *analytic = malloc(sizeof(float) * n);
    memcpy(analytic, g, sizeof(float) * n);
    double num = 0, den = 0;
    size_t stride = n / (size_t)(o.samples > 0 ? o.samples : 80) + 1, compared = 0;
    if (o.bf16) {
        if (trial_set_dtype_policy(t, TRIAL_MIXED_BFLOAT16, &e)) {
            printf("SKIP: %s in mixed_bfloat16: %s\n", name, e.message);
        } else {
            trial_compute_gradients(t, labels, B, 3, NULL);
            for (size_t i = 0; i < n; i++, compared++) {
                num += (g[i] - analytic[i]) * (g[i] - analytic[i]);
                den += (double)analytic[i] * analytic[i];
            }
        }
    }
    for (size_t i = 0; !o.bf16 && i < n; i += stride, compared++) {
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
    if (compared)
        CHECK(rel < (o.bf16 ? 3e-2 : 1e-2) && den > 1e-12, "%s%s: gradient vs %s (rel %.2e over %zu of %zu params)", name,
              on, o.bf16 ? "float32's" : "finite differences", rel, compared, n);
    free(analytic);
    free(labels);
    trial_free(t);
    ir_free(p);
}

/* The check with the defaults: batch 5, about 80 parameters, weights moved
 * off their initial values, float32; jit: on the JIT backend. */
static inline void lc_gradient_check(const char *name, const char *model, int jit)
{
    lc_gradient_check_opts(name, model, (lc_grad_opts){ .jit = jit });
}

#endif
