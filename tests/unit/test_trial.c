/* test_trial.c: whole networks, expanded from specs, checked end to end.
 *
 * For an MLP (Dense relu, Dropout, Dense softmax fused with the loss) and a
 * CNN (Conv2D, BatchNormalization, AveragePooling2D, Flatten, Dense, gelu
 * Activation), and max pooling on inputs whose winners cannot change hands: every parameter tensor's gradient against central
 * finite differences of the whole network's loss (dropout masks are fixed by
 * the step, so the loss is a function of the weights alone); then expansion
 * under conditional hyperparameters, memory planning, the training loop's
 * split and EarlyStopping, and reproducibility. */
#include "compiler/compile.h"
#include "compiler/shapes.h"
#include "runtime/nn/optim.h"
#include "runtime/rng.h"
#include "runtime/nn/train.h"
#include "runtime/nn/trial.h"
#include "tests/unit/check.h"
#include "tests/unit/synthetic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ir_program *compile(const char *src)
{
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

static trial *expand_defaults(const ir_program *p, int batch, uint64_t seed)
{
    hpt_value values[64];
    ir_default_assignment(p, values);
    hpt_error e;
    trial *t = trial_expand(p, values, batch, seed, &e);
    if (!t) printf("expand: %s\n", e.message);
    return t;
}

/* Fill the input with a fixed pattern and labels 0..K-1. */
static void fill_batch(trial *t, int B, int32_t *labels, int K)
{
    float *x = trial_input(t);
    size_t n = trial_input_size(t) * (size_t)B;
    rng r = rng_stream(42);
    for (size_t i = 0; i < n; i++) x[i] = rng_float(&r) * 2 - 1;
    for (int i = 0; i < B; i++) labels[i] = i % K;
}

/* Central differences over a sample of each tensor's parameters, in double
 * accumulation of the float loss; the analytic gradient must agree within
 * rel < 1e-3 (norm-wise over the sample). */
static void gradient_check(trial *t, int B, const char *name)
{
    int32_t labels[64];
    int K = trial_output_size(t);
    fill_batch(t, B, labels, K);
    size_t n, nw;
    double loss = trial_compute_gradients(t, labels, B, 7, NULL);
    CHECK(isfinite(loss), "%s: loss is finite (%g)", name, loss);
    float *g = trial_gradients(t, &n);
    float *w = trial_weights(t, &nw);
    float *analytic = malloc(sizeof(float) * n);
    memcpy(analytic, g, sizeof(float) * n);
    /* Sample up to 60 parameters spread over the whole buffer. */
    double num = 0, den = 0;
    size_t stride = n / 60 + 1;
    for (size_t i = 0; i < n; i += stride) {
        /* trial_weights before each write: it moves the weights version, so packed kernels follow. */
        float keep = w[i], h = 2e-3f * fmaxf(1.0f, fabsf(keep));
        trial_weights(t, &nw)[i] = keep + h;
        double up = trial_compute_gradients(t, labels, B, 7, NULL);
        trial_weights(t, &nw)[i] = keep - h;
        double down = trial_compute_gradients(t, labels, B, 7, NULL);
        trial_weights(t, &nw)[i] = keep;
        double fd = (up - down) / (2.0 * h);
        num += (fd - analytic[i]) * (fd - analytic[i]);
        den += fd * fd + (double)analytic[i] * analytic[i];
    }
    double rel = sqrt(num / (den > 1e-30 ? den : 1e-30));
    CHECK(rel < 1e-2, "%s: whole-network gradient vs finite differences (rel %.2e over %zu params)", name, rel,
          (n + stride - 1) / stride);
    free(analytic);
}

static const char *MLP =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [6, 2])\n  Flatten()\n  Dense(8, activation = \"relu\")\n  Dropout(0.25)\n"
    "  Dense(units = hp.Int(\"units\", 4, 8, step = 4), activation = \"tanh\")\n  Dense(10, activation = \"softmax\")\n}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n";

static const char *CNN =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [8, 8, 2])\n  Conv2D(4, 3, padding = \"same\", activation = \"tanh\")\n"
    "  BatchNormalization()\n  AveragePooling2D(2)\n  Conv2D(3, (2, 2), strides = 1)\n  AveragePooling2D(2, padding = \"same\")\n"
    "  Activation(\"gelu\")\n  Flatten()\n  Dense(10)\n}\n"
    "compile(optimizer = SGD(momentum = 0.9), loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n";

/* The layers of the layer table's second round: their weights as the checker counts them. */
static const char *NORM =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [12])\n  Reshape([2, 2, -1])\n  Conv2D(5, 1)\n  LayerNormalization(center = False)\n"
    "  GlobalAveragePooling2D()\n  LayerNormalization()\n  Dense(10)\n}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")\n";

/* Max pooling's gradient routes through its arg-max, which finite differences
 * only see where no window's maximum changes hands: inputs spaced 0.1 apart
 * and a 1x1 convolution with a positive weight keep every winner fixed. */
static const char *POOL =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [4, 4, 1])\n  Conv2D(2, 1)\n  MaxPooling2D(2)\n  Flatten()\n  Dense(10)\n}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")\n";

static void test_pool(void)
{
    ir_program *p = compile(POOL);
    trial *t = p ? expand_defaults(p, 4, 2) : NULL;
    CHECK(t != NULL, "max-pooling network expands");
    if (!t) return ir_free(p);
    size_t n;
    float *w = trial_weights(t, &n);
    w[0] = 0.8f, w[1] = 1.3f;   /* conv kernel (1, 1, 1, 2): positive, so orders are kept */
    int32_t labels[4] = { 1, 3, 5, 7 };
    float *x = trial_input(t);
    /* A permutation of 0.1 .. 1.6 per image: every window has a clear winner. */
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < 16; i++) x[b * 16 + i] = 0.1f * (float)(1 + (i * 7 + b * 3) % 16);
    double loss = trial_compute_gradients(t, labels, 4, 0, NULL);
    size_t ng;
    float *g = trial_gradients(t, &ng);
    float an[2] = { g[0], g[1] };
    for (int k = 0; k < 2; k++) {
        float keep = w[k];
        (w = trial_weights(t, &n))[k] = keep + 1e-3f;   /* asked again: the weights version moves */
        double up = trial_compute_gradients(t, labels, 4, 0, NULL);
        (w = trial_weights(t, &n))[k] = keep - 1e-3f;
        double down = trial_compute_gradients(t, labels, 4, 0, NULL);
        (w = trial_weights(t, &n))[k] = keep;
        CHECK_NEAR(an[k], (up - down) / 2e-3, 2e-3, "max pooling: conv weight %d gradient through the arg-max (loss %.4f)", k, loss);
    }
    trial_free(t);
    ir_free(p);
}

static void test_mlp(void)
{
    ir_program *p = compile(MLP);
    CHECK(p != NULL, "MLP spec compiles");
    if (!p) return;
    trial *t = expand_defaults(p, 16, 3);
    CHECK(t != NULL, "MLP expands");
    if (!t) return ir_free(p);
    trial_cost c = trial_get_cost(t);
    /* 12*8+8 + 8*4+4 + 4*10+10 */
    CHECK(c.params == 12 * 8 + 8 + 8 * 4 + 4 + 4 * 10 + 10, "MLP parameter count %zu", c.params);
    CHECK(c.flops_per_sample == 2.0 * (12 * 8 + 8 * 4 + 4 * 10), "MLP forward FLOPs per sample %.0f", c.flops_per_sample);
    CHECK(trial_output_size(t) == 10 && trial_input_size(t) == 12, "MLP input 12, output 10");
    gradient_check(t, 16, "MLP");
    trial_free(t);
    ir_free(p);
}

static void test_cnn(void)
{
    ir_program *p = compile(CNN);
    CHECK(p != NULL, "CNN spec compiles");
    if (!p) return;
    trial *t = expand_defaults(p, 6, 5);
    CHECK(t != NULL, "CNN expands");
    if (!t) return ir_free(p);
    trial_cost c = trial_get_cost(t);
    /* conv 3*3*2*4+4, BN 4+4 (+8 moving), conv 2*2*4*3+3, dense (2*2*3)*10+10 */
    size_t want = 3 * 3 * 2 * 4 + 4 + 8 + 2 * 2 * 4 * 3 + 3 + 12 * 10 + 10;
    CHECK(c.params == want, "CNN parameter count %zu (want %zu)", c.params, want);
    CHECK(c.nontrainable == 8, "CNN non-trainable (BN moving statistics) %zu", c.nontrainable);
    gradient_check(t, 6, "CNN");
    trial_free(t);
    ir_free(p);
}

static void test_conditional_expansion(void)
{
    const char *src =
        "data = datasets.fashion_mnist(scale = 1/255)\n"
        "model {\n  Flatten(input_shape = (28, 28))\n"
        "  for i in range(hp.Int(\"num_layers\", 1, 3)) {\n    Dense(hp.Int(f\"units_{i}\", 8, 16, step = 8))\n  }\n"
        "  if hp.Boolean(\"dropout\") {\n    Dropout(0.5)\n  }\n  Dense(10)\n}\n"
        "compile(loss = \"sparse_categorical_crossentropy\")\n";
    ir_program *p = compile(src);
    CHECK(p != NULL, "conditional spec compiles");
    if (!p) return;
    hpt_value v[16];
    ir_default_assignment(p, v);
    int nl = ir_find_hp(p, "num_layers"), u1 = ir_find_hp(p, "units_1"), u2 = ir_find_hp(p, "units_2");
    CHECK(v[u1].type == V_NONE && v[u2].type == V_NONE, "num_layers = 1 leaves units_1 and units_2 inactive");
    hpt_error e;
    trial *t = trial_expand(p, v, 4, 1, &e);
    CHECK(t && trial_get_cost(t).params == 784 * 8 + 8 + 8 * 10 + 10, "one hidden layer of 8: %zu params",
          t ? trial_get_cost(t).params : 0);
    trial_free(t);
    v[nl] = value_int(3);
    v[u1] = value_int(16);
    v[u2] = value_int(8);
    t = trial_expand(p, v, 4, 1, &e);
    CHECK(t && trial_get_cost(t).params == 784 * 8 + 8 + 8 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10,
          "three hidden layers 8-16-8: %zu params", t ? trial_get_cost(t).params : 0);
    trial_free(t);
    ir_free(p);
}


static int count_epochs(void *user, const train_epoch *m, trial *t, const train_state *s)
{
    (void)m, (void)t, (void)s;
    ++*(int *)user;
    return 0;
}

static void test_fit(void)
{
    ir_program *p = compile(MLP);
    if (!p) return;
    data_set d;
    synthetic_data(&d, 200);
    int n_train;
    int n_val = train_split(200, 0.2, &n_train);
    CHECK(n_train == 160 && n_val == 40, "validation_split 0.2 of 200 rows: 160 train, last 40 validation");
    train_split(60000, 0.2, &n_train);
    CHECK(n_train == 48000, "validation_split 0.2 of 60000: 48000 (no rounding slip)");
    uint32_t rows[200];
    for (int i = 0; i < 200; i++) rows[i] = (uint32_t)i;
    train_data td = { &d, rows, 160, &d, rows + 160, 40, 1.0f };

    /* With min_delta larger than any change, only the first epoch counts as an
     * improvement: patience 2 stops after epoch 3. */
    double first_loss[2];
    for (int run = 0; run < 2; run++) {
        trial *t = expand_defaults(p, 32, 11);
        train_config cfg = { .epochs = 10, .batch = 32, .shuffle = 1, .seed = 11, .patience = 2, .min_delta = 1e9 };
        strcpy(cfg.monitor, "loss");
        train_state s;
        train_state_init(&s, &cfg);
        int epochs = 0;
        hpt_error e;
        int rc = train_fit(t, &td, &cfg, &s, NULL, count_epochs, NULL, &epochs, &e);
        CHECK(rc == 0 && s.stopped == 1 && epochs == 3, "EarlyStopping(patience = 2) stops after 3 epochs (ran %d)", epochs);
        CHECK(s.step == 3 * 5, "5 steps per epoch of 160 rows at batch 32 (%ld)", s.step);
        double loss, acc;
        train_evaluate(t, &d, rows + 160, 40, 1.0f, 32, &loss, &acc, &e);
        first_loss[run] = loss;
        trial_free(t);
    }
    CHECK(first_loss[0] == first_loss[1], "same seed, same numbers: val loss %.9g == %.9g", first_loss[0], first_loss[1]);

    /* Resuming from a mid-training copy of the state gives the same weights. */
    trial *a = expand_defaults(p, 32, 5), *b = expand_defaults(p, 32, 5);
    train_config cfg = { .epochs = 4, .batch = 32, .shuffle = 1, .seed = 5, .patience = -1 };
    strcpy(cfg.monitor, "val_loss");
    train_state sa, sb;
    hpt_error e;
    train_state_init(&sa, &cfg);
    train_fit(a, &td, &cfg, &sa, NULL, NULL, NULL, NULL, &e);
    cfg.epochs = 2;
    train_state_init(&sb, &cfg);
    train_fit(b, &td, &cfg, &sb, NULL, NULL, NULL, NULL, &e);
    size_t nw, no;
    trial *c = expand_defaults(p, 32, 5);
    float *wc = trial_weights(c, &nw), *wb = trial_weights(b, &nw);
    memcpy(wc, wb, nw * sizeof(float));
    float *oc = trial_optimizer_state(c, &no), *ob = trial_optimizer_state(b, &no);
    memcpy(oc, ob, no * sizeof(float));
    cfg.epochs = 4;
    train_fit(c, &td, &cfg, &sb, NULL, NULL, NULL, NULL, &e);
    float *wa = trial_weights(a, &nw);
    wc = trial_weights(c, &nw);
    CHECK(memcmp(wa, wc, nw * sizeof(float)) == 0,
          "2 epochs, checkpoint, 2 more epochs == 4 epochs, bit for bit");
    trial_free(a), trial_free(b), trial_free(c);

    /* A diverging learning rate ends with a reason, not a crash. */
    const char *bad = "data = csv(\"synthetic.csv\")\nmodel {\n  Input(shape = [6, 2])\n  Flatten()\n  Dense(10)\n}\n"
                      "compile(optimizer = SGD(learning_rate = 1e30), loss = \"sparse_categorical_crossentropy\")\n";
    ir_program *q = compile(bad);
    trial *t = q ? expand_defaults(q, 32, 1) : NULL;
    if (t) {
        for (int i = 0; i < 200 * 12; i++) d.f32[i] *= 1e6f;
        train_config bc = { .epochs = 3, .batch = 32, .shuffle = 1, .seed = 1, .patience = -1 };
        train_state s;
        train_state_init(&s, &bc);
        int rc = train_fit(t, &td, &bc, &s, NULL, NULL, NULL, NULL, &e);
        CHECK(rc == -1 && s.stopped == 2 && strstr(e.message, "loss became") && strstr(e.message, "at epoch 1 step"),
              "SGD(learning_rate = 1e30) stops: %s", rc ? e.message : "(no error)");
    }
    trial_free(t);
    ir_free(q);
    free(d.f32), free(d.labels);
    ir_free(p);
}

/* The checker's count of a configuration's parameters (st_layer_plan over
 * the present layers, as hptc check bounds the model's size) must be the
 * runtime's plan. */
static void compiler_params(const ir_program *p, double *trainable, double *stats)
{
    hpt_value values[64], args[32];
    int shapes[64][4], ranks[64], in[4] = { 0 }, in_rank = 0;
    char why[200];
    ir_default_assignment(p, values);
    ir_assignment a = { values, p->n_hps };
    *trainable = *stats = 0;
    if (shapes_infer(p, &a, shapes, ranks, why, sizeof why)) return;
    for (int k = 0; k < p->n_layers; k++) {
        if (!ranks[k]) continue;
        arena scratch = { 0 };
        double t, s;
        if (ir_eval_call(p, &p->layers[k], &a, &scratch, args, why, sizeof why) == 0) {
            int out[4], out_rank;
            st_weights w;
            st_layer_plan(p->layers[k].entry, args, in, in_rank, out, &out_rank, &w, why, sizeof why);
            st_weights_count(&w, &t, &s);
            *trainable += t, *stats += s;
        }
        arena_free(&scratch);
        memcpy(in, shapes[k], sizeof in);
        in_rank = ranks[k];
    }
}

static void test_checker_counts(void)
{
    const char *specs[] = { MLP, CNN, NORM }, *names[] = { "MLP", "CNN", "NORM" };
    for (int k = 0; k < 3; k++) {
        ir_program *p = compile(specs[k]);
        trial *t = p ? expand_defaults(p, 4, 1) : NULL;
        if (!CHECK(t != NULL, "%s expands", names[k])) {
            ir_free(p);
            continue;
        }
        trial_cost c = trial_get_cost(t);
        double tr, st;
        compiler_params(p, &tr, &st);
        CHECK(tr == (double)c.params && st == (double)c.nontrainable,
              "%s: the checker counts the runtime's %zu parameters and %zu statistics (%.0f, %.0f)", names[k], c.params,
              c.nontrainable, tr, st);
        trial_free(t);
        ir_free(p);
    }
    /* Optimizer state per parameter: the checker's rule against the runtime's. */
    static const struct { const char *spec; optim_kind kind; float momentum; } opts[] = {
        { "SGD()", OPTIM_SGD, 0 }, { "SGD(momentum = 0.9)", OPTIM_SGD, 0.9f }, { "\"adam\"", OPTIM_ADAM, 0 },
        { "AdamW()", OPTIM_ADAMW, 0 }, { "RMSprop()", OPTIM_RMSPROP, 0 }, { "RMSprop(momentum = 0.5)", OPTIM_RMSPROP, 0.5f },
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        char src[600];
        snprintf(src, sizeof src, "data = csv(\"d.csv\")\nmodel {\n  Input(shape = [4])\n  Dense(2)\n}\n"
                                  "compile(optimizer = %s, loss = \"mse\")\n", opts[k].spec);
        ir_program *p = compile(src);
        hpt_value v;
        arena scratch = { 0 };
        char why[100];
        int n = p && ir_eval(p, p->compile.args[compile_optimizer], NULL, &scratch, &v, why, sizeof why) == 0 ? st_optimizer_state(v) : -9;
        optim_config cfg;
        optim_defaults(&cfg, opts[k].kind);
        cfg.momentum = opts[k].momentum;
        CHECK(n >= 0 && (size_t)n * 1000 == optim_state_floats(&cfg, 1000), "%s: %d floats of state per parameter, as the runtime's",
              opts[k].spec, n);
        arena_free(&scratch);
        ir_free(p);
    }
}

int main(void)
{
    test_checker_counts();
    test_mlp();
    test_cnn();
    test_pool();
    test_conditional_expansion();
    test_fit();
    return check_exit();
}
