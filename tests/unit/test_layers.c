/* test_layers.c: the layers added through the layer table (runtime/nn/layers/):
 * LayerNormalization, GlobalAveragePooling2D and Reshape.
 *
 * Each is checked twice: its forward against PyTorch's values on fixed small
 * inputs and weights (computed once by tests/unit/ref/layers_ref.py and
 * pasted below), and every parameter's gradient in a small network around it
 * against central finite differences of the whole network's loss (the
 * input gradient the layer passes down is what moves the weights before it,
 * so those are checked too).  Both backends run each network. */
#include "compiler/compile.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/trial.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* From tests/unit/ref/layers_ref.py (PyTorch, double). */
static const float LN_WANT[12] = { 0.1f, 1.42433683f, 2.14867365f, 0.375640229f, -0.651978889f, -3.10651869f, -0.581807256f, -0.158845924f, 1.70953717f, 0.775742717f, 1.23348886f, -0.935993145f };
static const float LN_PLAIN_WANT[12] = { 0.0f, -1.18585412f, 1.18585412f, 0.541668221f, 0.837123614f, -1.37879184f, -1.31614805f, 0.346354749f, 0.969793298f, 1.26534898f, -0.967619806f, -0.297729171f };
static const float GAP_WANT[4] = { -0.75f, -0.5f, 2.83333333f, 2.5f };
static const float RESHAPE_WANT[12] = { -1.32726165f, 1.08032925f, 0.246932399f, 1.09415863f, 0.225267952f, -1.31942658f, 0.660259843f, -1.32051969f, 0.660259843f, -1.2659766f, 1.1755497f, 0.0904268999f };

static ir_program *compile(const char *model)
{
    char src[2000];
    snprintf(src, sizeof src, "data = csv(\"d.csv\")\nmodel {\n%s}\ncompile(optimizer = \"adam\", loss = \"%s\")\n", model,
             strstr(model, "Dense(10") ? "sparse_categorical_crossentropy" : "mse");
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

static trial *expand(const ir_program *p, int batch, uint64_t seed)
{
    hpt_value values[64];
    ir_default_assignment(p, values);
    hpt_error e;
    trial *t = p ? trial_expand(p, values, batch, seed, &e) : NULL;
    if (p && !t) printf("expand: %s\n", e.message);
    return t;
}

/* ---- forward against PyTorch ----------------------------------------------- */

/* The model's inference output for input x, its weights set to w (NULL:
 * leave them), compared with want element by element (abs 2e-5). */
static void forward_check(const char *name, const char *model, int B, const float *x, const float *w, size_t nw,
                          const float *want, size_t n_want)
{
    ir_program *p = compile(model);
    trial *t = expand(p, B, 1);
    if (!CHECK(t != NULL, "%s: the model expands", name)) {
        if (p) ir_free(p);
        return;
    }
    size_t n;
    float *weights = trial_weights(t, &n);
    CHECK(n == nw, "%s: %zu weights (want %zu)", name, n, nw);
    if (w && n == nw) memcpy(weights, w, sizeof(float) * n);
    memcpy(trial_input(t), x, sizeof(float) * trial_input_size(t) * (size_t)B);
    CHECK((size_t)trial_output_size(t) * (size_t)B == n_want, "%s: %d outputs per sample", name, trial_output_size(t));
    const float *y = trial_forward(t, B, 0, 0);
    double worst = 0;
    for (size_t i = 0; i < n_want; i++) worst = fmax(worst, fabs((double)y[i] - want[i]));
    CHECK(worst < 2e-5, "%s: forward matches PyTorch's (max abs error %.2e over %zu values)", name, worst, n_want);
    /* Training mode computes the same function: no batch statistics, no dropout. */
    y = trial_forward(t, B, 1, 0);
    worst = 0;
    for (size_t i = 0; i < n_want; i++) worst = fmax(worst, fabs((double)y[i] - want[i]));
    CHECK(worst < 2e-5, "%s: the training forward is the same (max abs error %.2e)", name, worst);
    trial_free(t);
    ir_free(p);
}

static const float LN_X[12] = { 0.5f, -1.0f, 2.0f, 3.0f, 3.5f, -0.25f, -2.0f, 0.0f, 0.75f, 1.5f, -0.5f, 0.1f };

static void test_forward(void)
{
    const float gamma_beta[6] = { 0.5f, -1.0f, 2.0f, 0.1f, 0.2f, -0.3f };
    forward_check("LayerNormalization", "  Input(shape = [2, 3])\n  LayerNormalization()\n  Flatten()\n", 2, LN_X, gamma_beta, 6,
                  LN_WANT, 12);
    forward_check("LayerNormalization(scale = False, center = False, epsilon = 0.1)",
                  "  Input(shape = [2, 3])\n  LayerNormalization(scale = False, center = False, epsilon = 0.1)\n  Flatten()\n", 2,
                  LN_X, NULL, 0, LN_PLAIN_WANT, 12);

    float gap_x[24];
    for (int i = 0; i < 24; i++) gap_x[i] = (float)i * 0.25f - 2.0f;
    gap_x[1 * 12 + (2 * 2 + 1) * 2 + 0] = 7.0f;     /* sample 1, h 2, w 1, channel 0 */
    forward_check("GlobalAveragePooling2D", "  Input(shape = [3, 2, 2])\n  GlobalAveragePooling2D()\n", 2, gap_x, NULL, 0,
                  GAP_WANT, 4);
    forward_check("GlobalAveragePooling2D(keepdims = True)",
                  "  Input(shape = [3, 2, 2])\n  GlobalAveragePooling2D(keepdims = True)\n  Flatten()\n", 2, gap_x, NULL, 0, GAP_WANT, 4);

    const float rs_x[8] = { 1.0f, -2.0f, 0.5f, 0.0f, 0.25f, 1.5f, -1.0f, 2.0f };
    float rs_w[24 + 6 + 6 + 6];     /* Dense kernel (4, 6), bias (6), then the LayerNormalization's gamma 1, beta 0 */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) rs_w[i * 6 + j] = 0.1f * (float)((i * 5 + j * 3) % 7) - 0.3f;
    for (int j = 0; j < 6; j++) rs_w[24 + j] = 0.05f * (float)j;
    for (int j = 0; j < 3; j++) rs_w[30 + j] = 1.0f, rs_w[33 + j] = 0.0f;
    forward_check("Reshape([2, -1])", "  Input(shape = [4])\n  Dense(6)\n  Reshape([2, -1])\n  LayerNormalization()\n  Flatten()\n", 2,
                  rs_x, rs_w, 36, RESHAPE_WANT, 12);
}

/* ---- gradients against finite differences ------------------------------------ */

/* Central differences over a sample of the parameters (gamma and beta moved
 * off 1 and 0 first, so every term of the backward is exercised); the
 * analytic gradient must agree norm-wise within 1e-2. */
static void gradient_check(const char *name, const char *model, int jit)
{
    enum { B = 5 };
    ir_program *p = compile(model);
    trial *t = expand(p, B, 11);
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
    CHECK(rel < 1e-2 && den > 1e-12, "%s%s: gradient vs finite differences (rel %.2e over %zu of %zu params)", name, on, rel, (n + stride - 1) / stride, n);
    free(analytic);
    trial_free(t);
    ir_free(p);
}

static const struct { const char *name, *model; } NETS[] = {
    { "LayerNormalization after Dense",
      "  Input(shape = [6])\n  Dense(8, activation = \"tanh\")\n  LayerNormalization()\n  Dense(10)\n" },
    { "LayerNormalization over channels",
      "  Input(shape = [3, 3, 2])\n  Conv2D(4, 2, activation = \"tanh\")\n  LayerNormalization(epsilon = 0.01)\n"
      "  Flatten()\n  Dense(10)\n" },
    { "LayerNormalization(center = False)",
      "  Input(shape = [6])\n  Dense(5)\n  LayerNormalization(center = False)\n  Dense(10, activation = \"softmax\")\n" },
    { "GlobalAveragePooling2D",
      "  Input(shape = [4, 4, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  GlobalAveragePooling2D()\n  Dense(10)\n" },
    { "GlobalAveragePooling2D(keepdims = True)",
      "  Input(shape = [4, 3, 2])\n  Conv2D(3, 2, activation = \"relu\")\n  GlobalAveragePooling2D(keepdims = True)\n"
      "  Flatten()\n  Dense(10)\n" },
    { "Reshape to an image",
      "  Input(shape = [5])\n  Dense(18, activation = \"tanh\")\n  Reshape([3, 3, -1])\n  Conv2D(2, 2)\n  Flatten()\n"
      "  Dense(10)\n" },
    { "Reshape then LayerNormalization",
      "  Input(shape = [4])\n  Dense(12)\n  Reshape([-1, 3])\n  LayerNormalization()\n  Flatten()\n  Dense(10)\n" },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < sizeof NETS / sizeof NETS[0]; k++) {
        gradient_check(NETS[k].name, NETS[k].model, 0);
        if (jit_available()) gradient_check(NETS[k].name, NETS[k].model, 1);
    }
}

int main(void)
{
    test_forward();
    test_gradients();
    jit_shutdown();
    return check_exit();
}
