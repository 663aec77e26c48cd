/* test_estimator.c: the classic estimators on tiny data with answers worked
 * out by hand (Ridge's closed form, a one-feature logistic optimum found by
 * bisection, a stump's threshold, k-NN's votes), the forest's determinism
 * from its seed, u8 and f32 features agreeing, and the log loss.
 *
 * Run with arguments it is the parity tool of tests/cli/sklearn.sh instead:
 *   test_estimator fit CSV N_TRAIN N_TEST SCALE ESTIMATOR [key=value]...
 * fits on the first N_TRAIN rows of CSV (label column "target"), predicts the
 * next N_TEST and prints, one per line: "coef" rows and "intercept" (linear
 * models), "accuracy", "log_loss" and "iterations", each followed by its
 * values with 17 significant digits.  `test_estimator defaults` prints every
 * estimator argument's catalogue default, "Entry argument value", for the
 * script to hold against scikit-learn's get_params(). */
#include "runtime/estimators/estimator.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

/* A data set over caller-owned arrays (n rows of F floats). */
static data_set floats(float *x, int32_t *y, int n, int F, int classes)
{
    data_set d = { .n = n, .rank = 1, .shape = { F }, .sample_size = (size_t)F, .f32 = x, .labels = y,
                   .n_classes = classes };
    snprintf(d.source, sizeof d.source, "test data");
    return d;
}

static uint32_t *iota(int n)
{
    uint32_t *r = malloc(sizeof *r * (size_t)n);
    for (int i = 0; i < n; i++) r[i] = (uint32_t)i;
    return r;
}

static est_params params(est_kind kind)
{
    est_params p = { .kind = kind, .alpha = 1, .fit_intercept = 1, .C = 1, .tol = 1e-10, .max_iter = 1000,
                     .n_estimators = 10, .min_samples_split = 2, .bootstrap = 1, .mf = EST_MF_SQRT,
                     .n_neighbors = 3, .seed = 7 };
    return p;
}

static void test_ridge(void)
{
    /* x = 0..3, y = 0 0 1 1: targets -1 -1 1 1, Sxx = 5, Sxy = 4, so w = 4 / (5 + alpha) and b = -1.5 w. */
    float x[] = { 0, 1, 2, 3 };
    int32_t y[] = { 0, 0, 1, 1 };
    data_set d = floats(x, y, 4, 1, 2);
    uint32_t *rows = iota(4);
    est_params p = params(EST_RIDGE);
    hpt_error e;
    est_model *m = est_fit(&p, &d, rows, 4, 1.0f, 2, &e);
    CHECK(m != NULL, "Ridge fits a line");
    int R, F;
    const double *b;
    const double *w = est_coefficients(m, &R, &F, &b);
    CHECK(R == 1 && F == 1, "two classes give one row of coefficients, as scikit-learn's binary coef_");
    CHECK_NEAR(w[0], 4.0 / 6.0, 1e-12, "Ridge's coefficient is Sxy / (Sxx + alpha)");
    CHECK_NEAR(b[0], -1.0, 1e-12, "Ridge's intercept is mean(y) - mean(x) w");
    int32_t pred[4];
    est_predict(m, &d, rows, 4, 1.0f, pred, NULL, &e);
    CHECK(pred[0] == 0 && pred[1] == 0 && pred[2] == 1 && pred[3] == 1, "Ridge predicts by the sign of the score");
    double loss, acc;
    est_score(m, &d, rows, 4, 1.0f, &loss, &acc, &e);
    CHECK(acc == 1.0 && isnan(loss), "Ridge scores accuracy 1 and has no log loss");
    CHECK(!est_has_proba(m), "Ridge has no probabilities");
    est_free(m);

    /* alpha = 0 on a constant feature: singular, reported. */
    float c[] = { 1, 1, 1, 1 };
    data_set dc = floats(c, y, 4, 1, 2);
    p.alpha = 0;
    m = est_fit(&p, &dc, rows, 4, 1.0f, 2, &e);
    CHECK(m == NULL && strstr(e.message, "not positive definite"), "a singular Ridge system is an error: %s", m ? "" : e.message);
    est_free(m);

    /* Three classes: one column per class, and rows of X'(Y - mean) sum to what targets do. */
    float x3[] = { 0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 0, 2 };
    int32_t y3[] = { 0, 1, 2, 0, 1, 2 };
    data_set d3 = floats(x3, y3, 6, 2, 3);
    uint32_t *r6 = iota(6);
    p.alpha = 0.5;
    m = est_fit(&p, &d3, r6, 6, 1.0f, 3, &e);
    w = est_coefficients(m, &R, &F, &b);
    CHECK(R == 3 && F == 2, "three classes give three rows");
    /* Targets of each row sum to -1 (one +1, two -1): so do the intercepts and the coefficients sum to 0. */
    CHECK_NEAR(b[0] + b[1] + b[2], -1.0, 1e-12, "Ridge's intercepts sum like the targets");
    CHECK(fabs(w[0] + w[2] + w[4]) < 1e-12 && fabs(w[1] + w[3] + w[5]) < 1e-12, "Ridge's coefficients sum to zero over classes");
    est_free(m);
    free(rows), free(r6);
}

/* Bytes take the exact float-Gram path: it must agree with the float path. */
static void test_ridge_bytes(void)
{
    enum { N = 600, F = 5 };
    uint8_t *xb = malloc(N * F);
    float *xs = malloc(sizeof *xs * N * F);
    int32_t *y = malloc(sizeof *y * N);
    for (int i = 0; i < N; i++) {
        y[i] = (i * 7) % 3;
        for (int f = 0; f < F; f++) {
            xb[i * F + f] = (uint8_t)((i * (f + 3) * 37 + y[i] * 60 * (f == 1)) % 256);
            xs[i * F + f] = (float)xb[i * F + f] * (1.0f / 255);
        }
    }
    data_set df = floats(xs, y, N, F, 3), du = df;
    du.f32 = NULL, du.u8 = xb;
    uint32_t *rows = iota(N);
    hpt_error e;
    for (int variant = 0; variant < 4; variant++) {
        int classes = variant & 1 ? 2 : 3, intercept = variant < 2;
        for (int i = 0; i < N; i++) y[i] = classes == 2 ? y[i] % 2 : (i * 7) % 3;
        est_params p = params(EST_RIDGE);
        p.alpha = 0.01, p.fit_intercept = intercept;
        est_model *a = est_fit(&p, &df, rows, N, 1.0f, classes, &e), *b = est_fit(&p, &du, rows, N, 1.0f / 255, classes, &e);
        int R, Fa;
        const double *ba, *bb, *wa = est_coefficients(a, &R, &Fa, &ba), *wb = est_coefficients(b, &R, &Fa, &bb);
        double err = 0;
        for (int j = 0; j < R * F; j++) err = fmax(err, fabs(wa[j] - wb[j]));
        for (int k = 0; k < R; k++) err = fmax(err, fabs(ba[k] - bb[k]));
        CHECK(err < 1e-6, "Ridge on bytes (exact float Gram) = Ridge on floats, %d classes, intercept %d (max |diff| %.1e)",
              classes, intercept, err);
        est_free(a), est_free(b);
    }
    free(xb), free(xs), free(y), free(rows);
}

static void test_logistic(void)
{
    /* x = -1, 1 with y = 0, 1, C = 1: by symmetry b = 0 and w solves w = 2 sigmoid(-w). */
    float x[] = { -1, 1 };
    int32_t y[] = { 0, 1 };
    data_set d = floats(x, y, 2, 1, 2);
    uint32_t *rows = iota(2);
    double lo = 0, hi = 2;
    for (int k = 0; k < 200; k++) {
        double mid = (lo + hi) / 2;
        if (mid - 2 / (1 + exp(mid)) > 0) hi = mid;
        else lo = mid;
    }
    est_params p = params(EST_LOGISTIC);
    hpt_error e;
    est_model *m = est_fit(&p, &d, rows, 2, 1.0f, 2, &e);
    int R, F;
    const double *b, *w = est_coefficients(m, &R, &F, &b);
    CHECK(R == 1, "binary LogisticRegression has one row, as scikit-learn's");
    CHECK_NEAR(w[0], lo, 1e-7, "LogisticRegression reaches the optimum of log losses + w^2 / 2C");
    CHECK(fabs(b[0]) < 1e-7, "the symmetric problem's intercept is 0 (%g)", b[0]);
    float proba[4];
    int32_t pred[2];
    est_predict(m, &d, rows, 2, 1.0f, pred, proba, &e);
    CHECK_NEAR(proba[3], 1 / (1 + exp(-lo)), 1e-6, "its probability is the sigmoid of the score");
    CHECK_NEAR(proba[0] + proba[1], 1.0, 1e-6, "probabilities sum to 1");
    double loss, acc;
    est_score(m, &d, rows, 2, 1.0f, &loss, &acc, &e);
    CHECK_NEAR(loss, log1p(exp(-lo)), 1e-6, "the log loss is the mean of -log p(label)");
    est_free(m);

    /* Multinomial: starting at zero, coefficients and intercepts stay centred over the classes. */
    float x3[] = { 0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 0.5f, 0.5f };
    int32_t y3[] = { 0, 1, 2, 0, 1, 2, 0 };
    data_set d3 = floats(x3, y3, 7, 2, 3);
    uint32_t *r7 = iota(7);
    m = est_fit(&p, &d3, r7, 7, 1.0f, 3, &e);
    w = est_coefficients(m, &R, &F, &b);
    CHECK(R == 3, "three classes: the multinomial model, one row per class");
    CHECK(fabs(b[0] + b[1] + b[2]) < 1e-9 && fabs(w[0] + w[2] + w[4]) < 1e-9, "the multinomial solution is centred");
    CHECK(est_iterations(m) > 1 && est_iterations(m) < 1000, "L-BFGS converged in %d iterations", est_iterations(m));
    est_free(m);
    p.max_iter = 2;
    m = est_fit(&p, &d3, r7, 7, 1.0f, 3, &e);
    CHECK(est_iterations(m) == 2, "max_iter bounds the iterations");
    est_free(m);
    free(rows), free(r7);
}

static void test_forest(void)
{
    /* One tree on all rows, max_depth 1: the stump splits x = 0..3 at 1.5. */
    float x[] = { 0, 1, 2, 3 };
    int32_t y[] = { 0, 0, 1, 1 };
    data_set d = floats(x, y, 4, 1, 2);
    uint32_t *rows = iota(4);
    est_params p = params(EST_FOREST);
    p.n_estimators = 1, p.bootstrap = 0, p.max_depth = 1;
    hpt_error e;
    est_model *m = est_fit(&p, &d, rows, 4, 1.0f, 2, &e);
    float q[] = { 1.49f, 1.51f };
    int32_t qy[] = { 0, 1 };
    data_set dq = floats(q, qy, 2, 1, 2);
    float proba[4];
    int32_t pred[2];
    est_predict(m, &dq, rows, 2, 1.0f, pred, proba, &e);
    CHECK(proba[0] == 1 && proba[1] == 0 && proba[2] == 0 && proba[3] == 1, "the stump's threshold is the midpoint 1.5");
    est_free(m);

    /* 200 rows of two noisy features, three classes: determinism and probabilities. */
    enum { N = 200 };
    float *xs = malloc(sizeof *xs * N * 2);
    uint8_t *xb = malloc(N * 2);
    int32_t *ys = malloc(sizeof *ys * N);
    for (int i = 0; i < N; i++) {
        ys[i] = i % 3;
        xb[2 * i] = (uint8_t)(40 * ys[i] + (i * 37) % 50);
        xb[2 * i + 1] = (uint8_t)((i * 91) % 200);
        xs[2 * i] = xb[2 * i] / 255.0f * 255.0f, xs[2 * i + 1] = xb[2 * i + 1];
    }
    data_set df = floats(xs, ys, N, 2, 3);
    data_set du = df;
    du.f32 = NULL, du.u8 = xb;
    uint32_t *rn = iota(N);
    p = params(EST_FOREST);
    p.n_estimators = 20, p.threads = 1;
    est_model *a = est_fit(&p, &df, rn, N, 1.0f, 3, &e), *b = est_fit(&p, &df, rn, N, 1.0f, 3, &e);
    est_model *u = est_fit(&p, &du, rn, N, 1.0f, 3, &e);
    p.threads = 3;
    est_model *t3 = est_fit(&p, &df, rn, N, 1.0f, 3, &e);
    p.threads = 0;
    p.seed = 8;
    est_model *c = est_fit(&p, &df, rn, N, 1.0f, 3, &e);
    float *pa = malloc(sizeof *pa * N * 3), *pb = malloc(sizeof *pb * N * 3), *pu = malloc(sizeof *pu * N * 3),
          *pc = malloc(sizeof *pc * N * 3);
    est_predict(a, &df, rn, N, 1.0f, NULL, pa, &e);
    est_predict(b, &df, rn, N, 1.0f, NULL, pb, &e);
    est_predict(u, &du, rn, N, 1.0f, NULL, pu, &e);
    est_predict(c, &df, rn, N, 1.0f, NULL, pc, &e);
    CHECK(!memcmp(pa, pb, sizeof *pa * N * 3), "the same seed grows the same forest");
    est_predict(t3, &df, rn, N, 1.0f, NULL, pb, &e);
    CHECK(!memcmp(pa, pb, sizeof *pa * N * 3), "3 threads grow the forest 1 thread grows");
    CHECK(!memcmp(pa, pu, sizeof *pa * N * 3), "u8 features bin exactly as their float values do");
    CHECK(memcmp(pa, pc, sizeof *pa * N * 3) != 0, "another seed grows another forest");
    double sum = 0;
    for (int k = 0; k < 3; k++) sum += pa[k];
    CHECK_NEAR(sum, 1.0, 1e-6, "averaged probabilities sum to 1");
    double loss, acc;
    est_score(a, &df, rn, N, 1.0f, &loss, &acc, &e);
    CHECK(acc > 0.9 && loss < 0.5, "unbounded trees fit their training rows (accuracy %.3f, log loss %.3f)", acc, loss);
    est_free(a), est_free(b), est_free(u), est_free(c), est_free(t3);
    free(xs), free(xb), free(ys), free(rn), free(pa), free(pb), free(pu), free(pc), free(rows);
}

static void test_knn(void)
{
    /* Training points 0, 1, 10 (classes 0, 1, 1). */
    float x[] = { 0, 1, 10 };
    int32_t y[] = { 0, 1, 1 };
    data_set d = floats(x, y, 3, 1, 2);
    uint32_t *rows = iota(3);
    est_params p = params(EST_KNN);
    p.n_neighbors = 2;
    hpt_error e;
    est_model *m = est_fit(&p, &d, rows, 3, 1.0f, 2, &e);
    float q[] = { 0.4f, 1, 6 };
    int32_t qy[] = { 0, 1, 1 };
    data_set dq = floats(q, qy, 3, 1, 2);
    float proba[6];
    int32_t pred[3];
    est_predict(m, &dq, rows, 3, 1.0f, pred, proba, &e);
    CHECK(proba[0] == 0.5f && pred[0] == 0, "a uniform tie goes to the lower class");
    est_free(m);
    p.distance_weights = 1;
    m = est_fit(&p, &d, rows, 3, 1.0f, 2, &e);
    est_predict(m, &dq, rows, 3, 1.0f, pred, proba, &e);
    CHECK_NEAR(proba[0], (1 / 0.4) / (1 / 0.4 + 1 / 0.6), 1e-6, "distance weights are 1 / distance");
    CHECK(proba[2] == 0 && proba[3] == 1 && pred[1] == 1, "a neighbour at distance 0 alone decides");
    CHECK(pred[2] == 1, "the two nearest of 6 are 1 and 10, both class 1");
    double loss, acc;
    est_score(m, &dq, rows, 3, 1.0f, &loss, &acc, &e);
    double want = -(log((1 / 0.4) / (1 / 0.4 + 1 / 0.6)) + log(1 - 1e-15) + log(1 - 1e-15)) / 3;
    CHECK_NEAR(loss, want, 1e-5, "log loss clips at 1e-15 as scikit-learn's");
    est_free(m);
    p.n_neighbors = 4;
    m = est_fit(&p, &d, rows, 3, 1.0f, 2, &e);
    CHECK(m == NULL && strstr(e.message, "only 3 training rows"), "more neighbours than rows is an error");
    free(rows);
}

static void test_catalogue_defaults(void)
{
    /* The params an estimator written without arguments gets: scikit-learn 1.2's defaults. */
    const int ids[] = { ST_RidgeClassifier, ST_LogisticRegression, ST_RandomForestClassifier, ST_KNeighborsClassifier };
    est_params p[4];
    hpt_error e;
    for (int k = 0; k < 4; k++) {
        const st_entry *entry = &st_catalogue[ids[k]];
        hpt_value args[16];
        for (int j = 0; j < entry->n_args; j++) args[j] = entry->args[j].default_value;
        CHECK(est_params_of(entry, args, 1, &p[k], &e) == 0, "%s's defaults make params", entry->name);
    }
    CHECK(p[0].kind == EST_RIDGE && p[0].alpha == 1.0 && p[0].fit_intercept, "RidgeClassifier(): alpha 1, intercept");
    CHECK(p[1].C == 1.0 && p[1].max_iter == 100 && p[1].tol == 1e-4 && p[1].fit_intercept,
          "LogisticRegression(): C 1, max_iter 100, tol 1e-4");
    CHECK(p[2].n_estimators == 100 && p[2].max_depth == 0 && p[2].min_samples_split == 2 && p[2].mf == EST_MF_SQRT &&
          p[2].bootstrap, "RandomForestClassifier(): 100 trees, unbounded, split at 2, sqrt features, bootstrap");
    CHECK(p[3].n_neighbors == 5 && !p[3].distance_weights, "KNeighborsClassifier(): 5 uniform neighbours");
    CHECK(est_params_of(&st_catalogue[ST_Dense], NULL, 1, &p[0], &e) == -1, "Dense is no estimator");
}

static int print_defaults(void)
{
    for (int k = 0; k < ST_COUNT; k++) {
        const st_entry *entry = &st_catalogue[k];
        if (entry->kind != ST_ESTIMATOR) continue;
        for (int j = 0; j < entry->n_args; j++) {
            char v[64];
            value_format(v, sizeof v, entry->args[j].default_value);
            printf("%s %s %s\n", entry->name, entry->args[j].name, v);
        }
    }
    return 0;
}

/* ---- the parity tool -------------------------------------------------------- */

static int fit_tool(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: test_estimator fit CSV N_TRAIN N_TEST SCALE ESTIMATOR [key=value]...\n");
        return 2;
    }
    hpt_error e;
    data_set d;
    if (data_load_csv(&d, argv[2], "target", &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    int n_train = atoi(argv[3]), n_test = atoi(argv[4]);
    float scale = (float)atof(argv[5]);
    const char *kind = argv[6];
    est_params p = params(!strcmp(kind, "ridge") ? EST_RIDGE : !strcmp(kind, "logistic") ? EST_LOGISTIC
                          : !strcmp(kind, "forest") ? EST_FOREST : EST_KNN);
    p.mf = EST_MF_SQRT, p.n_estimators = 100, p.n_neighbors = 5, p.tol = 1e-4, p.max_iter = 100;
    for (int k = 7; k < argc; k++) {
        char *v = strchr(argv[k], '=');
        if (!v) return 2;
        *v++ = 0;
        const char *key = argv[k];
        if (!strcmp(key, "alpha")) p.alpha = atof(v);
        else if (!strcmp(key, "C")) p.C = atof(v);
        else if (!strcmp(key, "fit_intercept")) p.fit_intercept = atoi(v);
        else if (!strcmp(key, "tol")) p.tol = atof(v);
        else if (!strcmp(key, "max_iter")) p.max_iter = atoi(v);
        else if (!strcmp(key, "n_estimators")) p.n_estimators = atoi(v);
        else if (!strcmp(key, "max_depth")) p.max_depth = atoi(v);
        else if (!strcmp(key, "n_neighbors")) p.n_neighbors = atoi(v);
        else if (!strcmp(key, "weights")) p.distance_weights = !strcmp(v, "distance");
        else if (!strcmp(key, "seed")) p.seed = strtoull(v, NULL, 10);
        else return fprintf(stderr, "unknown key %s\n", key), 2;
    }
    uint32_t *rows = iota(n_train + n_test);
    int classes = 0;
    for (int i = 0; i < n_train; i++) classes = d.labels[i] + 1 > classes ? d.labels[i] + 1 : classes;
    est_model *m = est_fit(&p, &d, rows, n_train, scale, classes, &e);
    if (!m) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    int R, F;
    const double *b, *w = est_coefficients(m, &R, &F, &b);
    for (int r = 0; w && r < R; r++) {
        printf("coef");
        for (int f = 0; f < F; f++) printf(" %.17g", w[(size_t)r * F + f]);
        printf("\n");
    }
    if (w) {
        printf("intercept");
        for (int r = 0; r < R; r++) printf(" %.17g", b[r]);
        printf("\n");
    }
    double loss, acc;
    if (est_score(m, &d, rows + n_train, n_test, scale, &loss, &acc, &e)) return 1;
    printf("accuracy %.17g\nlog_loss %.17g\niterations %d\n", acc, loss, est_iterations(m));
    est_free(m);
    free(rows);
    data_free(&d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "fit")) return fit_tool(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "defaults")) return print_defaults();
    test_catalogue_defaults();
    test_ridge();
    test_ridge_bytes();
    test_logistic();
    test_forest();
    test_knn();
    return check_exit();
}
