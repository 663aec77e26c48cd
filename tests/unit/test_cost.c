/* test_cost.c: a configuration's static costs (compiler/cost.h).
 *
 * FLOPs per sample against hand-computed values for Dense, Conv2D and LSTM
 * (a multiply-add counting 2); then, for every example spec's default
 * configuration, the trainable parameters and FLOPs against the runtime's
 * own trial (what it allocates and what its summary prints: they must be
 * equal, one rule), and the memory against the bytes the runtime allocates
 * for the trial at the search's batch size (within 10%: the cost leaves the
 * few buffers it documents out). */
#include "compiler/compile.h"
#include "compiler/cost.h"
#include "runtime/nn/trial.h"
#include "tests/unit/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static ir_program *compile(const char *file, const char *src, size_t len)
{
    compile_result r = compile_spec(file, src, len, stderr);
    return r.program;
}

static model_cost default_cost(const ir_program *p)
{
    hpt_value values[256];
    ir_default_assignment(p, values);
    ir_assignment a = { values, p->n_hps };
    model_cost c;
    char why[200];
    if (!CHECK(cost_of(p, &a, &c, why, sizeof why) == 0, "%s: cost_of succeeds", p->file)) printf("      %s\n", why);
    return c;
}

#define SPEC_HEAD "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n"
#define SPEC_TAIL "}\ncompile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")\n" \
                  "tuner = RandomSearch(objective = \"val_loss\", max_trials = 1)\nsearch(epochs = 1, batch_size = 32, validation_split = 0.2)\n"

static model_cost cost_of_model(const char *layers)
{
    char src[2048];
    snprintf(src, sizeof src, SPEC_HEAD "%s" SPEC_TAIL, layers);
    ir_program *p = compile("unit.hpt", src, strlen(src));
    model_cost c = { 0 };
    if (CHECK(p != NULL, "compiles: %.*s", (int)strcspn(layers + 30, "\n") + 30, layers)) c = default_cost(p);
    ir_free(p);
    return c;
}

static void test_hand_computed(void)
{
    /* Dense 784 -> 128: 2 x 784 x 128; then 128 -> 10: 2 x 128 x 10. */
    model_cost c = cost_of_model("Input(shape = [28, 28])\nFlatten()\nDense(128, activation = \"relu\")\nDense(10)\n");
    CHECK_NEAR(c.flops, 2.0 * 784 * 128 + 2.0 * 128 * 10, 0, "Dense: FLOPs per sample are 2 x in x units");
    CHECK_NEAR(c.params, 784.0 * 128 + 128 + 128.0 * 10 + 10, 0, "Dense: params are in x units + units");
    /* Conv2D 3x3, 1 -> 32 channels, valid on 28x28: 26 x 26 positions, 9 x 32
     * multiply-adds each; MaxPooling2D(2) to 13x13x32: 4 comparisons per output;
     * Dense 5408 -> 10. */
    c = cost_of_model("Input(shape = [28, 28, 1])\nConv2D(32, 3)\nMaxPooling2D(2)\nFlatten()\nDense(10)\n");
    CHECK_NEAR(c.flops, 2.0 * 26 * 26 * 9 * 32 + 13.0 * 13 * 32 * 4 + 2.0 * 5408 * 10, 0,
               "Conv2D: FLOPs per sample are 2 x positions x kernel weights (+ pooling, Dense)");
    CHECK_NEAR(c.params, 9.0 * 32 + 32 + 5408.0 * 10 + 10, 0, "Conv2D: params are kh x kw x C x filters + filters");
    /* LSTM over 28 steps of 28 features, 64 units: per step 2 x (28 + 64) x 4 x 64
     * for the input and recurrent kernels, 10 per unit for the gates and cell. */
    c = cost_of_model("Input(shape = [28, 28])\nLSTM(64)\nDense(10)\n");
    CHECK_NEAR(c.flops, 28 * (2.0 * (28 + 64) * 256 + 10.0 * 64) + 2.0 * 64 * 10, 0,
               "LSTM: FLOPs per sample are T x (2 x (F + U) x 4U + 10U)");
    CHECK_NEAR(c.params, (28.0 + 64 + 1) * 256 + 64.0 * 10 + 10, 0, "LSTM: params are (F + U + 1) x 4U");
    /* Memory at batch 32: weights, gradients and Adam's two moments (4 x 7850),
     * the input batch and the Dense's output (Flatten is a view), two gradient
     * buffers as large as the largest activation (784) and the targets (10). */
    model_cost small = cost_of_model("Input(shape = [28, 28])\nFlatten()\nDense(10)\n");
    CHECK_NEAR(small.memory_bytes, 4.0 * (4 * 7850 + 32 * (784 + 10) + 2 * 32 * 784 + 32 * 10), 0,
               "memory: weights, gradients, Adam's moments, activations, gradient buffers, targets");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, got;
    *len = 0;
    do {
        if (*len + 4096 > cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!nb) break;
            buf = nb;
        }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0);
    fclose(f);
    return buf;
}

static void test_examples(void)
{
    DIR *dir = opendir("examples");
    if (!CHECK(dir != NULL, "examples/ is readable (run from the repo root)")) return;
    struct dirent *e;
    int networks = 0;
    while ((e = readdir(dir))) {
        size_t k = strlen(e->d_name);
        if (k < 5 || strcmp(e->d_name + k - 4, ".hpt")) continue;
        char path[512];
        snprintf(path, sizeof path, "examples/%s", e->d_name);
        size_t len;
        char *src = slurp(path, &len);
        ir_program *p = src ? compile(path, src, len) : NULL;
        if (!CHECK(p != NULL, "%s compiles", path)) {
            free(src);
            continue;
        }
        model_cost c = default_cost(p);
        hpt_value values[256];
        ir_default_assignment(p, values);
        hpt_error err;
        trial *planned = trial_expand(p, values, 0, 1, &err);
        if (CHECK(planned != NULL, "%s: the runtime plans the default trial", path)) {
            trial_cost t = trial_get_cost(planned);
            CHECK_NEAR(c.params, (double)t.params, 0, "%s: params are the runtime's trainable weights (%zu)", path, t.params);
            CHECK_NEAR(c.flops, t.flops_per_sample, 0, "%s: FLOPs are the runtime's (%.0f)", path, t.flops_per_sample);
            int batch = trial_estimator(planned, NULL) ? 0 : trial_batch_size(planned);
            trial_free(planned);
            trial *real = batch > 0 ? trial_expand(p, values, batch, 1, &err) : NULL;
            if (real) {
                double bytes = (double)trial_get_cost(real).bytes;
                CHECK(c.memory_bytes > 0.9 * bytes && c.memory_bytes < 1.1 * bytes,
                      "%s: memory %.2f MB within 10%% of the runtime's buffers at batch %d (%.2f MB)", path,
                      c.memory_bytes / 1e6, batch, bytes / 1e6);
                networks++;
            }
            trial_free(real);
        }
        ir_free(p);
        free(src);
    }
    closedir(dir);
    CHECK(networks >= 10, "memory compared on %d example networks", networks);
}

int main(void)
{
    test_hand_computed();
    test_examples();
    return check_exit();
}
