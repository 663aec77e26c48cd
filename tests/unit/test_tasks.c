/* test_tasks.c: binary classification and regression (issue 14, item 4):
 * the element-wise losses against PyTorch and by finite differences, the
 * metrics against scikit-learn and Keras's AUC, the learning-rate schedules
 * against Keras's formulas, and which way each objective is better.  The
 * reference values come from tests/unit/ref/tasks_ref.py (PyTorch,
 * scikit-learn, NumPy), pasted below so the test needs none of them. */
#include "compiler/compile.h"
#include "runtime/nn/losses.h"
#include "runtime/nn/trial.h"
#include "runtime/rng.h"
#include "runtime/nn/metrics.h"
#include "runtime/nn/optim.h"
#include "runtime/nn/kernels.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

/* binary_cross_entropy_with_logits(x, y) */
static const double bce_logits_loss = 0.574363348813;
static const double bce_logits_grad[] = { 0.00592823415, -0.0960655979, 0.0501640425, -0.0625, -0.0531946854, 0.0888686878, -0.0094822725, -0.000309077895 };
/* binary_cross_entropy(sigmoid(x), y) */
static const double bce_probs_loss = 0.574363348813;
static const double bce_probs_grad[] = { 0.131223384, -0.540014615, 0.208790006, -0.25, -0.217602278, 0.432450389, -0.135260625, -0.125309844 };
/* l1_loss(x, reg) */
static const double mae_loss = 2.09375;
static const double mae_grad[] = { -0.125, 0.125, -0.125, -0.125, -0.125, 0.125, 0.125, 0.125 };
/* huber_loss(x, reg, delta = 1) */
static const double huber_loss = 1.64140625;
static const double huber_grad[] = { -0.125, 0.1, -0.125, -0.03125, -0.125, 0.125, 0.075, 0.125 };
/* huber_loss(x, reg, delta = 2.5) */
static const double huber25_loss = 2.95828125;
static const double huber25_grad[] = { -0.3125, 0.1, -0.175, -0.03125, -0.3125, 0.2, 0.075, 0.3125 };
/* sklearn on the 16 probabilities */
static const double exact_auc = 0.859375;
static const double precision_05 = 0.75;
static const double recall_05 = 0.75;
static const double mae_metric = 0.314374983311;
static const double mse_metric = 0.150793731213;
/* Keras's AUC() on them */
static const double keras_auc = 0.859375;
static const long schedule_steps[] = { 0, 1, 7, 50, 99, 100, 101, 250, 1000 };
static const double cosine_ref[] = { 0.100000001, 0.0999753252, 0.0987958387, 0.049999997, 2.46733434e-05, 0, 0, 0, 0 };  /* CosineDecay(0.1, 100) */
static const double cosine_alpha_ref[] = { 0.00999999978, 0.00999968406, 0.00998453423, 0.00923606753, 0.00728377467, 0.00723606767, 0.00718816556, 0.00200000009, 0.00200000009 };  /* CosineDecay(0.01, 250, alpha = 0.2) */
static const double exponential_ref[] = { 0.100000001, 0.0993092507, 0.0952638015, 0.0707106814, 0.0503477752, 0.0500000007, 0.0496546254, 0.0176776703, 9.76562515e-05 };  /* ExponentialDecay(0.1, 100, 0.5) */
static const double staircase_ref[] = { 0.100000001, 0.100000001, 0.100000001, 0.100000001, 0.100000001, 0.0500000007, 0.0500000007, 0.0250000004, 9.76562515e-05 };  /* ... staircase = True */
static const double piecewise_ref[] = { 1, 1, 1, 0.5, 0.5, 0.5, 0.100000001, 0.100000001, 0.100000001 };  /* PiecewiseConstantDecay([7, 100], [1.0, 0.5, 0.1]) */

static const float xs[8] = { -3.0f, -1.2f, -0.4f, 0.0f, 0.3f, 0.9f, 2.5f, 6.0f };
static const float ys[8] = { 0, 1, 0, 1, 1, 0, 1, 1 };
static const float regs[8] = { 0.5f, -2.0f, 1.0f, 0.25f, 3.0f, -0.7f, 1.9f, 0.1f };

typedef double (*loss_fn)(const float *, const float *, float *, int, int, float);
static double bce_logits(const float *p, const float *y, float *g, int B, int K, float d) { return loss_bce_logits(p, y, g, B, K); }
static double bce_probs(const float *p, const float *y, float *g, int B, int K, float d) { return loss_bce_probs(p, y, g, B, K); }
static double mae(const float *p, const float *y, float *g, int B, int K, float d) { return loss_mae(p, y, g, B, K); }
static double huber(const float *p, const float *y, float *g, int B, int K, float d) { return loss_huber(p, y, g, B, K, d); }

/* The loss and gradient against PyTorch's, then the gradient against
 * central differences of the loss itself, element by element (shaped
 * (2, 4): the mean is over all 8). */
static void check_loss(const char *name, loss_fn f, const float *in, const float *target, float delta, double want,
                       const double *want_grad)
{
    float grad[8], p[8];
    double loss = f(in, target, grad, 2, 4, delta);
    CHECK_NEAR(loss, want, 1e-6, "%s: loss equals PyTorch's (%.6f)", name, want);
    double worst = 0;
    for (int i = 0; i < 8; i++) worst = fmax(worst, fabs(grad[i] - want_grad[i]));
    CHECK(worst < 1e-6, "%s: gradient equals PyTorch's (max |diff| %.2g)", name, worst);
    worst = 0;
    for (int i = 0; i < 8; i++) {
        const float h = 1e-3f;
        memcpy(p, in, sizeof p);
        p[i] = in[i] + h;
        double up = f(p, target, NULL, 2, 4, delta);
        p[i] = in[i] - h;
        double down = f(p, target, NULL, 2, 4, delta);
        double fd = (up - down) / ((double)(in[i] + h) - (double)(in[i] - h));
        worst = fmax(worst, fabs(fd - grad[i]));
    }
    CHECK(worst < 1e-4, "%s: gradient matches finite differences (max |diff| %.2g)", name, worst);
}

static void test_losses(void)
{
    float probs[8];
    for (int i = 0; i < 8; i++) probs[i] = 1.0f / (1.0f + expf(-xs[i]));
    check_loss("BinaryCrossentropy on logits", bce_logits, xs, ys, 0, bce_logits_loss, bce_logits_grad);
    check_loss("BinaryCrossentropy on probabilities", bce_probs, probs, ys, 0, bce_probs_loss, bce_probs_grad);
    check_loss("MeanAbsoluteError", mae, xs, regs, 0, mae_loss, mae_grad);
    check_loss("Huber(delta = 1)", huber, xs, regs, 1.0f, huber_loss, huber_grad);
    check_loss("Huber(delta = 2.5)", huber, xs, regs, 2.5f, huber25_loss, huber25_grad);
    /* A logit of 100 and a probability of 1 stay finite, as Keras's clipping keeps them. */
    float big[2] = { 100.0f, -100.0f }, one[2] = { 1.0f, 0.0f }, zero[2] = { 0, 1 }, g[2];
    double l = loss_bce_logits(big, zero, g, 2, 1);
    CHECK_NEAR(l, 100.0, 1e-6, "BinaryCrossentropy on logits +-100 with the wrong labels is 100, finite");
    l = loss_bce_probs(one, zero, g, 2, 1);
    CHECK(isfinite(l) && fabs(l + log(1e-7)) < 1e-3 && g[0] == 0 && g[1] == 0,
          "BinaryCrossentropy on probabilities 1 and 0 with the wrong labels: -log(1e-7), no gradient through the clip");
}

static const float mprobs[16] = { 0.05f, 0.9f, 0.42f, 0.51f, 0.77f, 0.3f, 0.65f, 0.99f,
                                  0.12f, 0.5f, 0.61f, 0.08f, 0.88f, 0.35f, 0.72f, 0.2f };
static const float mtruth[16] = { 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0 };

static void test_metrics(void)
{
    unsigned all = (1u << METRIC_COUNT) - 1;
    metric_acc one, two;
    double v[METRIC_COUNT], w[METRIC_COUNT];
    metric_reset(&one, all);
    metric_add(&one, mprobs, mtruth, 16, 1, 0);
    metric_values(&one, v);
    CHECK_NEAR(v[METRIC_AUC], keras_auc, 1e-9, "AUC equals Keras's 200-threshold AUC (%.6f; exact %.6f)", keras_auc, exact_auc);
    CHECK_NEAR(v[METRIC_PRECISION], precision_05, 1e-12, "Precision at 0.5 equals scikit-learn's");
    CHECK_NEAR(v[METRIC_RECALL], recall_05, 1e-12, "Recall at 0.5 equals scikit-learn's");
    CHECK_NEAR(v[METRIC_MAE], mae_metric, 1e-7, "mae equals scikit-learn's");
    CHECK_NEAR(v[METRIC_MSE], mse_metric, 1e-6, "mse equals scikit-learn's (which sums in float32)");
    CHECK_NEAR(v[METRIC_RMSE], sqrt(mse_metric), 1e-7, "RootMeanSquaredError is the root of the epoch's mse");
    /* Stateful: three batches give the epoch's value, not a mean of batch values. */
    metric_reset(&two, all);
    metric_add(&two, mprobs, mtruth, 5, 1, 0);
    metric_add(&two, mprobs + 5, mtruth + 5, 7, 1, 0);
    metric_add(&two, mprobs + 12, mtruth + 12, 4, 1, 0);
    metric_values(&two, w);
    int same = 1;
    for (int m = 0; m < METRIC_COUNT; m++) same &= fabs(v[m] - w[m]) < 1e-12;
    CHECK(same, "every metric over batches of 5, 7 and 4 equals the one over the 16 at once");
    /* Logits go through a sigmoid first. */
    float logits[16];
    for (int i = 0; i < 16; i++) logits[i] = logf(mprobs[i] / (1 - mprobs[i]));
    metric_reset(&two, all);
    metric_add(&two, logits, mtruth, 16, 1, 1);
    metric_values(&two, w);
    CHECK(fabs(w[METRIC_AUC] - v[METRIC_AUC]) < 1e-12 && w[METRIC_PRECISION] == v[METRIC_PRECISION],
          "AUC and Precision of logits equal those of their probabilities");
    /* A perfect ranking has AUC 1; one all wrong 0; only one class gives Keras's 0. */
    float perfect[4] = { 0.1f, 0.2f, 0.8f, 0.9f }, labels[4] = { 0, 0, 1, 1 }, flipped[4] = { 1, 1, 0, 0 };
    metric_reset(&two, all), metric_add(&two, perfect, labels, 4, 1, 0), metric_values(&two, w);
    CHECK_NEAR(w[METRIC_AUC], 1.0, 1e-12, "a perfect ranking has AUC 1");
    metric_reset(&two, all), metric_add(&two, perfect, flipped, 4, 1, 0), metric_values(&two, w);
    CHECK(fabs(w[METRIC_AUC]) < 1e-12 && w[METRIC_PRECISION] == 0 && w[METRIC_RECALL] == 0,
          "a ranking all wrong has AUC 0, precision 0 and recall 0");
    metric_reset(&two, 1u << METRIC_MAE), metric_add(&two, perfect, labels, 4, 1, 0), metric_values(&two, w);
    CHECK(!isnan(w[METRIC_MAE]) && isnan(w[METRIC_AUC]) && isnan(w[METRIC_RMSE]), "only the metrics asked for are given");
}

static void check_schedule(const char *name, const optim_schedule *s, const double *want)
{
    double worst = 0;
    for (size_t k = 0; k < sizeof schedule_steps / sizeof schedule_steps[0]; k++) {
        double got = (float)optim_schedule_at(s, schedule_steps[k]);
        /* Relative to the rate's scale: near zero, Keras's float32 cos(π·0.99) has cancelled digits. */
        double err = fabs(got - want[k]) / fmax(fabs(want[k]), s->initial);
        if (err > worst) worst = err;
    }
    CHECK(worst < 2e-6, "%s at steps 0, 1, 7, 50, 99, 100, 101, 250, 1000 equals Keras's float32 formula (error %.2g of the initial rate)",
          name, worst);
}

static void test_schedules(void)
{
    optim_schedule s = { .kind = OPTIM_COSINE_DECAY, .initial = 0.1, .decay_steps = 100, .alpha = 0 };
    check_schedule("CosineDecay(0.1, 100)", &s, cosine_ref);
    s = (optim_schedule){ .kind = OPTIM_COSINE_DECAY, .initial = 0.01, .decay_steps = 250, .alpha = 0.2 };
    check_schedule("CosineDecay(0.01, 250, alpha = 0.2)", &s, cosine_alpha_ref);
    s = (optim_schedule){ .kind = OPTIM_EXPONENTIAL_DECAY, .initial = 0.1, .decay_steps = 100, .decay_rate = 0.5 };
    check_schedule("ExponentialDecay(0.1, 100, 0.5)", &s, exponential_ref);
    s.staircase = 1;
    check_schedule("ExponentialDecay(0.1, 100, 0.5, staircase = True)", &s, staircase_ref);
    s = (optim_schedule){ .kind = OPTIM_PIECEWISE_CONSTANT, .n_boundaries = 2, .boundaries = { 7, 100 },
                          .values = { 1.0, 0.5, 0.1 } };
    check_schedule("PiecewiseConstantDecay([7, 100], [1.0, 0.5, 0.1])", &s, piecewise_ref);
    s = (optim_schedule){ .kind = OPTIM_CONSTANT, .initial = 0.25 };
    CHECK(optim_schedule_at(&s, 0) == 0.25 && optim_schedule_at(&s, 1000000) == 0.25, "a constant rate is constant");
}

static void test_direction(void)
{
    static const struct { const char *name; int maximize; } cases[] = {
        { "val_accuracy", 1 }, { "accuracy", 1 }, { "val_acc", 1 }, { "val_auc", 1 }, { "auc", 1 }, { "val_AUC", 1 },
        { "val_precision", 1 }, { "recall", 1 }, { "val_loss", 0 }, { "loss", 0 }, { "val_mae", 0 }, { "mse", 0 },
        { "val_mean_absolute_error", 0 }, { "val_rmse", 0 }, { "val_root_mean_squared_error", 0 },
        { "val_RootMeanSquaredError", 0 }, { "val_mean_squared_error", 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        CHECK(metric_maximize(cases[k].name) == cases[k].maximize, "objective %s is %s", cases[k].name,
              cases[k].maximize ? "maximised" : "minimised");
    CHECK(metric_of_name("rmse") == METRIC_RMSE && metric_of_name("mean_absolute_error") == METRIC_MAE &&
          metric_of_name("accuracy") == -1, "metric names and aliases resolve (rmse, mean_absolute_error; accuracy is apart)");
}

/* The whole network's gradient under each loss against central differences
 * of its loss (as tests/unit/test_trial.c checks the classification
 * losses): the fused sigmoid, a sigmoid Activation layer fused alike, logits,
 * and the regression losses on one output reading float targets. */
static void network_gradient(const char *last, const char *loss, int binary)
{
    char name[200];
    snprintf(name, sizeof name, "%s", last);
    for (char *c = name; *c; c++)
        if (*c == '\n') *c = ';';
    char src[1024];
    snprintf(src, sizeof src,
             "data = csv(\"synthetic.csv\")\nmodel {\n  Input(shape = [5])\n  Dense(6, activation = \"tanh\")\n  %s\n}\n"
             "compile(optimizer = \"sgd\", loss = %s)\n", last, loss);
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    CHECK(r.program != NULL, "%s after %s compiles", loss, name);
    if (!r.program) return;
    hpt_value values[8];
    ir_default_assignment(r.program, values);
    hpt_error e;
    const int B = 12;
    trial *t = trial_expand(r.program, values, B, 5, &e);
    CHECK(t && trial_float_targets(t), "%s after %s reads float targets", loss, name);
    if (!t) return ir_free(r.program);
    rng g = rng_stream(9);
    float *x = trial_input(t), *y = trial_targets(t);
    int32_t labels[12];
    for (int i = 0; i < B * 5; i++) x[i] = rng_float(&g) * 4 - 2;
    for (int i = 0; i < B; i++) y[i] = binary ? (float)(i % 2) : rng_float(&g) * 6 - 3, labels[i] = i % 2;
    size_t n, nw;
    double loss0 = trial_compute_gradients(t, labels, B, 0, NULL);
    const float *grads = trial_gradients(t, &n);
    float *analytic = malloc(sizeof(float) * n);
    memcpy(analytic, grads, sizeof(float) * n);
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        float *w = trial_weights(t, &nw), keep = w[i], h = 1e-3f;
        w[i] = keep + h;
        double up = trial_compute_gradients(t, labels, B, 0, NULL);
        trial_weights(t, &nw)[i] = keep - h;
        double down = trial_compute_gradients(t, labels, B, 0, NULL);
        trial_weights(t, &nw)[i] = keep;
        double fd = (up - down) / (2.0 * h);
        num += (fd - analytic[i]) * (fd - analytic[i]);
        den += fd * fd + (double)analytic[i] * analytic[i];
    }
    double rel = sqrt(num / (den > 1e-30 ? den : 1e-30));
    CHECK(isfinite(loss0) && rel < 1e-2, "%s after %s: every parameter's gradient vs finite differences (rel %.2e)", loss,
          name, rel);
    free(analytic);
    trial_free(t);
    ir_free(r.program);
}

static void test_networks(void)
{
    network_gradient("Dense(1, activation = \"sigmoid\")", "\"binary_crossentropy\"", 1);
    network_gradient("Dense(1)\n  Activation(\"sigmoid\")", "\"binary_crossentropy\"", 1);
    network_gradient("Dense(1)", "BinaryCrossentropy(from_logits = True)", 1);
    network_gradient("Dense(1, activation = \"tanh\")", "\"mse\"", 0);
    network_gradient("Dense(1)", "\"mae\"", 0);
    network_gradient("Dense(1)", "Huber(delta = 0.5)", 0);
}

int main(void)
{
    test_networks();
    test_losses();
    test_metrics();
    test_schedules();
    test_direction();
    return check_exit();
}
