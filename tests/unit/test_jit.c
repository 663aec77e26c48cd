/* test_jit.c: the LLVM JIT backend against the BLAS backend, tensor by tensor.
 *
 * Every generated kernel (Dense epilogue and backward chain for each
 * activation with and without a fused Dropout, at sizes with vector tails;
 * BatchNormalization's reductions; the fused sparse cross-entropy; the
 * optimizer for each kind) runs on random inputs next to its kern_* /
 * optim_step counterpart and must agree to 1e-5 (max error over the
 * tensor's largest magnitude).  Then whole networks: an MLP with Dropout
 * and a CNN with BatchNormalization train through train_fit with each
 * backend and reach the same accuracy to 0.1 point; the compile cache hits
 * on a repeated shape, from two threads at once too.  A build without LLVM
 * checks that the backend says so. */
#include "compiler/compile.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/onednn.h"
#include "runtime/rng.h"
#include "runtime/nn/train.h"
#include "runtime/nn/trial.h"
#include "tests/unit/check.h"
#include "tests/unit/synthetic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef HPTC_JIT

int main(void)
{
    hpt_error e;
    jit_spec s = { 0 };
    const jit_code *c = jit_get(&s, &e);
    CHECK(!jit_available() && c == NULL && strstr(e.message, "has no JIT backend"),
          "this build has no JIT: jit_get says \"%s\"", c ? "(code)" : e.message);
    return check_exit();
}

#else

#include <pthread.h>

static void fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    rng r = rng_stream(seed);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng_float(&r);
}

/* max |a - b| / max |b|: the error relative to the tensor's scale. */
static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= num)) num = d;   /* NaN counts as a mismatch */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / den;
}

static const char *act_name[] = { "linear", "relu", "tanh", "sigmoid", "gelu", "softmax" };

/* One spec with a layer per (activation, dropout, bwd_act) case at `out`
 * columns; each case runs jit_dense_forward/backward beside kern_*. */
static void test_dense(int B, int in, int out)
{
    enum { N_CASES = 14 };
    jit_layer layers[N_CASES];
    memset(layers, 0, sizeof layers);
    for (int k = 0; k < N_CASES; k++) {
        kern_act act = (kern_act)(k % 7 == 6 ? KERN_SOFTMAX : k % 7);
        layers[k] = (jit_layer){ JIT_ELEMENTWISE, out, act, k % 7 == 6 ? KERN_LINEAR : act, k % 3 != 2,
                                 kern_act_needs_z(act) || k % 7 == 6, k >= 7, 1 };
    }
    jit_spec s = { layers, N_CASES, 0, { 0 }, 0 };
    hpt_error e;
    const jit_code *c = jit_get(&s, &e);
    CHECK(c != NULL, "compile %d Dense epilogue/backward variants at (B %d, out %d)%s%s", N_CASES, B, out,
          c ? "" : ": ", c ? "" : e.message);
    if (!c) return;
    size_t nx = (size_t)B * in, ny = (size_t)B * out, nw = (size_t)in * out;
    float *buf = malloc(sizeof(float) * (nx + nw + out + 12 * ny + 2 * nx + 2 * nw + 2 * out));
    float *x = buf, *w = x + nx, *b = w + nw, *y1 = b + out, *z1 = y1 + ny, *y2 = z1 + ny, *z2 = y2 + ny;
    float *d1 = z2 + ny, *d2 = d1 + ny, *dy1 = d2 + ny, *dy2 = dy1 + ny, *g = dy2 + ny, *dd = g + ny;
    float *dx1 = dd + 2 * ny, *dx2 = dx1 + nx, *dw1 = dx2 + nx, *dw2 = dw1 + nw, *db1 = dw2 + nw, *db2 = db1 + out;
    fill(x, nx, 1, -1, 1), fill(w, nw, 2, -0.5f, 0.5f), fill(b, out, 3, -0.5f, 0.5f), fill(g, ny, 4, -1, 1);
    uint64_t key = rng_key(77, (uint64_t)out);
    const float rate = 0.3f;
    for (int k = 0; k < N_CASES; k++) {
        const jit_layer *L = &layers[k];
        const float *bias = L->bias ? b : NULL;
        float *zz1 = L->keep_z ? z1 : NULL, *zz2 = L->keep_z ? z2 : NULL;
        /* Forward: BLAS's Dense then Dropout; the JIT's one epilogue. */
        kern_dense_forward(x, w, bias, y1, zz1, B, in, out, L->act);
        if (L->dropout) kern_dropout_forward(y1, d1, ny, rate, key);
        jit_dense_forward(c, k, x, w, bias, y2, zz2, L->dropout ? d2 : NULL, B, in, out, rate, key);
        double ey = rel_err(y2, y1, ny), ez = L->keep_z ? rel_err(z2, z1, ny) : 0;
        double ed = L->dropout ? rel_err(d2, d1, ny) : 0;
        int mask_same = 1;
        for (size_t i = 0; L->dropout && i < ny; i++) mask_same &= (d1[i] == 0) == (d2[i] == 0);
        CHECK(ey < 1e-5 && ez < 1e-5 && ed < 1e-5 && mask_same,
              "forward %-7s bias %d dropout %d (B %d, out %d): y %.1e z %.1e dropout %.1e, masks %s", act_name[L->act],
              L->bias, L->dropout, B, out, ey, ez, ed, mask_same ? "identical" : "DIFFER");
        /* Backward: Dropout's backward then Dense's, against the fused chain. */
        memcpy(dy1, g, sizeof(float) * ny), memcpy(dy2, g, sizeof(float) * ny);
        memset(dw1, 0, sizeof(float) * nw), memset(dw2, 0, sizeof(float) * nw);
        memset(db1, 0, sizeof(float) * out), memset(db2, 0, sizeof(float) * out);
        if (L->dropout) kern_dropout_backward(dy1, dy1, ny, rate, key);
        kern_dense_backward(x, w, y1, zz1, dy1, dx1, dw1, L->bias ? db1 : NULL, B, in, out, L->bwd_act);
        jit_dense_backward(c, k, x, w, y2, zz2, dy2, dx2, dw2, L->bias ? db2 : NULL, B, in, out, rate, key);
        double edz = rel_err(dy2, dy1, ny), edx = rel_err(dx2, dx1, nx), edw = rel_err(dw2, dw1, nw);
        double edb = L->bias ? rel_err(db2, db1, (size_t)out) : 0;
        CHECK(edz < 1e-5 && edx < 1e-5 && edw < 1e-5 && edb < 1e-5,
              "backward %-7s (through %s) bias %d dropout %d (B %d, out %d): dz %.1e dx %.1e dw %.1e db %.1e",
              act_name[L->act], act_name[L->bwd_act], L->bias, L->dropout, B, out, edz, edx, edw, edb);
    }
    free(buf);
}

static void test_loss(int B, int K)
{
    jit_spec s = { NULL, 0, K, { 0 }, 0 };
    hpt_error e;
    const jit_code *c = jit_get(&s, &e);
    CHECK(c != NULL, "compile the fused cross-entropy for K %d", K);
    if (!c) return;
    size_t n = (size_t)B * K;
    float *z = malloc(sizeof(float) * 3 * n), *d1 = z + n, *d2 = d1 + n;
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)B);
    fill(z, n, (uint64_t)K, -8, 8);
    z[0] = 900.0f;   /* a huge logit stays finite */
    for (int i = 0; i < B; i++) labels[i] = (i * 7) % K;
    double l1 = kern_sparse_softmax_ce(z, labels, d1, B, K);
    int a1 = kern_accuracy_sparse(z, labels, B, K), a2 = -1;
    double l2 = jit_sparse_softmax_ce(c, z, z, labels, d2, B, &a2);
    CHECK_NEAR(l2, l1, 1e-12, "cross-entropy loss (B %d, K %d): %.9g", B, K, l2);
    CHECK(rel_err(d2, d1, n) < 1e-6 && a1 == a2, "cross-entropy gradient (err %.1e) and accuracy %d == %d",
          rel_err(d2, d1, n), a2, a1);
    double l3 = jit_sparse_softmax_ce(c, z, z, labels, NULL, B, NULL);
    CHECK(l3 == l2, "without a gradient buffer the same loss");
    labels[B - 1] = K;   /* a bad label: NaN loss, zero gradient row */
    for (size_t i = 0; i < n; i++) d2[i] = 5;
    double l4 = jit_sparse_softmax_ce(c, z, z, labels, d2, B, NULL);
    int zero = 1;
    for (int k = 0; k < K; k++) zero &= d2[(size_t)(B - 1) * K + k] == 0;
    CHECK(isnan(l4) && zero, "a label out of range gives NaN and a zero gradient row");
    free(z), free(labels);
}

static void test_optim(void)
{
    struct { const char *name; optim_kind kind; float momentum; int nesterov, centered; float wd; } cases[] = {
        { "SGD", OPTIM_SGD, 0, 0, 0, 0 },
        { "SGD momentum", OPTIM_SGD, 0.9f, 0, 0, 0 },
        { "SGD nesterov + decay", OPTIM_SGD, 0.9f, 1, 0, 0.01f },
        { "Adam", OPTIM_ADAM, 0, 0, 0, 0 },
        { "AdamW", OPTIM_ADAMW, 0, 0, 0, 0.004f },
        { "RMSprop", OPTIM_RMSPROP, 0, 0, 0, 0 },
        { "RMSprop momentum", OPTIM_RMSPROP, 0.5f, 0, 0, 0 },
        { "RMSprop centered momentum", OPTIM_RMSPROP, 0.5f, 0, 1, 0 },
    };
    const size_t n = 1003;
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        optim_config cfg;
        optim_defaults(&cfg, cases[q].kind);
        cfg.momentum = cases[q].momentum, cfg.nesterov = cases[q].nesterov, cfg.centered = cases[q].centered;
        cfg.weight_decay = cases[q].wd;
        jit_spec s = { NULL, 0, 0, cfg, n };
        hpt_error e;
        const jit_code *c = jit_get(&s, &e);
        if (!CHECK(c != NULL, "compile %s", cases[q].name)) continue;
        size_t ns = optim_state_floats(&cfg, n);
        float *w1 = malloc(sizeof(float) * (4 * n + 2 * ns + 2)), *w2 = w1 + n, *g = w2 + n;
        float *s1 = g + n, *s2 = s1 + ns + 1;
        fill(w1, n, q, -1, 1), memcpy(w2, w1, sizeof(float) * n);
        memset(s1, 0, sizeof(float) * (2 * ns + 2));
        for (long step = 1; step <= 3; step++) {
            fill(g, n, 100 + (uint64_t)step, -1, 1);
            optim_step(&cfg, w1, g, s1, n, step);
            jit_optim_step(c, &cfg, w2, g, s2, step);
        }
        double ew = rel_err(w2, w1, n), es = ns ? rel_err(s2, s1, ns) : 0;
        CHECK(ew < 1e-6 && es < 1e-6, "%s: 3 steps over %zu params: weights %.1e state %.1e", cases[q].name, n, ew, es);
        free(w1);
    }
}

static void test_batchnorm(size_t N, int C)
{
    jit_layer L = { JIT_BATCHNORM, C, 0, 0, 0, 0, 0, 0 };
    jit_spec s = { &L, 1, 0, { 0 }, 0 };
    hpt_error e;
    const jit_code *c = jit_get(&s, &e);
    if (!CHECK(c != NULL, "compile BatchNormalization for C %d", C)) return;
    size_t n = N * (size_t)C;
    float *buf = malloc(sizeof(float) * (6 * n + 22 * (size_t)C));
    float *x = buf, *y1 = x + n, *y2 = y1 + n, *dy = y2 + n, *dx1 = dy + n, *dx2 = dx1 + n;
    float *gam = dx2 + n, *bet = gam + C, *m1 = bet + C, *v1 = m1 + C, *m2 = v1 + C, *v2 = m2 + C;
    float *st1 = v2 + C, *st2 = st1 + 6 * C, *dg1 = st2 + 6 * C, *dg2 = dg1 + C;
    float *db1 = dg2 + C, *db2 = db1 + C;
    fill(x, n, 5, -2, 3), fill(dy, n, 6, -1, 1), fill(gam, (size_t)C, 7, 0.5f, 1.5f), fill(bet, (size_t)C, 8, -1, 1);
    for (int k = 0; k < C; k++) m1[k] = m2[k] = 0.1f, v1[k] = v2[k] = 1.0f;
    memset(dg1, 0, sizeof(float) * 4 * (size_t)C);
    kern_batchnorm_forward_train(x, y1, gam, bet, m1, v1, N, C, 0.99f, 1e-3f, st1);
    jit_batchnorm_forward_train(c, 0, x, y2, gam, bet, m2, v2, N, 0.99f, 1e-3f, st2);
    double ey = rel_err(y2, y1, n), em = rel_err(m2, m1, (size_t)C), ev = rel_err(v2, v1, (size_t)C);
    CHECK(ey < 1e-5 && em < 1e-5 && ev < 1e-5, "BatchNormalization forward (N %zu, C %d): y %.1e moving mean %.1e var %.1e",
          N, C, ey, em, ev);
    kern_batchnorm_backward(x, dy, dx1, gam, dg1, db1, N, C, st1);
    jit_batchnorm_backward(c, 0, x, dy, dx2, gam, dg2, db2, N, st2);
    double edx = rel_err(dx2, dx1, n), edg = rel_err(dg2, dg1, (size_t)C), edb = rel_err(db2, db1, (size_t)C);
    CHECK(edx < 1e-5 && edg < 1e-5 && edb < 1e-5, "BatchNormalization backward (N %zu, C %d): dx %.1e dgamma %.1e dbeta %.1e",
          N, C, edx, edg, edb);
    free(buf);
}

/* ------------------------------------------------------- whole networks */

static const char *MLP =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [6, 2])\n  Flatten()\n  Dense(units = hp.Int(\"units\", 16, 64, step = 16), activation = \"relu\")\n"
    "  Dropout(0.2)\n  Dense(24, activation = \"gelu\")\n  Dense(10, activation = \"softmax\")\n}\n"
    "compile(optimizer = Adam(learning_rate = hp.Choice(\"lr\", [0.01, 0.003])), loss = \"sparse_categorical_crossentropy\")\n";

static const char *CNN =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [6, 2, 1])\n  Conv2D(6, 3, padding = \"same\", activation = \"tanh\")\n"
    "  Conv2D(5, 2)\n  BatchNormalization()\n  Activation(\"sigmoid\")\n  Flatten()\n  Dropout(0.1)\n"
    "  Dense(16, activation = \"relu\")\n  Dense(10)\n}\n"
    "compile(optimizer = RMSprop(learning_rate = 0.01, momentum = 0.5), loss = \"sparse_categorical_crossentropy\")\n";


static trial *expand_policy(const ir_program *p, const char *set, int jit, trial_dtype_policy policy);

static trial *expand(const ir_program *p, const char *set, int jit)
{
    return expand_policy(p, set, jit, TRIAL_FLOAT32);
}

static trial *expand_policy(const ir_program *p, const char *set, int jit, trial_dtype_policy policy)
{
    hpt_value values[16];
    ir_default_assignment(p, values);
    if (set) {
        int k = ir_find_hp(p, "units");
        values[k] = value_int(atoi(set));
    }
    hpt_error e;
    trial *t = trial_expand(p, values, 32, 3, &e);
    if (t && (trial_set_dtype_policy(t, policy, &e) || trial_set_backend(t, jit, &e))) trial_free(t), t = NULL;
    if (!t) printf("expand: %s\n", e.message);
    return t;
}

/* What one run of test_fit and test_fit_bf16 yields: the first step's
 * gradients (malloc'd), then after two epochs the training accuracy and
 * the validation accuracy and loss. */
typedef struct fit_result {
    float *grads;
    size_t n_grads;
    int rc;
    double acc, val, val_loss;
} fit_result;

static fit_result fit(const ir_program *p, data_set *d, uint32_t *rows, int jit, trial_dtype_policy policy)
{
    fit_result f = { .rc = -1 };
    train_data td = { d, rows, 512, d, rows + 512, 128, 1.0f };
    trial *t = expand_policy(p, NULL, jit, policy);
    if (!t) return f;
    int32_t labels[32];
    data_gather(d, rows, 32, 1.0f, trial_input(t), labels);
    trial_compute_gradients(t, labels, 32, 0, NULL);
    float *gr = trial_gradients(t, &f.n_grads);
    f.grads = malloc(sizeof(float) * f.n_grads);
    memcpy(f.grads, gr, sizeof(float) * f.n_grads);
    train_config cfg = { .epochs = 2, .batch = 32, .shuffle = 1, .seed = 3, .patience = -1 };
    strcpy(cfg.monitor, "val_loss");
    train_state s;
    train_state_init(&s, &cfg);
    hpt_error e;
    f.rc = train_fit(t, &td, &cfg, &s, NULL, NULL, NULL, NULL, &e);
    double loss;
    train_evaluate(t, d, rows + 512, 128, 1.0f, 32, &f.val_loss, &f.val, &e);
    train_evaluate(t, d, rows, 512, 1.0f, 32, &loss, &f.acc, &e);
    if (!isfinite(loss)) f.rc = -1;
    trial_free(t);
    return f;
}

/* Two epochs with each backend from the same initial weights: the accuracies
 * must agree to 0.1 point, and the first step's gradients tensor by tensor. */
static void test_fit(const char *name, const char *src)
{
    compile_result r = compile_spec("test.hpt", src, strlen(src), NULL);
    ir_program *p = r.program;
    if (!CHECK(p != NULL, "%s compiles", name)) return;
    data_set d;
    synthetic_data(&d, 640);
    uint32_t rows[640];
    for (int i = 0; i < 640; i++) rows[i] = (uint32_t)i;
    fit_result r2[2];
    for (int jit = 0; jit < 2; jit++) {
        r2[jit] = fit(p, &d, rows, jit, TRIAL_FLOAT32);
        CHECK(r2[jit].rc == 0, "%s trains 2 epochs on the %s backend (accuracy %.4f, val %.4f)", name,
              jit ? "JIT" : "BLAS", r2[jit].acc, r2[jit].val);
    }
    size_t ng = r2[0].n_grads;
    if (r2[0].grads && r2[1].grads)
        CHECK(rel_err(r2[1].grads, r2[0].grads, ng) < 1e-5, "%s: first step's gradients, JIT vs BLAS (err %.1e over %zu)",
              name, rel_err(r2[1].grads, r2[0].grads, ng), ng);
    CHECK(fabs(r2[0].acc - r2[1].acc) < 0.001 && fabs(r2[0].val - r2[1].val) < 0.001,
          "%s: same accuracy to 0.1 point: train %.4f vs %.4f, validation %.4f vs %.4f", name, r2[1].acc, r2[0].acc,
          r2[1].val, r2[0].val);
    free(r2[0].grads), free(r2[1].grads);
    free(d.f32), free(d.labels);
    ir_free(p);
}

/* mixed_bfloat16 on both backends against float32 on BLAS, from the same
 * initial weights: the first step's gradients within what bf16 operands
 * allow (3e-2 of the norm), the two backends' bf16 gradients equal (their
 * GEMMs are the same oneDNN calls, the elementwise code differs), and after
 * two epochs the validation loss within 5% of float32's (a continuous
 * figure: on 128 validation rows one sample is 0.8 points of accuracy). */
static void test_fit_bf16(const char *name, const char *src)
{
    if (!onednn_has_bf16()) {
        printf("SKIP: %s in mixed_bfloat16: oneDNN finds no bf16 instructions here (%s)\n", name, onednn_isa_name());
        return;
    }
    compile_result r = compile_spec("test.hpt", src, strlen(src), NULL);
    ir_program *p = r.program;
    if (!CHECK(p != NULL, "%s compiles", name)) return;
    data_set d;
    synthetic_data(&d, 640);
    uint32_t rows[640];
    for (int i = 0; i < 640; i++) rows[i] = (uint32_t)i;
    /* run 0: float32 on BLAS; 1: bf16 on BLAS; 2: bf16 on the JIT. */
    fit_result r3[3];
    for (int run = 0; run < 3; run++) {
        r3[run] = fit(p, &d, rows, run == 2, run ? TRIAL_MIXED_BFLOAT16 : TRIAL_FLOAT32);
        CHECK(r3[run].rc == 0, "%s trains 2 epochs, %s on %s (val loss %.4f, accuracy %.4f)", name,
              run ? "mixed_bfloat16" : "float32", run == 2 ? "the JIT" : "BLAS", r3[run].val_loss, r3[run].val);
    }
    size_t ng = r3[0].n_grads;
    if (r3[0].grads && r3[1].grads && r3[2].grads) {
        CHECK(rel_err(r3[1].grads, r3[0].grads, ng) < 3e-2,
              "%s: bf16 gradients vs float32 (err %.1e over %zu, tolerance 3e-2)", name,
              rel_err(r3[1].grads, r3[0].grads, ng), ng);
        CHECK(rel_err(r3[2].grads, r3[1].grads, ng) < 1e-5, "%s: bf16 gradients, JIT vs BLAS (err %.1e)", name,
              rel_err(r3[2].grads, r3[1].grads, ng));
    }
    double l0 = r3[0].val_loss;
    CHECK(fabs(r3[1].val_loss - l0) < 0.05 * l0 && fabs(r3[2].val_loss - l0) < 0.05 * l0,
          "%s: mixed_bfloat16 validation loss within 5%% of float32's (%.4f, %.4f vs %.4f)", name, r3[1].val_loss,
          r3[2].val_loss, l0);
    for (int i = 0; i < 3; i++) free(r3[i].grads);
    free(d.f32), free(d.labels);
    ir_free(p);
}

/* The library path and the JIT agree bit for bit, which is what lets
 * --backend jit compile beside the first steps and switch mid-trial
 * (trial_start_backend) without changing a number: 600 steps from the same
 * start on the library path, on the JIT from the first step, and switching
 * at TRIAL_JIT_SWITCH_STEP end with the same weights to the bit. */
static void test_switch(const char *name, const char *src, trial_dtype_policy policy)
{
    const char *pname = trial_dtype_policy_name(policy);
    if (policy == TRIAL_MIXED_BFLOAT16 && !onednn_has_bf16()) {
        printf("SKIP: %s switching backends in %s: no bf16 instructions here\n", name, pname);
        return;
    }
    compile_result r = compile_spec("test.hpt", src, strlen(src), NULL);
    ir_program *p = r.program;
    if (!CHECK(p != NULL, "%s compiles", name)) return;
    data_set d;
    synthetic_data(&d, 512);
    uint32_t rows[512];
    for (int i = 0; i < 512; i++) rows[i] = (uint32_t)i;
    float *w[3] = { NULL, NULL, NULL };
    size_t n = 0;
    for (int mode = 0; mode < 3; mode++) {
        trial *t = expand_policy(p, NULL, mode == 1, policy);
        hpt_error e;
        if (!t || (mode == 2 && trial_start_backend(t, &e))) break;
        int32_t labels[32];
        for (long step = 0; step < TRIAL_JIT_SWITCH_STEP + 88; step++) {
            data_gather(&d, rows + (step * 32) % 512, 32, 1.0f, trial_input(t), labels);
            trial_train_step(t, labels, 32, step, NULL);
        }
        float *wt = trial_weights(t, &n);
        w[mode] = malloc(sizeof(float) * n);
        memcpy(w[mode], wt, sizeof(float) * n);
        trial_free(t);
    }
    if (CHECK(w[0] && w[1] && w[2], "%s: %d steps in %s on each path", name, TRIAL_JIT_SWITCH_STEP + 88, pname)) {
        CHECK(!memcmp(w[0], w[1], sizeof(float) * n), "%s (%s): the JIT's weights equal the library path's, bit for bit",
              name, pname);
        CHECK(!memcmp(w[0], w[2], sizeof(float) * n), "%s (%s): switching to the JIT at step %d changes no bit", name,
              pname, TRIAL_JIT_SWITCH_STEP);
    }
    for (int i = 0; i < 3; i++) free(w[i]);
    free(d.f32), free(d.labels);
    ir_free(p);
}

typedef struct race { const ir_program *p; trial *t; } race;
static void *expand_thread(void *u)
{
    race *r = u;
    r->t = expand(r->p, "48", 1);
    return NULL;
}

static void test_cache(void)
{
    compile_result r = compile_spec("test.hpt", MLP, strlen(MLP), NULL);
    ir_program *p = r.program;
    if (!p) return;
    jit_stats s0, s1, s2, s3;
    jit_get_stats(&s0);
    trial *a = expand(p, "32", 1);
    jit_get_stats(&s1);
    trial *b = expand(p, "32", 1);
    jit_get_stats(&s2);
    CHECK(a && b && s1.compiles == s0.compiles + 1 && s2.compiles == s1.compiles && s2.hits == s1.hits + 1,
          "a repeated shape compiles once (first %.1f ms, cached lookup %.3f ms)", s1.last_compile_ms, s2.last_lookup_ms);
    char *ir = a ? trial_llvm_ir(a, &(hpt_error){ 0 }) : NULL;
    CHECK(ir && strstr(ir, "<16 x float>") && strstr(ir, "define double @hptc0_ce"),
          "the emitted IR is vectorised 16 wide and has the fused loss");
    free(ir);
    race x = { p, NULL }, y = { p, NULL };
    pthread_t tx, ty;
    pthread_create(&tx, NULL, expand_thread, &x);
    pthread_create(&ty, NULL, expand_thread, &y);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    jit_get_stats(&s3);
    CHECK(x.t && y.t && s3.compiles == s2.compiles + 1 && s3.hits == s2.hits + 1,
          "two threads expanding a new shape at once: one compilation, one hit");
    trial_free(a), trial_free(b), trial_free(x.t), trial_free(y.t);
    ir_free(p);
}

int main(void)
{
    char what[256];
    jit_describe(what, sizeof what);
    CHECK(jit_available() && strstr(what, "LLVM"), "JIT backend: %s", what);
    test_dense(32, 20, 512);
    test_dense(5, 3, 7);
    test_dense(1, 9, 33);
    test_dense(3, 4, 10);
    test_loss(32, 10);
    test_loss(7, 3);
    test_optim();
    test_batchnorm(300, 7);
    test_batchnorm(100, 64);
    test_fit("MLP (Dropout fused, gelu, softmax)", MLP);
    test_fit("CNN (Conv2D, BatchNormalization, Activation, Dropout)", CNN);
    test_fit_bf16("MLP (Dropout fused, gelu, softmax)", MLP);
    test_fit_bf16("CNN (Conv2D, BatchNormalization, Activation, Dropout)", CNN);
    for (int policy = TRIAL_FLOAT32; policy <= TRIAL_MIXED_BFLOAT16; policy++) {
        test_switch("MLP", MLP, (trial_dtype_policy)policy);
        test_switch("CNN", CNN, (trial_dtype_policy)policy);
    }
    test_cache();
    jit_shutdown();
    return check_exit();
}

#endif
