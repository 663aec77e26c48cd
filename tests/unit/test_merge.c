/* test_merge.c: trials whose layers form a graph — Add, Concatenate and
 * Residual joining branches (runtime/nn/layers/merge.c, trial.c's graph
 * walk): the values a forward gives against the formulas and PyTorch,
 * gradients against finite differences on both backends and against
 * float32's in mixed_bfloat16, and a layer absent from a trial passing its
 * input through.  (tests/unit/test_graph.c tests the compiler's side.) */
#include "tests/unit/layer_check.h"

/* ---- forward values --------------------------------------------------------- */

/* From tests/unit/ref/graph_ref.py (PyTorch, double). */
static const float RESIDUAL_WANT[54] = { -0.07f, 0.81f, 0.42f, -0.96f, 0.07f, -0.48f, 0.79f, -0.99f, 0.51f, 0.5f, 0.35f, 0.55f, 0.03f, -0.51f, 0.43f, -0.09f, 0.69f, 0.02f, 0.23f, -0.79f, 0.39f, -0.55f, 0.49f, -0.1f, 0.42f, -1.03f, 0.8f, 0.03f, 1.37f, 1.38777878e-16f, -0.2f, -0.55f, 0.04f, -0.08f, 0.85f, 0.33f, -0.06f, -0.35f, 0.3f, 0.13f, -0.67f, -0.17f, 0.37f, -0.95f, 1.01f, 0.33f, -0.01f, 0.41f, -1.11f, 1.41f, -1.12f, 0.1f, -0.51f, 0.18f };

/* ((i * a + b) % c) * scale - shift: graph_ref.py's fill. */
static void fill(float *to, int n, int a, int b, int c, float scale, float shift)
{
    for (int i = 0; i < n; i++) to[i] = (float)((i * a + b) % c) * scale - shift;
}

/* Residual { Conv2D(3, 3, strides = 2, padding = "same") } on a (5, 5, 2)
 * input: the shortcut is projected by a strided 1x1 convolution. */
static void test_residual_projection(void)
{
    ir_program *p = lc_compile("  Input(shape = [5, 5, 2])\n"
                               "  Residual {\n    Conv2D(3, 3, strides = 2, padding = \"same\")\n  }\n  Flatten()\n");
    trial *t = lc_expand(p, 2, 11);
    if (!CHECK(t != NULL, "Residual with a strided projection expands")) return;
    size_t nw;
    float *w = trial_weights(t, &nw);
    if (CHECK(nw == 54 + 3 + 6 + 3, "Conv2D's 57 weights, then the projection's kernel (1, 1, 2, 3) and bias: %zu", nw)) {
        fill(w, 54, 5, 1, 9, 0.1f, 0.4f);
        fill(w + 54, 3, 1, 0, 3, 0.05f, 0.0f);
        fill(w + 57, 6, 3, 2, 5, 0.25f, 0.5f);
        fill(w + 63, 3, 2, 1, 3, 0.1f, 0.1f);
        fill(trial_input(t), 100, 7, 3, 11, 0.2f, 1.0f);
        const float *y = trial_forward(t, 2, 0, 0);
        double worst = 0;
        for (int i = 0; i < 54; i++) worst = fmax(worst, fabs(y[i] - RESIDUAL_WANT[i]));
        CHECK(worst < 1e-5, "Residual with a strided projection = PyTorch's conv + strided 1x1 conv, worst error %.2e", worst);
    }
    trial_free(t);
    ir_free(p);
}

/* Residual { Dense(4) } on the Input: y = x + (x W + b). */
static void test_residual_identity(void)
{
    ir_program *p = lc_compile("  Input(shape = [4])\n  Residual {\n    Dense(4)\n  }\n");
    trial *t = lc_expand(p, 2, 11);
    if (!CHECK(t != NULL, "Residual over Dense expands")) return;
    size_t nw;
    float *w = trial_weights(t, &nw);
    CHECK(nw == 20, "Residual with equal shapes adds no weights: %zu (Dense's 16 + 4)", nw);
    float *x = trial_input(t);
    for (int i = 0; i < 8; i++) x[i] = 0.25f * i - 1.0f;
    const float *y = trial_forward(t, 2, 0, 0);
    double worst = 0;
    for (int b = 0; b < 2; b++)
        for (int o = 0; o < 4; o++) {
            double want = x[b * 4 + o] + w[16 + o];
            for (int i = 0; i < 4; i++) want += (double)x[b * 4 + i] * w[i * 4 + o];
            worst = fmax(worst, fabs(y[b * 4 + o] - want));
        }
    CHECK(worst < 1e-6, "Residual: y = x + Dense(x), worst error %.2e", worst);
    trial_free(t);
    ir_free(p);
}

/* Concatenate { branch { Dense(3) } branch { Dense(2) } } and on axis 1 of
 * images: each input's values land in its slice. */
static void test_concatenate(void)
{
    ir_program *p = lc_compile("  Input(shape = [3])\n  Concatenate {\n    branch { Dense(3) }\n    branch { Dense(2) }\n  }\n");
    trial *t = lc_expand(p, 2, 11);
    if (!CHECK(t != NULL, "Concatenate of two Dense expands")) return;
    CHECK(trial_output_size(t) == 5, "Concatenate: 3 + 2 outputs (%d)", trial_output_size(t));
    size_t nw;
    float *w = trial_weights(t, &nw);
    float *x = trial_input(t);
    for (int i = 0; i < 6; i++) x[i] = 0.5f * i - 1.0f;
    const float *y = trial_forward(t, 2, 0, 0);
    double worst = 0;
    for (int b = 0; b < 2; b++)
        for (int o = 0; o < 5; o++) {
            const float *W = o < 3 ? w : w + 12, *bias = o < 3 ? w + 9 : w + 18;
            int cols = o < 3 ? 3 : 2, c = o < 3 ? o : o - 3;
            double want = bias[c];
            for (int i = 0; i < 3; i++) want += (double)x[b * 3 + i] * W[i * cols + c];
            worst = fmax(worst, fabs(y[b * 5 + o] - want));
        }
    CHECK(worst < 1e-6, "Concatenate: [Dense_a(x), Dense_b(x)], worst error %.2e", worst);
    trial_free(t);
    ir_free(p);

    /* Two (2, 2, 1) images joined along their height: (4, 2, 1), the first above. */
    p = lc_compile("  Input(shape = [2, 2, 1])\n  Concatenate(axis = 1) {\n    branch { }\n"
                   "    branch { Activation(\"relu\") }\n  }\n  Flatten()\n");
    t = lc_expand(p, 1, 11);
    if (!CHECK(t != NULL, "Concatenate(axis = 1) expands")) return;
    x = trial_input(t);
    const float in[4] = { -1, 2, 3, -4 }, want[8] = { -1, 2, 3, -4, 0, 2, 3, 0 };
    memcpy(x, in, sizeof in);
    y = trial_forward(t, 1, 0, 0);
    CHECK(trial_output_size(t) == 8 && !memcmp(y, want, sizeof want), "Concatenate(axis = 1): the input above its relu");
    trial_free(t);
    ir_free(p);
}

/* if hp.Boolean("b") { Dense(2) } then Add of the Input and it: without the
 * Dense, its readers read the Input, so the Add doubles it. */
static void test_absent_passes_through(void)
{
    const char *model = "  Input(shape = [2])\n  Add {\n    branch {\n      if hp.Boolean(\"b\") {\n        Dense(2)\n      }\n"
                        "    }\n    branch { }\n  }\n";
    ir_program *p = lc_compile(model);
    if (!CHECK(p && p->n_hps == 1, "a spec with an optional layer compiles")) return;
    hpt_value values[1] = { value_bool(false) };
    trial *t = lc_expand_values(p, values, 1, 11);
    if (CHECK(t != NULL, "the trial without the Dense expands")) {
        float *x = trial_input(t);
        x[0] = 1.5f, x[1] = -2.0f;
        const float *y = trial_forward(t, 1, 0, 0);
        CHECK(y[0] == 3.0f && y[1] == -4.0f, "Add(x, absent Dense) = x + x: %g %g", y[0], y[1]);
        trial_free(t);
    }
    values[0] = value_bool(true);
    t = lc_expand_values(p, values, 1, 11);
    size_t nw = 0;
    if (t) trial_weights(t, &nw);
    CHECK(t && nw == 6, "with the Dense present the trial has its 6 weights (%zu)", nw);
    trial_free(t);
    ir_free(p);
}

/* ---- gradients ---------------------------------------------------------------- */

/* layer_check.h's central differences on both backends, and in
 * mixed_bfloat16 against float32's analytic gradient. */
static const struct {
    const char *name, *model;
} NETS[] = {
    { "Residual, identity shortcut, two-layer body",
      "  Input(shape = [6])\n  Dense(6, activation = \"tanh\")\n"
      "  Residual {\n    Dense(6, activation = \"tanh\")\n    Dense(6)\n  }\n  Dense(10)\n" },
    { "Residual with a dense projection (5 to 7)",
      "  Input(shape = [6])\n  Dense(5, activation = \"tanh\")\n  Residual {\n    Dense(7, activation = \"tanh\")\n  }\n"
      "  Dense(10)\n" },
    { "Residual with a strided 1x1 projection (4x4x3 to 2x2x4)",
      "  Input(shape = [5, 5, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n"
      "  Residual {\n    Conv2D(4, 3, strides = 2, padding = \"same\", activation = \"tanh\")\n  }\n  Flatten()\n"
      "  Dense(10)\n" },
    { "Residual projecting 5x5 to 3x3 (stride 2, odd size)",
      "  Input(shape = [5, 5, 2])\n  Conv2D(3, 1, activation = \"tanh\")\n"
      "  Residual {\n    Conv2D(2, 3, strides = 2, padding = \"same\")\n  }\n  Flatten()\n  Dense(10)\n" },
    { "Concatenate of two branches",
      "  Input(shape = [6])\n  Dense(4, activation = \"tanh\")\n  Concatenate {\n"
      "    branch { Dense(3, activation = \"tanh\") }\n    branch { Dense(5, activation = \"tanh\") }\n  }\n"
      "  Dense(10)\n" },
    { "Add of three, one the branch point itself",
      "  Input(shape = [6])\n  Dense(4, activation = \"relu\")\n  Add {\n"
      "    branch { Dense(4, activation = \"tanh\") }\n    branch { Dense(4, activation = \"sigmoid\") }\n"
      "    branch { }\n  }\n  Dense(10, activation = \"softmax\")\n" },
    { "Inception-style: Concatenate of a 1x1 and a 3x3 branch on channels",
      "  Input(shape = [4, 4, 2])\n  Concatenate {\n    branch { Conv2D(3, 1, activation = \"relu\") }\n"
      "    branch { Conv2D(2, 3, padding = \"same\", activation = \"tanh\") }\n  }\n  MaxPooling2D(2)\n  Flatten()\n"
      "  Dense(10)\n" },
    { "a Flatten before and a Dropout inside a merge",
      "  Input(shape = [2, 3])\n  Flatten()\n  Add {\n    branch { }\n"
      "    branch {\n      Dense(6, activation = \"tanh\")\n      Dropout(0.25)\n    }\n  }\n  Dense(10)\n" },
    { "a Residual nested in a Concatenate's branch",
      "  Input(shape = [6])\n  Dense(4, activation = \"tanh\")\n  Concatenate {\n"
      "    branch {\n      Residual {\n        Dense(4, activation = \"tanh\")\n      }\n    }\n"
      "    branch { Dense(3, activation = \"tanh\") }\n  }\n  Dense(10)\n" },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < sizeof NETS / sizeof NETS[0]; k++) {
        lc_gradient_check(NETS[k].name, NETS[k].model, 0);
        lc_gradient_check_opts(NETS[k].name, NETS[k].model, (lc_grad_opts){ .bf16 = 1 });
        if (jit_available()) lc_gradient_check(NETS[k].name, NETS[k].model, 1);
    }
}

int main(void)
{
    test_residual_identity();
    test_residual_projection();
    test_concatenate();
    test_absent_passes_through();
    test_gradients();
    jit_shutdown();
    return check_exit();
}
